"""Prices: Decimal throughout, effective dates, per-upstream entries, unpriced models flagged
(None), built-in tool fees, config over defaults."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from kimi_gateway.core.usage import Usage
from kimi_gateway.ledger.prices import (
    DEFAULT_PRICES,
    ModelPrice,
    PriceBook,
    ToolFee,
    from_nano,
    to_nano,
)

DAY = date(2026, 12, 5)


def test_cost_is_exact_decimal_per_token_kind() -> None:
    book = PriceBook()
    usage = Usage(input_uncached=1000, input_cache_read=3000, output=500, reasoning=200)
    cost = book.cost(None, "kimi-k2.6", DAY, usage)
    # docs/kimi.md §20: k2.6 $0.16 hit, $0.95 miss, $4.00 output per million tokens.
    expected = (1000 * Decimal("0.95") + 3000 * Decimal("0.16") + 500 * Decimal("4.00")) / 10**6
    assert cost == expected == Decimal("0.00343")
    assert isinstance(cost, Decimal)


def test_web_search_calls_add_their_fee() -> None:
    book = PriceBook()
    cost = book.cost(None, "kimi-k2.5", DAY, Usage(), ("$web_search", "$web_search"))
    assert cost == Decimal("0.010")


def test_a_model_without_a_price_is_none_never_zero() -> None:
    assert PriceBook().cost(None, "moonshotai/Kimi-K2-Instruct", DAY, Usage(output=10)) is None


def test_kimi_code_models_are_priced_at_zero_on_purpose() -> None:
    assert PriceBook().cost(None, "kimi-for-coding", DAY, Usage(output=10)) == Decimal(0)


def test_effective_dates_pick_the_price_in_force() -> None:
    old = ModelPrice("m", Decimal("1"), Decimal("2"), Decimal("3"), date(2026, 1, 1))
    new = ModelPrice("m", Decimal("10"), Decimal("20"), Decimal("30"), date(2026, 6, 1))
    book = PriceBook((new, old), ())
    usage = Usage(output=10**6)
    assert book.cost(None, "m", date(2025, 12, 31), usage) is None
    assert book.cost(None, "m", date(2026, 5, 31), usage) == Decimal(3)
    assert book.cost(None, "m", date(2026, 6, 1), usage) == Decimal(30)


def test_an_upstream_entry_wins_over_the_general_one() -> None:
    general = ModelPrice("m", Decimal(1), Decimal(1), Decimal(1))
    vllm = ModelPrice("m", Decimal(0), Decimal(0), Decimal("0.5"), upstream="vllm")
    book = PriceBook((general, vllm), ())
    usage = Usage(output=2 * 10**6)
    assert book.cost("vllm", "m", DAY, usage) == Decimal(1)
    assert book.cost("platform", "m", DAY, usage) == Decimal(2)


def test_configured_prices_replace_or_extend_the_defaults() -> None:
    mine = ModelPrice("kimi-k2.6", Decimal(1), Decimal(2), Decimal(3), date(2026, 4, 20))
    extra = ModelPrice("my-model", Decimal(0), Decimal(1), Decimal(1))
    book = PriceBook.with_overrides([mine, extra], [ToolFee("$web_search", Decimal("0.004"))])
    assert book.price(None, "kimi-k2.6", DAY) == mine
    assert book.price(None, "my-model", DAY) == extra
    assert book.tool_fee("$web_search", DAY) == Decimal("0.004")
    assert len(book.prices) == len(DEFAULT_PRICES) + 1


def test_max_cost_bounds_every_input_token_uncached() -> None:
    book = PriceBook()
    bound = book.max_cost(None, "kimi-k2.6", DAY, 1000, 100, ("$web_search",))
    assert bound == Decimal("0.00095") + Decimal("0.0004") + Decimal("0.005")


def test_nano_usd_round_trip() -> None:
    assert to_nano(Decimal("0.00343")) == 3_430_000
    assert from_nano(3_430_000) == Decimal("0.00343")
    assert to_nano(Decimal("0.0000000015")) == 2  # half up
