"""The emulator's mutable state, one per app: balance, request log, caches, counters, windows,
and the Files API's store.

Plain data plus tiny accessors guarded by one lock (the app runs on uvicorn's thread while tests
read from theirs). The rules that read and write it live elsewhere: balance.py, limits.py,
faults.py, script.py, files_store.py. `reset()` returns everything to the state of a fresh start;
`reset(config)` also hands the new config's `files` section to the store.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from kimi_gateway.emulator.config import EmulatorConfig
from kimi_gateway.emulator.files_store import FileStore
from kimi_gateway.emulator.prompt_cache import PrefixCache


class EmulatorState:
    """Everything the emulator remembers between requests."""

    def __init__(
        self, config: EmulatorConfig, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        # The Files API's store; its limits and switches follow `config.files` (and reconfigure).
        self.files = FileStore(seed=config.seed)
        self._apply(config)

    def _apply(self, config: EmulatorConfig) -> None:
        self.config = config
        self.files.configure(config.files)
        self.random = random.Random(config.seed)
        self.cash_balance: Decimal = config.initial_cash_balance
        self.voucher_balance: Decimal = config.initial_voucher_balance
        self.request_log: list[dict[str, Any]] = []
        # Rendered prompts seen recently per key and model, for cached_tokens (§12).
        self.prefix_cache = PrefixCache(config.prefix_cache.entries_per_key)
        self.tool_call_counter = 0
        self.request_counter = 0
        # Per fault rule (by position): how many requests matched it so far ("every Nth").
        self.fault_counters: dict[int, int] = {}
        # Requests in flight survive a reset: they are still running and will `leave()`.
        self.in_flight: int = getattr(self, "in_flight", 0)
        # (time, tokens) of admitted requests, for RPM/TPM (60 s) and TPD (86 400 s) windows.
        self.minute_window: deque[tuple[float, int]] = deque()
        self.day_window: deque[tuple[float, int]] = deque()

    def reset(self, config: EmulatorConfig | None = None) -> None:
        """Back to a fresh start (optionally with a new config); the file store is emptied."""
        with self.lock:
            self._apply(config or self.config)
            self.files.clear()

    @property
    def available_balance(self) -> Decimal:
        # §11 [O]: available = cash + voucher; with cash in arrears, available = voucher.
        with self.lock:
            return self.voucher_balance + max(self.cash_balance, Decimal(0))

    def next_tool_call_id(self, name: str) -> str:
        """`<name>:<n>` (§8.1), n a running counter across the emulator's life (§17.3)."""
        with self.lock:
            n = self.tool_call_counter
            self.tool_call_counter += 1
        return f"{name}:{n}"

    def log_request(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.request_log.append(entry)

    def requests(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.request_log)

    def enter(self) -> None:
        with self.lock:
            self.in_flight += 1

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1
