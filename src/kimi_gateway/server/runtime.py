"""Everything one running gateway holds, built once at start by the lifespan and passed down.

No module-level state anywhere in the server: a :class:`Runtime` is the whole of it. Building
it does the I/O that start-up needs (emulator, key store); closing it releases all of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp

from kimi_gateway.core.memo import BytesLRU
from kimi_gateway.core.upstream import Upstream
from kimi_gateway.dialects.message_memo import MessageMemo
from kimi_gateway.engine import Engine, build_engine, new_http_session
from kimi_gateway.ledger.file_owners import FileOwners
from kimi_gateway.ledger.keys import KeyStore
from kimi_gateway.server.access_log import AccessLog
from kimi_gateway.server.auth import KeyIndex
from kimi_gateway.server.drain import Drain
from kimi_gateway.server.fd_limit import FdLimit, raise_fd_limit
from kimi_gateway.server.ledger_runtime import LedgerRuntime, open_ledger
from kimi_gateway.server.metrics import Metrics
from kimi_gateway.server.reliability_metrics import register as register_reliability
from kimi_gateway.server.request_body import MemoryRelease
from kimi_gateway.server.responses_state import ResponsesState, open_responses
from kimi_gateway.settings import Settings
from kimi_gateway.upstreams.http import Pool

# The memory watch: how often it looks, and the drop in streams that releases memory.
TRIM_CHECK_SECONDS = 2.0
TRIM_AFTER_STREAMS = 256
IDLE_UPSTREAM_SECONDS = 15.0  # aiohttp closes an idle pooled connection after this long

if TYPE_CHECKING:  # the emulator is imported only when it runs (memory, start time)
    from kimi_gateway.emulator.server import EmulatorServer


@dataclass
class Runtime:
    settings: Settings  # effective settings (pointed at the emulator in emulator mode)
    emulated: bool
    http: aiohttp.ClientSession
    engine: Engine
    keys: KeyIndex
    store: KeyStore
    metrics: Metrics
    access: AccessLog
    clock: Callable[[], float]
    emulator: EmulatorServer | None = None
    responses: ResponsesState | None = None  # the /v1/responses store and sealer
    ledger: LedgerRuntime | None = None  # usage rows, prices, budgets
    file_owners: FileOwners | None = None  # which key uploaded which file (server/files.py)
    # Freed heap handed back to the system after large requests (server/request_body.py).
    memory: MemoryRelease = field(default_factory=lambda: MemoryRelease(time.monotonic))
    models_cache: dict[str, Any] = field(default_factory=dict)
    drain: Drain = field(default_factory=Drain)  # clean shutdown (server/drain.py)
    fds: FdLimit | None = None  # the open-files limit, raised at start (server/fd_limit.py)
    # Messages parsed before (settings.message_memo_bytes; None when 0): server/request_body.py.
    message_memo: MessageMemo | None = None
    _owns_http: bool = False
    _owns_store: bool = False
    _refresher: asyncio.Task[None] | None = None
    _watcher: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        size = self.settings.message_memo_bytes
        self.message_memo = BytesLRU(size) if size else None

    @property
    def upstreams(self) -> dict[str, Upstream]:
        return self.engine.upstreams

    async def reload_keys(self) -> None:
        self.keys.load(await asyncio.to_thread(self.store.all))  # revoked too: auth.py

    def start_key_refresh(self) -> None:
        """The key index's refresh, and the memory watch (both end with :meth:`close`)."""
        loop = asyncio.get_running_loop()
        self._refresher = loop.create_task(self._refresh_forever())
        self._watcher = loop.create_task(self._return_memory_after_bursts())

    async def _return_memory_after_bursts(self) -> None:
        """Hand freed heap back to the system once a burst of streams has ended: glibc keeps
        what thousands of streams used (bench/STREAMS.md measured all of it kept) until
        ``malloc_trim``. Checked every few seconds from the upstream pool's count of
        connections in use; a drop of ``TRIM_AFTER_STREAMS`` from the highest count seen since
        the last release releases (server/request_body.py ``MemoryRelease``)."""
        pool = self.http.connector
        if not isinstance(pool, Pool):
            return
        peak, again = 0, math.inf
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(TRIM_CHECK_SECONDS)
            peak = max(peak, pool.in_use)
            if peak - pool.in_use >= TRIM_AFTER_STREAMS:
                self.memory.after_large_request()
                peak = pool.in_use
                # and once more when the connections the burst left idle have been closed
                again = loop.time() + IDLE_UPSTREAM_SECONDS + TRIM_CHECK_SECONDS
            elif loop.time() >= again:
                self.memory.after_large_request()
                again = math.inf

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.keys_refresh_seconds)
            with contextlib.suppress(Exception):  # a DB hiccup keeps the last good index
                await self.reload_keys()

    async def close(self) -> None:
        for task in (self._refresher, self._watcher):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.engine.aclose()
        if self._owns_http:
            await self.http.close()
        if self._owns_store:
            await asyncio.to_thread(self.store.close)
        if self.file_owners is not None:
            await asyncio.to_thread(self.file_owners.close)
        if self.responses is not None:
            await asyncio.to_thread(self.responses.close)
        if self.ledger is not None:
            await self.ledger.close()
        if self.emulator is not None:
            await asyncio.to_thread(self.emulator.stop)
        self.access.stop()


async def _engine_and_ledger(
    settings: Settings, http: aiohttp.ClientSession, clock: Callable[[], float], metrics: Metrics
) -> tuple[Engine, LedgerRuntime]:
    """The ledger (database migrated, writer started, budgets) and the engine with its hooks."""
    ledger = await asyncio.to_thread(open_ledger, settings, metrics.registry)
    try:
        before, after = ledger.before_hooks(), ledger.after_hooks()
        trace = ledger.tracing.wrap if ledger.tracing is not None else None
        engine = build_engine(settings, http, clock=clock, before=before, after=after, trace=trace)
        await ledger.start()
    except BaseException:
        await ledger.close()
        raise
    return engine, ledger


def _reliability_on(runtime: Runtime) -> None:
    """The reliability wrappers' figures in /metrics, and their background sync started."""
    register_reliability(runtime.metrics.registry, runtime.engine.reliability)
    runtime.engine.reliability.start()


async def _key_store(settings: Settings, given: KeyStore | None) -> KeyStore:
    """The given key store, else the one in the settings' database (opened, migrated)."""
    if given is not None:
        return given
    return await asyncio.to_thread(KeyStore, settings.resolved_database_url())


async def build_runtime(
    settings: Settings,
    *,
    http_client: aiohttp.ClientSession | None,
    key_store: KeyStore | None,
    clock: Callable[[], float],
) -> Runtime:
    emulated = not settings.has_upstream_key
    emulator = None
    effective = settings
    if emulated:
        from kimi_gateway.server.emulated import point_at_emulator, start_emulator

        emulator = await asyncio.to_thread(start_emulator)
        effective = point_at_emulator(settings, emulator)
    store = await _key_store(settings, key_store)
    http = http_client or new_http_session(settings)
    try:
        engine, ledger = await _engine_and_ledger(effective, http, clock, metrics := Metrics())
    except Exception:
        if http_client is None:
            await http.close()
        if key_store is None:
            await asyncio.to_thread(store.close)
        if emulator is not None:
            await asyncio.to_thread(emulator.stop)
        raise
    runtime = Runtime(
        settings=effective,
        emulated=emulated,
        http=http,
        engine=engine,
        keys=KeyIndex(settings),
        store=store,
        metrics=metrics,
        access=AccessLog(settings.access_log),
        clock=clock,
        emulator=emulator,
        ledger=ledger,
        fds=raise_fd_limit(settings.server.raise_fd_limit),  # open files: server/fd_limit.py
        _owns_http=http_client is None,
        _owns_store=key_store is None,
    )
    runtime.responses = await asyncio.to_thread(open_responses, settings)
    _reliability_on(runtime)
    runtime.file_owners = await asyncio.to_thread(FileOwners, settings.resolved_database_url())
    runtime.access.start()
    await runtime.reload_keys()
    runtime.start_key_refresh()
    return runtime
