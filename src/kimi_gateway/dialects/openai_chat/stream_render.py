"""Canonical stream events → ``chat.completion.chunk`` SSE bytes, shaped like Kimi's (§7.4).

One id for the whole stream (from MessageStart); a role chunk with ``content: ""``;
``reasoning_content`` deltas; ``content`` deltas; tool calls by OpenAI ``index`` (id, type, name
and ``arguments: ""`` on the first chunk of each); a finish chunk with ``finish_reason`` AND a
choice-level ``usage`` (Kimi sends it even without stream_options, docs/kimi.md §7.1); with
``include_usage`` an extra ``choices: []`` chunk with the whole usage, ``"usage": null`` on every
other chunk; then ``data: [DONE]``. The finish chunk is held until Done because usage may arrive
after Finish (Anthropic upstreams report it in ``message_delta``).

A mid-stream StreamError renders as ``data: {"error": {message, type, param, code}}`` (the body
of errors.render_error, the form OpenAI's SDK raises as an APIError) followed by
``data: [DONE]`` so clients that wait for the terminator stop cleanly.
"""

from __future__ import annotations

from typing import Any

import orjson

from kimi_gateway.core.events import (
    Done,
    Finish,
    MessageStart,
    PartEnd,
    PartStart,
    StreamError,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolArgumentsDelta,
    UsageReport,
)
from kimi_gateway.core.model import StopReason
from kimi_gateway.core.sse import encode_event
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.openai_chat.errors import render_error
from kimi_gateway.dialects.openai_chat.messages import THINKING_JOINER
from kimi_gateway.dialects.openai_chat.usage import render_finish, render_usage

DONE = encode_event("[DONE]")


class StreamRenderer:
    """One per client stream; ``render`` returns the bytes to send for each event (maybe b"")."""

    def __init__(self, *, include_usage: bool = False) -> None:
        self._include_usage = include_usage
        self._head: dict[str, Any] = {
            "id": "",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "",
        }
        self._tool_index: dict[int, int] = {}  # canonical part index → OpenAI tool index
        self._thinking_parts = 0
        self._empty_thinking: int | None = None  # index of an open thinking part with no text yet
        self._usage: Usage | None = None
        self._finish: Finish | None = None
        self._ended = False

    def render(self, event: StreamEvent) -> bytes:
        if self._ended:
            return b""
        if isinstance(event, MessageStart):
            self._head.update(id=event.id, created=event.created or 0, model=event.model)
            return self._chunk({"role": "assistant", "content": ""})
        if isinstance(event, PartStart):
            return self._part_start(event)
        if isinstance(event, TextDelta):
            return self._chunk({"content": event.text}) if event.text else b""
        if isinstance(event, ThinkingDelta):
            if not event.text:
                return b""
            self._empty_thinking = None
            return self._chunk({"reasoning_content": event.text})
        if isinstance(event, ToolArgumentsDelta):
            call = {
                "index": self._tool_index[event.index],
                "function": {"arguments": event.fragment},
            }
            return self._chunk({"tool_calls": [call]}) if event.fragment else b""
        if isinstance(event, Finish):
            self._finish = event
        elif isinstance(event, UsageReport):
            self._usage = event.usage if self._usage is None else self._usage.merge(event.usage)
        elif isinstance(event, Done):
            return self._done()
        elif isinstance(event, PartEnd) and event.index == self._empty_thinking:
            # "Reasoned but empty" is still reasoning (docs/kimi.md §7.2): say so, as
            # render_response does with ``reasoning_content: ""``.
            self._empty_thinking = None
            return self._chunk({"reasoning_content": ""})
        elif isinstance(event, StreamError):
            self._ended = True
            _, body = render_error(event.error)
            return encode_event(orjson.dumps(body)) + DONE
        return b""  # other PartEnds, SignatureDelta: nothing to send

    def _part_start(self, event: PartStart) -> bytes:
        if event.kind == "thinking":
            self._thinking_parts += 1
            # Separate thinking blocks as render_response joins them, so stream == folded.
            if self._thinking_parts > 1:
                return self._chunk({"reasoning_content": THINKING_JOINER})
            self._empty_thinking = event.index
            return b""
        if event.kind != "tool_call":
            return b""
        index = self._tool_index[event.index] = len(self._tool_index)
        call = {
            "index": index,
            "id": event.tool_call_id or "",
            "type": event.tool_kind,
            "function": {"name": event.tool_name or "", "arguments": ""},
        }
        return self._chunk({"tool_calls": [call]})

    def _done(self) -> bytes:
        self._ended = True
        out = b""
        if self._finish is not None:
            out += self._chunk({}, self._finish.stop_reason, finished=True)
        if self._include_usage:
            usage = render_usage(self._usage or Usage())
            out += encode_event(orjson.dumps({**self._head, "choices": [], "usage": usage}))
        return out + DONE

    def _chunk(
        self, delta: dict[str, Any], stop: StopReason | None = None, *, finished: bool = False
    ) -> bytes:
        choice: dict[str, Any] = {
            "index": 0,
            "delta": delta,
            "finish_reason": render_finish(stop) if finished else None,
        }
        if finished and self._usage is not None:
            choice["usage"] = render_usage(self._usage)
        chunk: dict[str, Any] = {**self._head, "choices": [choice]}
        if self._include_usage:
            chunk["usage"] = None
        return encode_event(orjson.dumps(chunk))
