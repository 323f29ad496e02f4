"""Kimi's ``chat.completion.chunk`` SSE stream → canonical stream events (docs/kimi.md §7).

The shape read: a role chunk; ``delta.reasoning_content`` (or ``reasoning``) before
``delta.content`` (§7.2); tool calls joined by ``index`` with id/name on the first chunk of each
(§7.3); the finish chunk with ``finish_reason`` and a choice-level ``usage``; with
include_usage a ``choices: []`` chunk with top-level ``usage`` (§7.1); ``data: [DONE]``. Usage is
read from top level OR ``choices[0].usage`` (docs/kimi.md §F2.4). ``finish_reason: ""`` is null
(§7.3). An ``{"error": …}`` chunk becomes a StreamError, as does a stream that ends without
``[DONE]`` or a finish reason.

Events follow the order contract of core/events.py: within a choice, parts are opened and closed
one at a time; indexes in start order across the stream. With ``n > 1`` every choice is read, its
parts and ``Finish`` tagged with its index (§7.1: each choice ends with its own finish chunk and
its own usage, the same prompt and its own completion, so choice-level usages are summed; a
top-level usage is the whole request's). Not carried: streamed ``reasoning_details`` (no event
holds provider data).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
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
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.openai_chat.errors import error_from_payload
from kimi_gateway.dialects.openai_chat.response import malformed_reply
from kimi_gateway.dialects.openai_chat.usage import parse_finish, parse_usage
from kimi_gateway.dialects.openai_chat.wire import as_list, as_object, opt_int, opt_str

PartKind = Literal["text", "thinking", "tool_call"]
ToolKind = Literal["function", "builtin_function"]


def _broken(message: str) -> GatewayError:
    return GatewayError("server", message, status=502)


_PLAIN_INDEX = 1 << 31  # a choice index below this needs no range check


@dataclass(slots=True)
class _Choice:
    """What the parser knows of one choice."""

    open: tuple[int, PartKind] | None = None  # its open part: (canonical index, kind)
    tools: dict[int, int] = field(default_factory=dict)  # wire tool index → part index
    finished: bool = False
    usage: Usage | None = None  # its choice-level usage


class StreamParser:
    """Feed it decoded SSE events one at a time; call ``close()`` at EOF."""

    def __init__(self) -> None:
        self._started = False
        self._ended = False  # Done or StreamError emitted
        self._next_index = 0
        self._choices: dict[int, _Choice] = {}

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
        if type(chunk) is not dict:
            return self._fail(_broken("The upstream sent a chunk that is not a JSON object"))
        if event.event == "error" or chunk.get("error") is not None:
            return self._fail(error_from_payload(chunk, None))
        fast = self._next_delta(chunk)
        if fast is not None:
            return fast
        try:
            return self._chunk(chunk)
        except TranslationError as error:
            return self._fail(malformed_reply(error))

    def close(self) -> list[StreamEvent]:
        """At EOF: a stream cut before it finished is a StreamError (its usage is lost, §7.1)."""
        if self._ended:
            return []
        if self._choices and all(c.finished for c in self._choices.values()):
            return self._done()
        return self._fail(_broken("The upstream stream ended before the reply was complete"))

    def _fail(self, error: GatewayError) -> list[StreamEvent]:
        self._ended = True
        return [StreamError(error)]

    def _done(self) -> list[StreamEvent]:
        if not self._started:
            return self._fail(_broken("The upstream stream ended without any chunk"))
        self._ended = True
        out: list[StreamEvent] = []
        for state in self._choices.values():
            out.extend(_close_part(state))
        return [*out, Done()]

    def _next_delta(self, chunk: dict[str, Any]) -> list[StreamEvent] | None:
        """The events of nearly every chunk of a reply, read without the general path: one
        choice (index 0), no usage, no finish, and a delta of text (or of reasoning) that goes
        on with the part already open. None for anything else, which ``_chunk`` reads; both
        give the same events (tests/dialects/openai_chat/test_stream_parse_fast.py)."""
        choices = chunk.get("choices")
        if type(choices) is not list or len(choices) != 1 or chunk.get("usage") is not None:
            return None
        choice = choices[0]
        if type(choice) is not dict or choice.get("finish_reason") is not None:
            return None
        index = choice.get("index")
        state = self._choices.get(0)
        if type(index) is not int or index != 0 or state is None or state.open is None:
            return None
        delta = choice.get("delta")
        if type(delta) is not dict or choice.get("usage") is not None or "tool_calls" in delta:
            return None
        content = delta.get("content")
        reasoning = delta.get("reasoning_content")
        if reasoning is None:
            reasoning = delta.get("reasoning")
        if reasoning is None and type(content) is str:
            text, kind = content, "text"
        elif content is None and type(reasoning) is str:
            text, kind = reasoning, "thinking"
        else:
            return None
        if not text:
            return []
        open_index, open_kind = state.open
        if open_kind != kind:
            return None
        return [TextDelta(open_index, text) if kind == "text" else ThinkingDelta(open_index, text)]

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
        usage = parse_usage(chunk.get("usage"))
        choice_usage = False
        raw = chunk.get("choices")
        for position, value in enumerate([] if raw is None else as_list(raw, "choices")):
            param = f"choices[{position}]"
            choice = as_object(value, param)
            index = choice.get("index")
            if type(index) is int and 0 <= index < _PLAIN_INDEX:  # per chunk: the common case
                number = index
            else:
                number = opt_int(index, f"{param}.index") or 0
            state = self._choices.setdefault(number, _Choice())
            if usage is None and (own := parse_usage(choice.get("usage"))) is not None:
                state.usage, choice_usage = own, True
            if not state.finished:
                delta = as_object(choice.get("delta") or {}, f"{param}.delta")
                out.extend(self._delta(state, number, delta, param))
                out.extend(self._finish(state, number, choice.get("finish_reason")))
        if choice_usage:
            usage = _summed(c.usage for c in self._choices.values())
        if usage is not None:
            out.append(UsageReport(usage))
        return out

    def _finish(self, state: _Choice, number: int, reason: Any) -> list[StreamEvent]:
        if reason is None or reason == "":
            return []
        state.finished = True
        return [*_close_part(state), Finish(parse_finish(reason), choice=number)]

    def _delta(
        self, state: _Choice, number: int, delta: Mapping[str, Any], param: str
    ) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        reasoning = opt_str(delta.get("reasoning_content"), f"{param}.delta.reasoning_content")
        if reasoning is None:
            reasoning = opt_str(delta.get("reasoning"), f"{param}.delta.reasoning")
        if reasoning:
            index = self._ensure(out, state, number, "thinking")
            out.append(ThinkingDelta(index, reasoning))
        content = opt_str(delta.get("content"), f"{param}.delta.content")
        if content:
            index = self._ensure(out, state, number, "text")
            out.append(TextDelta(index, content))
        calls = delta.get("tool_calls")
        if calls is not None:
            calls_param = f"{param}.delta.tool_calls"
            for j, call in enumerate(as_list(calls, calls_param)):
                out.extend(self._tool_call(state, number, call, f"{calls_param}[{j}]", j))
        return out

    def _ensure(self, out: list[StreamEvent], state: _Choice, number: int, kind: PartKind) -> int:
        if state.open is not None and state.open[1] == kind:
            return state.open[0]
        out.extend(_close_part(state))
        index = self._start(state, kind)
        out.append(PartStart(index, kind, choice=number))
        return index

    def _start(self, state: _Choice, kind: PartKind) -> int:
        index = self._next_index
        self._next_index += 1
        state.open = (index, kind)
        return index

    def _tool_call(
        self, state: _Choice, number: int, value: Any, param: str, position: int
    ) -> list[StreamEvent]:
        call = as_object(value, param)
        wire_index = opt_int(call.get("index"), f"{param}.index")
        wire_index = position if wire_index is None else wire_index
        function = as_object(call.get("function") or {}, f"{param}.function")
        out: list[StreamEvent] = []
        if wire_index not in state.tools:
            out.extend(_close_part(state))
            index = state.tools[wire_index] = self._start(state, "tool_call")
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
                    choice=number,
                )
            )
        index = state.tools[wire_index]
        fragment = opt_str(function.get("arguments"), f"{param}.function.arguments")
        if fragment:
            if state.open != (index, "tool_call"):
                raise TranslationError(
                    "arguments of an earlier tool call arrived after a later one started",
                    param=f"{param}.function.arguments",
                )
            out.append(ToolArgumentsDelta(index, fragment))
        return out


def _close_part(state: _Choice) -> list[StreamEvent]:
    if state.open is None:
        return []
    index, state.open = state.open[0], None
    return [PartEnd(index)]


def _summed(usages: Iterable[Usage | None]) -> Usage:
    """The whole request's usage from its choices' (§7.1: the same prompt, each its own
    completion)."""
    present = [u for u in usages if u is not None]
    first = present[0]
    return Usage(
        input_uncached=first.input_uncached,
        input_cache_read=first.input_cache_read,
        input_cache_write=first.input_cache_write,
        output=sum(u.output for u in present),
        reasoning=sum(u.reasoning for u in present),
    )
