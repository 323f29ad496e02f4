"""The retry policy and budget: pure functions of the error, the attempt and a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from kimi_gateway.core.errors import ErrorKind, GatewayError
from kimi_gateway.core.http_headers import retry_after_seconds
from kimi_gateway.reliability.retry_policy import (
    CIRCUIT_OPEN,
    EMPTY_COMPLETION,
    RetryBudget,
    RetryPolicy,
)

POLICY = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=3.0, max_retry_after=10.0)


def half() -> float:
    return 0.5


def error(kind: ErrorKind, **fields: object) -> GatewayError:
    return GatewayError(kind, "x", **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["rate_limit", "overloaded", "server", "unavailable", "timeout"])
def test_retried_kinds(kind: ErrorKind) -> None:
    assert POLICY.delay(error(kind), 1, 0.0, half) == 0.25


@pytest.mark.parametrize(
    "kind",
    [
        "quota_exhausted",
        "invalid_request",
        "authentication",
        "permission",
        "not_found",
        "content_filter",
        "request_too_large",
        "client_closed",
    ],
)
def test_never_retried_kinds(kind: ErrorKind) -> None:
    assert POLICY.delay(error(kind), 1, 0.0, half) is None


def test_backoff_is_exponential_full_jitter_and_capped() -> None:
    ones = [POLICY.delay(error("server"), n, 0.0, lambda: 0.999999) for n in (1, 2, 3)]
    assert [round(d or 0, 3) for d in ones] == [0.5, 1.0, 2.0]
    assert POLICY.delay(error("server"), 3, 0.0, lambda: 0.0) == 0.0  # full jitter reaches 0
    wide = RetryPolicy(max_attempts=10, base_delay=0.5, max_delay=3.0)
    assert wide.delay(error("server"), 8, 0.0, lambda: 0.999999) == pytest.approx(3.0)


def test_attempts_are_capped() -> None:
    assert POLICY.delay(error("server"), 4, 0.0, half) is None


def test_retry_after_is_a_floor_and_capped() -> None:
    assert POLICY.delay(error("rate_limit", retry_after=2.0), 1, 0.0, half) == 2.0
    assert POLICY.delay(error("rate_limit", retry_after=11.0), 1, 0.0, half) is None


def test_the_total_wait_per_request_is_capped() -> None:
    capped = RetryPolicy(max_wait=3.0)
    assert capped.delay(error("rate_limit", retry_after=2.0), 1, 0.0, half) == 2.0
    assert capped.delay(error("rate_limit", retry_after=2.0), 2, 2.0, half) is None


def test_open_circuit_and_empty_completion() -> None:
    opened = error("unavailable", upstream_type=CIRCUIT_OPEN)
    assert POLICY.delay(opened, 1, 0.0, half) is None
    empty = error("server", upstream_type=EMPTY_COMPLETION)
    assert POLICY.delay(empty, 1, 0.0, half) == 0.25
    assert RetryPolicy(empty_completion=False).delay(empty, 1, 0.0, half) is None


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"Retry-After": "3"}) == 3.0
    assert retry_after_seconds({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert retry_after_seconds({"x-retry-after": "2"}) == 2.0
    dated = {
        "retry-after": "Wed, 21 Oct 2026 07:28:30 GMT",
        "date": "Wed, 21 Oct 2026 07:28:00 GMT",
    }
    assert retry_after_seconds(dated) == 30.0
    no_date = {"retry-after": "Wed, 21 Oct 2026 07:28:30 GMT"}
    assert retry_after_seconds(no_date) is None
    assert retry_after_seconds(no_date, now=1792567700.0) == 10.0
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2020 07:28:30 GMT"}, now=2e9) == 0.0
    assert retry_after_seconds({"retry-after": "soon"}) is None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_budget_is_a_share_of_recent_requests() -> None:
    clock = Clock()
    budget = RetryBudget(
        RetryPolicy(budget_ratio=0.2, budget_min_per_second=0.0, budget_window=10.0), clock
    )
    for _ in range(50):
        budget.request()
    granted = sum(asyncio.run(budget.try_retry()) for _ in range(20))
    assert granted == 10  # 20 % of 50
    clock.now += 11  # the window has moved on: no requests, no retries
    assert asyncio.run(budget.try_retry()) is False
    for _ in range(5):
        budget.request()
    assert asyncio.run(budget.try_retry()) is True


def test_budget_floor_allows_retries_at_low_traffic() -> None:
    clock = Clock()
    budget = RetryBudget(
        RetryPolicy(budget_ratio=0.0, budget_min_per_second=0.5, budget_window=10.0), clock
    )
    assert sum(asyncio.run(budget.try_retry()) for _ in range(10)) == 5
