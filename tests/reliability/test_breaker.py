"""The circuit breaker's state machine with an injected clock."""

from __future__ import annotations

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.reliability.breaker import Breaker, BreakerConfig, is_failure
from kimi_gateway.reliability.retry_policy import CIRCUIT_OPEN

CONFIG = BreakerConfig(failure_ratio=0.5, min_calls=4, window=10, open_seconds=5, half_open_calls=1)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def state(breaker: Breaker) -> str:
    """The state as a plain str (mypy narrows the property's Literal across asserts)."""
    return str(breaker.state)


def run(breaker: Breaker, results: list[bool]) -> None:
    for failed in results:
        assert breaker.allow()
        breaker.record(failed)


def test_opens_on_the_failure_ratio_once_enough_calls() -> None:
    clock = Clock()
    breaker = Breaker(CONFIG, clock)
    run(breaker, [True, True, True])  # 3 of 3 failed, but fewer than min_calls
    assert state(breaker) == "closed"
    run(breaker, [True])
    assert state(breaker) == "open"
    assert not breaker.allow()
    assert breaker.retry_in() == 5.0


def test_a_low_failure_ratio_keeps_it_closed() -> None:
    breaker = Breaker(CONFIG, Clock())
    run(breaker, [False, True, False, False, True, False, False, False] * 5)
    assert state(breaker) == "closed"


def test_old_failures_leave_the_window() -> None:
    clock = Clock()
    breaker = Breaker(CONFIG, clock)
    run(breaker, [True, True, True])
    clock.now += 11
    run(breaker, [True])
    assert state(breaker) == "closed"


def test_half_open_trial_closes_or_reopens() -> None:
    clock = Clock()
    breaker = Breaker(CONFIG, clock)
    run(breaker, [True] * 4)
    clock.now += 5
    assert state(breaker) == "half_open"
    assert breaker.allow()
    assert not breaker.allow()  # one trial at a time
    breaker.record(True)
    assert state(breaker) == "open"
    clock.now += 5
    assert breaker.allow()
    breaker.record(False)
    assert state(breaker) == "closed"
    run(breaker, [True] * 3)  # the old window was forgotten on closing
    assert state(breaker) == "closed"


def test_a_cancelled_trial_frees_its_place() -> None:
    clock = Clock()
    breaker = Breaker(CONFIG, clock)
    run(breaker, [True] * 4)
    clock.now += 5
    assert breaker.allow()
    breaker.release()
    assert state(breaker) == "half_open"
    assert breaker.allow()


def test_what_counts_as_a_failure() -> None:
    assert is_failure(GatewayError("server", "x"))
    assert is_failure(GatewayError("timeout", "x"))
    assert is_failure(GatewayError("overloaded", "x"))
    assert not is_failure(GatewayError("rate_limit", "x"))
    assert not is_failure(GatewayError("quota_exhausted", "x"))
    assert not is_failure(GatewayError("invalid_request", "x"))
    assert not is_failure(GatewayError("unavailable", "x", upstream_type=CIRCUIT_OPEN))
