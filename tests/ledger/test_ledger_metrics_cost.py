"""The ledger's metrics cost the writer thread a few dict updates per row (issues 13, 15: the
ledger within 10 % of the plain path), yet scrape as labelled prometheus_client metrics would:
the same families, samples and values."""

from __future__ import annotations

import re
import sys
from types import FrameType

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from kimi_gateway.core.outcome import Outcome
from kimi_gateway.core.usage import Usage
from kimi_gateway.ledger.budgets import Budget, slot_of
from kimi_gateway.ledger.prices import PriceBook
from kimi_gateway.ledger.rows import build_row
from kimi_gateway.server.ledger_metrics import LedgerMetrics

SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
KINDS = ("input_uncached", "input_cache_read", "input_cache_write", "output", "reasoning")
BUDGET = ("budget", "scope", "period")


def _rows() -> list[dict[str, object]]:
    usage = Usage(input_uncached=1000, input_cache_read=500, output=100, reasoning=40)
    outcomes = [
        Outcome(
            "openai_chat",
            upstream="platform",
            upstream_model="kimi-k2.6",
            usage=usage,
            started=1.0,
            first_event=1.2,
            ended=2.0,
        ),
        Outcome("openai_chat", upstream="platform", upstream_model="odd/model", error="server"),
        Outcome("openai_chat", upstream="b", upstream_model="kimi-k2.5", usage=Usage(output=7)),
    ]
    return [build_row(o, 1_796_400_000.0, PriceBook()) for o in outcomes * 40]


def _reference(rows: list[dict[str, object]]) -> bytes:
    """The exposition of the same rows through labelled prometheus_client metrics."""
    registry = CollectorRegistry()

    def counter(name: str, doc: str, *labels: str) -> Counter:
        return Counter(name, doc, labels, registry=registry)

    spend = counter(
        "kimi_gateway_spend_usd",
        "USD spent (ledger rows), by upstream and model.",
        "upstream",
        "model",
    )
    generations = counter(
        "kimi_gateway_generations",
        "Generations in the ledger, by upstream and status.",
        "upstream",
        "status",
    )
    errors = counter(
        "kimi_gateway_generation_errors",
        "Generations ended by an error, by kind.",
        "upstream",
        "error",
    )
    tokens = counter(
        "kimi_gateway_ledger_tokens",
        "Tokens in the ledger, by upstream and kind.",
        "upstream",
        "kind",
    )
    unpriced = counter(
        "kimi_gateway_unpriced_generations",
        "Generations of models with no price (recorded without a cost).",
        "upstream",
    )
    latency = Histogram(
        "kimi_gateway_generation_seconds",
        "Generation latency.",
        ("upstream",),
        buckets=SECONDS,
        registry=registry,
    )
    ttft = Histogram(
        "kimi_gateway_time_to_first_token_seconds",
        "Time to first event.",
        ("upstream",),
        buckets=SECONDS,
        registry=registry,
    )
    remaining = Gauge(
        "kimi_gateway_budget_remaining_usd",
        "USD left in a budget's current period (reservations in flight count as spent).",
        BUDGET,
        registry=registry,
    )
    alerts = Counter(
        "kimi_gateway_budget_alerts",
        "Budgets that crossed their soft alert threshold.",
        BUDGET,
        registry=registry,
    )
    written = counter("kimi_gateway_ledger_rows_written", "Ledger rows written to the database.")
    for row in rows:
        upstream = str(row["upstream"])
        generations.labels(upstream, row["status"]).inc()
        if row["error"] is not None:
            errors.labels(upstream, row["error"]).inc()
        for kind in KINDS:
            if row[kind]:
                tokens.labels(upstream, kind).inc(row[kind])  # type: ignore[arg-type]
        if not row["priced"]:
            unpriced.labels(upstream).inc()
        elif row["cost_nano_usd"]:
            model = row["upstream_model"]
            spend.labels(upstream, model if model == "kimi-k2.6" else "other").inc(
                row["cost_nano_usd"] / 1e9  # type: ignore[operator]
            )
        latency.labels(upstream).observe(row["latency_ms"] / 1000)  # type: ignore[operator]
        if row["ttft_ms"] is not None:
            ttft.labels(upstream).observe(row["ttft_ms"] / 1000)  # type: ignore[operator]
    written.inc(len(rows))
    remaining.labels("b1", "key_a", "day").set((10**7 - 6000) / 1e9)
    alerts.labels("b1", "key_a", "day").inc()
    return generate_latest(registry)


def _without_times(exposition: bytes) -> str:
    return re.sub(r"(_created(\{[^}]*\})?) \S+", r"\1 T", exposition.decode())


def test_rows_cost_no_prometheus_calls_and_scrape_as_labelled_metrics() -> None:
    rows = _rows()
    registry = CollectorRegistry()
    metrics = LedgerMetrics(registry, {"kimi-k2.6", "kimi-k2.5x"})
    metrics.observe_rows(rows[:3])  # label sets seen once
    calls: list[str] = []

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event == "call" and "prometheus_client" in frame.f_code.co_filename:
            calls.append(frame.f_code.co_qualname)

    sys.setprofile(profile)
    try:
        metrics.observe_rows(rows[3:])
        slot = slot_of(Budget("b1", "key_a", "day", 10**7), 1e9)
        metrics.levels[slot.budget.id] = (slot, 5000)  # what the budget guard stores
        metrics.alert(slot, 6000, True)
    finally:
        sys.setprofile(None)
    assert calls == []
    assert _without_times(generate_latest(registry)) == _without_times(_reference(rows))
