"""What a walk over a conversation found for its history, kept for the next turn (issue 15
item 3: work proportional to what is new).

A coding agent resends its whole conversation every turn, and the server's parse hands back the
very same Message objects for the part it sent before (dialects/message_memo.py). A pure walk
over ``messages`` (the render, the prompt estimate, the quirk layer's checks) can then keep what
it found for all messages but the last, and next turn take that and walk the new messages
only. What it keeps is a fact of the first message (core/model.py ``derived``) together with
the messages that followed it, checked by identity (``is``, at C speed) before use: a result is
used only for the very objects it was computed from, so it is exact wherever the walk is a pure
function of the messages. Conversations that share a first message take turns in one slot
(then each walks in full: slower, never wrong).

What does not belong here: which walks keep their results (their modules).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from itertools import islice
from operator import is_
from typing import Any, TypeVar

from kimi_gateway.core.model import Message, derived

R = TypeVar("R")
# A walk's step: ``step(messages, start, end, found)`` is ``found`` (what messages[:start]
# gave) extended by what messages[start:end] give; a new value, ``found`` is never changed.
Step = Callable[[Sequence[Message], int, int, R], R]

# Fewer messages than this are walked in full: nothing worth keeping.
MIN_MESSAGES = 4


def resumed(messages: Sequence[Message], tag: Any) -> tuple[int, Any]:
    """``(k, result)``: what :func:`keep` kept under ``tag`` for ``messages[:k]``, the very
    objects, with ``k < len(messages)``; else ``(0, None)``."""
    if len(messages) < MIN_MESSAGES:
        return 0, None
    kept = derived(messages[0]).get(tag)
    if kept is None:
        return 0, None
    rest, result = kept
    if len(rest) + 1 >= len(messages) or not all(map(is_, rest, islice(messages, 1, None))):
        return 0, None
    return len(rest) + 1, result


def keep(messages: Sequence[Message], tag: Any, k: int, result: Any) -> None:
    """Keep ``result``, what a walk found for ``messages[:k]`` (immutable: shared by every
    later turn that resumes from it). The first message is not held by itself (no cycle)."""
    if len(messages) >= MIN_MESSAGES and k > 0:
        derived(messages[0])[tag] = (tuple(messages[1:k]), result)


def walk(messages: Sequence[Message], tag: Any, step: Step[R], empty: R) -> R:
    """``step(messages, 0, len(messages), empty)``, from what was kept for a history walked
    before where there is one; what all but the last message gave is kept for next turn."""
    if len(messages) < MIN_MESSAGES:  # the usual API call: nothing to keep, one step
        return step(messages, 0, len(messages), empty)
    start, kept = resumed(messages, tag)
    last = len(messages) - 1
    found = step(messages, start, last, empty if kept is None else kept)
    keep(messages, tag, last, found)
    return step(messages, last, len(messages), found)


def indices(
    messages: Sequence[Message], tag: Any, holds: Callable[[Message], bool]
) -> tuple[int, ...]:
    """The indices of the messages ``holds`` is true of (a pure predicate, named by ``tag``),
    from what was kept for a history walked before."""
    if len(messages) < MIN_MESSAGES:  # the usual API call: nothing to keep
        return tuple(i for i in range(len(messages)) if holds(messages[i]))
    none: tuple[int, ...] = ()
    return walk(messages, tag, partial(_indices, holds=holds), none)


def tool_messages(messages: Sequence[Message]) -> tuple[int, ...]:
    """The indices of the messages that carry tools (K3's dynamic tools, docs/kimi.md §5.1),
    one result for every caller of a turn (the work limits, the quirk layer)."""
    return indices(messages, "tool_messages/history", _has_tools)


def _has_tools(message: Message) -> bool:
    return bool(message.tools)


def _indices(
    messages: Sequence[Message],
    start: int,
    end: int,
    found: tuple[int, ...],
    holds: Callable[[Message], bool],
) -> tuple[int, ...]:
    new = tuple(i for i in range(start, end) if holds(messages[i]))
    return (*found, *new) if new else found
