"""What the dashboard (/ui) shows, read from the ledger: spend per day, tokens per model, the
cache-hit ratio, the error rate, latency percentiles and the most recent requests.

A few small queries over indexed columns; percentiles from the latencies of the newest rows
(at most ``sample``), computed here so SQLite and PostgreSQL give the same numbers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from kimi_gateway.ledger.prices import from_nano
from kimi_gateway.ledger.reports import usage_report
from kimi_gateway.ledger.schema import usage


def percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of ``values`` (None when there are none)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))  # ceil, at least the first
    return ordered[int(rank) - 1]


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _usd(nano: int) -> str:
    return f"{from_nano(nano).normalize():f}"


def _recent(engine: Engine, limit: int) -> list[dict[str, Any]]:
    columns = [
        usage.c.ts, usage.c.request_id, usage.c.key_id, usage.c.model, usage.c.upstream,
        usage.c.status, usage.c.error, usage.c.latency_ms, usage.c.input_uncached,
        usage.c.input_cache_read, usage.c.output, usage.c.cost_nano_usd, usage.c.priced,
        usage.c.diagnostics,
    ]  # fmt: skip
    query = select(*columns).order_by(usage.c.ts.desc()).limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        {
            "ts": row.ts,
            "request_id": row.request_id,
            "key_id": row.key_id,
            "model": row.model,
            "upstream": row.upstream,
            "status": row.status,
            "error": row.error,
            "latency_ms": row.latency_ms,
            "input_tokens": row.input_uncached + row.input_cache_read,
            "output_tokens": row.output,
            "cost_usd": None if not row.priced else _usd(row.cost_nano_usd or 0),
            "diagnostics": row.diagnostics.split(",") if row.diagnostics else [],
        }
        for row in rows
    ]


def _latencies(engine: Engine, sample: int, since: float | None) -> list[float]:
    query = select(usage.c.latency_ms).order_by(usage.c.ts.desc()).limit(sample)
    if since is not None:
        query = query.where(usage.c.ts >= since)
    with engine.connect() as conn:
        return [float(value) for value in conn.execute(query).scalars()]


def insights(
    engine: Engine, since: float | None = None, recent: int = 50, sample: int = 10_000
) -> dict[str, Any]:
    """Everything the dashboard draws, as JSON-ready values (money as decimal strings)."""
    days = usage_report(engine, "day", since)
    models = usage_report(engine, "model", since)
    requests = sum(group.requests for group in days)
    errors = sum(group.errors for group in days)
    cached = sum(group.cached_tokens for group in days)
    prompt = cached + sum(group.input_tokens for group in days)
    latencies = _latencies(engine, sample, since)
    return {
        "requests": requests,
        "errors": errors,
        "error_rate": errors / requests if requests else 0.0,
        "cache_hit_ratio": _ratio(cached, prompt),
        "spend_usd": f"{sum((g.cost_usd for g in days), from_nano(0)).normalize():f}",
        "spend_by_day": [{"day": g.group, "cost_usd": f"{g.cost_usd:f}"} for g in days],
        "rates_by_day": [
            {
                "day": g.group,
                "error_rate": g.errors / g.requests if g.requests else 0.0,
                "cache_hit_ratio": _ratio(g.cached_tokens, g.cached_tokens + g.input_tokens),
            }
            for g in days
        ],
        "tokens_by_model": [
            {
                "model": g.group,
                "input_tokens": g.input_tokens,
                "cached_tokens": g.cached_tokens,
                "output_tokens": g.output_tokens,
            }
            for g in models
        ],
        "latency_ms": {
            name: percentile(latencies, fraction)
            for name, fraction in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
        },
        "recent": _recent(engine, recent),
    }
