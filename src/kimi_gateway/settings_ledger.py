"""The ``ledger:`` section of the settings: the usage ledger, prices and budgets (README
"Ledger, prices and budgets"). Plain validated models read once by :mod:`kimi_gateway.settings`;
``server/ledger_runtime.py`` turns them into the ledger's own dataclasses (``ledger/`` imports
only ``core``, so it never sees these).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PriceSettings(_Frozen):
    """USD per million tokens of one upstream model id (``upstream``: only on that upstream),
    from ``effective_from`` on. Replaces a default with the same model, upstream and date."""

    model: str
    cache_hit: Decimal = Field(ge=0)
    cache_miss: Decimal = Field(ge=0)
    output: Decimal = Field(ge=0)
    effective_from: date | None = None
    upstream: str | None = None


class ToolFeeSettings(_Frozen):
    tool: str  # a built-in tool's name, e.g. "$web_search"
    per_call: Decimal = Field(ge=0)  # USD
    effective_from: date | None = None


class BudgetSettings(_Frozen):
    """A USD budget per period; ``key``: a gateway key id (None: the whole gateway)."""

    key: str | None = None
    period: Literal["day", "month", "total"] = "day"
    limit_usd: Decimal = Field(gt=0)


class LedgerSettings(_Frozen):
    enabled: bool = True  # write one row per generation
    flush_seconds: float = Field(default=1.0, gt=0, le=60)  # the most a crash can lose
    retention_days: float = Field(default=90, ge=0)  # rows older than this are deleted; 0 keeps all
    prices: tuple[PriceSettings, ...] = ()
    tool_fees: tuple[ToolFeeSettings, ...] = ()
    budgets: tuple[BudgetSettings, ...] = ()
    alert_fraction: float = Field(default=0.8, gt=0, le=1)  # soft alert when this much is used
    # Output tokens reserved for a request that sets no max_tokens: Kimi's context window
    # (docs/kimi.md §4.1), the most any reply can use, so a reservation is never short.
    reserve_output_tokens: int = Field(default=262_144, ge=1)
    unpriced: Literal["refuse", "allow"] = "refuse"  # a model with no price under a budget
    redis_prefix: str = "kimi-gateway:budget:"  # budget counters' keys (with redis_url)
    # OpenTelemetry traces over OTLP/HTTP (the ``otel`` extra), e.g. http://127.0.0.1:4318
    traces_endpoint: str | None = None
    service_name: str = "kimi-gateway"  # the traces' service.name
