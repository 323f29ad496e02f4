"""Per-model prices in USD, as ``Decimal`` (DESIGN.md §4.10), and the cost of one generation.

A :class:`ModelPrice` gives the three token prices Kimi bills (input served from cache, input not
served from cache, output; per million tokens, docs/kimi.md §6, §12, §20) from an effective date
on; a :class:`ToolFee` is a per-call fee of a built-in tool (``$web_search``, §8.5). The defaults
are Kimi's public list (docs/kimi.md §20, each line with its source); the config adds or replaces
entries (``ledger.prices`` / ``ledger.tool_fees``). A model with no price gets ``None`` from
:meth:`PriceBook.cost` — recorded and flagged as unpriced, never priced at 0 silently.

What does not belong here: where costs are stored (rows.py, writer.py), budgets (budgets.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

from kimi_gateway.core.usage import Usage

_Dated = TypeVar("_Dated", "ModelPrice", "ToolFee")

MILLION = Decimal(1_000_000)
NANO = Decimal("0.000000001")  # the ledger stores cost in integer nano-USD


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per million tokens of ``model`` (an upstream model id), from ``effective_from`` on.
    ``upstream`` limits the entry to one upstream by name (None: any)."""

    model: str
    cache_hit: Decimal
    cache_miss: Decimal
    output: Decimal
    effective_from: date | None = None
    upstream: str | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class ToolFee:
    """USD per call of a built-in tool, from ``effective_from`` on."""

    tool: str
    per_call: Decimal
    effective_from: date | None = None
    source: str = ""


def _p(model: str, hit: str, miss: str, out: str, since: str | None, source: str) -> ModelPrice:
    when = date.fromisoformat(since) if since else None
    return ModelPrice(model, Decimal(hit), Decimal(miss), Decimal(out), when, None, source)


# What `kimi-gateway prices` shows as each entry's source (users see no document citations).
_OFFICIAL = "Kimi price list"
_REPORTED = "Kimi price list, as reported by third parties"
_PLAN = "Kimi Code plan: billed in credits, not per token"

# Kimi's public price list, USD per million tokens (docs/kimi.md §20 lists each with its source
# and confidence). Kimi Code is a plan billed in credits, not per token: its models are listed at
# 0 on purpose (§13.1), so their rows are priced, not flagged.
DEFAULT_PRICES: tuple[ModelPrice, ...] = (
    _p("kimi-k3", "0.30", "3.00", "15.00", "2026-07-16", _REPORTED),
    _p("kimi-k2.7-code", "0.19", "0.95", "4.00", "2026-06-01", _REPORTED),
    _p("kimi-k2.6", "0.16", "0.95", "4.00", "2026-04-20", _REPORTED),
    _p("kimi-k2.5", "0.10", "0.60", "3.00", None, _OFFICIAL),
    _p("kimi-k2-0905-preview", "0.15", "0.60", "2.50", None, _OFFICIAL),
    _p("kimi-k2-0711-preview", "0.15", "0.60", "2.50", None, _OFFICIAL),
    _p("kimi-k2-turbo-preview", "0.15", "1.15", "8.00", None, _REPORTED),
    _p("kimi-k2-thinking", "0.15", "0.60", "2.50", None, _REPORTED),
    _p("kimi-k2-thinking-turbo", "0.15", "1.15", "8.00", None, _REPORTED),
    _p("kimi-for-coding", "0", "0", "0", None, _PLAN),
    _p("kimi-for-coding-highspeed", "0", "0", "0", None, _PLAN),
)

# §8.5, §20: $0.005 per call on the platform's tools pricing page, $0.004 in the 2026 help
# center [?]; the higher one is the default so a budget never under-reserves.
DEFAULT_TOOL_FEES: tuple[ToolFee, ...] = (
    ToolFee("$web_search", Decimal("0.005"), None, "Kimi tools price page (help center: 0.004)"),
)


def _newest(entries: Iterable[_Dated], day: date) -> _Dated | None:
    """The entry in force on ``day``: the latest ``effective_from`` not after it."""
    best: _Dated | None = None
    for entry in entries:
        since = entry.effective_from
        if since is not None and since > day:
            continue
        if best is None or (since or date.min) >= (best.effective_from or date.min):
            best = entry
    return best


class PriceBook:
    """Prices by model (and optionally upstream) and date; later entries replace defaults."""

    def __init__(
        self,
        prices: Sequence[ModelPrice] = DEFAULT_PRICES,
        tool_fees: Sequence[ToolFee] = DEFAULT_TOOL_FEES,
    ) -> None:
        self.prices = tuple(prices)
        self.tool_fees = tuple(tool_fees)
        self._by_model: dict[str, list[ModelPrice]] = {}
        for price in self.prices:
            self._by_model.setdefault(price.model, []).append(price)
        self._cache: dict[tuple[str | None, str, date], ModelPrice | None] = {}
        self._units: dict[tuple[str | None, str, date], tuple[int, int, int, int] | None] = {}

    @classmethod
    def with_overrides(
        cls, prices: Sequence[ModelPrice], tool_fees: Sequence[ToolFee]
    ) -> PriceBook:
        """The defaults with configured entries on top: a configured (model, upstream,
        effective_from) replaces the default with the same three, others are added."""
        keyed = {(p.model, p.upstream, p.effective_from): p for p in DEFAULT_PRICES}
        keyed.update({(p.model, p.upstream, p.effective_from): p for p in prices})
        fees = {(f.tool, f.effective_from): f for f in DEFAULT_TOOL_FEES}
        fees.update({(f.tool, f.effective_from): f for f in tool_fees})
        return cls(tuple(keyed.values()), tuple(fees.values()))

    def price(self, upstream: str | None, model: str, day: date) -> ModelPrice | None:
        """The price of ``model`` on ``upstream`` on ``day``: an entry for that upstream first,
        then one for any upstream; None when the model has none."""
        key = (upstream, model, day)
        if key in self._cache:
            return self._cache[key]
        entries = self._by_model.get(model, ())
        found = _newest((e for e in entries if e.upstream == upstream and upstream), day)
        if found is None:
            found = _newest((e for e in entries if e.upstream is None), day)
        if len(self._cache) < 4096:
            self._cache[key] = found
        return found

    def tool_fee(self, tool: str, day: date) -> Decimal | None:
        fee = _newest((f for f in self.tool_fees if f.tool == tool), day)
        return fee.per_call if fee is not None else None

    def cost(
        self,
        upstream: str | None,
        model: str,
        day: date,
        usage: Usage,
        builtin_tools: Sequence[str] = (),
    ) -> Decimal | None:
        """USD for ``usage`` (and the built-in calls made) or None when ``model`` has no price.
        Cache writes (Anthropic's cache_creation, which Kimi does not bill apart) count as
        uncached input."""
        price = self.price(upstream, model, day)
        if price is None:
            return None
        tokens = (
            (usage.input_uncached + usage.input_cache_write) * price.cache_miss
            + usage.input_cache_read * price.cache_hit
            + usage.output * price.output
        )
        total = tokens / MILLION
        for tool in builtin_tools:
            total += self.tool_fee(tool, day) or 0
        return total

    def nano_cost(
        self,
        upstream: str | None,
        model: str,
        day: date,
        uncached: int,
        cache_read: int,
        output: int,
        builtin_tools: Sequence[str] = (),
    ) -> int | None:
        """``to_nano(cost(...))`` for these token counts (``uncached`` includes cache writes),
        in integer arithmetic on the request path: each price is turned once into an integer
        count of 1/scale nano-USD per token, so the result is the same exact, half-up rounded
        figure with no Decimal work per request. None when ``model`` has no price."""
        if builtin_tools:  # per-call fees: rare, and exact through the Decimal path
            usage = Usage(input_uncached=uncached, input_cache_read=cache_read, output=output)
            cost = self.cost(upstream, model, day, usage, builtin_tools)
            return None if cost is None else to_nano(cost)
        key = (upstream, model, day)
        try:
            units = self._units[key]
        except KeyError:
            price = self.price(upstream, model, day)
            units = None if price is None else _nano_units(price)
            if len(self._units) < 4096:
                self._units[key] = units
        if units is None:
            return None
        hit, miss, out, scale = units
        total = uncached * miss + cache_read * hit + output * out
        return total if scale == 1 else (total + scale // 2) // scale

    def max_cost(
        self,
        upstream: str | None,
        model: str,
        day: date,
        input_tokens: int,
        output_tokens: int,
        builtin_calls: Sequence[str] = (),
    ) -> Decimal | None:
        """The most a generation can cost: every input token uncached, every output token
        used, each offered built-in tool called once (None: no price)."""
        usage = Usage(input_uncached=input_tokens, output=output_tokens)
        return self.cost(upstream, model, day, usage, builtin_calls)


def _nano_units(price: ModelPrice) -> tuple[int, int, int, int]:
    """(cache hit, cache miss, output, scale): each price per token in 1/scale nano-USD, with
    scale the power of ten that makes all three integers (a price per million tokens with at
    most three decimals is a whole number of nano-USD per token: scale 1)."""
    prices = (price.cache_hit, price.cache_miss, price.output)
    digits = max(0, *(-int(p.as_tuple().exponent) - 3 for p in prices))
    hit, miss, out = (int(p.scaleb(3 + digits)) for p in prices)
    return hit, miss, out, 10**digits


def to_nano(usd: Decimal) -> int:
    """Integer nano-USD (what the ledger stores), rounded half up."""
    return int((usd / NANO).to_integral_value(rounding=ROUND_HALF_UP))


def from_nano(nano: int) -> Decimal:
    return Decimal(nano) * NANO
