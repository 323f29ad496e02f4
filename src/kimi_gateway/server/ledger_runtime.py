"""The ledger as one gateway runs it: the database, prices, the writer, the budget guard and
their metrics, built from ``settings.ledger`` and handed to the engine as hooks.

Before-hook: reserve the request's maximum cost on its budgets (ledger/guard.py). After-hooks:
settle that reservation, and queue the outcome for the ledger's writer thread
(ledger/writer.py). Everything the ledger needs from the settings is converted here, so
``ledger/`` sees only its own dataclasses.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from kimi_gateway.engine.hooks import AfterHook, BeforeHook, Dispatch
from kimi_gateway.ledger.budgets import Budget
from kimi_gateway.ledger.counters import Counters, MemoryCounters, RedisCounters
from kimi_gateway.ledger.db import open_database
from kimi_gateway.ledger.guard import BudgetGuard
from kimi_gateway.ledger.prices import ModelPrice, PriceBook, ToolFee, to_nano
from kimi_gateway.ledger.writer import LedgerWriter
from kimi_gateway.server.ledger_metrics import LedgerMetrics
from kimi_gateway.settings import Settings
from kimi_gateway.settings_ledger import LedgerSettings

if TYPE_CHECKING:  # the OpenTelemetry SDK loads only when traces are configured
    from kimi_gateway.server.tracing import Tracing


def price_book(config: LedgerSettings) -> PriceBook:
    """Kimi's default prices with the configured ones on top."""
    prices = [
        ModelPrice(
            p.model, p.cache_hit, p.cache_miss, p.output, p.effective_from, p.upstream, "config"
        )
        for p in config.prices
    ]
    fees = [ToolFee(f.tool, f.per_call, f.effective_from, "config") for f in config.tool_fees]
    return PriceBook.with_overrides(prices, fees)


def configured_budgets(config: LedgerSettings) -> list[Budget]:
    """The config's budgets, each with an id stable across restarts and replicas (it names the
    budget's counters in Redis)."""
    found = []
    for entry in config.budgets:
        limit = to_nano(entry.limit_usd)
        digest = hashlib.sha256(f"{entry.key}|{entry.period}|{limit}".encode()).hexdigest()
        found.append(Budget("cfg_" + digest[:12], entry.key, entry.period, limit))
    return found


def new_counters(settings: Settings) -> Counters:
    url = getattr(settings, "redis_url", None)
    if url:
        return RedisCounters(url, settings.ledger.redis_prefix)
    return MemoryCounters()


@dataclass
class LedgerRuntime:
    config: LedgerSettings
    database: Engine
    prices: PriceBook
    guard: BudgetGuard
    writer: LedgerWriter | None
    metrics: LedgerMetrics
    refresh_seconds: float
    tracing: Tracing | None = None  # OpenTelemetry spans (ledger.traces_endpoint)
    _refresher: asyncio.Task[None] | None = field(default=None, repr=False)

    def before_hooks(self) -> list[BeforeHook]:
        guard = self.guard
        first: list[BeforeHook] = [self.tracing.start] if self.tracing is not None else []

        async def reserve_budget(dispatch: Dispatch) -> None:
            if not dispatch.counting:
                target = dispatch.target
                await guard.reserve(
                    dispatch.request,
                    dispatch.principal.key_id,
                    target.upstream.name,
                    target.model,
                    dispatch.outcome,
                )

        return [*first, reserve_budget]

    def after_hooks(self) -> list[AfterHook]:
        hooks: list[AfterHook] = [self.guard.settle]
        if self.writer is not None:
            hooks.append(self.writer.record)
        if self.tracing is not None:
            hooks.append(self.tracing.end)
        return hooks

    async def start(self) -> None:
        await self.guard.refresh()
        if self.writer is not None:
            self.writer.start()
        self._refresher = asyncio.get_running_loop().create_task(self._refresh_forever())

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds)
            with contextlib.suppress(Exception):  # a DB hiccup keeps the last budgets
                await self.guard.refresh()

    async def close(self) -> None:
        """Settle what is in flight, write every queued row, release the database."""
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
        await self.guard.aclose()
        if self.writer is not None:
            await asyncio.to_thread(self.writer.stop)
        await asyncio.to_thread(self.database.dispose)
        if self.tracing is not None:
            await asyncio.to_thread(self.tracing.close)  # exports what is queued


def open_ledger(settings: Settings, registry: CollectorRegistry) -> LedgerRuntime:
    """Open (and migrate) the database and build the ledger for ``settings`` (blocking: the
    runtime calls it in a thread); its metrics go on ``registry``."""
    config = settings.ledger
    database = open_database(settings.resolved_database_url())
    prices = price_book(config)
    metrics = LedgerMetrics(registry, {price.model for price in prices.prices})
    writer = None
    if config.enabled:
        writer = LedgerWriter(
            database,
            prices,
            flush_seconds=config.flush_seconds,
            retention_days=config.retention_days,
            on_rows=metrics.observe_rows,
        )
        metrics.writer_health(lambda: writer.dropped if writer else 0, registry)
    guard = BudgetGuard(
        new_counters(settings),
        prices,
        database,
        configured_budgets(config),
        reserve_output_tokens=config.reserve_output_tokens,
        unpriced=config.unpriced,
        alert_fraction=config.alert_fraction,
        sink=metrics,
    )
    tracing = None
    if config.traces_endpoint:
        from kimi_gateway.server.tracing import Tracing

        tracing = Tracing(config.traces_endpoint, config.service_name)
    return LedgerRuntime(
        config, database, prices, guard, writer, metrics, settings.keys_refresh_seconds, tracing
    )
