"""Canonical stream events → the Anthropic Messages SSE a client reads (StreamRenderer).

The output is Anthropic's full sequence, with ``event:`` lines (Claude Code needs them,
docs/kimi.md §F1): ``message_start``, then per block ``content_block_start``,
``content_block_delta``…, ``content_block_stop``, then ``message_delta`` and ``message_stop``.
Claude Code falls back to non-streaming on any deviation (docs/kimi.md §F2.8), so the renderer
guarantees the shape whatever order the canonical events come in:

- ``message_start`` is held for one event: a UsageReport right after MessageStart (an Anthropic
  upstream reports input usage at the start) goes into it; otherwise it goes out with the usage
  known so far (zeros from an OpenAI upstream, whose usage comes last) before anything else.
- Blocks are written one at a time, wire indexes contiguous from 0 in start order. If a part
  starts while another is open (OpenAI parallel tool calls), its events are queued and written
  when the earlier blocks end; nothing is dropped or interleaved.
- Thinking: ``thinking_delta``s, then one ``signature_delta`` with the whole signature right
  before ``content_block_stop`` (clients replace, not append, on signature_delta), and none when
  there is no signature. Tool use starts with ``input: {}`` and the encoded id (tool_ids), then
  ``input_json_delta``s with the arguments text as received. Empty deltas are not written.
- Finish and UsageReports are held until Done, so ``message_delta`` carries the stop reason and
  the final usage (OpenAI upstreams send usage after ``finish_reason``); the usage there has the
  input fields too, which Anthropic SDKs read from ``message_delta`` as well.
- Done closes any block left open, then writes ``message_delta`` and ``message_stop``.
  StreamError writes ``event: error`` (``{"type":"error","error":{type,message}}``) and ends the
  stream; no ``ping`` is ever sent. Events after the end render as ``b""``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias

import orjson

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
from kimi_gateway.core.sse import encode_event
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.anthropic_messages.errors import error_event
from kimi_gateway.dialects.anthropic_messages.response import (
    message_id,
    render_stop_reason,
    render_usage,
)
from kimi_gateway.dialects.anthropic_messages.tool_ids import encode_tool_id

_PartEvent: TypeAlias = (
    PartStart | TextDelta | ThinkingDelta | SignatureDelta | ToolArgumentsDelta | PartEnd
)


def _frame(name: str, data: dict[str, Any]) -> bytes:
    return encode_event(orjson.dumps(data), event=name)


# A text or thinking delta's frame up to its text (the block's index goes in), as ``_frame``
# writes it; the text, encoded, and ``}}`` and the blank line follow (``_Block.text``).
_TEXT_HEAD = {
    kind: b'event: content_block_delta\ndata: {"type":"content_block_delta","index":%d,'
    + b'"delta":{"type":"%s","%s":' % (delta.encode(), key.encode())
    for kind, (delta, key) in {
        "text": ("text_delta", "text"),
        "thinking": ("thinking_delta", "thinking"),
    }.items()
}


@dataclass(slots=True)
class _Block:
    wire_index: int
    queue: list[bytes] = field(default_factory=list)
    signature: list[str] = field(default_factory=list)
    ended: bool = False

    def delta(self, delta: dict[str, Any]) -> None:
        data = {"type": "content_block_delta", "index": self.wire_index, "delta": delta}
        self.queue.append(_frame("content_block_delta", data))

    def text(self, kind: str, text: str) -> None:
        self.queue.append(self.text_frame(kind, text))

    def text_frame(self, kind: str, text: str) -> bytes:
        """``delta({"type": kind + "_delta", kind: text})``'s frame, byte for byte, without
        the dict (tests/dialects/anthropic_messages/test_stream_render_frames.py)."""
        return _TEXT_HEAD[kind] % self.wire_index + orjson.dumps(text) + b"}}\n\n"

    def end(self) -> None:
        if self.signature:
            self.delta({"type": "signature_delta", "signature": "".join(self.signature)})
        data = {"type": "content_block_stop", "index": self.wire_index}
        self.queue.append(_frame("content_block_stop", data))
        self.ended = True


class StreamRenderer:
    """Renders one stream; feed it every event in order."""

    def __init__(self, *, include_usage: bool = False) -> None:
        del include_usage  # OpenAI-only; Anthropic streams always carry usage
        self._start: MessageStart | None = None
        self._started = False
        self._ended = False
        self._usage = Usage()
        self._finish = Finish(None)
        self._blocks: dict[int, _Block] = {}
        self._order: list[int] = []
        self._active = 0  # position in _order of the block being written

    def render(self, event: StreamEvent) -> bytes:
        if self._ended:
            return b""
        if type(event) is TextDelta and self._started:  # most of a stream: the short way
            block = self._blocks.get(event.index)
            if block is not None and not block.ended and event.text:
                if not block.queue and self._order[self._active] == event.index:
                    # the block being written, nothing queued before: straight out (_flush's
                    # result for it, without the queue)
                    return block.text_frame("text", event.text)
                block.text("text", event.text)
            return self._flush()
        if isinstance(event, MessageStart):
            self._start = event
            return b""
        if isinstance(event, StreamError):
            self._ended = True
            return _frame("error", error_event(event.error))
        if isinstance(event, UsageReport):
            self._usage = self._usage.merge(event.usage)
            return self._message_start()
        head = self._message_start()
        if isinstance(event, Finish):
            self._finish = event
            return head
        if isinstance(event, Done):
            return head + self._done()
        self._part_event(event)
        return head + self._flush()

    def _message_start(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        start = self._start or MessageStart("", "")
        message: dict[str, Any] = {
            "id": message_id(start.id),
            "type": "message",
            "role": "assistant",
            "model": start.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": render_usage(self._usage),
        }
        return _frame("message_start", {"type": "message_start", "message": message})

    def _part_event(self, event: _PartEvent) -> None:
        if isinstance(event, PartStart):
            self._part_start(event)
            return
        block = self._blocks.get(event.index)
        if block is None or block.ended:
            return  # an event for a part never started or already ended: nothing valid to write
        if isinstance(event, TextDelta) and event.text:
            block.text("text", event.text)
        elif isinstance(event, ThinkingDelta) and event.text:
            block.text("thinking", event.text)
        elif isinstance(event, ToolArgumentsDelta) and event.fragment:
            block.delta({"type": "input_json_delta", "partial_json": event.fragment})
        elif isinstance(event, SignatureDelta):
            block.signature.append(event.signature)
        elif isinstance(event, PartEnd):
            block.end()

    def _part_start(self, event: PartStart) -> None:
        if event.index in self._blocks:
            return
        block = _Block(len(self._order))
        self._blocks[event.index] = block
        self._order.append(event.index)
        content: dict[str, Any]
        if event.kind == "text":
            content = {"type": "text", "text": ""}
        elif event.kind == "thinking":
            content = {"type": "thinking", "thinking": "", "signature": ""}
        else:
            call_id = encode_tool_id(event.tool_call_id or "")
            content = {
                "type": "tool_use",
                "id": call_id,
                "name": event.tool_name or "",
                "input": {},
            }
        data = {"type": "content_block_start", "index": block.wire_index, "content_block": content}
        block.queue.append(_frame("content_block_start", data))

    def _flush(self) -> bytes:
        out: list[bytes] = []
        while self._active < len(self._order):
            block = self._blocks[self._order[self._active]]
            out.extend(block.queue)
            block.queue.clear()
            if not block.ended:
                break
            self._active += 1
        return b"".join(out)

    def _done(self) -> bytes:
        for index in self._order:
            if not self._blocks[index].ended:
                self._blocks[index].end()
        out = self._flush()
        self._ended = True
        delta = {
            "stop_reason": render_stop_reason(self._finish.stop_reason),
            "stop_sequence": self._finish.stop_sequence,
        }
        usage = render_usage(self._usage)
        message_delta = {"type": "message_delta", "delta": delta, "usage": usage}
        stop = _frame("message_stop", {"type": "message_stop"})
        return out + _frame("message_delta", message_delta) + stop
