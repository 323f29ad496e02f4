"""StreamParser over Anthropic SSE, and the render → parse → fold round trip."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.events import (
    Done,
    Finish,
    MessageStart,
    PartEnd,
    PartStart,
    SignatureDelta,
    StreamError,
    StreamEvent,
    ThinkingDelta,
    ToolArgumentsDelta,
    UsageReport,
)
from kimi_gateway.core.fold import fold
from kimi_gateway.core.model import Response
from kimi_gateway.core.sse import SSEDecoder, SSEEvent
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.anthropic_messages import StreamParser, StreamRenderer

from .canonical_strategies import events_of, responses


def sse(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def parse_bytes(raw: bytes, *, split: int = 0) -> list[StreamEvent]:
    """Decode SSE bytes (optionally in pieces of ``split`` bytes) and parse to the end."""
    decoder, parser = SSEDecoder(), StreamParser()
    pieces = [raw[i : i + split] for i in range(0, len(raw), split)] if split else [raw]
    events: list[StreamEvent] = []
    for piece in pieces:
        for event in decoder.decode(piece):
            events += parser.feed(event)
    for event in decoder.flush():
        events += parser.feed(event)
    return events + parser.close()


def block_start(index: int, block: dict[str, Any]) -> bytes:
    return sse(
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": block},
    )


def block_delta(index: int, delta: dict[str, Any]) -> bytes:
    return sse(
        "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
    )


def block_stop(index: int) -> bytes:
    return sse("content_block_stop", {"type": "content_block_stop", "index": index})


MESSAGE_START = sse(
    "message_start",
    {
        "type": "message_start",
        "message": {
            "id": "msg_abc",
            "type": "message",
            "role": "assistant",
            "model": "kimi-for-coding",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": 40,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 60,
                "output_tokens": 1,
            },
        },
    },
)
MESSAGE_END = sse(
    "message_delta",
    {
        "type": "message_delta",
        "delta": {"stop_reason": "tool_use", "stop_sequence": None},
        "usage": {
            "input_tokens": 40,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 60,
            "output_tokens": 25,
            "output_tokens_details": {"thinking_tokens": 10},
        },
    },
) + sse("message_stop", {"type": "message_stop"})

KIMI_STREAM = (
    MESSAGE_START
    + sse("ping", {"type": "ping"})
    + block_start(0, {"type": "thinking", "thinking": "", "signature": ""})
    + block_delta(0, {"type": "thinking_delta", "thinking": "Plan: "})
    + block_delta(0, {"type": "thinking_delta", "thinking": "run ls."})
    + block_delta(0, {"type": "signature_delta", "signature": "c2lnbmVk"})
    + block_stop(0)
    + block_start(1, {"type": "tool_use", "id": "Bash_3", "name": "Bash", "input": {}})
    + block_delta(1, {"type": "input_json_delta", "partial_json": '{"command"'})
    + block_delta(1, {"type": "input_json_delta", "partial_json": ':"ls"}'})
    + block_stop(1)
    + MESSAGE_END
)


def test_a_kimi_code_stream_parses_to_canonical_events() -> None:
    assert parse_bytes(KIMI_STREAM) == [
        MessageStart("msg_abc", "kimi-for-coding"),
        UsageReport(Usage(input_uncached=40, input_cache_read=60, output=1)),
        PartStart(0, "thinking"),
        ThinkingDelta(0, "Plan: "),
        ThinkingDelta(0, "run ls."),
        SignatureDelta(0, "c2lnbmVk"),
        PartEnd(0),
        PartStart(1, "tool_call", tool_call_id="Bash_3", tool_name="Bash"),
        ToolArgumentsDelta(1, '{"command"'),
        ToolArgumentsDelta(1, ':"ls"}'),
        PartEnd(1),
        Finish("tool_use"),
        UsageReport(Usage(input_uncached=40, input_cache_read=60, output=25, reasoning=10)),
        Done(),
    ]


@given(st.integers(1, 64))
def test_any_chunking_of_the_bytes_gives_the_same_events(split: int) -> None:
    assert parse_bytes(KIMI_STREAM, split=split) == parse_bytes(KIMI_STREAM)


def test_crlf_framing_and_no_event_lines() -> None:
    raw = KIMI_STREAM.replace(b"\n", b"\r\n")
    bare = b"".join(
        line + b"\n" for line in KIMI_STREAM.split(b"\n") if not line.startswith(b"event:")
    )
    assert parse_bytes(raw) == parse_bytes(KIMI_STREAM) == parse_bytes(bare)


def test_lenient_block_starts() -> None:
    raw = (
        MESSAGE_START
        + block_start(0, {"type": "redacted_thinking", "data": "opaque"})
        + block_stop(0)
        + block_start(1, {"type": "text", "text": "pre"})
        + block_delta(1, {"type": "text_delta", "text": "fix"})
        + block_delta(1, {"type": "citations_delta", "citation": {}})
        + block_stop(1)
        + block_start(2, {"type": "tool_use", "id": "kx613a31", "name": "a", "input": {"x": 1}})
        + block_stop(2)
        + block_start(3, {"type": "tool_use", "id": "t2", "name": "b", "input": {"x": 1}})
        + block_delta(3, {"type": "input_json_delta", "partial_json": ""})
        + block_delta(3, {"type": "input_json_delta", "partial_json": '{"y":2}'})
        + block_stop(3)
        + MESSAGE_END
    )
    response = fold(parse_bytes(raw))
    assert [
        (type(p).__name__, getattr(p, "text", None) or getattr(p, "arguments", ""))
        for p in response.parts
    ] == [
        ("TextPart", "prefix"),
        ("ToolCallPart", '{"x":1}'),
        ("ToolCallPart", '{"y":2}'),
    ]
    assert [getattr(p, "id", None) for p in response.parts] == [None, "a:1", "t2"]


def test_an_error_event_becomes_a_stream_error() -> None:
    raw = MESSAGE_START + sse(
        "error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    )
    events = parse_bytes(raw)
    assert events[:2] == [
        MessageStart("msg_abc", "kimi-for-coding"),
        UsageReport(Usage(40, 60, 0, 1)),
    ]
    assert len(events) == 3
    assert isinstance(events[2], StreamError)
    assert (events[2].error.kind, events[2].error.message, events[2].error.upstream_type) == (
        "overloaded",
        "Overloaded",
        "overloaded_error",
    )


def _only_error(events: list[StreamEvent]) -> GatewayError:
    errors = [event for event in events if isinstance(event, StreamError)]
    assert len(errors) == 1
    assert events[-1] is errors[0]
    return errors[0].error


def test_a_stream_cut_before_message_stop_ends_with_an_error() -> None:
    raw = (
        MESSAGE_START
        + block_start(0, {"type": "text", "text": ""})
        + block_delta(0, {"type": "text_delta", "text": "Hi"})
    )
    error = _only_error(parse_bytes(raw))
    assert (error.kind, error.message) == (
        "server",
        "malformed upstream Anthropic stream: the stream ended before message_stop",
    )


def test_a_stream_with_message_delta_but_no_message_stop_is_cut_too() -> None:
    cut = KIMI_STREAM.removesuffix(sse("message_stop", {"type": "message_stop"}))
    assert _only_error(parse_bytes(cut)).kind == "server"


def test_malformed_streams() -> None:
    cases = {
        b"data: {not json\n\n": "event data is not JSON: '{not json'",
        block_start(0, {"type": "text", "text": ""}): "content_block_start before message_start",
        MESSAGE_START + block_delta(5, {"type": "text_delta", "text": "x"}): (
            "content_block_delta for block 5, which is not open"
        ),
        MESSAGE_START + block_start(0, {"type": "text", "text": 5}): (
            "content_block.text: expected a string, got int"
        ),
        MESSAGE_START + MESSAGE_START: "a second message_start",
    }
    for raw, detail in cases.items():
        error = _only_error(parse_bytes(raw))
        assert (error.kind, error.message) == (
            "server",
            "malformed upstream Anthropic stream: " + detail,
        )


def test_events_after_the_end_are_ignored() -> None:
    parser = StreamParser()
    for event in SSEDecoder().decode(KIMI_STREAM):
        parser.feed(event)
    assert parser.feed(SSEEvent('{"type":"message_start"}')) == []
    assert parser.close() == []


@given(responses(), st.lists(st.integers(0, 50), max_size=4))
def test_rendered_stream_parses_and_folds_back_to_the_response(
    response: Response, cuts: list[int]
) -> None:
    renderer = StreamRenderer()
    raw = b"".join(renderer.render(event) for event in events_of(response, cuts))
    assert fold(parse_bytes(raw)) == response
    assert fold(events_of(response, cuts)) == response  # the generator itself is sound


@given(responses())
def test_wire_indexes_are_contiguous_from_zero_and_blocks_never_interleave(
    response: Response,
) -> None:
    renderer = StreamRenderer()
    raw = b"".join(renderer.render(event) for event in events_of(response, [3]))
    names = []
    open_index = None
    for event in SSEDecoder().decode(raw):
        data = orjson.loads(event.data)
        assert data["type"] == event.event
        names.append(event.event)
        if event.event == "content_block_start":
            assert open_index is None
            assert data["index"] == names.count("content_block_start") - 1
            open_index = data["index"]
        elif event.event in ("content_block_delta", "content_block_stop"):
            assert data["index"] == open_index
            open_index = None if event.event == "content_block_stop" else open_index
    assert names[0] == "message_start"
    assert names[-2:] == ["message_delta", "message_stop"]
    assert (
        names.count("content_block_start")
        == names.count("content_block_stop")
        == len(response.parts)
    )
