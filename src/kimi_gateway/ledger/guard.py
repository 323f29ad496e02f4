"""Budget enforcement as the engine's hooks: reserve before dispatch, settle after.

:meth:`BudgetGuard.reserve` (run by a before-hook, once the request is routed) charges the
request's estimated maximum cost — every prompt token uncached (budgets.input_bound), the whole
output allowance (``max_tokens`` × ``n``, else ``reserve_output_tokens``), one call of each
offered built-in tool — to every budget that applies (the key's and the global ones) in one
atomic step (counters.py); if any would pass its limit the request is refused with a
``quota_exhausted`` error naming the budget and when it resets, before anything is sent.
:meth:`BudgetGuard.settle` (an after-hook, whatever the ending) replaces the reservation with
the actual cost. Since the actual cost never exceeds the estimate, the sum of settled costs
never passes a limit, however many requests run at once, on one replica or many (Redis).

A model with no price cannot be bounded: under a budget it is refused (``unpriced: refuse``,
the default) or let through uncharged (``allow``) and flagged in its ledger row.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_UP, Decimal
from typing import Literal, Protocol

from sqlalchemy import Engine

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.model import Request
from kimi_gateway.core.outcome import Outcome
from kimi_gateway.core.records import record
from kimi_gateway.ledger.budgets import (
    Budget,
    Slot,
    builtin_offered,
    input_bound,
    slot_of,
    spent_in,
    stored_budgets,
)
from kimi_gateway.ledger.counters import Counters, MemoryCounters
from kimi_gateway.ledger.prices import PriceBook, from_nano

_LOG = logging.getLogger("kimi_gateway.ledger")
_MICRO = Decimal("0.000001")  # USD shown to the micro-dollar in messages


class LevelSink(Protocol):
    """Where the guard reports levels (the metrics): on the request path a plain dict store
    per budget, read at scrape time; a call only when a level is at its alert threshold."""

    levels: dict[str, tuple[Slot, int]]  # budget id → (slot, nano-USD spent or held)

    def alert(self, slot: Slot, spent: int, crossed: bool) -> None:
        """``slot``'s level is at or past the alert threshold (``crossed``: for the first time)."""
        ...


@record
class Hold:
    """What a request reserved: the scope it charged (its slots, their counters and alert
    levels, as they were then) and the amount (nano-USD)."""

    scope: _Scope
    amount: int


@dataclass(slots=True)
class _Scope:
    """The budgets of one key in their current windows, valid while ``since <= now < until``
    (the request path reuses it rather than working out dates and names each time)."""

    slots: tuple[Slot, ...]
    names: tuple[str, ...]
    limits: tuple[int, ...]
    alert_at: tuple[float, ...]  # the level at which each slot's soft alert fires
    since: float
    until: float
    seeded: bool = False

    @classmethod
    def of(cls, slots: tuple[Slot, ...], alert_fraction: float) -> _Scope:
        ends = [s.resets_at.timestamp() for s in slots if s.resets_at is not None]
        return cls(
            slots,
            tuple(s.name for s in slots),
            tuple(s.budget.limit_nano for s in slots),
            tuple(s.budget.limit_nano * alert_fraction for s in slots),
            max(s.start for s in slots),
            min(ends, default=math.inf),
        )


class BudgetGuard:
    def __init__(
        self,
        counters: Counters,
        prices: PriceBook,
        database: Engine | None,
        configured: Sequence[Budget] = (),
        *,
        reserve_output_tokens: int = 262_144,
        unpriced: Literal["refuse", "allow"] = "refuse",
        alert_fraction: float = 0.8,
        sink: LevelSink | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.counters = counters
        self.prices = prices
        self.database = database
        self.configured = tuple(configured)
        self.reserve_output_tokens = reserve_output_tokens
        self.unpriced = unpriced
        self.alert_fraction = alert_fraction
        self.sink = sink
        self.levels: dict[str, tuple[Slot, int]] = sink.levels if sink is not None else {}
        self.clock = clock
        self._by_key: dict[str | None, list[Budget]] = {}
        self._seeded: set[str] = set()
        self._alerted: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._scopes: dict[str | None, _Scope] = {}
        self._local = counters if isinstance(counters, MemoryCounters) else None
        self._day_start, self._today = math.inf, date.min
        self._index(self.configured)

    @property
    def budgets(self) -> list[Budget]:
        return [b for group in self._by_key.values() for b in group]

    def _index(self, budgets: Sequence[Budget]) -> None:
        by_key: dict[str | None, list[Budget]] = {}
        for budget in budgets:
            by_key.setdefault(budget.key_id, []).append(budget)
        self._by_key = by_key
        self._scopes = {}

    async def refresh(self) -> None:
        """Reload the stored budgets (``keys create --budget``) beside the configured ones."""
        stored = (
            [] if self.database is None else await asyncio.to_thread(stored_budgets, self.database)
        )
        self._index([*self.configured, *stored])
        await self._report_levels()

    async def _report_levels(self) -> None:
        """Every budget's current level, read from the counters (other replicas spend too)."""
        if self.sink is None:
            return
        now = self.clock()
        for budget in self.budgets:
            slot = slot_of(budget, now)
            try:
                spent = await self.counters.spent(slot.name)
            except Exception:
                return  # the next reservation says it louder
            self.levels[slot.budget.id] = (slot, spent or 0)

    def applicable(self, key_id: str | None) -> list[Budget]:
        found = self._by_key.get(None, [])
        if key_id is not None:
            found = [*found, *self._by_key.get(key_id, ())]
        return found

    async def reserve(
        self, request: Request, key_id: str | None, upstream: str, model: str, outcome: Outcome
    ) -> None:
        now = self.clock()
        scope = self._scope(key_id, now)
        if scope is None:
            return
        amount = self._estimate(request, upstream, model, now)
        if amount is None:
            return
        slots = scope.slots
        try:
            if not scope.seeded:
                await self._seed(slots, now)
                scope.seeded = True
            if self._local is not None:  # in memory: no await, no list per request
                index, after = self._local.reserve_now(scope.names, scope.limits, amount)
            else:
                ttls = [s.ttl_seconds(now) for s in slots]
                index, after = await self.counters.reserve(scope.names, scope.limits, ttls, amount)
        except Exception:
            # Fail closed: a budget that cannot be checked is not spent blindly.
            _LOG.exception("budget: the counters could not be read")
            raise _before_dispatch(
                GatewayError(
                    "unavailable",
                    "the gateway cannot check its spending budgets right now; try again shortly",
                    retry_after=5,
                )
            ) from None
        if index >= 0:
            raise _before_dispatch(self._exhausted(slots[index], amount))
        outcome.hold = Hold(scope, amount)
        self._levels(scope, after)

    def _scope(self, key_id: str | None, now: float) -> _Scope | None:
        """The slots that apply to ``key_id`` at ``now``, made once per period window."""
        scope = self._scopes.get(key_id)
        if scope is None or not scope.since <= now < scope.until:
            budgets = self.applicable(key_id)
            if not budgets:
                return None
            scope = self._scopes[key_id] = _Scope.of(
                tuple(slot_of(b, now) for b in budgets), self.alert_fraction
            )
        return scope

    def _day(self, now: float) -> date:
        """The UTC date of ``now`` (prices change by date), made once per day."""
        if not self._day_start <= now < self._day_start + 86400:
            self._day_start = now - now % 86400
            self._today = datetime.fromtimestamp(now, UTC).date()
        return self._today

    def _estimate(self, request: Request, upstream: str, model: str, now: float) -> int | None:
        """The most the request can cost, in nano-USD; None to let an unpriced one through."""
        output = (request.max_tokens or self.reserve_output_tokens) * max(1, request.n or 1)
        tools = builtin_offered(request) if request.tools else ()
        day = self._day(now)
        cost = self.prices.nano_cost(upstream, model, day, input_bound(request), 0, output, tools)
        if cost is not None:
            return cost
        if self.unpriced == "allow":
            return None
        raise _before_dispatch(
            GatewayError(
                "permission",
                f"the model {model!r} has no price configured, so this gateway's budgets "
                "cannot be enforced for it; ask the operator to add its price",
            )
        )

    async def _seed(self, slots: Sequence[Slot], now: float) -> None:
        """Start each counter this process has not used yet from the ledger's record."""
        for slot in slots:
            if slot.name in self._seeded:
                continue
            value = 0
            if self.database is not None:
                value = await asyncio.to_thread(spent_in, self.database, slot)
            await self.counters.seed(slot.name, value, slot.ttl_seconds(now))
            self._seeded.add(slot.name)

    def _exhausted(self, slot: Slot, amount: int) -> GatewayError:
        budget = slot.budget
        if slot.resets_at is None:
            when, retry = "it does not reset", None
        else:
            when = f"it resets at {slot.resets_at.strftime('%Y-%m-%d %H:%M')} UTC"
            retry = max(0.0, slot.resets_at.timestamp() - self.clock())
        need = from_nano(amount).quantize(_MICRO, rounding=ROUND_UP)
        return GatewayError(
            "quota_exhausted",
            f"the gateway's {budget.describe()} is used up for this period (this request may "
            f"cost up to ${need.normalize():f}); {when}",
            retry_after=retry,
            upstream_type="budget_exceeded",
        )

    def settle(self, outcome: Outcome) -> None:
        """The after-hook: replace the reservation with the actual cost (off the hot path:
        with Redis the counter update runs as its own task)."""
        hold = outcome.hold
        if not isinstance(hold, Hold):
            return
        outcome.hold = None
        model = outcome.upstream_model or outcome.model
        usage = outcome.usage
        cost = self.prices.nano_cost(
            outcome.upstream,
            model,
            self._day(self.clock()),
            usage.input_uncached + usage.input_cache_write,
            usage.input_cache_read,
            usage.output,
            outcome.builtin_tools,
        )
        delta = (cost or 0) - hold.amount
        if delta == 0:
            return
        if self._local is not None:
            self._levels(hold.scope, self._local.adjust_now(hold.scope.names, delta))
            return
        task = asyncio.get_running_loop().create_task(self._adjust(hold, delta))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _adjust(self, hold: Hold, delta: int) -> None:
        try:
            after = await self.counters.adjust(hold.scope.names, delta)
        except Exception:
            _LOG.exception("budget: settling a reservation failed")
            return
        self._levels(hold.scope, after)

    def _levels(self, scope: _Scope, after: Sequence[int]) -> None:
        levels = self.levels
        for slot, spent, at in zip(scope.slots, after, scope.alert_at, strict=False):
            levels[slot.budget.id] = (slot, spent)
            if spent >= at:
                self._alert(slot, spent)

    def _alert(self, slot: Slot, spent: int) -> None:
        """A level at or past the soft alert threshold: logged (and counted) once per slot."""
        crossed = slot.name not in self._alerted
        if crossed:
            self._alerted.add(slot.name)
            _LOG.warning(
                "budget alert: the %s is %s%% used ($%s spent or reserved)",
                slot.budget.describe(),
                round(100 * spent / max(1, slot.budget.limit_nano)),
                from_nano(spent).quantize(_MICRO),
            )
        if self.sink is not None:
            self.sink.alert(slot, spent, crossed)

    async def aclose(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.counters.aclose()


def _before_dispatch(error: GatewayError) -> GatewayError:
    """A refusal before any upstream call: it made none (the ledger row says 0 attempts)."""
    error.attempts = 0
    return error
