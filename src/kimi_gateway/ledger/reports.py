"""Usage reports from the ledger: requests, tokens and cost per key, model, day or upstream.

One SQL query per report (GROUP BY on indexed columns, sums in the database). Token names say
what they include: ``input_tokens`` are prompt tokens not served from cache (cache writes
included), ``cached_tokens`` those served from cache, so their sum is the whole prompt;
``output_tokens`` include ``reasoning_tokens``. ``cost_usd`` is an exact Decimal; requests to
unpriced models are counted in ``unpriced_requests`` and add nothing to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Engine, case, func, select

from kimi_gateway.ledger.prices import from_nano
from kimi_gateway.ledger.schema import usage

GroupBy = Literal["key", "model", "day", "upstream"]
_COLUMN = {
    "key": usage.c.key_id,
    "model": usage.c.upstream_model,
    "day": usage.c.day,
    "upstream": usage.c.upstream,
}


@dataclass(frozen=True, slots=True)
class UsageGroup:
    group: str | None
    requests: int
    errors: int
    input_tokens: int
    cached_tokens: int
    output_tokens: int
    reasoning_tokens: int
    cost_usd: Decimal
    unpriced_requests: int

    def as_json(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "requests": self.requests,
            "errors": self.errors,
            "input_tokens": self.input_tokens,
            "cached_tokens": self.cached_tokens,
            "output_tokens": self.output_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "cost_usd": format(self.cost_usd.normalize(), "f"),
            "unpriced_requests": self.unpriced_requests,
        }


def _sum(column: Any) -> Any:
    return func.coalesce(func.sum(column), 0)


def usage_report(
    engine: Engine, by: GroupBy, since: float | None = None, until: float | None = None
) -> list[UsageGroup]:
    """One group per distinct ``by`` value with rows in [since, until), largest cost first."""
    column = _COLUMN[by]
    query = select(
        column.label("grp"),
        func.count().label("requests"),
        _sum(case((usage.c.status != "ok", 1), else_=0)).label("errors"),
        _sum(usage.c.input_uncached + usage.c.input_cache_write).label("input"),
        _sum(usage.c.input_cache_read).label("cached"),
        _sum(usage.c.output).label("output"),
        _sum(usage.c.reasoning).label("reasoning"),
        _sum(usage.c.cost_nano_usd).label("cost"),
        _sum(case((usage.c.priced.is_(False), 1), else_=0)).label("unpriced"),
    ).group_by(column)
    if since is not None:
        query = query.where(usage.c.ts >= since)
    if until is not None:
        query = query.where(usage.c.ts < until)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    groups = [
        UsageGroup(
            group=row.grp,
            requests=int(row.requests),
            errors=int(row.errors),
            input_tokens=int(row.input),
            cached_tokens=int(row.cached),
            output_tokens=int(row.output),
            reasoning_tokens=int(row.reasoning),
            cost_usd=from_nano(int(row.cost)),
            unpriced_requests=int(row.unpriced),
        )
        for row in rows
    ]
    if by == "day":
        return sorted(groups, key=lambda g: g.group or "")
    return sorted(groups, key=lambda g: (-g.cost_usd, -g.requests, g.group or ""))
