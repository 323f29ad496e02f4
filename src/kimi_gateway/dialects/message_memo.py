"""Messages parsed before, looked up instead of parsed again (issue 15 item 3).

A coding agent resends its whole conversation every turn; all but the newest messages are the
ones it sent last turn, byte for byte. A dialect whose ``messages[i]`` parses to a value that
depends on ``i`` and that message alone can look the message up by those two: the key is the
dialect's tag, ``i`` and the message's JSON (``orjson.dumps`` of the decoded value, at C speed),
the value the canonical Message and the diagnostics its parse noted (which name ``messages[i]``,
hence ``i`` in the key). A message whose parse raises is never stored, so an error is raised
again, by the parse itself.

Only for bodies decoded from JSON (the server's): there, equal dumps mean equal values (no
tuples, NaNs or non-string keys, which ``orjson.dumps`` would blur or refuse). Keys that cannot
be encoded are parsed without the memo. The memo is bounded by an estimate of the memory its
entries hold (core/memo.py); the setting is ``message_memo_bytes`` (settings.py).

A whole history is looked up as well (:func:`resume`): the parse's state after all but the last
of a request's messages is kept with their JSON, by the first two messages (a session's own,
nearly always). The next turn's messages whose JSON starts with those, byte for byte, resume
the parse from that state: only the new messages are parsed, and none is looked up one by one
(bench/LARGE.md, round four). Byte equality of ``orjson.dumps`` is exact where Python's ``==``
is not (``1 == 1.0 == True``).

What does not belong here: which dialects use it (their request parsers), where it is made
(the server's composition root, server/runtime.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import islice
from operator import eq
from typing import Any, Generic, TypeAlias, TypeVar, cast

import orjson

from kimi_gateway.core import history
from kimi_gateway.core.memo import BytesLRU
from kimi_gateway.core.model import Diagnostic
from kimi_gateway.core.records import record
from kimi_gateway.dialects.raw_messages import RawMessages

# What one message parses to (a Message; for an OpenAI ``tool`` message, its ToolResultPart)
# and the diagnostics its parse noted. The tag in the key says which.
MessageMemo: TypeAlias = BytesLRU[tuple[Any, tuple[Diagnostic, ...]]]
T = TypeVar("T")
S = TypeVar("S")
# Bytes of memory an entry holds per byte of its key: the parsed objects plus the key itself,
# measured with tracemalloc on the captured Claude Code and OpenClaw histories (bench/LARGE.md).
ENTRY_COST = 4  # 4.0 on the 150 KB Claude Code history


def memoised(
    memo: MessageMemo,
    tag: bytes,
    i: int,
    item: Any,
    diags: list[Diagnostic],
    parse: Callable[[int, Any, list[Diagnostic]], T],
) -> T:
    """``parse(i, item, diags)``, or what it returned for the same ``tag``, ``i`` and JSON."""
    try:
        key = b"%s:%d:%s" % (tag, i, orjson.dumps(item))
    except orjson.JSONEncodeError:
        return parse(i, item, diags)
    hit = memo.get(key)
    if hit is not None:
        diags.extend(hit[1])
        return cast(T, hit[0])
    found: list[Diagnostic] = []
    message = parse(i, item, found)
    memo.put(key, (message, tuple(found)), len(key) * ENTRY_COST)
    diags.extend(found)
    return message


@record
class _History(Generic[S]):
    json: bytes  # orjson.dumps of the messages before the last (b"" when ``raws`` says)
    count: int  # how many they are
    state: S  # the parse's state after them
    raws: tuple[Any, ...] = ()  # or their bytes as sent (dialects/raw_messages.py)


@dataclass(slots=True)
class Resume(Generic[S]):
    """A parse of ``messages`` that may start at :attr:`start` from :attr:`state` (None: from
    the start), and that :meth:`keep` s its state before the last message for the next turn."""

    memo: MessageMemo
    key: bytes
    json: bytes
    start: int = 0
    state: S | None = None
    raws: tuple[Any, ...] = ()
    pinned: int = 0  # bytes of the body the raws are views of (dialects/raw_messages.py)

    def keep(self, state: S, count: int) -> None:
        """``state``: the parse's after the first ``count`` messages, all but the last. Costs
        the key, the JSON or the whole body the raws keep alive, and the parsed messages it
        holds (as the memo's entries would)."""
        raws = self.raws[:count]
        json_bytes = len(self.json) + sum(map(len, raws))
        size = len(self.key) + max(len(self.json), self.pinned) + json_bytes * ENTRY_COST
        self.memo.put(self.key, (_History(self.json, count, state, raws), ()), size)


def resume(memo: MessageMemo, tag: bytes, items: Sequence[Any]) -> Resume[Any] | None:
    """Where a parse of ``items`` (a body decoded from JSON) can start: after the longest
    history kept under ``tag`` whose JSON the JSON of ``items[:-1]`` starts with (a number in
    it is not cut: what follows must be a comma or the end). None for a short history or one
    that cannot be encoded. Messages kept as bytes (:class:`RawMessages`) are matched on
    those bytes, message by message, and not decoded."""
    if len(items) < history.MIN_MESSAGES:  # nothing worth resuming: parsed one by one
        return None
    if isinstance(items, RawMessages):
        return _resume_raw(memo, tag, items.raws, items.source_bytes)
    try:
        key = b"%s/history:%s" % (tag, orjson.dumps(items[:2]))
        json = orjson.dumps(items[:-1])
    except orjson.JSONEncodeError:
        return None
    found = Resume[Any](memo, key, json)
    hit = memo.get(key)
    if hit is not None:
        kept = cast(_History[Any], hit[0])
        end = len(kept.json) - 1  # the kept JSON without its closing bracket
        if json[end : end + 1] in (b",", b"]") and json.startswith(memoryview(kept.json)[:end]):
            found.start, found.state = kept.count, kept.state
    return found


def _resume_raw(memo: MessageMemo, tag: bytes, raws: list[Any], pinned: int) -> Resume[Any]:
    key = b"%s/raw-history:%s,%s" % (tag, raws[0], raws[1])
    found = Resume[Any](memo, key, b"", raws=tuple(raws), pinned=pinned)
    hit = memo.get(key)
    if hit is not None:
        kept = cast(_History[Any], hit[0])
        count = kept.count
        if count < len(raws) and all(map(eq, kept.raws, islice(raws, count))):
            found.start, found.state = count, kept.state
    return found
