"""StreamParser over Kimi's SSE (docs/kimi.md §7): whole event lists, written independently of
our renderer, plus arbitrary byte splits."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

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
from kimi_gateway.core.sse import SSEDecoder, SSEEvent
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.openai_chat import StreamParser

HEAD = {
    "id": "chatcmpl-X",
    "object": "chat.completion.chunk",
    "created": 1700,
    "model": "kimi-k2.6",
}
USAGE = {"prompt_tokens": 30, "completion_tokens": 9, "total_tokens": 39, "cached_tokens": 10}


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> bytes:
    choice: dict[str, Any] = {"index": 0, "delta": delta or {}, "finish_reason": finish}
    if "choice_usage" in extra:
        choice["usage"] = extra.pop("choice_usage")
    return b"data: " + orjson.dumps({**HEAD, "choices": [choice], **extra}) + b"\n\n"


def usage_chunk(usage: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps({**HEAD, "choices": [], "usage": usage}) + b"\n\n"


DONE = b"data: [DONE]\n\n"

# §7.2 + §7.3 + §7.4: thinking, text, two tool calls, choice usage, include_usage chunk.
KIMI_STREAM = b"".join(
    [
        chunk({"role": "assistant", "content": ""}, usage=None),
        chunk({"reasoning_content": "Two cities"}, usage=None),
        chunk({"reasoning_content": ", two calls."}, usage=None),
        chunk({"content": "Checking."}, "", usage=None),
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "get_weather:0",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": ""},
                    }
                ]
            },
            usage=None,
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]}, usage=None),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}, usage=None),
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 1,
                        "id": "get_weather:1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'},
                    }
                ]
            },
            usage=None,
        ),
        chunk({}, "tool_calls", choice_usage=USAGE, usage=None),
        usage_chunk(USAGE),
        DONE,
    ]
)
KIMI_EVENTS: list[StreamEvent] = [
    MessageStart("chatcmpl-X", "kimi-k2.6", 1700),
    PartStart(0, "thinking"),
    ThinkingDelta(0, "Two cities"),
    ThinkingDelta(0, ", two calls."),
    PartEnd(0),
    PartStart(1, "text"),
    TextDelta(1, "Checking."),
    PartEnd(1),
    PartStart(2, "tool_call", tool_call_id="get_weather:0", tool_name="get_weather"),
    ToolArgumentsDelta(2, '{"city":'),
    ToolArgumentsDelta(2, '"Paris"}'),
    PartEnd(2),
    PartStart(3, "tool_call", tool_call_id="get_weather:1", tool_name="get_weather"),
    ToolArgumentsDelta(3, '{"city":"Rome"}'),
    PartEnd(3),
    Finish("tool_use"),
    UsageReport(Usage(input_uncached=20, input_cache_read=10, output=9)),
    UsageReport(Usage(input_uncached=20, input_cache_read=10, output=9)),
    Done(),
]


def parse(raw: bytes, splits: list[bytes] | None = None) -> list[StreamEvent]:
    decoder = SSEDecoder()
    parser = StreamParser()
    events: list[StreamEvent] = []
    for piece in splits if splits is not None else [raw]:
        for sse in decoder.decode(piece):
            events.extend(parser.feed(sse))
    for sse in decoder.flush():
        events.extend(parser.feed(sse))
    return events + parser.close()


def errors(events: list[StreamEvent]) -> list[tuple[str, int, str]]:
    return [
        (e.error.kind, e.error.status, e.error.message)
        for e in events
        if isinstance(e, StreamError)
    ]


def test_kimi_stream_becomes_ordered_indexed_events() -> None:
    assert parse(KIMI_STREAM) == KIMI_EVENTS


@given(st.lists(st.integers(min_value=0, max_value=len(KIMI_STREAM)), max_size=20))
def test_any_byte_split_gives_the_same_events(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    pieces = [
        KIMI_STREAM[a:b] for a, b in zip([0, *points], [*points, len(KIMI_STREAM)], strict=True)
    ]
    assert parse(KIMI_STREAM, pieces) == KIMI_EVENTS


def test_usage_only_on_the_finish_choice_without_stream_options() -> None:
    """docs/kimi.md §F2.4: parsers that read only chunk.usage record 0 tokens."""
    raw = (
        chunk({"role": "assistant", "content": ""})
        + chunk({"content": "Hi"})
        + chunk(
            {},
            "stop",
            choice_usage={
                "prompt_tokens": 5,
                "completion_tokens": 1,
                "total_tokens": 6,
                "prompt_tokens_details": {"cached_tokens": 2},
                "completion_tokens_details": {"reasoning_tokens": 0},
            },
        )
        + DONE
    )
    assert parse(raw) == [
        MessageStart("chatcmpl-X", "kimi-k2.6", 1700),
        PartStart(0, "text"),
        TextDelta(0, "Hi"),
        PartEnd(0),
        Finish("end_turn"),
        UsageReport(Usage(input_uncached=3, input_cache_read=2, output=1)),
        Done(),
    ]


def test_content_with_finish_in_one_chunk_and_reasoning_key() -> None:
    raw = chunk({"role": "assistant", "reasoning": "r", "content": "done"}, "length") + DONE
    assert parse(raw) == [
        MessageStart("chatcmpl-X", "kimi-k2.6", 1700),
        PartStart(0, "thinking"),
        ThinkingDelta(0, "r"),
        PartEnd(0),
        PartStart(1, "text"),
        TextDelta(1, "done"),
        PartEnd(1),
        Finish("max_tokens"),
        Done(),
    ]


def test_builtin_tool_call_without_index_and_unknown_finish() -> None:
    raw = (
        chunk(
            {
                "tool_calls": [
                    {
                        "id": "t-web_search-1",
                        "type": "builtin_function",
                        "function": {"name": "$web_search", "arguments": "{}"},
                    }
                ]
            }
        )
        + chunk({}, "weird")
        + DONE
    )
    assert parse(raw) == [
        MessageStart("chatcmpl-X", "kimi-k2.6", 1700),
        PartStart(
            0,
            "tool_call",
            tool_call_id="t-web_search-1",
            tool_name="$web_search",
            tool_kind="builtin_function",
        ),
        ToolArgumentsDelta(0, "{}"),
        PartEnd(0),
        Finish(None),
        Done(),
    ]


def test_choices_interleave_tagged_and_chunks_after_finish_are_ignored() -> None:
    two = (
        b"data: "
        + orjson.dumps(
            {
                **HEAD,
                "choices": [
                    {"index": 1, "delta": {"content": "B"}, "finish_reason": None},
                    {"index": 0, "delta": {"content": "A"}, "finish_reason": None},
                ],
            }
        )
        + b"\n\n"
    )
    raw = two + chunk({}, "stop") + chunk({"content": "late"}) + DONE + chunk({"content": "after"})
    assert parse(raw) == [
        MessageStart("chatcmpl-X", "kimi-k2.6", 1700),
        PartStart(0, "text", choice=1),
        TextDelta(0, "B"),
        PartStart(1, "text"),
        TextDelta(1, "A"),
        PartEnd(1),
        Finish("end_turn"),
        PartEnd(0),
        Done(),
    ]


def test_a_cut_stream_is_a_stream_error_but_a_finished_one_without_done_is_not() -> None:
    cut = chunk({"role": "assistant", "content": ""}) + chunk({"content": "Hel"})
    assert errors(parse(cut)) == [
        ("server", 502, "The upstream stream ended before the reply was complete")
    ]
    finished = cut + chunk({}, "stop")
    assert parse(finished)[-3:] == [PartEnd(0), Finish("end_turn"), Done()]
    assert errors(parse(b"")) == [
        ("server", 502, "The upstream stream ended before the reply was complete")
    ]
    assert errors(parse(DONE)) == [("server", 502, "The upstream stream ended without any chunk")]


def test_error_chunk_mid_stream() -> None:
    raw = (
        chunk({"content": "Hel"})
        + (
            b'data: {"error":{"type":"content_filter","message":"The request was rejected '
            b'because it was considered high risk"}}\n\n'
        )
        + DONE
    )
    events = parse(raw)
    assert events[:3] == [
        MessageStart("chatcmpl-X", "kimi-k2.6", 1700),
        PartStart(0, "text"),
        TextDelta(0, "Hel"),
    ]
    assert len(events) == 4
    error = events[3]
    assert isinstance(error, StreamError)
    assert (
        error.error.kind,
        error.error.status,
        error.error.upstream_type,
        error.error.message,
    ) == (
        "content_filter",
        400,
        "content_filter",
        "The request was rejected because it was considered high risk",
    )


def test_event_error_lines_and_malformed_chunks() -> None:
    parser = StreamParser()
    [error] = parser.feed(SSEEvent('{"message":"overloaded"}', "error"))
    assert isinstance(error, StreamError)
    assert (error.error.kind, error.error.status, error.error.message) == (
        "overloaded",
        429,
        "overloaded",
    )
    assert parser.feed(SSEEvent("[DONE]")) == []
    assert errors(parse(b"data: {not json\n\n")) == [
        ("server", 502, "The upstream sent a chunk that is not JSON: {not json")
    ]
    assert errors(parse(b"data: [1]\n\n")) == [
        ("server", 502, "The upstream sent a chunk that is not a JSON object")
    ]
    bad = errors(parse(chunk({"content": 5})))
    assert bad == [
        (
            "server",
            502,
            "The upstream sent a malformed reply: Invalid type for "
            "'choices[0].delta.content': expected a string, but got number.",
        )
    ]


def test_interleaved_tool_arguments_are_refused_not_misassigned() -> None:
    raw = chunk(
        {"tool_calls": [{"index": 0, "id": "a", "function": {"name": "a", "arguments": "{"}}]}
    )
    raw += chunk(
        {"tool_calls": [{"index": 1, "id": "b", "function": {"name": "b", "arguments": "{"}}]}
    )
    raw += chunk({"tool_calls": [{"index": 0, "function": {"arguments": "}"}}]})
    assert errors(parse(raw))[0][:2] == ("server", 502)


def test_keepalive_comments_and_empty_data_are_ignored() -> None:
    raw = b": keep-alive\n\n" + b"data: \n\n" + chunk({"content": "x"}, "stop") + DONE
    assert parse(raw)[-2:] == [Finish("end_turn"), Done()]
