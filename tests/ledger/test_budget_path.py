"""The budgets' request path is cheap and stays exact (issues 12, 13, 15: production features
within 10 % of the plain path): the in-memory counters are settled at once, without a task; a
request works out no dates, slot names, Decimal costs or Prometheus label lookups once its
key's windows are known; and the integer cost it charges is the ledger's exact figure."""

from __future__ import annotations

import random
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import FrameType
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from kimi_gateway.core.model import Message, Request, TextPart
from kimi_gateway.core.outcome import Outcome
from kimi_gateway.core.usage import Usage
from kimi_gateway.ledger.budgets import Budget
from kimi_gateway.ledger.counters import MemoryCounters
from kimi_gateway.ledger.guard import BudgetGuard
from kimi_gateway.ledger.prices import ModelPrice, PriceBook, ToolFee, to_nano
from kimi_gateway.server.ledger_metrics import LedgerMetrics

pytestmark = pytest.mark.anyio
START = datetime(2026, 12, 5, 23, 59, 30, tzinfo=UTC).timestamp()
REQUEST = Request("kimi-k2.6", (Message("user", (TextPart("hello"),)),), max_tokens=1000)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _guard(clock: Clock, counters: MemoryCounters, registry: CollectorRegistry) -> BudgetGuard:
    budgets = [Budget("kd", "key_a", "day", 10**15), Budget("gm", None, "month", 10**15)]
    metrics = LedgerMetrics(registry, ())
    return BudgetGuard(counters, PriceBook(), None, budgets, sink=metrics, clock=clock)


async def _one(guard: BudgetGuard, output: int = 100) -> None:
    outcome = Outcome("openai_chat", upstream="platform", upstream_model="kimi-k2.6")
    await guard.reserve(REQUEST, "key_a", "platform", "kimi-k2.6", outcome)
    outcome.usage = Usage(input_uncached=10, output=output)
    guard.settle(outcome)


async def test_in_memory_settlement_is_immediate_and_follows_the_day() -> None:
    clock, counters = Clock(START), MemoryCounters()
    guard = _guard(clock, counters, CollectorRegistry())
    actual = to_nano((10 * Decimal("0.95") + 100 * Decimal(4)) / 10**6)
    await _one(guard)
    # settled by the time settle returns: no task left to run
    assert counters.values == {"kd:2026-12-05": actual, "gm:2026-12": actual}
    clock.now += 60  # past midnight: a new day's window, the same month's
    await _one(guard)
    assert counters.values == {
        "kd:2026-12-05": actual,
        "kd:2026-12-06": actual,
        "gm:2026-12": 2 * actual,
    }
    clock.now = datetime(2027, 1, 1, tzinfo=UTC).timestamp()
    await _one(guard)
    assert counters.values["gm:2027-01"] == actual
    await guard.aclose()


def _calls_during(run: Any) -> Counter[str]:
    calls: Counter[str] = Counter()

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event in ("call", "c_call"):
            name = getattr(arg, "__qualname__", None) if event == "c_call" else None
            calls[name or frame.f_code.co_qualname] += 1

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return calls


async def test_a_request_makes_no_dates_names_decimals_or_label_lookups() -> None:
    clock, counters = Clock(START - 3600), MemoryCounters()
    guard = _guard(clock, counters, CollectorRegistry())
    await _one(guard)  # the first request of the window works its slots out
    coroutines = [_one(guard, output) for output in range(10, 60)]

    def run() -> None:
        for coroutine in coroutines:
            with pytest.raises(StopIteration):
                coroutine.send(None)  # nothing awaits for real on the in-memory path

    calls = _calls_during(run)
    banned = ("slot_of", "PriceBook.cost", "to_nano", "from_nano", "MetricWrapperBase.labels")
    assert {name: calls[name] for name in banned} == dict.fromkeys(banned, 0)
    assert calls["datetime.fromtimestamp"] == calls["BaseEventLoop.create_task"] == 0
    await guard.aclose()


def test_nano_cost_is_the_ledgers_exact_cost() -> None:
    day = date(2026, 12, 5)
    odd = [
        ModelPrice("a", Decimal("0.1234567"), Decimal("3"), Decimal("15.00")),
        ModelPrice("b", Decimal("0.15"), Decimal("1E+1"), Decimal("0.0000005")),
        ModelPrice("c", Decimal("0"), Decimal("0"), Decimal("0")),
        ModelPrice("d", Decimal("0.3"), Decimal("0.95"), Decimal("4"), day - timedelta(1)),
    ]
    book = PriceBook(odd, [ToolFee("$web_search", Decimal("0.0050000001"))])
    draw = random.Random(7)
    for _ in range(3000):
        model = draw.choice("abcd")
        uncached, read, out = (draw.randrange(10 ** draw.randrange(9)) for _ in range(3))
        tools = ("$web_search",) * draw.choice((0, 0, 1, 2))
        usage = Usage(input_uncached=uncached, input_cache_read=read, output=out)
        cost = book.cost(None, model, day, usage, tools)
        assert cost is not None
        assert book.nano_cost(None, model, day, uncached, read, out, tools) == to_nano(cost)
    assert book.nano_cost(None, "unpriced", day, 1, 1, 1) is None
    assert book.nano_cost(None, "d", day - timedelta(2), 1, 1, 1) is None  # before its date
