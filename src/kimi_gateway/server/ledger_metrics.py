"""The ledger's Prometheus metrics, on the app's registry: spend, tokens, generations, errors,
latency and time to first token, budget remaining and alerts, the writer's health.

Fed from the ledger's writer thread with each written batch (``observe_rows``), never from the
request task; budget levels from the budget guard. Labels stay low-cardinality: upstream names
come from the config, a model is labelled only when it has a price (otherwise ``other``), a
budget by its id.

Cost (issues 13, 15: the ledger within 10 % of the plain path): the numbers are plain dicts and
lists updated per row, exposed by this object as a registry collector at scrape time. Labelled
``Counter``/``Histogram`` children cost a lock and several calls per update (a histogram
observation was the writer's biggest item per row); the exposition is the same families,
samples and ``_created`` series.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable, Collection, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from kimi_gateway.ledger.budgets import Slot

_SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_TOKEN_KINDS = ("input_uncached", "input_cache_read", "input_cache_write", "output", "reasoning")
_LE = (*(repr(float(b)) for b in _SECONDS), "+Inf")  # as prometheus_client writes them
Labels = tuple[str, ...]
# name, documentation, label names (counters)
_COUNTERS = (
    ("kimi_gateway_spend_usd", "USD spent (ledger rows), by upstream and model.", "model"),
    ("kimi_gateway_generations", "Generations in the ledger, by upstream and status.", "status"),
    ("kimi_gateway_generation_errors", "Generations ended by an error, by kind.", "error"),
    ("kimi_gateway_ledger_tokens", "Tokens in the ledger, by upstream and kind.", "kind"),
    (
        "kimi_gateway_unpriced_generations",
        "Generations of models with no price (recorded without a cost).",
        "",
    ),
)
_HISTOGRAMS = (
    ("kimi_gateway_generation_seconds", "Generation latency."),
    ("kimi_gateway_time_to_first_token_seconds", "Time to first event."),
)
_BUDGET = ("budget", "scope", "period")


class _Sums:
    """A counter family's values and creation times by label set (the writer adds to
    ``values`` inline and stamps the new label sets once per batch)."""

    def __init__(self) -> None:
        self.values: dict[Labels, float] = {}
        self.created: dict[Labels, float] = {}

    def add(self, labels: Labels, amount: float) -> None:
        self.values[labels] = self.values.get(labels, 0) + amount
        self.stamp(time.time())

    def stamp(self, now: float) -> None:
        if len(self.created) != len(self.values):
            for labels in self.values:
                self.created.setdefault(labels, now)


class _Histogram:
    """A histogram family by label set: bucket counts (not cumulative) then the sum."""

    def __init__(self) -> None:
        self.series: dict[Labels, list[float]] = {}
        self.created: dict[Labels, float] = {}

    def observe(self, labels: Labels, value: float) -> None:
        series = self.series.get(labels)
        if series is None:
            series = self.series[labels] = [0] * (len(_LE) + 1)
            self.created[labels] = time.time()
        series[bisect.bisect_left(_SECONDS, value)] += 1  # the first bound ≥ value (le)
        series[-1] += value


class LedgerMetrics:
    def __init__(self, registry: CollectorRegistry, priced_models: Collection[str]) -> None:
        self.priced_models = frozenset(priced_models)
        self._lock = threading.Lock()  # the writer thread adds, a scrape reads
        self._counters = {name: _Sums() for name, _, _ in _COUNTERS}
        self._histograms = {name: _Histogram() for name, _ in _HISTOGRAMS}
        self._alerts = _Sums()
        # Budget id → (slot, nano-USD spent or held): the budget guard stores each level here
        # (a dict store on the request path); the gauge's value is worked out at scrape time.
        self.levels: dict[str, tuple[Slot, int]] = {}
        self._rows_written = 0
        self._started = time.time()
        registry.register(self)

    def writer_health(self, dropped: Callable[[], int], registry: CollectorRegistry) -> None:
        gauge = Gauge(
            "kimi_gateway_ledger_rows_dropped",
            "Ledger rows lost because the database stayed unavailable.",
            registry=registry,
        )
        gauge.set_function(lambda: float(dropped()))

    def observe_rows(self, rows: list[dict[str, Any]]) -> None:
        """One written batch (the writer thread calls this)."""
        counters = self._counters.values()
        spend, generations, errors, tokens, unpriced = (sums.values for sums in counters)
        latency, ttft = self._histograms.values()
        priced = self.priced_models
        with self._lock:
            for row in rows:
                upstream = row["upstream"] or "-"
                key: Labels = (upstream, row["status"])
                generations[key] = generations.get(key, 0) + 1
                if row["error"] is not None:
                    key = (upstream, row["error"])
                    errors[key] = errors.get(key, 0) + 1
                for kind in _TOKEN_KINDS:
                    if amount := row[kind]:
                        key = (upstream, kind)
                        tokens[key] = tokens.get(key, 0) + amount
                if not row["priced"]:
                    key = (upstream,)
                    unpriced[key] = unpriced.get(key, 0) + 1
                elif row["cost_nano_usd"]:
                    model = row["upstream_model"]
                    key = (upstream, model if model in priced else "other")
                    spend[key] = spend.get(key, 0) + row["cost_nano_usd"] / 1e9
                latency.observe((upstream,), row["latency_ms"] / 1000)
                if row["ttft_ms"] is not None:
                    ttft.observe((upstream,), row["ttft_ms"] / 1000)
            self._rows_written += len(rows)
            now = time.time()
            for sums in counters:
                sums.stamp(now)

    def alert(self, slot: Slot, spent: int, crossed: bool) -> None:
        """The budget guard's report of a level at or past its alert threshold; counted once,
        when it first crosses."""
        self.levels[slot.budget.id] = (slot, spent)
        if crossed:
            with self._lock:
                self._alerts.add(_budget_labels(slot), 1)

    def collect(self) -> Iterator[Metric]:
        """The registry's scrape: every family, as the labelled metrics would expose it."""
        with self._lock:
            for (name, doc, label), sums in zip(_COUNTERS, self._counters.values(), strict=True):
                labels = ["upstream", label] if label else ["upstream"]
                yield _counter(name, doc, labels, sums)
            for (name, doc), histogram in zip(_HISTOGRAMS, self._histograms.values(), strict=True):
                yield _histogram(name, doc, histogram)
            yield from self._budget_families()
            written = _Sums()
            written.values[()] = self._rows_written
            written.created[()] = self._started
            yield _counter(
                "kimi_gateway_ledger_rows_written",
                "Ledger rows written to the database.",
                [],
                written,
            )

    def _budget_families(self) -> Iterator[Metric]:
        remaining = GaugeMetricFamily(
            "kimi_gateway_budget_remaining_usd",
            "USD left in a budget's current period (reservations in flight count as spent).",
            labels=_BUDGET,
        )
        for slot, spent in list(self.levels.values()):
            left = max(0, slot.budget.limit_nano - spent) / 1e9
            remaining.add_metric(_budget_labels(slot), left)
        yield remaining
        yield _counter(
            "kimi_gateway_budget_alerts",
            "Budgets that crossed their soft alert threshold.",
            list(_BUDGET),
            self._alerts,
        )


def _budget_labels(slot: Slot) -> Labels:
    budget = slot.budget
    return budget.id, budget.key_id or "global", budget.period


def _counter(name: str, doc: str, labels: list[str], sums: _Sums) -> CounterMetricFamily:
    family = CounterMetricFamily(name, doc, labels=labels)
    for key, value in sums.values.items():
        family.add_metric(key, value, created=sums.created[key])
    return family


def _histogram(name: str, doc: str, histogram: _Histogram) -> Metric:
    family = HistogramMetricFamily(name, doc, labels=["upstream"])
    for key, series in histogram.series.items():
        cumulative, total = [], 0.0
        for le, count in zip(_LE, series, strict=False):
            total += count
            cumulative.append((le, total))
        family.add_metric(key, cumulative, series[-1])
        family.add_sample(name + "_created", {"upstream": key[0]}, histogram.created[key])
    return family
