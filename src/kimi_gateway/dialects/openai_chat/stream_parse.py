"""Kimi's ``chat.completion.chunk`` SSE stream → canonical stream events (docs/kimi.md §7).

The shape read: a role chunk; ``delta.reasoning_content`` (or ``reasoning``) before
``delta.content`` (§7.2); tool calls joined by ``index`` with id/name on the first chunk of each
(§7.3); the finish chunk with ``finish_reason`` and a choice-level ``usage``; with
include_usage a ``choices: []`` chunk with top-level ``usage`` (§7.1); ``data: [DONE]``. Usage is
read from top level OR ``choices[0].usage`` (docs/kimi.md §F2.4). ``finish_reason: ""`` is null
(§7.3). An ``{"error": …}`` chunk becomes a StreamError, as does a stream that ends without
``[DONE]`` or a finish reason.

Events follow the order contract of core/events.py: parts are opened and closed one at a time,
indexes in start order. Only choice 0 is read (canonical streams have one choice). Not carried:
streamed ``reasoning_details`` (no event holds provider data).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import orjson

from kimi_gateway.core.errors import GatewayError, TranslationError
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
from kimi_gateway.core.sse import SSEEvent
from kimi_gateway.dialects.openai_chat.errors import error_from_payload
from kimi_gateway.dialects.openai_chat.response import malformed_reply
from kimi_gateway.dialects.openai_chat.usage import parse_finish, parse_usage
from kimi_gateway.dialects.openai_chat.wire import as_list, as_object, opt_int, opt_str

PartKind = Literal["text", "thinking", "tool_call"]
ToolKind = Literal["function", "builtin_function"]


def _broken(message: str) -> GatewayError:
    return GatewayError("server", message, status=502)


class StreamParser:
    """Feed it decoded SSE events one at a time; call ``close()`` at EOF."""

    def __init__(self) -> None:
        self._started = False
        self._finished = False  # Finish emitted
        self._ended = False  # Done or StreamError emitted
        self._next_index = 0
        self._open: tuple[int, PartKind] | None = None
        self._tools: dict[int, int] = {}  # wire tool_calls[].index → canonical part index

    def feed(self, event: SSEEvent) -> list[StreamEvent]:
        if self._ended:
            return []
        data = event.data.strip()
        if data == "[DONE]":
            return self._done()
        if not data:
            return []
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError:
            return self._fail(_broken(f"The upstream sent a chunk that is not JSON: {data[:200]}"))
        if not isinstance(chunk, Mapping):
            return self._fail(_broken("The upstream sent a chunk that is not a JSON object"))
        if event.event == "error" or chunk.get("error") is not None:
            return self._fail(error_from_payload(chunk, None))
        try:
            return self._chunk(chunk)
        except TranslationError as error:
            return self._fail(malformed_reply(error))

    def close(self) -> list[StreamEvent]:
        """At EOF: a stream cut before it finished is a StreamError (its usage is lost, §7.1)."""
        if self._ended:
            return []
        if self._finished:
            return self._done()
        return self._fail(_broken("The upstream stream ended before the reply was complete"))

    def _fail(self, error: GatewayError) -> list[StreamEvent]:
        self._ended = True
        return [StreamError(error)]

    def _done(self) -> list[StreamEvent]:
        if not self._started:
            return self._fail(_broken("The upstream stream ended without any chunk"))
        self._ended = True
        return [*self._close_part(), Done()]

    def _chunk(self, chunk: Mapping[str, Any]) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        if not self._started:
            self._started = True
            out.append(
                MessageStart(
                    id=opt_str(chunk.get("id"), "id") or "",
                    model=opt_str(chunk.get("model"), "model") or "",
                    created=opt_int(chunk.get("created"), "created"),
                )
            )
        choice = _first_choice(chunk)
        usage = parse_usage(chunk.get("usage"))
        if choice is not None:
            usage = usage or parse_usage(choice.get("usage"))
            if not self._finished:
                delta = as_object(choice.get("delta") or {}, "choices[0].delta")
                out.extend(self._delta(delta))
                out.extend(self._finish(choice.get("finish_reason")))
        if usage is not None:
            out.append(UsageReport(usage))
        return out

    def _finish(self, reason: Any) -> list[StreamEvent]:
        if reason is None or reason == "":
            return []
        self._finished = True
        return [*self._close_part(), Finish(parse_finish(reason))]

    def _delta(self, delta: Mapping[str, Any]) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        reasoning = opt_str(delta.get("reasoning_content"), "choices[0].delta.reasoning_content")
        if reasoning is None:
            reasoning = opt_str(delta.get("reasoning"), "choices[0].delta.reasoning")
        if reasoning:
            index = self._ensure(out, "thinking")
            out.append(ThinkingDelta(index, reasoning))
        content = opt_str(delta.get("content"), "choices[0].delta.content")
        if content:
            index = self._ensure(out, "text")
            out.append(TextDelta(index, content))
        calls = delta.get("tool_calls")
        if calls is not None:
            for j, call in enumerate(as_list(calls, "choices[0].delta.tool_calls")):
                out.extend(self._tool_call(call, f"choices[0].delta.tool_calls[{j}]", j))
        return out

    def _ensure(self, out: list[StreamEvent], kind: PartKind) -> int:
        if self._open is not None and self._open[1] == kind:
            return self._open[0]
        out.extend(self._close_part())
        index = self._start(kind)
        out.append(PartStart(index, kind))
        return index

    def _start(self, kind: PartKind) -> int:
        index = self._next_index
        self._next_index += 1
        self._open = (index, kind)
        return index

    def _close_part(self) -> list[StreamEvent]:
        if self._open is None:
            return []
        index, self._open = self._open[0], None
        return [PartEnd(index)]

    def _tool_call(self, value: Any, param: str, position: int) -> list[StreamEvent]:
        call = as_object(value, param)
        wire_index = opt_int(call.get("index"), f"{param}.index")
        wire_index = position if wire_index is None else wire_index
        function = as_object(call.get("function") or {}, f"{param}.function")
        out: list[StreamEvent] = []
        if wire_index not in self._tools:
            out.extend(self._close_part())
            index = self._tools[wire_index] = self._start("tool_call")
            kind: ToolKind = (
                "builtin_function" if call.get("type") == "builtin_function" else "function"
            )
            out.append(
                PartStart(
                    index,
                    "tool_call",
                    tool_call_id=opt_str(call.get("id"), f"{param}.id") or "",
                    tool_name=opt_str(function.get("name"), f"{param}.function.name") or "",
                    tool_kind=kind,
                )
            )
        index = self._tools[wire_index]
        fragment = opt_str(function.get("arguments"), f"{param}.function.arguments")
        if fragment:
            if self._open != (index, "tool_call"):
                raise TranslationError(
                    "arguments of an earlier tool call arrived after a later one started",
                    param=f"{param}.function.arguments",
                )
            out.append(ToolArgumentsDelta(index, fragment))
        return out


def _first_choice(chunk: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The choice with index 0 (other choices of n > 1 are not carried)."""
    raw = chunk.get("choices")
    choices = [] if raw is None else as_list(raw, "choices")
    for i, raw in enumerate(choices):
        choice = as_object(raw, f"choices[{i}]")
        if choice.get("index", 0) == 0:
            return choice
    return None
