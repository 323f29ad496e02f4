"""A walk over a conversation resumes from what it kept for the very same message objects, and
only from those (core/history.py, issue 15 item 3)."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_gateway.core import history
from kimi_gateway.core.model import Message, TextPart

POOL = tuple(Message("user", (TextPart(str(i % 3)),)) for i in range(8))  # equal, not the same


def _texts(
    messages: Sequence[Message], start: int, end: int, found: tuple[str, ...]
) -> tuple[str, ...]:
    seen.append(end - start)
    return (*found, *(f"{id(m)}" for m in messages[start:end]))


seen: list[int] = []
NONE: tuple[str, ...] = ()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.integers(0, 7), max_size=12), min_size=1, max_size=6))
def test_a_walk_is_the_full_walk_whatever_came_before(turns: list[list[int]]) -> None:
    """Any sequence of conversations over a pool of messages (equal texts, distinct objects):
    each walk gives what a full walk gives, whatever was kept before."""
    for turn in turns:
        messages = tuple(POOL[i] for i in turn)
        full = _texts(messages, 0, len(messages), ())
        assert history.walk(messages, "test", _texts, NONE) == full


def test_a_resent_history_is_not_walked_again() -> None:
    messages = tuple(Message("user", (TextPart(str(i)),)) for i in range(50))
    history.walk(messages[:40], "count", _texts, NONE)
    seen.clear()
    assert history.walk(messages, "count", _texts, NONE) == _texts(messages, 0, 50, ())
    assert seen[:2] == [10, 1]  # 39 kept; messages 39-48, then the last


def test_equal_messages_that_are_other_objects_are_walked() -> None:
    first = tuple(Message("user", (TextPart(str(i)),)) for i in range(10))
    history.walk(first, "equal", _texts, NONE)
    copy = (first[0], *(Message("user", (TextPart(str(i)),)) for i in range(1, 10)), first[0])
    seen.clear()
    assert history.walk(copy, "equal", _texts, NONE) == _texts(copy, 0, 11, ())
    assert seen[:2] == [10, 1]  # nothing resumed: only the first message is the same object
