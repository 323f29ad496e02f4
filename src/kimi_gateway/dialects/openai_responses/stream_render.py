"""Canonical stream events → the Responses SSE stream (``event:`` lines, ``sequence_number``).

The sequence, as OpenAI sends it: ``response.created`` and ``response.in_progress`` (status
``in_progress``, empty output); per part one output item — text: ``output_item.added`` (a
message), ``content_part.added``, ``output_text.delta``…, ``output_text.done``,
``content_part.done``, ``output_item.done``; thinking: ``output_item.added`` (a reasoning item),
``reasoning_summary_part.added``, ``reasoning_summary_text.delta``…, ``…text.done``,
``…part.done``, ``output_item.done``; tool call: ``output_item.added`` (a function_call),
``function_call_arguments.delta``…, ``…arguments.done``, ``output_item.done``; Kimi's built-in
``$web_search`` call (the gateway answers it itself, server/responses_hops.py): a
``web_search_call`` item with ``web_search_call.in_progress`` / ``.searching`` / ``.completed``.
At Done the whole response (render_response of the folded stream, with usage) in
``response.completed``, or in ``response.incomplete`` when the stop reason is max_tokens /
content_filter. There is no ``[DONE]``: the terminal event ends the stream. An
:class:`~.envelope.Envelope` gives the served response's id, echoed parameters and sealing.

A StreamError renders as an ``error`` event (``code``, ``message``: what the openai SDK's
stream reports) and then ``response.failed`` whose ``response.error`` is ``{code, message}``
(codes per errors.stream_code): ``response.failed`` is the terminal event clients wait for and
carries the response so far, and Codex CLI reads ``response.error.code`` from it to decide
whether to retry (rate_limit_exceeded, server_is_overloaded) or stop (insufficient_quota).
Signatures have no Responses form (they travel sealed, seal.py).
"""

from __future__ import annotations

from typing import Any

import orjson

from kimi_gateway.core.events import (
    Done,
    MessageStart,
    PartEnd,
    PartStart,
    StreamError,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolArgumentsDelta,
)
from kimi_gateway.core.fold import Folder
from kimi_gateway.core.model import Response
from kimi_gateway.core.sse import encode_event
from kimi_gateway.dialects.openai_responses.envelope import Envelope
from kimi_gateway.dialects.openai_responses.errors import error_message, stream_code
from kimi_gateway.dialects.openai_responses.response import (
    WEB_SEARCH,
    item_id,
    message_item,
    name_call,
    output_text,
    render_output_item,
    render_response,
    response_id,
)

_PREFIX = {"text": "msg", "thinking": "rs", "tool_call": "fc", "web_search": "ws"}


class StreamRenderer:
    """One per client stream; ``render`` returns the bytes to send for each event (maybe b"")."""

    def __init__(self, *, include_usage: bool = False, envelope: Envelope | None = None) -> None:
        del include_usage  # Responses streams always end with the usage
        self._envelope = envelope or Envelope()
        self._folder = Folder()
        self._sequence = 0
        self._rid = "resp_"
        self._kinds: dict[int, str] = {}
        self._ended = False

    def response(self) -> Response:
        """What was rendered so far, folded (the whole reply once Done was rendered)."""
        return self._folder.response()

    def render(self, event: StreamEvent) -> bytes:
        if self._ended:
            return b""
        if isinstance(event, StreamError):
            self._ended = True
            return self._failed(event)
        self._folder.feed(event)
        if isinstance(event, MessageStart):
            self._rid = self._envelope.id or response_id(self._folder.response())
            snapshot = render_response(self._folder.response(), "in_progress", self._envelope)
            return self._emit("response.created", {"response": snapshot}) + self._emit(
                "response.in_progress", {"response": snapshot}
            )
        if isinstance(event, PartStart):
            return self._part_start(event)
        if isinstance(event, TextDelta | ThinkingDelta | ToolArgumentsDelta):
            return self._delta(event)
        if isinstance(event, PartEnd):
            return self._part_end(event.index)
        if isinstance(event, Done):
            self._ended = True
            return self._completed()
        return b""  # Finish and UsageReport are folded; SignatureDelta has no form

    def _emit(self, kind: str, payload: dict[str, Any]) -> bytes:
        body = {"type": kind, "sequence_number": self._sequence, **payload}
        self._sequence += 1
        return encode_event(orjson.dumps(body), kind)

    def _id(self, index: int) -> str:
        return item_id(_PREFIX[self._kinds[index]], self._rid, index)

    def _part_start(self, event: PartStart) -> bytes:
        index = event.index
        # §8.5: a "$" name is a Kimi built-in, whichever call type Kimi reported it with.
        searching = event.kind == "tool_call" and event.tool_name == WEB_SEARCH
        self._kinds[index] = "web_search" if searching else event.kind
        mid = self._id(index)
        head = {"output_index": index}
        item: dict[str, Any]
        if searching:
            item = {"id": mid, "type": "web_search_call", "status": "in_progress"}
            ids = {"item_id": mid, **head}
            return (
                self._emit("response.output_item.added", {**head, "item": item})
                + self._emit("response.web_search_call.in_progress", ids)
                + self._emit("response.web_search_call.searching", ids)
            )
        if event.kind == "text":
            item = message_item(mid, None, "in_progress")
            return self._emit("response.output_item.added", {**head, "item": item}) + self._emit(
                "response.content_part.added",
                {"item_id": mid, **head, "content_index": 0, "part": output_text("")},
            )
        if event.kind == "thinking":
            item = {"id": mid, "type": "reasoning", "summary": []}
            part = {"type": "summary_text", "text": ""}
            return self._emit("response.output_item.added", {**head, "item": item}) + self._emit(
                "response.reasoning_summary_part.added",
                {"item_id": mid, **head, "summary_index": 0, "part": part},
            )
        item = {
            "id": mid,
            "type": "function_call",
            "status": "in_progress",
            "arguments": "",
            "call_id": event.tool_call_id or "",
            "name": event.tool_name or "",
        }
        item = name_call(item, self._envelope.namespaces)
        return self._emit("response.output_item.added", {**head, "item": item})

    def _delta(self, event: TextDelta | ThinkingDelta | ToolArgumentsDelta) -> bytes:
        index = event.index
        head: dict[str, Any] = {"item_id": self._id(index), "output_index": index}
        if isinstance(event, ToolArgumentsDelta):
            if not event.fragment or self._kinds[index] == "web_search":
                return b""
            return self._emit(
                "response.function_call_arguments.delta", {**head, "delta": event.fragment}
            )
        if not event.text:
            return b""
        if isinstance(event, ThinkingDelta):
            return self._emit(
                "response.reasoning_summary_text.delta",
                {**head, "summary_index": 0, "delta": event.text},
            )
        return self._emit(
            "response.output_text.delta",
            {**head, "content_index": 0, "delta": event.text, "logprobs": []},
        )

    def _part_end(self, index: int) -> bytes:
        part = self._folder.response().parts[index]
        item = render_output_item(part, self._rid, index, self._envelope)
        head: dict[str, Any] = {"item_id": self._id(index), "output_index": index}
        kind = self._kinds[index]
        out = b""
        if kind == "text":
            text = item["content"][0]["text"]
            out += self._emit(
                "response.output_text.done",
                {**head, "content_index": 0, "text": text, "logprobs": []},
            )
            out += self._emit(
                "response.content_part.done",
                {**head, "content_index": 0, "part": output_text(text)},
            )
        elif kind == "thinking":
            text = "".join(s["text"] for s in item["summary"])
            part_body = {"type": "summary_text", "text": text}
            out += self._emit(
                "response.reasoning_summary_text.done", {**head, "summary_index": 0, "text": text}
            )
            out += self._emit(
                "response.reasoning_summary_part.done",
                {**head, "summary_index": 0, "part": part_body},
            )
        elif kind == "web_search":
            out += self._emit("response.web_search_call.completed", head)
        else:
            out += self._emit(
                "response.function_call_arguments.done", {**head, "arguments": item["arguments"]}
            )
        return out + self._emit("response.output_item.done", {"output_index": index, "item": item})

    def _completed(self) -> bytes:
        body = render_response(self._folder.response(), None, self._envelope)
        kind = "response.incomplete" if body["status"] == "incomplete" else "response.completed"
        return self._emit(kind, {"response": body})

    def _failed(self, event: StreamError) -> bytes:
        body = render_response(self._folder.response(), "failed", self._envelope)
        error = event.error
        code, message = stream_code(error), error_message(error)
        body["error"] = {"code": code, "message": message}
        notice = {"code": code, "message": message, "param": error.param}
        return self._emit("error", notice) + self._emit("response.failed", {"response": body})
