"""The ledger's Prometheus metrics, on the app's registry: spend, tokens, generations, errors,
latency and time to first token, budget remaining and alerts, the writer's health.

Fed from the ledger's writer thread with each written batch (``observe_rows``), never from the
request task; budget levels from the budget guard. Labels stay low-cardinality: upstream names
come from the config, a model is labelled only when it has a price (otherwise ``other``), a
budget by its id.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from kimi_gateway.ledger.budgets import Slot

_SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_TOKEN_KINDS = ("input_uncached", "input_cache_read", "input_cache_write", "output", "reasoning")


class LedgerMetrics:
    def __init__(self, registry: CollectorRegistry, priced_models: Collection[str]) -> None:
        self.priced_models = frozenset(priced_models)
        self._children: dict[tuple[object, ...], Any] = {}
        self._remaining: dict[str, Any] = {}  # budget id → its budget_remaining child

        def counter(name: str, doc: str, *labels: str) -> Counter:
            return Counter(name, doc, labels, registry=registry)

        def seconds(name: str, doc: str) -> Histogram:
            return Histogram(name, doc, ("upstream",), buckets=_SECONDS, registry=registry)

        self.spend = counter(
            "kimi_gateway_spend_usd",
            "USD spent (ledger rows), by upstream and model.",
            "upstream",
            "model",
        )
        self.generations = counter(
            "kimi_gateway_generations",
            "Generations in the ledger, by upstream and status.",
            "upstream",
            "status",
        )
        self.errors = counter(
            "kimi_gateway_generation_errors",
            "Generations ended by an error, by kind.",
            "upstream",
            "error",
        )
        self.tokens = counter(
            "kimi_gateway_ledger_tokens",
            "Tokens in the ledger, by upstream and kind.",
            "upstream",
            "kind",
        )
        self.unpriced = counter(
            "kimi_gateway_unpriced_generations",
            "Generations of models with no price (recorded without a cost).",
            "upstream",
        )
        self.latency = seconds("kimi_gateway_generation_seconds", "Generation latency.")
        self.ttft = seconds("kimi_gateway_time_to_first_token_seconds", "Time to first event.")
        self._budget_metrics(registry)
        self.rows_written = counter(
            "kimi_gateway_ledger_rows_written", "Ledger rows written to the database."
        )

    def _budget_metrics(self, registry: CollectorRegistry) -> None:
        budget = ("budget", "scope", "period")
        self.budget_remaining = Gauge(
            "kimi_gateway_budget_remaining_usd",
            "USD left in a budget's current period (reservations in flight count as spent).",
            budget,
            registry=registry,
        )
        self.budget_alerts = Counter(
            "kimi_gateway_budget_alerts",
            "Budgets that crossed their soft alert threshold.",
            budget,
            registry=registry,
        )

    def writer_health(self, dropped: Callable[[], int], registry: CollectorRegistry) -> None:
        gauge = Gauge(
            "kimi_gateway_ledger_rows_dropped",
            "Ledger rows lost because the database stayed unavailable.",
            registry=registry,
        )
        gauge.set_function(lambda: float(dropped()))

    def observe_rows(self, rows: list[dict[str, Any]]) -> None:
        """One written batch (the writer thread calls this)."""
        for row in rows:
            upstream = row["upstream"] or "-"
            status, error = row["status"], row["error"]
            child = self._child
            child(self.generations, upstream, status).inc()
            if error is not None:
                child(self.errors, upstream, error).inc()
            for kind in _TOKEN_KINDS:
                if row[kind]:
                    child(self.tokens, upstream, kind).inc(row[kind])
            if not row["priced"]:
                child(self.unpriced, upstream).inc()
            elif row["cost_nano_usd"]:
                model = row["upstream_model"]
                label = model if model in self.priced_models else "other"
                child(self.spend, upstream, label).inc(row["cost_nano_usd"] / 1e9)
            child(self.latency, upstream).observe(row["latency_ms"] / 1000)
            if row["ttft_ms"] is not None:
                child(self.ttft, upstream).observe(row["ttft_ms"] / 1000)
        self.rows_written.inc(len(rows))

    def _child(self, metric: Any, *labels: str) -> Any:
        """A labelled child, looked up once per label set (``labels()`` is not cheap)."""
        key = (id(metric), *labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found

    def budget_level(self, slot: Slot, spent_nano: int, alert: bool) -> None:
        """The budget guard's report after each reservation and settlement (the request
        path): the gauge's child is kept per budget, the USD left is a float division."""
        budget = slot.budget
        remaining = self._remaining.get(budget.id)
        if remaining is None:
            remaining = self._remaining[budget.id] = self.budget_remaining.labels(
                *_budget_labels(slot)
            )
        remaining.set(max(0, budget.limit_nano - spent_nano) / 1e9)
        if alert:
            self.budget_alerts.labels(*_budget_labels(slot)).inc()


def _budget_labels(slot: Slot) -> tuple[str, str, str]:
    budget = slot.budget
    return budget.id, budget.key_id or "global", budget.period
