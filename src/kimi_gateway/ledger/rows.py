"""From a finished generation's :class:`~kimi_gateway.core.outcome.Outcome` to its ledger row.

Runs in the ledger's writer thread, never in the request task (the after-hook only queues the
outcome): status, day, cost and the rest are derived here. A model with no price gets
``priced=False`` and a NULL cost, never 0.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from typing import Any

from kimi_gateway.core.outcome import Outcome
from kimi_gateway.ledger.prices import PriceBook

_STATUS_OF_ERROR = {"client_closed": "client_closed", "timeout": "timeout"}


def status_of(outcome: Outcome) -> str:
    """``ok``, ``client_closed``, ``timeout`` or ``error`` (the kind is in ``error``)."""
    if outcome.error is None:
        return "ok"
    return _STATUS_OF_ERROR.get(outcome.error, "error")


def _ms(start: float, end: float | None) -> float | None:
    return None if end is None else round((end - start) * 1000, 3)


@functools.lru_cache(maxsize=64)
def _day(days: int) -> date:
    """The UTC date ``days`` days after the epoch (rows of one day share one lookup)."""
    return datetime.fromtimestamp(days * 86400, UTC).date()


def _nano_cost(outcome: Outcome, model: str, day: date, prices: PriceBook) -> int | None:
    usage = outcome.usage
    uncached = usage.input_uncached + usage.input_cache_write
    return prices.nano_cost(
        outcome.upstream,
        model,
        day,
        uncached,
        usage.input_cache_read,
        usage.output,
        outcome.builtin_tools,
    )


def build_row(outcome: Outcome, wall: float, prices: PriceBook) -> dict[str, Any]:
    """The ``usage`` row of ``outcome``, which ended at unix time ``wall``."""
    day = _day(int(wall // 86400))
    usage = outcome.usage
    model = outcome.upstream_model or outcome.model
    cost = _nano_cost(outcome, model, day, prices)
    attempts = outcome.attempts
    fallbacks = int(
        outcome.routed_upstream is not None
        and outcome.upstream is not None
        and outcome.upstream != outcome.routed_upstream
    )
    diagnostics = ",".join(dict.fromkeys(d.code for d in outcome.diagnostics))
    return {
        "ts": wall,
        "day": day.isoformat(),
        "request_id": outcome.request_id,
        "key_id": outcome.key_id,
        "route": outcome.route or "-",
        "client": outcome.client,
        "stream": outcome.stream,
        "model": outcome.model[:200],
        "upstream": outcome.upstream,
        "upstream_model": outcome.upstream_model[:200] if outcome.upstream_model else None,
        "status": status_of(outcome),
        "error": outcome.error,
        "midstream": outcome.error is not None and outcome.first_event is not None,
        "latency_ms": _ms(outcome.started, outcome.ended) or 0.0,
        "ttft_ms": _ms(outcome.started, outcome.first_event),
        "input_uncached": usage.input_uncached,
        "input_cache_read": usage.input_cache_read,
        "input_cache_write": usage.input_cache_write,
        "output": usage.output,
        "reasoning": usage.reasoning,
        "usage_seen": outcome.usage_seen,
        "tool_calls": outcome.tool_calls,
        "builtin_calls": len(outcome.builtin_tools),
        "builtin_tools": ",".join(outcome.builtin_tools)[:200] or None,
        "attempts": attempts,
        "retries": max(0, attempts - 1 - fallbacks),
        "fallbacks": fallbacks,
        "priced": cost is not None,
        "cost_nano_usd": cost,
        "upstream_request_id": outcome.upstream_request_id,
        "diagnostics": diagnostics[:1000] or None,
    }
