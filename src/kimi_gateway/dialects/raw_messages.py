"""A body's ``messages`` kept as the bytes of each message, decoded only when read (issue 15
item 3: work proportional to what is new).

A coding agent resends its whole conversation every turn. Decoding the body costs as much as
the rest of a resumed parse (bench/LARGE.md, round four): the messages a kept history covers
(dialects/message_memo.py ``resume``) are never read, so they need not be decoded. The server
splits a body at its top level with msgspec (each value's bytes, found at C speed without
building it), decodes every other field with orjson as before, and hands the parser this
sequence: the history is matched on the messages' bytes, and only the new ones are decoded.

Every value that reaches a parser is decoded by orjson, from the bytes the client sent, as the
whole-body decode would decode it (the bytes of a message a kept history covers were decoded
when that message was new). Whatever orjson refuses raises :class:`Undecodable`, and the server
parses the body the usual way, whose error names the problem.

What does not belong here: when a body is split (server/request_body.py), how a history is
matched (dialects/message_memo.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

import msgspec
import orjson


class Undecodable(Exception):
    """A message's bytes that orjson refuses (msgspec's split does not look inside strings)."""


class RawMessages(Sequence[Any]):
    """``messages[i]`` decoded from its bytes when read (each time: a parser reads it once)."""

    __slots__ = ("raws", "source_bytes")

    def __init__(self, raws: list[msgspec.Raw], source_bytes: int = 0) -> None:
        self.raws = raws
        # The size of the body they were split from: each Raw is a view of it, so whatever
        # keeps one keeps the whole body alive (a memo counts that, message_memo.py).
        self.source_bytes = source_bytes

    def __len__(self) -> int:
        return len(self.raws)

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self.raws)))]
        try:
            return orjson.loads(memoryview(self.raws[index]))
        except orjson.JSONDecodeError as exc:
            raise Undecodable(str(exc)) from None


_TOP = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ITEMS = msgspec.json.Decoder(list[msgspec.Raw])


def split_body(raw: bytes) -> dict[str, Any] | None:
    """``raw`` as a JSON object whose ``messages`` array is :class:`RawMessages` (its other
    fields decoded by orjson, in their order), or None where the usual decode must decide (not
    an object, no ``messages`` array, or bytes either library refuses)."""
    try:
        top = _TOP.decode(raw)
        value = top.get("messages")
        if value is None or bytes(memoryview(value)[:1]) != b"[":
            return None
        body: dict[str, Any] = {}
        for key, field in top.items():
            body[key] = None if key == "messages" else orjson.loads(memoryview(field))
        body["messages"] = RawMessages(_ITEMS.decode(value), len(raw))
    except (msgspec.DecodeError, orjson.JSONDecodeError):
        return None
    return body
