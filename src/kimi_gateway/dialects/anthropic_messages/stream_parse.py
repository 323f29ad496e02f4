"""Anthropic Messages SSE from an upstream → canonical stream events (StreamParser).

Event mapping: ``message_start`` → MessageStart + UsageReport (the input side); for each
content block ``content_block_start`` → PartStart (text, thinking, tool_call with the id decoded
by tool_ids), ``text_delta`` / ``thinking_delta`` / ``signature_delta`` / ``input_json_delta``
→ TextDelta / ThinkingDelta / SignatureDelta / ToolArgumentsDelta, ``content_block_stop`` →
PartEnd; ``message_delta`` → Finish + UsageReport; ``message_stop`` → Done (closing any block
left open); ``ping`` and unknown events are ignored; ``error`` → StreamError. Canonical part
indexes are assigned in start order, so they count from 0 whatever the wire indexes are.

Leniency, each for a reason: a ``tool_use`` whose whole input sits in ``content_block_start``
and gets no ``input_json_delta`` (some Anthropic-compatible servers do that) yields that input as
one arguments fragment at the block's end; text or thinking already present in the start block
becomes a first delta. Blocks with no canonical stream form (``redacted_thinking``, server-tool
blocks) are skipped whole. Anything malformed (bad JSON, a delta for a block never started,
events before ``message_start``) ends the stream with a StreamError of kind ``server``, and
:meth:`StreamParser.close` without ``message_stop`` does too: a cut stream must not look complete
(docs/kimi.md §F1: a missing ``message_stop`` leaves Claude Code's usage at 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from kimi_gateway.core.errors import GatewayError, TranslationError
from kimi_gateway.core.events import (
    Done,
    Finish,
    MessageStart,
    PartEnd,
    PartStart,
    SignatureDelta,
    StreamError,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolArgumentsDelta,
    UsageReport,
)
from kimi_gateway.core.sse import SSEEvent
from kimi_gateway.dialects.anthropic_messages import fields
from kimi_gateway.dialects.anthropic_messages.content import json_text
from kimi_gateway.dialects.anthropic_messages.errors import error_from_body
from kimi_gateway.dialects.anthropic_messages.response import parse_stop_reason, parse_usage
from kimi_gateway.dialects.anthropic_messages.tool_ids import decode_tool_id

PartKind = Literal["text", "thinking", "tool_call"]
_PART_KINDS: dict[str, PartKind] = {"text": "text", "thinking": "thinking", "tool_use": "tool_call"}


@dataclass(slots=True)
class _Block:
    index: int | None  # canonical index; None for a skipped block
    start_input: str = ""  # tool_use input given in content_block_start, as JSON text
    got_json: bool = False  # an input_json_delta arrived
    open: bool = True


class StreamParser:
    """Feed it upstream SSE events in order; it returns canonical events."""

    def __init__(self) -> None:
        self._started = False
        self._finished = False
        self._blocks: dict[int, _Block] = {}
        self._next_index = 0

    def feed(self, event: SSEEvent) -> list[StreamEvent]:
        if self._finished or not event.data.strip():
            return []
        try:
            events = self._dispatch(event)
        except TranslationError as error:  # a wrong field type: the upstream's fault, not ours
            events = [StreamError(_malformed(error.message))]
        except GatewayError as error:
            events = [StreamError(error)]
        if events and isinstance(events[-1], Done | StreamError):
            self._finished = True
        return events

    def close(self) -> list[StreamEvent]:
        if self._finished:
            return []
        self._finished = True
        return [StreamError(_malformed("the stream ended before message_stop"))]

    def _dispatch(self, event: SSEEvent) -> list[StreamEvent]:
        try:
            payload = orjson.loads(event.data)
        except orjson.JSONDecodeError as exc:
            raise _malformed(f"event data is not JSON: {event.data[:80]!r}") from exc
        data = fields.mapping(payload, "event")
        kind = data.get("type", event.event)
        if kind == "error":
            return [StreamError(error_from_body(None, data, {}))]
        if kind == "message_start":
            return self._message_start(data)
        if kind not in ("content_block_start", "content_block_delta", "content_block_stop"):
            return self._message_event(kind, data)
        if not self._started:
            raise _malformed(f"{kind} before message_start")
        index = fields.integer(data.get("index"), f"{kind}.index")
        if kind == "content_block_start":
            return self._block_start(index, fields.mapping(data.get("content_block"), kind))
        block = self._blocks.get(index)
        if block is None or not block.open:
            raise _malformed(f"{kind} for block {index}, which is not open")
        if kind == "content_block_delta":
            return _delta(block, fields.mapping(data.get("delta"), "content_block_delta.delta"))
        return self._block_stop(block)

    def _message_start(self, data: Mapping[str, Any]) -> list[StreamEvent]:
        if self._started:
            raise _malformed("a second message_start")
        self._started = True
        message = fields.mapping(data.get("message"), "message_start.message")
        start = MessageStart(
            id=fields.string(message.get("id"), "message.id"),
            model=fields.string(message.get("model"), "message.model"),
        )
        usage = message.get("usage")
        if usage is None:
            return [start]
        return [start, UsageReport(parse_usage(usage, "message.usage"))]

    def _message_event(self, kind: Any, data: Mapping[str, Any]) -> list[StreamEvent]:
        if kind not in ("message_delta", "message_stop"):
            return []  # ping, and events this parser does not know
        if not self._started:
            raise _malformed(f"{kind} before message_start")
        if kind == "message_stop":
            ends = [self._block_stop(block) for block in self._blocks.values() if block.open]
            return [*(event for events in ends for event in events), Done()]
        delta = fields.mapping(data.get("delta"), "message_delta.delta")
        stop_reason, _ = parse_stop_reason(delta.get("stop_reason"))
        stop_sequence = fields.opt_string(delta.get("stop_sequence"), "delta.stop_sequence")
        events: list[StreamEvent] = [Finish(stop_reason, stop_sequence)]
        if data.get("usage") is not None:
            events.append(UsageReport(parse_usage(data["usage"], "message_delta.usage")))
        return events

    def _block_start(self, wire_index: int, block: Mapping[str, Any]) -> list[StreamEvent]:
        if wire_index in self._blocks:
            raise _malformed(f"content_block_start for block {wire_index} again")
        kind = _PART_KINDS.get(fields.string(block.get("type"), "content_block.type"))
        if kind is None:
            self._blocks[wire_index] = _Block(None)
            return []
        index = self._next_index
        self._next_index += 1
        state = _Block(index)
        self._blocks[wire_index] = state
        if kind == "tool_call":
            return [_tool_start(index, block, state)]
        events: list[StreamEvent] = [PartStart(index, kind)]
        if kind == "text":
            text = fields.string(block.get("text", ""), "content_block.text")
            events.extend([TextDelta(index, text)] if text else [])
            return events
        thinking = fields.string(block.get("thinking", ""), "content_block.thinking")
        signature = fields.opt_string(block.get("signature"), "content_block.signature")
        events.extend([ThinkingDelta(index, thinking)] if thinking else [])
        events.extend([SignatureDelta(index, signature)] if signature else [])
        return events

    def _block_stop(self, block: _Block) -> list[StreamEvent]:
        block.open = False
        if block.index is None:
            return []
        if block.start_input and not block.got_json:
            return [ToolArgumentsDelta(block.index, block.start_input), PartEnd(block.index)]
        return [PartEnd(block.index)]


def _tool_start(index: int, block: Mapping[str, Any], state: _Block) -> PartStart:
    given = block.get("input")
    if given:
        state.start_input = json_text(fields.mapping(given, "content_block.input"), "input")
    return PartStart(
        index,
        "tool_call",
        tool_call_id=decode_tool_id(fields.string(block.get("id"), "content_block.id")),
        tool_name=fields.string(block.get("name"), "content_block.name"),
    )


def _delta(block: _Block, delta: Mapping[str, Any]) -> list[StreamEvent]:
    index = block.index
    if index is None:
        return []
    kind = delta.get("type")
    if kind == "text_delta":
        return [TextDelta(index, fields.string(delta.get("text"), "delta.text"))]
    if kind == "thinking_delta":
        return [ThinkingDelta(index, fields.string(delta.get("thinking"), "delta.thinking"))]
    if kind == "signature_delta":
        signature = fields.string(delta.get("signature"), "delta.signature")
        return [SignatureDelta(index, signature)] if signature else []
    if kind == "input_json_delta":
        block.got_json = True
        fragment = fields.string(delta.get("partial_json"), "delta.partial_json")
        return [ToolArgumentsDelta(index, fragment)] if fragment else []
    return []  # citations_delta and future delta types


def _malformed(detail: str) -> GatewayError:
    return GatewayError("server", f"malformed upstream Anthropic stream: {detail}")
