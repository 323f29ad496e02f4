"""A Responses SSE stream from an upstream → canonical stream events.

Read: ``response.created`` → MessageStart; each output item is one part, keyed by
``output_index``: a ``reasoning`` item opens a thinking part at ``output_item.added`` (summary
and raw ``reasoning_text`` deltas are its text, summary parts joined by a blank line, as
parse_response joins them); a ``message`` item opens a text part per content part
(``content_part.added`` or the first ``output_text`` / ``refusal`` delta); a ``function_call``
opens a tool-call part (arguments from ``function_call_arguments.delta``, or from the finished
item when no delta came). ``output_item.done`` closes the item's parts. ``response.completed`` /
``response.incomplete`` give Finish, usage and Done; ``response.failed`` and ``error`` give a
StreamError, as does a stream that ends without a terminal event. Other events (``…done``
repeats, annotations, hosted tool progress) carry nothing new and are skipped. Not carried:
reasoning ``encrypted_content`` (no event holds provider data).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
from kimi_gateway.dialects.openai_responses.errors import error_from_payload
from kimi_gateway.dialects.openai_responses.items import THINKING_JOINER
from kimi_gateway.dialects.openai_responses.response import malformed_reply
from kimi_gateway.dialects.openai_responses.usage import parse_stop, parse_usage
from kimi_gateway.dialects.openai_responses.wire import as_object, as_str, opt_int, opt_str

_TEXT_DELTAS = ("response.output_text.delta", "response.refusal.delta")
_THINKING_DELTAS = ("response.reasoning_summary_text.delta", "response.reasoning_text.delta")
_TERMINAL = ("response.completed", "response.incomplete")


def _broken(message: str) -> GatewayError:
    return GatewayError("server", message, status=502)


class StreamParser:
    """Feed it decoded SSE events one at a time; call ``close()`` at EOF."""

    def __init__(self) -> None:
        self._started = False
        self._ended = False
        self._next_index = 0
        self._open: dict[tuple[int, int], int] = {}  # (output_index, content_index) → part
        self._kinds: dict[int, str] = {}  # output_index → item type
        self._summary: dict[int, int] = {}  # output_index → last summary_index seen
        self._arguments: set[int] = set()  # output indexes whose arguments were streamed
        self._calls = False

    def feed(self, event: SSEEvent) -> list[StreamEvent]:
        if self._ended or not event.data.strip() or event.data.strip() == "[DONE]":
            return []
        try:
            payload = orjson.loads(event.data)
        except orjson.JSONDecodeError:
            return self._fail(
                _broken(f"The upstream sent an event that is not JSON: {event.data[:200]}")
            )
        if not isinstance(payload, Mapping):
            return self._fail(_broken("The upstream sent an event that is not a JSON object"))
        kind = payload.get("type") if isinstance(payload.get("type"), str) else event.event
        try:
            return self._event(str(kind), payload)
        except TranslationError as error:
            return self._fail(malformed_reply(error))

    def close(self) -> list[StreamEvent]:
        if self._ended:
            return []
        return self._fail(_broken("The upstream stream ended before the response was complete"))

    def _fail(self, error: GatewayError) -> list[StreamEvent]:
        self._ended = True
        return [StreamError(error)]

    def _event(self, kind: str, payload: Mapping[str, Any]) -> list[StreamEvent]:
        if kind == "error":
            return self._fail(error_from_payload(payload, None))
        if kind == "response.failed":
            response = as_object(payload.get("response"), "response")
            return self._fail(error_from_payload(response, None))
        out: list[StreamEvent] = []
        if not self._started:
            self._started = True
            out.append(self._message_start(payload))
        if kind == "response.output_item.added":
            out.extend(self._item_added(payload))
        elif kind == "response.content_part.added":
            out.extend(self._ensure(payload, "text"))
        elif kind in _TEXT_DELTAS or kind in _THINKING_DELTAS:
            out.extend(self._text(kind, payload))
        elif kind == "response.function_call_arguments.delta":
            out.extend(self._arguments_delta(payload))
        elif kind == "response.output_item.done":
            out.extend(self._item_done(payload))
        elif kind in _TERMINAL:
            out.extend(self._terminal(payload))
        return out

    def _message_start(self, payload: Mapping[str, Any]) -> MessageStart:
        response = payload.get("response")
        body = response if isinstance(response, Mapping) else {}
        created = body.get("created_at")
        return MessageStart(
            id=opt_str(body.get("id"), "response.id") or "",
            model=opt_str(body.get("model"), "response.model") or "",
            created=int(created) if isinstance(created, int | float) and created >= 0 else None,
        )

    def _start(self, key: tuple[int, int], kind: Any, **tool: Any) -> list[StreamEvent]:
        out = self._close(lambda k: k != key)
        index = self._open[key] = self._next_index
        self._next_index += 1
        return [*out, PartStart(index, kind, **tool)]

    def _close(self, which: Any) -> list[StreamEvent]:
        keys = [key for key in self._open if which(key)]
        return [PartEnd(self._open.pop(key)) for key in keys]

    def _item_added(self, payload: Mapping[str, Any]) -> list[StreamEvent]:
        position = _output_index(payload)
        item = as_object(payload.get("item"), "item")
        kind = as_str(item.get("type"), "item.type")
        self._kinds[position] = kind
        if kind == "reasoning":
            return self._start((position, 0), "thinking")
        if kind != "function_call":
            return []
        self._calls = True
        return self._start(
            (position, 0),
            "tool_call",
            tool_call_id=opt_str(item.get("call_id"), "item.call_id") or "",
            tool_name=opt_str(item.get("name"), "item.name") or "",
        )

    def _ensure(self, payload: Mapping[str, Any], kind: str) -> list[StreamEvent]:
        key = (_output_index(payload), _content_index(payload))
        if key in self._open or self._kinds.get(key[0]) == "reasoning":
            return []
        return self._start(key, kind)

    def _text(self, kind: str, payload: Mapping[str, Any]) -> list[StreamEvent]:
        delta = as_str(payload.get("delta"), "delta")
        position = _output_index(payload)
        if kind in _TEXT_DELTAS:
            out = self._ensure(payload, "text")
            key = (position, _content_index(payload))
            return [*out, TextDelta(self._open[key], delta)] if delta else out
        out = [] if (position, 0) in self._open else self._start((position, 0), "thinking")
        self._kinds[position] = "reasoning"
        summary = opt_int(payload.get("summary_index"), "summary_index") or 0
        if summary > self._summary.setdefault(position, summary):
            self._summary[position] = summary
            delta = THINKING_JOINER + delta
        index = self._open[(position, 0)]
        return [*out, ThinkingDelta(index, delta)] if delta else out

    def _arguments_delta(self, payload: Mapping[str, Any]) -> list[StreamEvent]:
        position = _output_index(payload)
        index = self._open.get((position, 0))
        delta = as_str(payload.get("delta"), "delta")
        if index is None or self._kinds.get(position) != "function_call":
            raise TranslationError("arguments for an item that is not an open call", param="delta")
        self._arguments.add(position)
        return [ToolArgumentsDelta(index, delta)] if delta else []

    def _item_done(self, payload: Mapping[str, Any]) -> list[StreamEvent]:
        position = _output_index(payload)
        out: list[StreamEvent] = []
        item = as_object(payload.get("item"), "item")
        index = self._open.get((position, 0))
        if item.get("type") == "function_call" and index is not None:
            arguments = opt_str(item.get("arguments"), "item.arguments")
            if position not in self._arguments and arguments:
                out.append(ToolArgumentsDelta(index, arguments))
        return [*out, *self._close(lambda key: key[0] == position)]

    def _terminal(self, payload: Mapping[str, Any]) -> list[StreamEvent]:
        response = as_object(payload.get("response"), "response")
        stop = parse_stop(response.get("status"), response.get("incomplete_details"), self._calls)
        out: list[StreamEvent] = [*self._close(lambda key: True), Finish(stop)]
        usage = parse_usage(response.get("usage"))
        if usage is not None:
            out.append(UsageReport(usage))
        self._ended = True
        return [*out, Done()]


def _output_index(payload: Mapping[str, Any]) -> int:
    value = opt_int(payload.get("output_index"), "output_index")
    return 0 if value is None else value


def _content_index(payload: Mapping[str, Any]) -> int:
    value = opt_int(payload.get("content_index"), "content_index")
    return 0 if value is None else value
