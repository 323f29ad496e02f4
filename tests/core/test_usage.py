"""Usage: totals say what they include; merge lets later non-zero reports win."""

from __future__ import annotations

from kimi_gateway.core.usage import Usage


def test_input_total_and_total_include_cache() -> None:
    usage = Usage(input_uncached=10, input_cache_read=5, input_cache_write=2, output=7, reasoning=3)
    assert (usage.input_total, usage.total) == (17, 24)


def test_merge_keeps_early_input_and_takes_late_output() -> None:
    early = Usage(input_uncached=100, input_cache_read=20, input_cache_write=4, output=1)
    late = Usage(output=50, reasoning=9)
    assert early.merge(late) == Usage(100, 20, 4, 50, 9)


def test_merge_later_non_zero_fields_win() -> None:
    assert Usage(1, 2, 3, 4, 5).merge(Usage(6, 0, 7, 0, 8)) == Usage(6, 2, 7, 4, 8)


def test_merge_of_empty_reports_is_empty() -> None:
    assert Usage().merge(Usage()) == Usage()
