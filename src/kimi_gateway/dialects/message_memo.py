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

What does not belong here: which dialects use it (their request parsers), where it is made
(the server's composition root, server/runtime.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias, TypeVar, cast

import orjson

from kimi_gateway.core.memo import BytesLRU
from kimi_gateway.core.model import Diagnostic

# What one message parses to (a Message; for an OpenAI ``tool`` message, its ToolResultPart)
# and the diagnostics its parse noted. The tag in the key says which.
MessageMemo: TypeAlias = BytesLRU[tuple[Any, tuple[Diagnostic, ...]]]
T = TypeVar("T")
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
