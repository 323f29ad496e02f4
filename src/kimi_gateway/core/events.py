"""Typed, indexed stream events: the one shape every stream takes inside the gateway.

A stream is an async iterator of these. Parsers of upstream streams produce them; renderers of
client streams consume them; retry, ledger and metrics wrap the iterator without reaching in
(DESIGN.md §4.2). Non-streaming is the same stream folded (core/fold.py).

Order contract for a well-formed stream:
``MessageStart (PartStart Delta* PartEnd)* Finish? UsageReport* Done`` — part indexes count from 0
in start order; a part's deltas come between its start and end; ``UsageReport`` may also appear
earlier (input known at start); later reports merge into earlier ones (``Usage.merge``).
``StreamError`` may end the stream at any point instead of ``Done``.

Choices: a reply of several choices (Chat Completions ``n > 1``) tags each part and each
``Finish`` with its ``choice`` (0 by default, so single-choice producers and consumers ignore it).
Each choice's events follow the contract on their own; parts of different choices may interleave
(Kimi streams them chunk by chunk), and part indexes stay unique across the whole stream.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.model import StopReason
from kimi_gateway.core.records import record
from kimi_gateway.core.usage import Usage


@record
class MessageStart:
    id: str
    model: str
    created: int | None = None


@record
class PartStart:
    index: int
    kind: Literal["text", "thinking", "tool_call"]
    tool_call_id: str | None = None  # tool_call parts
    tool_name: str | None = None
    tool_kind: Literal["function", "builtin_function"] = "function"
    choice: int = 0  # which choice of an ``n > 1`` reply the part belongs to


@record
class TextDelta:
    index: int
    text: str


@record
class ThinkingDelta:
    index: int
    text: str


@record
class SignatureDelta:
    index: int
    signature: str


@record
class ToolArgumentsDelta:
    index: int
    fragment: str  # a piece of the arguments' JSON text


@record
class PartEnd:
    index: int


@record
class Finish:
    stop_reason: StopReason | None
    stop_sequence: str | None = None
    choice: int = 0  # the choice that ended (``n > 1``)


@record
class UsageReport:
    usage: Usage


@record
class Done:
    """The stream completed normally."""


@record
class StreamError:
    """The stream failed after it started; renderers emit the dialect's error event."""

    error: GatewayError


StreamEvent: TypeAlias = (
    MessageStart
    | PartStart
    | TextDelta
    | ThinkingDelta
    | SignatureDelta
    | ToolArgumentsDelta
    | PartEnd
    | Finish
    | UsageReport
    | Done
    | StreamError
)
