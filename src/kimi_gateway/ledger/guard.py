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
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_UP, Decimal
from typing import Literal

from sqlalchemy import Engine

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.model import Request
from kimi_gateway.core.outcome import Outcome
from kimi_gateway.ledger.budgets import (
    Budget,
    Slot,
    builtin_offered,
    input_bound,
    slot_of,
    spent_in,
    stored_budgets,
)
from kimi_gateway.ledger.counters import Counters
from kimi_gateway.ledger.prices import PriceBook, from_nano, to_nano

_LOG = logging.getLogger("kimi_gateway.ledger")
_MICRO = Decimal("0.000001")  # USD shown to the micro-dollar in messages
LevelHook = Callable[[Slot, int, bool], None]  # (slot, nano-USD spent or held, alert crossed)


@dataclass(frozen=True, slots=True)
class Hold:
    """What a request reserved: the slots charged and the amount (nano-USD)."""

    slots: tuple[Slot, ...]
    amount: int


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
        on_level: LevelHook | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.counters = counters
        self.prices = prices
        self.database = database
        self.configured = tuple(configured)
        self.reserve_output_tokens = reserve_output_tokens
        self.unpriced = unpriced
        self.alert_fraction = alert_fraction
        self.on_level = on_level
        self.clock = clock
        self._by_key: dict[str | None, list[Budget]] = {}
        self._seeded: set[str] = set()
        self._alerted: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._index(self.configured)

    @property
    def budgets(self) -> list[Budget]:
        return [b for group in self._by_key.values() for b in group]

    def _index(self, budgets: Sequence[Budget]) -> None:
        by_key: dict[str | None, list[Budget]] = {}
        for budget in budgets:
            by_key.setdefault(budget.key_id, []).append(budget)
        self._by_key = by_key

    async def refresh(self) -> None:
        """Reload the stored budgets (``keys create --budget``) beside the configured ones."""
        stored = (
            [] if self.database is None else await asyncio.to_thread(stored_budgets, self.database)
        )
        self._index([*self.configured, *stored])
        await self._report_levels()

    async def _report_levels(self) -> None:
        """Every budget's current level to ``on_level`` (other replicas spend too)."""
        if self.on_level is None:
            return
        now = self.clock()
        for budget in self.budgets:
            slot = slot_of(budget, now)
            try:
                spent = await self.counters.spent(slot.name)
            except Exception:
                return  # the next reservation says it louder
            self.on_level(slot, spent or 0, False)

    def applicable(self, key_id: str | None) -> list[Budget]:
        found = self._by_key.get(None, [])
        if key_id is not None:
            found = [*found, *self._by_key.get(key_id, ())]
        return found

    async def reserve(
        self, request: Request, key_id: str | None, upstream: str, model: str, outcome: Outcome
    ) -> None:
        budgets = self.applicable(key_id)
        if not budgets:
            return
        now = self.clock()
        slots = tuple(slot_of(budget, now) for budget in budgets)
        amount = self._estimate(request, upstream, model, now)
        if amount is None:
            return
        try:
            await self._seed(slots, now)
            index, after = await self.counters.reserve(
                [s.name for s in slots],
                [s.budget.limit_nano for s in slots],
                [s.ttl_seconds(now) for s in slots],
                amount,
            )
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
        outcome.hold = Hold(slots, amount)
        self._levels(slots, after)

    def _estimate(self, request: Request, upstream: str, model: str, now: float) -> int | None:
        """The most the request can cost, in nano-USD; None to let an unpriced one through."""
        output = (request.max_tokens or self.reserve_output_tokens) * max(1, request.n or 1)
        day = datetime.fromtimestamp(now, UTC).date()
        tools = builtin_offered(request)
        cost = self.prices.max_cost(upstream, model, day, input_bound(request), output, tools)
        if cost is not None:
            return to_nano(cost)
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
        the counter update runs as its own task)."""
        hold = outcome.hold
        if not isinstance(hold, Hold):
            return
        outcome.hold = None
        model = outcome.upstream_model or outcome.model
        day = datetime.fromtimestamp(self.clock(), UTC).date()
        cost = self.prices.cost(outcome.upstream, model, day, outcome.usage, outcome.builtin_tools)
        delta = (to_nano(cost) if cost is not None else 0) - hold.amount
        if delta == 0:
            return
        task = asyncio.get_running_loop().create_task(self._adjust(hold, delta))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _adjust(self, hold: Hold, delta: int) -> None:
        try:
            after = await self.counters.adjust([s.name for s in hold.slots], delta)
        except Exception:
            _LOG.exception("budget: settling a reservation failed")
            return
        self._levels(hold.slots, after)

    def _levels(self, slots: Sequence[Slot], after: Sequence[int]) -> None:
        for slot, spent in zip(slots, after, strict=False):
            crossed = spent >= slot.budget.limit_nano * self.alert_fraction
            if crossed and slot.name not in self._alerted:
                self._alerted.add(slot.name)
                _LOG.warning(
                    "budget alert: the %s is %s%% used ($%s spent or reserved)",
                    slot.budget.describe(),
                    round(100 * spent / max(1, slot.budget.limit_nano)),
                    from_nano(spent).quantize(_MICRO),
                )
            elif crossed:
                crossed = False
            if self.on_level is not None:
                self.on_level(slot, spent, crossed)

    async def aclose(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.counters.aclose()


def _before_dispatch(error: GatewayError) -> GatewayError:
    """A refusal before any upstream call: it made none (the ledger row says 0 attempts)."""
    error.attempts = 0
    return error
