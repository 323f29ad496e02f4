"""Kimi's limits as the gateway models them: sliding windows, tiers, the token estimate, and
the local gate's admission with a fake clock."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from kimi_gateway.core.model import Message, Request, TextPart
from kimi_gateway.reliability.limited import AccountQueue, QueuePolicy
from kimi_gateway.reliability.limits import (
    MINUTE_GRAIN,
    TIERS,
    KeyMeters,
    Limits,
    LocalGate,
    Window,
    account_limits,
    estimate_tokens,
)
from kimi_gateway.reliability.stats import Stats


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_window_slides() -> None:
    window = Window(limit=3, span=60)
    for t in (0.0, 10.0, 20.0):
        assert window.wait(t, 1) == 0.0
        window.add(t, 1)
    assert window.wait(30.0, 1) == 30.0  # the first entry leaves at 60
    assert window.wait(60.0, 1) == 0.0
    assert window.wait(60.0, 2) == 10.0  # two must leave: the second at 70


def test_an_amount_over_the_limit_fits_an_empty_window_only() -> None:
    window = Window(limit=100, span=60)
    assert window.wait(0.0, 500) == 0.0
    window.add(0.0, 500)
    assert window.wait(1.0, 1) == 59.0


def test_coarse_window_merges_and_expires_with_its_latest_entry() -> None:
    window = Window(limit=10, span=100, grain=60)
    window.add(0.0, 5)
    window.add(50.0, 5)
    assert window.wait(120.0, 1) == 30.0  # the merged bucket leaves at 50 + 100


def test_tiers_and_overrides() -> None:
    assert TIERS["tier1"] == Limits(50, 200, 128_000, 10_000_000)
    assert account_limits("free", rpm=10) == Limits(1, 10, 32_000, 1_500_000)
    assert account_limits(None, tpm=5) == Limits(None, None, 5, None)


def test_token_estimate_is_prompt_plus_max_tokens() -> None:
    request = Request(
        model="m",
        messages=(Message("user", (TextPart("x" * 100),)),),
        system=(TextPart("y" * 20),),
        max_tokens=1000,
    )
    assert estimate_tokens(request, 32768, 2.0) == math.ceil((100 + 20 + 8) / 2) + 1000
    unset = Request(model="m", messages=(Message("user", (TextPart("x"),)),))
    assert estimate_tokens(unset, 32768, 2.0) == 5 + 32768


def test_local_gate_account_and_key_limits() -> None:
    async def run() -> None:
        clock = Clock()
        keys = KeyMeters(Limits(rpm=2))
        gate = LocalGate(Limits(concurrency=2, tpm=100), keys, clock, margin=1.0)
        assert await gate.try_acquire("a", 40) == (0.0, "account")
        assert await gate.try_acquire("a", 40) == (0.0, "account")
        assert await gate.try_acquire("a", 10) == (61.0, "key")  # a's RPM
        assert await gate.try_acquire("b", 10) == (math.inf, "account")  # concurrency 2
        await gate.release("a")
        assert await gate.try_acquire("b", 30) == (61.0, "account")  # TPM 80 + 30 > 100
        assert await gate.try_acquire("b", 20) == (0.0, "account")
        clock.now = 61.0
        await gate.release("a")
        assert await gate.try_acquire("a", 90) == (0.0, "account")

    asyncio.run(run())


def test_adding_expires_the_log_so_admission_may_skip_it() -> None:
    # Admission tests only ``total + amount <= limit`` while that holds (the total only
    # shrinks as entries expire), so adding must expire: the log stays one window long.
    window = Window(limit=10**9, span=60)
    for second in range(600):
        window.add(float(second), 1)
    assert window.total == len(window._log) == 60
    assert window.wait(600.0, 10**9 - 59) == 0.0  # the entry of second 540 has left
    assert window.wait(600.0, 10**9 - 58) == 1.0  # over the limit: the next must leave too


def test_minute_windows_stay_small_at_thousands_of_requests_a_second() -> None:
    # An exact log held one entry per request per window: 180,000 lists per window at 3,000
    # req/s, each walked by the cyclic collector. Merged by MINUTE_GRAIN, a minute of such
    # traffic holds about 600 per window, and admission is never earlier than exact.
    clock = Clock()
    gate = LocalGate(Limits(rpm=10**9, tpm=10**12), KeyMeters(Limits(rpm=10**9)), clock)
    for step in range(30_000):
        clock.now = step / 3000
        assert gate.acquire_now("k", 10) == (0.0, "account")
        gate.release_now("k")
    meters = [gate._account, gate._keys.meter("k")]
    sizes = [len(window._log) for meter in meters if meter for window, _ in meter.windows]
    assert len(sizes) == 3
    assert max(sizes) <= 10 / MINUTE_GRAIN + 1
    exact = Window(limit=2, span=60)
    merged = Window(limit=2, span=60, grain=MINUTE_GRAIN)
    for window in (exact, merged):
        for t in (0.0, 0.05, 0.09):
            window.add(t, 1)
    assert merged.wait(60.02, 1) >= exact.wait(60.02, 1) > 0


def test_in_memory_releases_share_one_timer_and_none_is_early() -> None:
    """Each ended call's slot is freed ``release_grace`` later. One timer per call woke an idle
    event loop once per request; now the slots then due are freed together, by one timer at
    most RELEASE_TICK after the first is due, and never before their own grace has passed."""

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        gate = LocalGate(Limits(concurrency=1000), KeyMeters(Limits()), loop.time)
        queue = AccountQueue("platform", gate, QueuePolicy(release_grace=0.05), Stats())
        timers = 0
        real_call_at = loop.call_at

        def counted(when: float, callback: Any, *args: Any, **kw: Any) -> asyncio.TimerHandle:
            nonlocal timers
            timers += getattr(callback, "__self__", None) is queue  # the queue's, not sleep's
            return real_call_at(when, callback, *args, **kw)

        loop.call_at = counted  # type: ignore[method-assign,assignment]
        first_ended = loop.time()
        for _wave in range(4):  # 40 calls ending in four waves of ten, 20 ms apart
            for _ in range(10):
                assert queue.admit_now("k", 0)
                await queue.release("k")
            await asyncio.sleep(0.02)
        freed_at: float | None = None
        while gate._account.inflight:
            if freed_at is None and gate._account.inflight < 40:
                freed_at = loop.time()
            await asyncio.sleep(0.001)
        assert freed_at is None or freed_at >= first_ended + 0.05  # none freed early
        assert timers <= 8  # a timer per wave at most (a slow machine merges waves), not 40

    asyncio.run(scenario())
