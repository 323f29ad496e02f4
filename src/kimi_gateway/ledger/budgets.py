"""USD budgets: what they are, their periods, and the most a request can cost.

A :class:`Budget` caps spend in USD for one gateway key or for the whole gateway (``key_id``
None) per period: a UTC day, a UTC calendar month, or in total. Spend is counted in integer
nano-USD in a counter per budget and period window (:class:`Slot`); guard.py reserves a
request's estimated maximum cost on the counters before dispatch and settles the actual cost
after (docs/kimi.md §F2.14: reserve atomically, then settle). Budgets come from the config
(``ledger.budgets``) and from the ``budgets`` table (``keys create … --budget 5/day``).
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Literal, cast

from sqlalchemy import Engine, func, insert, select

from kimi_gateway.core.model import (
    ImagePart,
    Message,
    Request,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
    derived,
)
from kimi_gateway.ledger.prices import from_nano, to_nano
from kimi_gateway.ledger.schema import budgets, usage

Period = Literal["day", "month", "total"]
PERIODS: tuple[Period, ...] = ("day", "month", "total")
_BUDGET_TEXT = re.compile(r"^\$?(?P<usd>\d+(?:\.\d+)?)(?:/(?P<period>day|month|total))?$")
_IMAGE_TOKENS = 4096  # an image by URL or file: a generous flat bound
_MESSAGE_OVERHEAD = 16  # chat-template tokens around each message (a bound, not a count)


@dataclass(frozen=True, slots=True)
class Budget:
    id: str
    key_id: str | None  # None: the global budget
    period: Period
    limit_nano: int

    @property
    def limit_usd(self) -> Decimal:
        return from_nano(self.limit_nano)

    def describe(self) -> str:
        who = "global" if self.key_id is None else f"key {self.key_id}"
        per = {"day": "daily", "month": "monthly", "total": "total"}[self.period]
        return f"{per} {who} budget of ${self.limit_usd.normalize():f}"


@dataclass(frozen=True, slots=True)
class Slot:
    """One budget's counter for one period window."""

    budget: Budget
    window: str  # "2026-12-05", "2026-12" or "total"
    start: float  # unix time the window began (0 for total)
    resets_at: datetime | None  # None: never (total)

    @property
    def name(self) -> str:
        return f"{self.budget.id}:{self.window}"

    def ttl_seconds(self, now: float) -> int:
        """How long the counter must live: past the reset, with a day's margin (0: forever)."""
        if self.resets_at is None:
            return 0
        return int(self.resets_at.timestamp() - now) + 86400


def slot_of(budget: Budget, now: float) -> Slot:
    moment = datetime.fromtimestamp(now, UTC)
    if budget.period == "day":
        start = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
        return Slot(budget, start.date().isoformat(), start.timestamp(), start + timedelta(1))
    if budget.period == "month":
        start = datetime(moment.year, moment.month, 1, tzinfo=UTC)
        following = datetime(moment.year + moment.month // 12, moment.month % 12 + 1, 1, tzinfo=UTC)
        return Slot(budget, start.strftime("%Y-%m"), start.timestamp(), following)
    return Slot(budget, "total", 0.0, None)


def parse_budget(text: str) -> tuple[Period, Decimal]:
    """``5/day``, ``$100/month``, ``20/total`` or ``20`` (total) → (period, USD)."""
    match = _BUDGET_TEXT.match(text.strip())
    if match is None:
        raise ValueError(f"a budget is USD/period, such as 5/day, 100/month or 20/total: {text!r}")
    try:
        usd = Decimal(match["usd"])
    except InvalidOperation:
        raise ValueError(f"not an amount: {text!r}") from None
    return cast(Period, match["period"] or "total"), usd


def _text_bytes(request: Request) -> int:
    total = sum(len(part.text.encode()) for part in request.system)
    for message in request.messages:
        facts = derived(message)  # once per message object (core/model.py): a resent history
        counted = facts.get("ledger.text_bytes")
        if counted is None:
            counted = facts["ledger.text_bytes"] = _message_bytes(message)
        total += counted
    for tool in request.tools:
        total += _MESSAGE_OVERHEAD + len(tool.name) + len(tool.description or "")
        total += len(repr(tool.parameters)) if tool.parameters else 0
    return total


def _message_bytes(message: Message) -> int:
    total = _MESSAGE_OVERHEAD
    for part in message.parts:
        if isinstance(part, TextPart | ThinkingPart):
            total += len(part.text.encode())
        elif isinstance(part, ToolCallPart):
            total += len(part.name) + len(part.arguments.encode())
        elif isinstance(part, ToolResultPart):
            for inner in part.content:
                if isinstance(inner, TextPart):
                    total += len(inner.text.encode())
                else:
                    total += _IMAGE_TOKENS
        elif isinstance(part, ImagePart):
            total += max(_IMAGE_TOKENS, len(part.data)) if part.source == "base64" else 4096
    return total


def input_bound(request: Request) -> int:
    """An upper bound of the prompt tokens: one per UTF-8 byte of every text (a byte-level
    tokenizer never makes more), plus fixed overheads per message and tool."""
    return _text_bytes(request)


def builtin_offered(request: Request) -> tuple[str, ...]:
    """Built-in tools the request offers (each may be called once, at its per-call fee)."""
    return tuple(t.name for t in request.tools if t.kind == "builtin_function" or t.name[:1] == "$")


# -- the budgets table -----------------------------------------------------------------------


def add_budget(engine: Engine, key_id: str | None, period: Period, usd: Decimal) -> Budget:
    budget = Budget("bud_" + secrets.token_hex(6), key_id, period, to_nano(usd))
    with engine.begin() as conn:
        conn.execute(
            insert(budgets).values(
                id=budget.id,
                key_id=key_id,
                period=period,
                limit_nano_usd=budget.limit_nano,
                created_at=time.time(),
            )
        )
    return budget


def stored_budgets(engine: Engine) -> list[Budget]:
    with engine.connect() as conn:
        rows = conn.execute(select(budgets).order_by(budgets.c.created_at)).all()
    return [Budget(r.id, r.key_id, cast(Period, r.period), int(r.limit_nano_usd)) for r in rows]


def spent_in(engine: Engine, slot: Slot) -> int:
    """Nano-USD the ledger has recorded in ``slot``'s window (for its key, or everyone)."""
    query = select(func.coalesce(func.sum(usage.c.cost_nano_usd), 0)).where(
        usage.c.ts >= slot.start
    )
    if slot.budget.key_id is not None:
        query = query.where(usage.c.key_id == slot.budget.key_id)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def today() -> date:
    return datetime.now(UTC).date()
