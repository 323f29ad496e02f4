"""Canonical stream events → ``chat.completion.chunk`` SSE bytes, shaped like Kimi's (§7.4).

One id for the whole stream (from MessageStart); a role chunk with ``content: ""``;
``reasoning_content`` deltas; ``content`` deltas; tool calls by OpenAI ``index`` (id, type, name
and ``arguments: ""`` on the first chunk of each); a finish chunk with ``finish_reason`` AND a
choice-level ``usage`` (Kimi sends it even without stream_options, docs/kimi.md §7.1); with
``include_usage`` an extra ``choices: []`` chunk with the whole usage, ``"usage": null`` on every
other chunk; then ``data: [DONE]``. The finish chunk is held until Done because usage may arrive
after Finish (Anthropic upstreams report it in ``message_delta``).

Several choices (``n > 1``): each chunk's choice carries its ``index``, tool calls are numbered
per choice, and each choice gets its own finish chunk at Done (in choice order); the whole
request's usage rides on the last of them, since the canonical stream does not split it.

A legacy client (``functions`` instead of ``tools``, ``legacy_functions``) gets its one call as
``delta.function_call`` (the name with ``arguments: ""``, then argument pieces) and
``finish_reason: "function_call"``; the legacy API has no form for a second call in a choice, so
later ones are not sent (the request asks Kimi for one call: tools.py).

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
from kimi_gateway.core.sse import encode_event
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.openai_chat.errors import render_error
from kimi_gateway.dialects.openai_chat.message_render import THINKING_JOINER
from kimi_gateway.dialects.openai_chat.usage import render_finish, render_usage

DONE = encode_event("[DONE]")


class StreamRenderer:
    """One per client stream; ``render`` returns the bytes to send for each event (maybe b"")."""

    def __init__(self, *, include_usage: bool = False, legacy_functions: bool = False) -> None:
        self._include_usage = include_usage
        self._legacy = legacy_functions
        self._head: dict[str, Any] = {
            "id": "",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "",
        }
        self._choice: dict[int, int] = {}  # canonical part index → its choice
        self._tool_index: dict[int, int] = {}  # canonical part index → OpenAI tool index
        self._tools: dict[int, int] = {}  # choice → tool calls started
        self._thinking: dict[int, int] = {}  # choice → thinking parts started
        self._empty_thinking: set[int] = set()  # open thinking parts with no text yet
        self._usage: Usage | None = None
        self._finishes: dict[int, Finish] = {}
        self._ended = False
        # (delta key, choice) → the chunk's bytes before and after the delta's text: a text
        # delta, most of a stream, is one string encoded between them (``_text``)
        self._frames: dict[tuple[str, int], tuple[bytes, bytes]] = {}

    def render(self, event: StreamEvent) -> bytes:
        if self._ended:
            return b""
        if type(event) is TextDelta:  # most of a stream: the cheapest test first
            return self._text("content", event.text, self._choice.get(event.index, 0))
        if isinstance(event, MessageStart):
            self._head.update(id=event.id, created=event.created or 0, model=event.model)
            self._frames.clear()
            return self._chunk({"role": "assistant", "content": ""})
        if isinstance(event, PartStart):
            return self._part_start(event)
        if isinstance(event, TextDelta | ThinkingDelta | ToolArgumentsDelta):
            return self._delta(event)
        if isinstance(event, Finish):
            self._finishes[event.choice] = event
        elif isinstance(event, UsageReport):
            self._usage = event.usage if self._usage is None else self._usage.merge(event.usage)
        elif isinstance(event, Done):
            return self._done()
        elif isinstance(event, PartEnd) and event.index in self._empty_thinking:
            # "Reasoned but empty" is still reasoning (docs/kimi.md §7.2): say so, as
            # render_response does with ``reasoning_content: ""``.
            self._empty_thinking.discard(event.index)
            return self._chunk({"reasoning_content": ""}, self._choice[event.index])
        elif isinstance(event, StreamError):
            self._ended = True
            _, body = render_error(event.error)
            return encode_event(orjson.dumps(body)) + DONE
        return b""  # other PartEnds, SignatureDelta: nothing to send

    def _delta(self, event: TextDelta | ThinkingDelta | ToolArgumentsDelta) -> bytes:
        choice = self._choice.get(event.index, 0)
        if isinstance(event, TextDelta):
            return self._text("content", event.text, choice)
        if isinstance(event, ThinkingDelta):
            if not event.text:
                return b""
            self._empty_thinking.discard(event.index)
            return self._text("reasoning_content", event.text, choice)
        if not event.fragment or event.index not in self._tool_index:
            return b""
        if self._legacy:
            return self._chunk({"function_call": {"arguments": event.fragment}}, choice)
        call = {"index": self._tool_index[event.index], "function": {"arguments": event.fragment}}
        return self._chunk({"tool_calls": [call]}, choice)

    def _part_start(self, event: PartStart) -> bytes:
        choice = self._choice[event.index] = event.choice
        if event.kind == "thinking":
            started = self._thinking[choice] = self._thinking.get(choice, 0) + 1
            # Separate thinking blocks as render_response joins them, so stream == folded.
            if started > 1:
                return self._chunk({"reasoning_content": THINKING_JOINER}, choice)
            self._empty_thinking.add(event.index)
            return b""
        if event.kind != "tool_call":
            return b""
        index = self._tools.get(choice, 0)
        self._tools[choice] = index + 1
        name = event.tool_name or ""
        if self._legacy:
            if index > 0:
                return b""  # no legacy form for a second call (module docstring)
            self._tool_index[event.index] = index
            return self._chunk({"function_call": {"name": name, "arguments": ""}}, choice)
        self._tool_index[event.index] = index
        call = {
            "index": index,
            "id": event.tool_call_id or "",
            "type": event.tool_kind,
            "function": {"name": name, "arguments": ""},
        }
        return self._chunk({"tool_calls": [call]}, choice)

    def _done(self) -> bytes:
        self._ended = True
        out = b""
        last = max(self._finishes, default=None)
        for choice in sorted(self._finishes):
            finish = self._finishes[choice]
            reason = render_finish(finish.stop_reason)
            if self._legacy and reason == "tool_calls":
                reason = "function_call"
            out += self._chunk({}, choice, reason, usage=choice == last)
        if self._include_usage:
            usage = render_usage(self._usage or Usage())
            out += encode_event(orjson.dumps({**self._head, "choices": [], "usage": usage}))
        return out + DONE

    def _text(self, key: str, text: str, choice: int) -> bytes:
        """``_chunk({key: text}, choice)``, byte for byte, from the frame around the text
        (tests/dialects/openai_chat/test_stream_render_frames.py)."""
        if not text:
            return b""
        frame = self._frames.get((key, choice))
        if frame is None:
            whole = self._chunk({key: ""}, choice)
            mark = whole.index(b'"delta":{"' + key.encode() + b'":""}') + len(key) + 12
            frame = self._frames[(key, choice)] = (whole[:mark], whole[mark + 2 :])
        return frame[0] + orjson.dumps(text) + frame[1]

    def _chunk(
        self,
        delta: dict[str, Any],
        index: int = 0,
        finish_reason: str | None = None,
        *,
        usage: bool = False,
    ) -> bytes:
        choice: dict[str, Any] = {"index": index, "delta": delta, "finish_reason": finish_reason}
        if usage and self._usage is not None:
            choice["usage"] = render_usage(self._usage)
        chunk: dict[str, Any] = {**self._head, "choices": [choice]}
        if self._include_usage:
            chunk["usage"] = None
        return encode_event(orjson.dumps(chunk))
