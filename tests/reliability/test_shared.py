"""Shared state against the machine's real Redis (127.0.0.1:6379, a key prefix per test): two
SharedState objects are two replicas. Admission, leases, the retry budget and degrading."""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest
import redis

from kimi_gateway.reliability.limits import KeyMeters, Limits, LocalGate
from kimi_gateway.reliability.retry_policy import RetryPolicy
from kimi_gateway.reliability.shared import SharedBudget, SharedGate, SharedState

URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def prefix() -> Iterator[str]:
    name = f"kgw-unit-{secrets.token_hex(4)}"
    yield name
    client = redis.Redis.from_url(URL)
    for key in client.scan_iter(f"{name}:*"):
        client.delete(key)
    client.close()


NO_KEY_LIMITS = Limits()


def gate(shared: SharedState, limits: Limits, keys: Limits = NO_KEY_LIMITS) -> SharedGate:
    meters = KeyMeters(keys)
    local = LocalGate(limits, meters, time.monotonic)
    return SharedGate(shared, "acct", limits, meters, local, window_ms=61_000)


def run(body: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(body())


def test_two_replicas_share_rpm_and_concurrency(prefix: str) -> None:
    async def body() -> None:
        one, two = SharedState(URL, prefix), SharedState(URL, prefix)
        a, b = gate(one, Limits(concurrency=2, rpm=3)), gate(two, Limits(concurrency=2, rpm=3))
        assert await a.try_acquire(None, 10) == (0.0, "account")
        assert await b.try_acquire(None, 10) == (0.0, "account")
        assert await b.try_acquire(None, 10) == (math.inf, "account")  # 2 in flight
        await a.release(None)
        assert await b.try_acquire(None, 10) == (0.0, "account")
        await a.release(None)  # nothing held by a any more: no effect
        await b.release(None)
        wait, holder = await a.try_acquire(None, 10)  # the 4th in the minute
        assert holder == "account"
        assert 59 < wait <= 61
        await one.aclose()
        await two.aclose()

    run(body)


def test_key_limits_and_tokens(prefix: str) -> None:
    async def body() -> None:
        shared = SharedState(URL, prefix)
        g = gate(shared, Limits(tpm=1000), keys=Limits(rpm=1))
        assert (await g.try_acquire("k1", 600))[0] == 0.0
        assert (await g.try_acquire("k1", 10))[1] == "key"  # k1's RPM
        assert (await g.try_acquire("k2", 600))[1] == "account"  # 600 + 600 > 1000
        assert (await g.try_acquire("k2", 400))[0] == 0.0
        await shared.aclose()

    run(body)


def test_a_dead_replicas_leases_lapse(prefix: str) -> None:
    async def body() -> None:
        dead = SharedState(URL, prefix, lease_seconds=0.5)
        alive = SharedState(URL, prefix, lease_seconds=0.5)
        a, b = gate(dead, Limits(concurrency=1)), gate(alive, Limits(concurrency=1))
        assert (await a.try_acquire(None, 1))[0] == 0.0  # then "dead" never refreshes it
        assert (await b.try_acquire(None, 1))[0] == math.inf
        await asyncio.sleep(0.6)
        assert (await b.try_acquire(None, 1))[0] == 0.0
        await dead.aclose()
        await alive.aclose()

    run(body)


def test_the_retry_budget_counts_every_replicas_requests(prefix: str) -> None:
    async def body() -> None:
        policy = RetryPolicy(budget_ratio=0.1, budget_min_per_second=0, budget_window=10)
        one, two = SharedState(URL, prefix), SharedState(URL, prefix)
        busy, idle = (
            SharedBudget(one, policy, time.monotonic),
            SharedBudget(two, policy, time.monotonic),
        )
        for _ in range(50):
            busy.request()
        await busy.flush()
        granted = [await idle.try_retry() for _ in range(8)]
        assert granted == [True] * 5 + [False] * 3  # 10 % of the 50 the other replica saw
        await one.aclose()
        await two.aclose()

    run(body)


def test_without_redis_it_is_local_and_says_so() -> None:
    async def body() -> None:
        shared = SharedState("redis://127.0.0.1:1/0", "kgw-unit-down", retry_seconds=60)
        g = gate(shared, Limits(concurrency=1))
        assert (await g.try_acquire(None, 1))[0] == 0.0  # the local gate admitted it
        assert (await g.try_acquire(None, 1))[0] == math.inf  # and keeps its limit
        assert shared.reason is not None
        assert shared.reason.startswith("redis unreachable")
        await g.release(None)
        assert (await g.try_acquire(None, 1))[0] == 0.0
        await shared.aclose()

    run(body)
