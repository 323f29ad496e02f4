"""Prometheus metrics of one app: a registry per app (no process globals), exposed on /metrics.

Labels are low-cardinality by construction: route (from our own table, not the raw path),
upstream name, status code, token kind. No model names chosen by clients and no key material.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST.encode()


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter(
            "kimi_gateway_requests",
            "Requests answered, by route, upstream and status.",
            ("route", "upstream", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "kimi_gateway_request_seconds",
            "Time from request to the end of the response, by route.",
            ("route",),
            buckets=(0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
            registry=self.registry,
        )
        self.tokens = Counter(
            "kimi_gateway_tokens",
            "Tokens reported by upstreams, by upstream and kind.",
            ("upstream", "kind"),
            registry=self.registry,
        )

    def observe(
        self,
        route: str,
        upstream: str | None,
        status: int,
        seconds: float,
        tokens: tuple[int, int, int] | None,
    ) -> None:
        upstream_label = upstream or "-"
        self.requests.labels(route, upstream_label, str(status)).inc()
        self.latency.labels(route).observe(seconds)
        if tokens is not None:
            uncached, cached, output = tokens
            self.tokens.labels(upstream_label, "input_uncached").inc(uncached)
            self.tokens.labels(upstream_label, "input_cache_read").inc(cached)
            self.tokens.labels(upstream_label, "output").inc(output)

    def render(self) -> bytes:
        return generate_latest(self.registry)
