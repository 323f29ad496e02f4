"""Budgets: parsing, periods, the maximum-cost estimate, and the guard's reserve/settle on the
in-memory counters and on the real Redis (two guards sharing it stand for two replicas):
parallel requests at a budget's edge never overspend."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.model import Message, Request, TextPart, Tool
from kimi_gateway.core.outcome import Outcome
from kimi_gateway.core.usage import Usage
from kimi_gateway.ledger.budgets import Budget, input_bound, parse_budget, slot_of
from kimi_gateway.ledger.counters import Counters, MemoryCounters, RedisCounters
from kimi_gateway.ledger.guard import BudgetGuard, Hold
from kimi_gateway.ledger.prices import PriceBook, to_nano

NOW = datetime(2026, 12, 5, 15, 30, tzinfo=UTC).timestamp()
REDIS = "redis://127.0.0.1:6379/0"
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _request(text: str = "hello", max_tokens: int | None = 1000, **extra: object) -> Request:
    message = Message("user", (TextPart(text),))
    return Request("kimi-k2.6", (message,), max_tokens=max_tokens, **extra)  # type: ignore[arg-type]


def _guard(counters: Counters, *budgets: Budget, **options: object) -> BudgetGuard:
    return BudgetGuard(counters, PriceBook(), None, budgets, clock=lambda: NOW, **options)  # type: ignore[arg-type]


def test_parse_budget() -> None:
    assert parse_budget("5/day") == ("day", Decimal(5))
    assert parse_budget("$100.50/month") == ("month", Decimal("100.50"))
    assert parse_budget("20") == ("total", Decimal(20))
    with pytest.raises(ValueError, match="5/day"):
        parse_budget("five a day")


def test_periods_are_utc_days_and_months() -> None:
    day = slot_of(Budget("b", None, "day", 1), NOW)
    assert (day.window, day.resets_at) == ("2026-12-05", datetime(2026, 12, 6, tzinfo=UTC))
    month = slot_of(Budget("b", None, "month", 1), NOW)
    assert (month.window, month.resets_at) == ("2026-12", datetime(2027, 1, 1, tzinfo=UTC))
    total = slot_of(Budget("b", None, "total", 1), NOW)
    assert (total.window, total.resets_at, total.ttl_seconds(NOW)) == ("total", None, 0)


def test_input_bound_counts_bytes_and_overheads() -> None:
    request = _request("héllo", tools=(Tool("f", "d"),))
    assert input_bound(request) == 6 + 16 + 16 + 1 + 1


async def test_reserve_then_settle_to_the_actual_cost() -> None:
    counters = MemoryCounters()
    budget = Budget("b1", "key_a", "day", to_nano(Decimal(1)))
    guard = _guard(counters, budget)
    outcome = Outcome("openai_chat", upstream="platform", upstream_model="kimi-k2.6")
    await guard.reserve(_request(), "key_a", "platform", "kimi-k2.6", outcome)
    assert isinstance(outcome.hold, Hold)
    held = outcome.hold.amount
    # (5 + 16 bytes) × $0.95 + 1000 × $4.00 per million tokens
    assert held == to_nano((21 * Decimal("0.95") + 1000 * Decimal(4)) / 10**6)
    assert counters.values == {"b1:2026-12-05": held}
    outcome.usage = Usage(input_uncached=10, output=100)
    guard.settle(outcome)
    await guard.aclose()
    assert counters.values == {"b1:2026-12-05": to_nano(Decimal("0.0004095"))}
    assert outcome.hold is None


async def test_other_keys_and_token_counts_are_not_charged() -> None:
    counters = MemoryCounters()
    guard = _guard(counters, Budget("b1", "key_a", "day", 10**9))
    outcome = Outcome("openai_chat")
    await guard.reserve(_request(), "key_b", "platform", "kimi-k2.6", outcome)
    assert (outcome.hold, counters.values) == (None, {})


async def test_an_exhausted_budget_says_which_and_when_it_resets() -> None:
    guard = _guard(MemoryCounters(), Budget("b1", "key_a", "day", to_nano(Decimal("0.001"))))
    with pytest.raises(GatewayError) as caught:
        await guard.reserve(_request(), "key_a", "platform", "kimi-k2.6", Outcome("openai_chat"))
    error = caught.value
    assert (error.kind, error.status, error.upstream_type) == (
        "quota_exhausted",
        429,
        "budget_exceeded",
    )
    assert error.message == (
        "the gateway's daily key key_a budget of $0.001 is used up for this period (this "
        "request may cost up to $0.00402); it resets at 2026-12-06 00:00 UTC"
    )
    assert error.retry_after == 8.5 * 3600


async def test_an_unpriced_model_is_refused_under_a_budget_unless_allowed() -> None:
    budget = Budget("g", None, "total", 10**9)
    with pytest.raises(GatewayError, match="has no price configured"):
        await _guard(MemoryCounters(), budget).reserve(
            _request(), None, "vllm", "my/model", Outcome("openai_chat")
        )
    outcome = Outcome("openai_chat")
    await _guard(MemoryCounters(), budget, unpriced="allow").reserve(
        _request(), None, "vllm", "my/model", outcome
    )
    assert outcome.hold is None


@pytest.fixture
async def redis_counters() -> AsyncIterator[tuple[RedisCounters, RedisCounters]]:
    prefix = f"kgw-test-{secrets.token_hex(4)}:"
    first, second = RedisCounters(REDIS, prefix), RedisCounters(REDIS, prefix)
    yield first, second
    keys = await first.redis.keys(prefix + "*")
    if keys:
        await first.redis.delete(*keys)
    await first.aclose()
    await second.aclose()


async def _parallel_run(guards: list[BudgetGuard], requests: int) -> tuple[int, int]:
    """``requests`` reservations at once over ``guards``; each admitted one then settles at
    its full estimate. Returns (admitted, refused)."""

    async def one(n: int) -> bool:
        guard = guards[n % len(guards)]
        outcome = Outcome("openai_chat", upstream="platform", upstream_model="kimi-k2.6")
        try:
            await guard.reserve(_request(max_tokens=1000), "k", "platform", "kimi-k2.6", outcome)
        except GatewayError:
            return False
        await asyncio.sleep(0.001 * (n % 7))
        outcome.usage = Usage(input_uncached=21, output=1000)  # the whole allowance
        guard.settle(outcome)
        return True

    results = await asyncio.gather(*(one(n) for n in range(requests)))
    for guard in guards:
        await guard.aclose()
    return sum(results), results.count(False)


async def test_parallel_requests_at_the_edge_never_overspend_in_memory() -> None:
    counters = MemoryCounters()
    per_request = to_nano((21 * Decimal("0.95") + 1000 * Decimal(4)) / 10**6)
    budget = Budget("edge", None, "day", per_request * 10 + per_request // 2)
    admitted, refused = await _parallel_run([_guard(counters, budget)], 40)
    assert (admitted, refused) == (10, 30)
    assert counters.values["edge:2026-12-05"] == 10 * per_request <= budget.limit_nano


async def test_parallel_requests_across_replicas_never_overspend_with_redis(
    redis_counters: tuple[RedisCounters, RedisCounters],
) -> None:
    per_request = to_nano((21 * Decimal("0.95") + 1000 * Decimal(4)) / 10**6)
    budget = Budget("edge", None, "day", per_request * 7)
    guards = [_guard(counters, budget) for counters in redis_counters]
    admitted, refused = await _parallel_run(guards, 60)
    assert (admitted, refused) == (7, 53)
    assert await redis_counters[0].spent("edge:2026-12-05") == 7 * per_request


async def test_counters_start_from_the_ledgers_record(tmp_path: Path) -> None:
    """A restarted gateway (fresh in-memory counters) counts what the ledger already holds."""
    from kimi_gateway.ledger.db import open_database
    from kimi_gateway.ledger.writer import LedgerWriter

    database = open_database(f"sqlite:///{tmp_path / 'ledger.db'}")
    writer = LedgerWriter(database, PriceBook())
    spent = Outcome("openai_chat", key_id="key_a", upstream="platform", upstream_model="kimi-k2.6")
    spent.usage = Usage(output=1000)  # $0.004 today
    writer.record(spent)
    writer.flush()
    budget = Budget("b1", "key_a", "day", to_nano(Decimal("0.006")))
    guard = BudgetGuard(MemoryCounters(), PriceBook(), database, [budget])
    with pytest.raises(GatewayError, match="is used up"):  # 0.004 + up to 0.00402 > 0.006
        await guard.reserve(_request(), "key_a", "platform", "kimi-k2.6", Outcome("openai_chat"))
    database.dispose()


async def test_unreadable_counters_fail_closed() -> None:
    counters = RedisCounters("redis://127.0.0.1:1/0", "kgw-test-down:")  # nothing listens
    guard = _guard(counters, Budget("b1", None, "day", 10**12))
    with pytest.raises(GatewayError) as caught:
        await guard.reserve(_request(), None, "platform", "kimi-k2.6", Outcome("openai_chat"))
    assert (caught.value.kind, caught.value.status, caught.value.attempts) == (
        "unavailable",
        503,
        0,
    )
    await counters.aclose()
