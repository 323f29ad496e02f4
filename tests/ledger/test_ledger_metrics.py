"""The ledger's metrics: rows feed spend, tokens, generations, errors, latency and time to
first token; budget levels feed budget remaining and the soft alert (logged once per period)."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from prometheus_client import CollectorRegistry

from kimi_gateway.core.outcome import Outcome
from kimi_gateway.core.usage import Usage
from kimi_gateway.ledger.budgets import Budget
from kimi_gateway.ledger.counters import MemoryCounters
from kimi_gateway.ledger.guard import BudgetGuard
from kimi_gateway.ledger.prices import PriceBook, to_nano
from kimi_gateway.ledger.rows import build_row
from kimi_gateway.server.ledger_metrics import LedgerMetrics

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_rows_feed_spend_tokens_and_errors() -> None:
    registry = CollectorRegistry()
    metrics = LedgerMetrics(registry, {"kimi-k2.6"})
    usage = Usage(input_uncached=1000, input_cache_read=500, output=100, reasoning=40)
    ok = Outcome(
        "openai_chat",
        upstream="platform",
        upstream_model="kimi-k2.6",
        usage=usage,
        started=1.0,
        first_event=1.2,
        ended=2.0,
    )
    failed = Outcome("openai_chat", upstream="platform", upstream_model="odd/model", error="server")
    rows = [build_row(o, 1_796_400_000.0, PriceBook()) for o in (ok, failed)]
    metrics.observe_rows(rows)
    assert _value(
        registry, "kimi_gateway_spend_usd_total", upstream="platform", model="kimi-k2.6"
    ) == pytest.approx(0.00143)
    assert (
        _value(registry, "kimi_gateway_ledger_tokens_total", upstream="platform", kind="reasoning")
        == 40
    )
    assert (
        _value(registry, "kimi_gateway_generations_total", upstream="platform", status="error") == 1
    )
    assert (
        _value(
            registry, "kimi_gateway_generation_errors_total", upstream="platform", error="server"
        )
        == 1
    )
    assert _value(registry, "kimi_gateway_unpriced_generations_total", upstream="platform") == 1
    assert (
        _value(registry, "kimi_gateway_time_to_first_token_seconds_count", upstream="platform") == 1
    )
    assert _value(registry, "kimi_gateway_ledger_rows_written_total") == 2


async def test_budget_remaining_and_the_soft_alert(caplog: pytest.LogCaptureFixture) -> None:
    registry = CollectorRegistry()
    metrics = LedgerMetrics(registry, ())
    budget = Budget("b1", "key_a", "total", to_nano(Decimal("0.01")))
    guard = BudgetGuard(
        MemoryCounters(),
        PriceBook(),
        None,
        [budget],
        sink=metrics,
        alert_fraction=0.5,
    )
    from kimi_gateway.core.model import Message, Request, TextPart

    request = Request("kimi-k2.6", (Message("user", (TextPart("hi"),)),), max_tokens=1000)
    labels = {"budget": "b1", "scope": "key_a", "period": "total"}
    await guard.refresh()  # at start, before any request: the whole budget is left
    assert _value(registry, "kimi_gateway_budget_remaining_usd", **labels) == 0.01
    with caplog.at_level(logging.WARNING, "kimi_gateway.ledger"):
        for _ in range(2):
            outcome = Outcome("openai_chat", upstream="platform", upstream_model="kimi-k2.6")
            await guard.reserve(request, "key_a", "platform", "kimi-k2.6", outcome)
    left = _value(registry, "kimi_gateway_budget_remaining_usd", **labels)
    assert left == pytest.approx(0.01 - 2 * (18 * 0.95 + 4000) / 1e6)
    assert _value(registry, "kimi_gateway_budget_alerts_total", **labels) == 1
    assert [r.getMessage() for r in caplog.records] == [
        "budget alert: the total key key_a budget of $0.01 is 80% used"
        " ($0.008034 spent or reserved)"
    ]
    await guard.aclose()
