"""The reliability wrappers' counters and states as Prometheus families, read when ``/metrics``
is scraped (a collector: nothing is done per request).

Families: retries (by upstream and reason), stale-connection resends, retry-budget refusals,
fallbacks (from, to, why), queue admissions that waited and seconds waited, refusals by the
limits (deadline, queue full), the breaker state per upstream (0 closed, 1 half-open, 2 open)
and whether shared state (Redis) is degraded to local.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from kimi_gateway.engine.reliable import Reliability

_BREAKER_VALUE = {"closed": 0, "half_open": 1, "open": 2}


class ReliabilityCollector(Collector):
    def __init__(self, reliability: Reliability) -> None:
        self._rel = reliability

    def collect(self) -> Iterator[Metric]:
        stats = self._rel.stats
        yield _counter(
            "kimi_gateway_upstream_retries",
            "Upstream calls retried, by upstream and reason.",
            ("upstream", "reason"),
            stats.retries.items(),
        )
        yield _counter(
            "kimi_gateway_retry_budget_refusals",
            "Retries the retry budget refused.",
            ("upstream",),
            (((k,), v) for k, v in stats.budget_refusals.items()),
        )
        yield _counter(
            "kimi_gateway_fallbacks",
            "Requests passed to the next upstream of a chain.",
            ("from_upstream", "to_upstream", "reason"),
            stats.fallbacks.items(),
        )
        yield _counter(
            "kimi_gateway_queue_waits",
            "Requests that waited in a limits queue, by account.",
            ("account",),
            (((k,), v) for k, v in stats.queued.items()),
        )
        yield _counter(
            "kimi_gateway_queue_wait_seconds",
            "Seconds requests waited in limits queues.",
            ("account",),
            (((k,), v) for k, v in stats.queue_seconds.items()),
        )
        yield _counter(
            "kimi_gateway_limit_refusals",
            "Requests refused by the limits, by account and why.",
            ("account", "reason"),
            stats.refused.items(),
        )
        stale = CounterMetricFamily(
            "kimi_gateway_stale_connection_resends",
            "Requests resent on a fresh connection after a stale pooled one (not retries).",
        )
        stale.add_metric((), self._rel.stale_resends())
        yield stale
        yield from self._gauges()

    def _gauges(self) -> Iterator[Metric]:
        breakers = GaugeMetricFamily(
            "kimi_gateway_breaker_state",
            "Circuit breaker state per upstream: 0 closed, 1 half-open, 2 open.",
            labels=("upstream",),
        )
        for name, breaker in self._rel.breakers.items():
            breakers.add_metric((name,), _BREAKER_VALUE[breaker.state])
        yield breakers
        queues = GaugeMetricFamily(
            "kimi_gateway_queue_depth", "Requests waiting per account.", labels=("account",)
        )
        for name, queue in self._rel.queues.items():
            queues.add_metric((name,), queue.depth)
        yield queues
        degraded = GaugeMetricFamily(
            "kimi_gateway_shared_state_degraded",
            "1 while shared state (Redis) is unreachable and limits are local.",
        )
        degraded.add_metric((), 1 if self._rel.degraded() is not None else 0)
        yield degraded


def _counter(
    name: str, doc: str, labels: tuple[str, ...], items: Iterable[tuple[tuple[str, ...], float]]
) -> Metric:
    family = CounterMetricFamily(name, doc, labels=labels)
    for values, count in items:
        family.add_metric(values, count)
    return family


def register(registry: CollectorRegistry, reliability: Reliability) -> None:
    registry.register(ReliabilityCollector(reliability))
