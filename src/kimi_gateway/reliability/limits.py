"""Kimi's limits, modelled so the gateway queues instead of collecting 429s (docs/kimi.md §3).

Kimi counts per organisation, across all models: concurrency (requests in flight), RPM, TPM and
TPD, where tokens are the prompt plus ``max_tokens`` (the model's default when absent), counted
when the request is admitted, not what it generates. The windows here are sliding, like Kimi's
(the emulator's too): a log for the 60-second ones with entries less than ``MINUTE_GRAIN`` apart
merged (at thousands of requests a second an exact log holds a list per request per window, and
the collector walks them all), one-minute buckets for the day. A
``margin`` is added to each window so that a request admitted here as the window frees does not
reach Kimi a few milliseconds before Kimi's own window has moved on.

:class:`LocalGate` holds one account's limits and every key's in memory; a shared gate (Redis,
shared.py) answers the same two questions atomically for all replicas. Both say, for a request
of ``tokens`` by ``key``: admitted now (0.0), or how long until it might be (``inf``: only a
release can tell, e.g. concurrency), and whose limit holds it (the account's or the key's).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from kimi_gateway.core.model import (
    ImagePart,
    Part,
    Request,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
    derived,
)

Holder = Literal["account", "key"]
INF = math.inf
# A merged entry leaves the window with its latest part, so admission is at most this much
# later than an exact log would allow: the safe side, and 1/600 of a minute.
MINUTE_GRAIN = 0.1


@dataclass(frozen=True, slots=True)
class Limits:
    concurrency: int | None = None
    rpm: int | None = None
    tpm: int | None = None
    tpd: int | None = None

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.concurrency, self.rpm, self.tpm, self.tpd))

    @property
    def counts_tokens(self) -> bool:
        return self.tpm is not None or self.tpd is not None


# docs/kimi.md §3 [O] DOCS-OLD (the international table; the console may differ: set numbers).
TIERS: dict[str, Limits] = {
    "free": Limits(1, 3, 32_000, 1_500_000),
    "tier1": Limits(50, 200, 128_000, 10_000_000),
    "tier2": Limits(100, 500, 128_000, 20_000_000),
    "tier3": Limits(200, 5_000, 384_000, None),
    "tier4": Limits(400, 5_000, 768_000, None),
    "tier5": Limits(1_000, 10_000, 2_000_000, None),
}


def account_limits(
    tier: str | None,
    concurrency: int | None = None,
    rpm: int | None = None,
    tpm: int | None = None,
    tpd: int | None = None,
) -> Limits:
    """A tier's limits with any number given overriding it."""
    base = TIERS[tier] if tier is not None else Limits()
    return Limits(
        concurrency if concurrency is not None else base.concurrency,
        rpm if rpm is not None else base.rpm,
        tpm if tpm is not None else base.tpm,
        tpd if tpd is not None else base.tpd,
    )


def estimate_tokens(request: Request, default_max_tokens: int, chars_per_token: float) -> int:
    """What Kimi counts against TPM/TPD: the prompt (estimated from its characters, on the high
    side) plus ``max_tokens`` or the default Kimi assumes. Images count as 1,000 tokens."""
    chars = sum(len(part.text) for part in request.system)
    for message in request.messages:
        facts = derived(message)  # once per message object (core/model.py): a resent history
        counted = facts.get("limits.chars")
        if counted is None:
            counted = facts["limits.chars"] = 8 + sum(_part_chars(p) for p in message.parts)
        chars += counted  # 8: the role and framing
    for tool in request.tools:
        chars += len(tool.name) + len(tool.description or "") + len(repr(tool.parameters))
    prompt = math.ceil(chars / chars_per_token)
    return prompt + (request.max_tokens or default_max_tokens)


def _part_chars(part: Part) -> int:
    if isinstance(part, TextPart | ThinkingPart):
        return len(part.text)
    if isinstance(part, ToolCallPart):
        return len(part.name) + len(part.arguments)
    if isinstance(part, ToolResultPart):
        return sum(_part_chars(inner) for inner in part.content) + 8
    if isinstance(part, ImagePart):
        return 2_000
    return len(repr(part))


class Window:
    """A sliding-window sum over ``span`` seconds (entries closer than ``grain`` merge)."""

    def __init__(self, limit: int, span: float, grain: float = 0.0) -> None:
        self.limit = limit
        self.span = span
        self.grain = grain
        self.total = 0
        self._log: deque[list[float]] = deque()  # [time, amount]

    def _expire(self, now: float) -> None:
        log = self._log
        while log and log[0][0] <= now - self.span:
            self.total -= int(log.popleft()[1])

    def wait(self, now: float, amount: int) -> float:
        """Seconds until ``amount`` fits (0: now). More than the limit fits an empty window.
        (The total only shrinks as entries expire, so when it fits unexpired it fits; callers
        test that first, and :meth:`add` expires.)"""
        self._expire(now)
        excess = self.total + amount - self.limit
        if excess <= 0 or self.total == 0:
            return 0.0
        for when, held in self._log:
            excess -= int(held)
            if excess <= 0:
                return when + self.span - now
        return self.span

    def add(self, now: float, amount: int) -> None:
        log = self._log
        oldest = now - self.span
        while log and log[0][0] <= oldest:  # what _expire does, inline: once per add
            self.total -= int(log.popleft()[1])
        if self.grain and log and now - log[-1][0] < self.grain:
            log[-1][0] = now  # the bucket expires with its latest entry (the safe side)
            log[-1][1] += amount
        else:
            log.append([now, amount])
        self.total += amount


class _Meter:
    """One holder's limits: windows and a count in flight."""

    def __init__(self, limits: Limits, margin: float) -> None:
        self.limits = limits
        self.inflight = 0
        self.windows: list[tuple[Window, bool]] = []  # (window, counts tokens)
        if limits.rpm is not None:
            self.windows.append((Window(limits.rpm, 60 + margin, MINUTE_GRAIN), False))
        if limits.tpm is not None:
            self.windows.append((Window(limits.tpm, 60 + margin, MINUTE_GRAIN), True))
        if limits.tpd is not None:
            self.windows.append((Window(limits.tpd, 86_400 + margin, 60.0), True))

    def wait(self, now: float, tokens: int) -> float:
        concurrency = self.limits.concurrency
        if concurrency is not None and self.inflight >= concurrency:
            return INF
        longest = 0.0
        for window, by_tokens in self.windows:
            amount = tokens if by_tokens else 1
            if window.total + amount > window.limit:  # else it fits: the fast path
                longest = max(longest, window.wait(now, amount))
        return longest

    def take(self, now: float, tokens: int) -> None:
        self.inflight += 1
        for window, by_tokens in self.windows:
            window.add(now, tokens if by_tokens else 1)


class Gate(Protocol):
    """Admission for one account (and the keys calling it)."""

    async def try_acquire(self, key: str | None, tokens: int) -> tuple[float, Holder]:
        """(0.0, _) and the request is counted; else (seconds to wait or INF, who holds it)."""
        ...

    async def release(self, key: str | None) -> None:
        """A request admitted by :meth:`try_acquire` has ended."""
        ...


class LocalGate:
    """In-memory gate; ``keys`` (per-key limits) is shared by every account's gate."""

    def __init__(
        self, limits: Limits, keys: KeyMeters, clock: Callable[[], float], margin: float = 1.0
    ) -> None:
        self._account = _Meter(limits, margin)
        self._keys = keys
        self._clock = clock

    async def try_acquire(self, key: str | None, tokens: int) -> tuple[float, Holder]:
        return self.acquire_now(key, tokens)

    def acquire_now(self, key: str | None, tokens: int) -> tuple[float, Holder]:
        now = self._clock()
        meter = self._keys.meter(key)
        if meter is not None:
            wait = meter.wait(now, tokens)
            if wait:
                return wait, "key"
        wait = self._account.wait(now, tokens)
        if wait:
            return wait, "account"
        self._account.take(now, tokens)
        if meter is not None:
            meter.take(now, tokens)
        return 0.0, "account"

    async def release(self, key: str | None) -> None:
        self.release_now(key)

    def release_now(self, key: str | None) -> None:
        """:meth:`release` without an await (a timer callback calls it directly)."""
        self._account.inflight -= 1
        meter = self._keys.meter(key)
        if meter is not None:
            meter.inflight -= 1


class KeyMeters:
    """Each gateway key's meter (made on first use); None for all when keys are unlimited."""

    def __init__(self, limits: Limits, margin: float = 1.0) -> None:
        self.limits = limits
        self._on = limits.any
        self._margin = margin
        self._meters: dict[str | None, _Meter] = {}

    def meter(self, key: str | None) -> _Meter | None:
        if not self._on:
            return None
        meter = self._meters.get(key)
        if meter is None:
            meter = self._meters[key] = _Meter(self.limits, self._margin)
        return meter
