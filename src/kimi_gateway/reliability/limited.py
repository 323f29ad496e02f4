"""``Limited``: an Upstream that admits calls within its account's limits (limits.py), making
the others wait in a fair queue instead of sending them into Kimi's 429s.

Why a wrapper and not a before-hook (docs/architecture.md): limits belong to the upstream
account that serves a call, and with fallbacks and retries that is known only at ``open`` time;
every retry is a call Kimi counts again, so it is admitted again; and the slot a call holds is
released when its Opened is closed, which only a wrapper sees. The per-key limits are checked in
the same admission (one atomic step with the account's) and the queue is per key.

The queue: one FIFO per gateway key, served round robin, so one noisy key cannot starve the
others. One pump per account admits from it whenever a slot frees or a window moves on. A
request waits at most until ``min(ctx.deadline, now + max_queue_wait)``; when that cannot be met
it gets a 429 ``rate_limit`` with ``Retry-After`` (rendered in the caller's dialect by the face)
— at once, when the wait is known to be longer. Past ``max_queue_depth`` waiting requests, a new
one gets 503 at once (load shedding).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.model import Request
from kimi_gateway.core.upstream import CallContext, Opened, Upstream
from kimi_gateway.reliability.limits import INF, Gate, LocalGate, estimate_tokens
from kimi_gateway.reliability.retry_policy import QUEUE_DEADLINE, QUEUE_FULL
from kimi_gateway.reliability.stats import Stats
from kimi_gateway.reliability.wrapper import Wrapper

_POLL = 0.25  # seconds between admission attempts when only a release elsewhere can tell
# In memory, the slots whose grace has run out are freed together, by one timer at most this
# long after the first of them is due: a timer per request woke an idle event loop once per
# request. A slot is never freed early, and at most this much late.
RELEASE_TICK = 0.01


@dataclass(frozen=True, slots=True)
class QueuePolicy:
    max_wait: float = 30.0
    max_depth: int = 1000
    default_max_tokens: int = 32768
    chars_per_token: float = 2.0
    counts_tokens: bool = True  # whether any limit counts tokens (else no estimate is made)
    # Kimi sees a call end a moment after we read its last byte; a slot freed at once could be
    # taken by a call that reaches Kimi before Kimi has let the old one go.
    release_grace: float = 0.1


def _future() -> asyncio.Future[None]:
    return asyncio.get_running_loop().create_future()


@dataclass(slots=True)
class _Waiter:
    key: str | None
    tokens: int
    future: asyncio.Future[None] = field(default_factory=_future)


class AccountQueue:
    """One account's gate and its waiting requests; shared by the account's faces."""

    def __init__(self, name: str, gate: Gate, policy: QueuePolicy, stats: Stats) -> None:
        self.name = name
        self.gate = gate
        self.policy = policy
        self.stats = stats
        self._queues: OrderedDict[str | None, deque[_Waiter]] = OrderedDict()
        self._depth = 0
        self._wake = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None
        self._releasing: set[asyncio.Task[None]] = set()
        self._due: deque[tuple[float, str | None]] = deque()  # (when, key): in-memory releases
        self._tick: asyncio.TimerHandle | None = None  # the one timer that frees them
        self.others: Callable[[], int] = lambda: 0  # waiting at other replicas (shared.py)

    @property
    def depth(self) -> int:
        return self._depth

    def admit_now(self, key: str | None, tokens: int) -> bool:
        """Admitted at once, with no await: nothing waits and the in-memory gate has room (the
        caller must :meth:`release`). False: call :meth:`admit`."""
        gate = self.gate
        return (
            not self._depth and isinstance(gate, LocalGate) and not gate.acquire_now(key, tokens)[0]
        )

    async def admit(self, key: str | None, tokens: int, deadline: float) -> None:
        """Return once admitted (the caller must :meth:`release`); GatewayError 429/503."""
        if not self._depth:
            wait, _ = await self.gate.try_acquire(key, tokens)
            if not wait:
                return
            loop = asyncio.get_running_loop()
            if wait != INF and loop.time() + wait > deadline:
                raise self._too_long(wait)
        if self._depth + self.others() >= self.policy.max_depth:
            self.stats.refused[(self.name, "queue_full")] += 1
            raise GatewayError(
                "unavailable",
                f"the gateway's queue for upstream account {self.name} is full; try again soon",
                retry_after=1.0,
                upstream_type=QUEUE_FULL,
            )
        await self._wait_in_queue(key, tokens, deadline)

    async def _wait_in_queue(self, key: str | None, tokens: int, deadline: float) -> None:
        waiter = _Waiter(key, tokens)
        self._queues.setdefault(key, deque()).append(waiter)
        self._depth += 1
        self.stats.queued[self.name] += 1
        loop = asyncio.get_running_loop()
        started = loop.time()
        if self._pump is None or self._pump.done():
            self._pump = loop.create_task(self._run())
        self._wake.set()
        try:
            async with asyncio.timeout_at(deadline):
                await asyncio.shield(waiter.future)
        except TimeoutError:
            if not waiter.future.done():
                waiter.future.cancel()
                raise self._too_long(1.0) from None
        except BaseException:
            if waiter.future.done() and not waiter.future.cancelled():
                await self.release(key)  # admitted just as the caller went away
            else:
                waiter.future.cancel()
            raise
        finally:
            self._forget(waiter)
            self.stats.queue_seconds[self.name] += loop.time() - started

    def _too_long(self, wait: float) -> GatewayError:
        self.stats.refused[(self.name, "deadline")] += 1
        return GatewayError(
            "rate_limit",
            f"the upstream account {self.name} is at its limits and this request could not be "
            f"admitted before its deadline; retry after {wait:.0f} s",
            retry_after=max(1.0, wait),
            upstream_type=QUEUE_DEADLINE,
        )

    def _forget(self, waiter: _Waiter) -> None:
        queue = self._queues.get(waiter.key)
        if queue is not None and waiter in queue:
            queue.remove(waiter)
            self._depth -= 1
            if not queue:
                del self._queues[waiter.key]

    async def release(self, key: str | None) -> None:
        """Free the slot ``key``'s call held, ``release_grace`` seconds from now (in memory: at
        most RELEASE_TICK later, with the others then due)."""
        if self.policy.release_grace <= 0:
            await self._release_now(key)
            return
        loop = asyncio.get_running_loop()
        if isinstance(self.gate, LocalGate):  # no await needed: no task, no timer per request
            due = loop.time() + self.policy.release_grace
            self._due.append((due, key))  # a constant grace: the deque stays in time order
            if self._tick is None:
                self._tick = loop.call_at(due + RELEASE_TICK, self._release_due)
        else:
            loop.call_later(self.policy.release_grace, self._spawn_release, key)

    def _release_due(self) -> None:
        """Free every slot whose grace has run out; the timer again for the next one."""
        loop = asyncio.get_running_loop()
        now, due = loop.time(), self._due
        while due and due[0][0] <= now:
            self._release_local(due.popleft()[1])
        self._tick = loop.call_at(due[0][0] + RELEASE_TICK, self._release_due) if due else None

    def _release_local(self, key: str | None) -> None:
        assert isinstance(self.gate, LocalGate)
        self.gate.release_now(key)
        if self._depth:
            self._wake.set()

    def _spawn_release(self, key: str | None) -> None:
        task = asyncio.get_running_loop().create_task(self._release_now(key))
        self._releasing.add(task)
        task.add_done_callback(self._releasing.discard)

    async def _release_now(self, key: str | None) -> None:
        await self.gate.release(key)
        if self._depth:
            self._wake.set()

    async def _run(self) -> None:
        """Admit waiters round robin by key while any wait."""
        while self._depth:
            self._wake.clear()
            nap = await self._admit_some()
            if nap is None:
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(nap):
                    await self._wake.wait()

    async def _admit_some(self) -> float | None:
        """Try each key's first waiter once; None if one was admitted, else how long to nap."""
        nap: float = _POLL
        for key in list(self._queues):
            queue = self._queues.get(key)
            if not queue:
                continue
            waiter = queue[0]
            if waiter.future.done():
                self._forget(waiter)
                return None
            wait, holder = await self.gate.try_acquire(key, waiter.tokens)
            if not wait:
                self._forget(waiter)
                if key in self._queues:
                    self._queues.move_to_end(key)  # the next key's turn
                if waiter.future.done():
                    await self._release_now(key)
                else:
                    waiter.future.set_result(None)
                return None
            nap = min(nap, wait)
            if holder == "account":
                break  # the account is full for everyone: the first in turn keeps its place
        return max(nap, 0.001)


class Limited(Wrapper):
    """Admits each call through its account's queue; the slot is held until the Opened is
    closed (or the call fails)."""

    def __init__(self, inner: Upstream, queue: AccountQueue) -> None:
        super().__init__(inner)
        self.queue = queue

    async def open(self, request: Request, ctx: CallContext) -> Opened:
        queue = self.queue
        policy = queue.policy
        tokens = (
            estimate_tokens(request, policy.default_max_tokens, policy.chars_per_token)
            if policy.counts_tokens
            else 0
        )
        key = ctx.key_id
        if not queue.admit_now(key, tokens):  # wait in the queue, or ask the shared gate
            deadline = asyncio.get_running_loop().time() + policy.max_wait
            if ctx.deadline is not None:
                deadline = min(deadline, ctx.deadline)
            await queue.admit(key, tokens, deadline)
        try:
            opened = await self.inner.open(request, ctx)
        except BaseException:
            await queue.release(key)
            raise
        opened.aclose = _releasing(opened.aclose, queue, key)
        return opened


def _releasing(
    aclose: Callable[[], Awaitable[None]], queue: AccountQueue, key: str | None
) -> Callable[[], Awaitable[None]]:
    released = False

    async def close() -> None:
        nonlocal released
        try:
            await aclose()
        finally:
            if not released:
                released = True
                await queue.release(key)

    return close
