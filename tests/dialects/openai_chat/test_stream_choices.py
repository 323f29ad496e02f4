"""Several choices (``n > 1``) and legacy ``function_call`` replies through the Chat stream
renderer and parser: what is rendered parses back to the same reply, and the folded reply renders
as the same body (issue 9 items 1, 2)."""

from __future__ import annotations

from typing import Any

import orjson

from kimi_gateway.core.events import (
    Done,
    Finish,
    MessageStart,
    PartEnd,
    PartStart,
    StreamEvent,
    TextDelta,
    ToolArgumentsDelta,
    UsageReport,
)
from kimi_gateway.core.fold import fold
from kimi_gateway.core.model import Choice, TextPart, ToolCallPart
from kimi_gateway.core.sse import SSEDecoder
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.openai_chat import StreamParser, StreamRenderer, render_response

# Two choices interleaved, as Kimi streams them: text in choice 0, a tool call in choice 1.
EVENTS: list[StreamEvent] = [
    MessageStart("chatcmpl-X", "kimi", 1),
    PartStart(0, "text"),
    PartStart(1, "tool_call", "f:0", "f", choice=1),
    TextDelta(0, "hel"),
    ToolArgumentsDelta(1, '{"a":'),
    TextDelta(0, "lo"),
    ToolArgumentsDelta(1, "1}"),
    PartEnd(0),
    Finish("end_turn"),
    PartEnd(1),
    Finish("tool_use", choice=1),
    UsageReport(Usage(input_uncached=5, output=7)),
    Done(),
]


def _chunks(raw: bytes) -> list[Any]:
    decoder = SSEDecoder()
    events = decoder.decode(raw) + decoder.flush()
    return [orjson.loads(e.data) for e in events if e.data != "[DONE]"]


def test_interleaved_choices_render_with_their_index_and_parse_back() -> None:
    renderer = StreamRenderer(include_usage=True)
    raw = b"".join(renderer.render(event) for event in EVENTS)
    body = _chunks(raw)
    finishes = [
        (c["index"], c["finish_reason"]) for b in body for c in b["choices"] if c["finish_reason"]
    ]
    assert finishes == [(0, "stop"), (1, "tool_calls")]
    assert body[-1]["usage"]["completion_tokens"] == 7
    parser = StreamParser()
    decoder = SSEDecoder()
    parsed = [e for sse in decoder.decode(raw) + decoder.flush() for e in parser.feed(sse)]
    reply = fold(parsed + parser.close())
    assert reply == fold(EVENTS)
    assert (reply.parts, reply.more_choices) == (
        (TextPart("hello"),),
        (Choice((ToolCallPart("f:0", "f", '{"a":1}'),), "tool_use"),),
    )


def test_a_legacy_client_gets_function_call_streamed_and_whole() -> None:
    renderer = StreamRenderer(legacy_functions=True)
    body = _chunks(b"".join(renderer.render(event) for event in EVENTS))
    deltas = [c["delta"] for b in body for c in b["choices"] if c["index"] == 1]
    calls = [d["function_call"] for d in deltas if "function_call" in d]
    assert calls == [{"name": "f", "arguments": ""}, {"arguments": '{"a":'}, {"arguments": "1}"}]
    whole = render_response(fold(EVENTS), legacy_functions=True)["choices"][1]
    assert whole == {
        "index": 1,
        "message": {
            "role": "assistant",
            "content": None,
            "function_call": {"name": "f", "arguments": '{"a":1}'},
        },
        "finish_reason": "function_call",
    }
