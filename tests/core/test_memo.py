"""core/memo.BytesLRU: bounded by the sizes its callers give, least recently used out first."""

from __future__ import annotations

from kimi_gateway.core.memo import BytesLRU


def test_the_least_recently_used_entries_go_first_when_over_the_bound() -> None:
    memo: BytesLRU[str] = BytesLRU(100)
    memo.put(b"a", "A", 40)
    memo.put(b"b", "B", 40)
    assert memo.get(b"a") == "A"  # now b is the least recently used
    memo.put(b"c", "C", 40)
    assert (memo.get(b"a"), memo.get(b"b"), memo.get(b"c")) == ("A", None, "C")
    assert (memo.size, len(memo), memo.hits, memo.misses) == (80, 2, 3, 1)


def test_an_entry_larger_than_the_bound_is_not_kept_and_a_replaced_one_is_counted_once() -> None:
    memo: BytesLRU[str] = BytesLRU(100)
    memo.put(b"big", "X", 101)
    memo.put(b"a", "A", 30)
    memo.put(b"a", "A2", 50)
    assert (memo.get(b"big"), memo.get(b"a"), memo.size) == (None, "A2", 50)
