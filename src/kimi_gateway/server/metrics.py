"""Prometheus metrics of one app: a registry per app (no process globals), exposed on /metrics.

Labels are low-cardinality by construction: route (from our own table, not the raw path),
upstream name, status code, token kind. No model names chosen by clients and no key material.
"""

from __future__ import annotations

from typing import Any

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
        # route, upstream and status come from small closed sets, so this stays small
        self._children: dict[tuple[str, str | None, int], tuple[Any, ...]] = {}

    def observe(
        self,
        route: str,
        upstream: str | None,
        status: int,
        seconds: float,
        tokens: tuple[int, int, int] | None,
    ) -> None:
        children = self._children.get((route, upstream, status))
        if children is None:
            children = self._children[(route, upstream, status)] = self._labelled(
                route, upstream or "-", str(status)
            )
        requests, latency, uncached_c, cached_c, output_c = children
        requests.inc()
        latency.observe(seconds)
        if tokens is not None:
            uncached, cached, output = tokens
            uncached_c.inc(uncached)
            cached_c.inc(cached)
            output_c.inc(output)

    def _labelled(self, route: str, upstream: str, status: str) -> tuple[Any, ...]:
        """The labelled children for one label set, looked up once (labels() is not cheap)."""
        return (
            self.requests.labels(route, upstream, status),
            self.latency.labels(route),
            self.tokens.labels(upstream, "input_uncached"),
            self.tokens.labels(upstream, "input_cache_read"),
            self.tokens.labels(upstream, "output"),
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
