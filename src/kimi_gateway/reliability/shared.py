"""State shared by every replica through Redis (``redis_url``): limits, queue depth, the retry
budget and breaker state. Without Redis they live in memory (limits.py, retry_policy.py,
breaker.py); with it, the same questions are answered by atomic scripts (shared_scripts.py).

- Limits: :class:`SharedGate` admits through one script over the account's and the key's
  windows. Each admitted call holds a lease in the account's in-flight set; a replica refreshes
  its leases every few seconds, so those of a replica that died (kill -9) lapse within
  ``lease_seconds`` instead of holding Kimi's concurrency forever.
- Queue depth: each replica publishes how many requests it has waiting per account (with an
  expiry); load shedding counts everyone's.
- Retry budget: requests are counted locally and added to the shared window once a second (no
  Redis call per request); a retry asks the script.
- Breakers: an opening is published with its remaining open time; every replica adopts it.

If Redis cannot be reached, everything degrades to this replica's local state (never failing a
request), logs it once, and says so in ``/readyz`` and ``/metrics`` (``degraded``); Redis is
tried again every ``retry_seconds``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

from kimi_gateway.reliability.breaker import Breaker
from kimi_gateway.reliability.limits import INF, Holder, KeyMeters, Limits, LocalGate
from kimi_gateway.reliability.retry_policy import RetryBudget, RetryPolicy
from kimi_gateway.reliability.shared_scripts import ACQUIRE, BUDGET, REFRESH

_LOG = logging.getLogger("kimi_gateway.reliability")
_TICK = 1.0  # seconds between the background sync's rounds
_LEASE_EVERY = 5  # ticks between lease refreshes


class SharedState:
    """One Redis connection and the background sync of one replica."""

    def __init__(
        self, url: str, prefix: str, *, lease_seconds: float = 30.0, retry_seconds: float = 2.0
    ) -> None:
        from redis.asyncio import Redis

        self.redis: Any = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.prefix = prefix.rstrip(":") + ":"
        self.replica = secrets.token_hex(6)
        self.lease_ms = int(lease_seconds * 1000)
        self._retry_seconds = retry_seconds
        self._acquire = self.redis.register_script(ACQUIRE)
        self._refresh = self.redis.register_script(REFRESH)
        self._budget = self.redis.register_script(BUDGET)
        self._down_until = 0.0
        self.reason: str | None = None  # why shared state is local now; None: Redis is in use
        self.gates: list[SharedGate] = []
        self.budgets: list[SharedBudget] = []
        self.breakers: Mapping[str, Breaker] = {}
        self._published: dict[str, float] = {}  # breaker → the opening already published
        self._task: asyncio.Task[None] | None = None
        self._ids = itertools.count()

    def lease_id(self) -> str:
        return f"{self.replica}-{next(self._ids)}"

    @property
    def up(self) -> bool:
        return self.reason is None or time.monotonic() >= self._down_until

    def failed(self, exc: BaseException) -> None:
        """Redis did not answer: go local for ``retry_seconds``, and say so once."""
        if self.reason is None:
            _LOG.warning(
                "Redis is unreachable (%s): limits, the retry budget and breakers are local to "
                "this replica until it is back",
                type(exc).__name__,
            )
        self.reason = f"redis unreachable: {type(exc).__name__}"
        self._down_until = time.monotonic() + self._retry_seconds

    def recovered(self) -> None:
        if self.reason is not None:
            _LOG.warning("Redis is reachable again: limits and breakers are shared again")
            self.reason = None

    async def call(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        """Run a script; on a Redis failure, note it and raise ``SharedDown``."""
        if not self.up:
            raise SharedDown
        try:
            result = await script(keys=keys, args=args)
        except Exception as exc:  # redis.RedisError, OSError, timeouts: all mean "not now"
            self.failed(exc)
            raise SharedDown from None
        self.recovered()
        return result

    def start(self) -> None:
        """Start the background sync (once, inside the running loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        for tick in itertools.count():
            await asyncio.sleep(_TICK)
            try:
                await self.sync(refresh_leases=tick % _LEASE_EVERY == 0)
            except SharedDown:
                pass
            except Exception as exc:  # never let the sync die
                self.failed(exc)

    async def sync(self, refresh_leases: bool = True) -> None:
        """One round: budget counts, queue depths, breaker states, and (sometimes) leases."""
        for budget in self.budgets:
            await budget.flush()
        if refresh_leases:
            for gate in self.gates:
                await gate.refresh()
        await self._sync_depths()
        await self._sync_breakers()

    async def _sync_depths(self) -> None:
        if not self.gates or not self.up:
            return
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for gate in self.gates:
                    key = f"{self.prefix}queued:{gate.account}"
                    pipe.hset(key, self.replica, f"{gate.local_depth()}:{time.time():.0f}")
                    pipe.expire(key, 60)
                    pipe.hgetall(key)
                replies = await pipe.execute()
        except Exception as exc:
            self.failed(exc)
            return
        self.recovered()
        for gate, depths in zip(self.gates, replies[2::3], strict=True):
            gate.others_depth = _live_depth(depths, self.replica.encode())

    async def _sync_breakers(self) -> None:
        if not self.breakers or not self.up:
            return
        try:
            for name, breaker in self.breakers.items():
                key = f"{self.prefix}breaker:{name}"
                opened = breaker.opened_at if breaker.state == "open" else None
                if opened is not None and self._published.get(name) != opened:
                    ms = max(1, int(breaker.retry_in() * 1000))
                    await self.redis.set(key, self.replica, px=ms)
                    self._published[name] = opened
                elif breaker.state == "closed":
                    remaining = await self.redis.pttl(key)
                    if remaining > 0:
                        breaker.force_open(remaining / 1000)
                        self._published[name] = breaker.opened_at
        except Exception as exc:
            self.failed(exc)
            return
        self.recovered()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.redis.aclose()


class SharedDown(Exception):
    """Redis cannot be used right now."""


def _live_depth(depths: Mapping[bytes, bytes], mine: bytes) -> int:
    """The sum of the other replicas' published depths, those older than 30 s left out."""
    total, now = 0, time.time()
    for replica, value in depths.items():
        if replica == mine:
            continue
        depth, _, stamp = value.decode().partition(":")
        if now - float(stamp or 0) < 30:
            total += int(depth)
    return total


class SharedGate:
    """An account's gate in Redis, with the local gate as the fallback while Redis is away."""

    def __init__(
        self,
        shared: SharedState,
        account: str,
        limits: Limits,
        keys: KeyMeters,
        local: LocalGate,
        window_ms: int,
    ) -> None:
        self.shared = shared
        self.account = account
        self._limits = limits
        self._key_limits = keys.limits
        self._local = local
        self._window_ms = window_ms
        self._leases: dict[str | None, list[tuple[str | None, str]]] = {}  # key → (lease, where)
        self.local_depth: Callable[[], int] = lambda: 0
        self.others_depth = 0  # requests the other replicas have waiting for this account
        shared.gates.append(self)

    def _keys(self, key: str | None) -> list[str]:
        base = f"{self.shared.prefix}acct:{self.account}:"
        who = f"{self.shared.prefix}key:{key or '-'}:"
        parts = ("inflight", "rpm", "tpm", "tpd")
        return [base + p for p in parts] + [who + p for p in parts[:3]]

    async def try_acquire(self, key: str | None, tokens: int) -> tuple[float, Holder]:
        self.shared.start()
        lease = self.shared.lease_id()
        limits, mine = self._limits, self._key_limits
        args = [lease, tokens, self._window_ms, self.shared.lease_ms]
        for value in (limits.concurrency, limits.rpm, limits.tpm, limits.tpd):
            args.append(value or 0)
        for value in (mine.concurrency, mine.rpm, mine.tpm):
            args.append(value or 0)
        try:
            wait_ms, holder = await self.shared.call(self.shared._acquire, self._keys(key), args)
        except SharedDown:
            wait, local_holder = self._local.acquire_now(key, tokens)
            if not wait:
                self._leases.setdefault(key, []).append((None, "local"))
            return wait, local_holder
        wait_ms = int(wait_ms)
        if wait_ms == 0:
            self._leases.setdefault(key, []).append((lease, "shared"))
            return 0.0, "account"
        who: Holder = "key" if holder in (b"key", "key") else "account"
        return (INF if wait_ms < 0 else wait_ms / 1000), who

    async def release(self, key: str | None) -> None:
        held = self._leases.get(key)
        if not held:
            return
        lease, where = held.pop(0)
        if not held:
            del self._leases[key]
        if where == "local" or lease is None:
            await self._local.release(key)
            return
        keys = self._keys(key)
        try:
            async with self.shared.redis.pipeline(transaction=False) as pipe:
                pipe.zrem(keys[0], lease)
                pipe.zrem(keys[4], lease)
                await pipe.execute()
        except Exception as exc:  # the lease lapses by itself
            self.shared.failed(exc)

    async def refresh(self) -> None:
        """Move the expiry of this replica's leases on (they lapse if it dies)."""
        keys: list[str] = []
        leases: list[str] = []
        for key, held in self._leases.items():
            for lease, where in held:
                if where == "shared" and lease is not None:
                    inflight = self._keys(key)
                    keys += [inflight[0], inflight[4]]
                    leases += [lease, lease]
        if keys:
            await self.shared.call(self.shared._refresh, keys, [self.shared.lease_ms, *leases])


class SharedBudget(RetryBudget):
    """The retry budget over every replica's requests; local while Redis is away."""

    def __init__(
        self, shared: SharedState, policy: RetryPolicy, clock: Callable[[], float]
    ) -> None:
        super().__init__(policy, clock)
        self.shared = shared
        self._pending = 0
        self._args = [policy.budget_ratio, policy.budget_min_per_second * policy.budget_window]
        self._window = max(1, int(policy.budget_window))
        shared.budgets.append(self)

    def request(self) -> None:
        super().request()
        self._pending += 1

    async def flush(self, retry: int = 0) -> bool:
        pending, self._pending = self._pending, 0
        key = f"{self.shared.prefix}budget"
        try:
            granted = await self.shared.call(
                self.shared._budget, [key], [pending, retry, *self._args, self._window]
            )
        except SharedDown:
            self._pending += pending
            raise
        return bool(int(granted))

    async def try_retry(self) -> bool:
        self.shared.start()
        try:
            return await self.flush(retry=1)
        except SharedDown:
            return await super().try_retry()
