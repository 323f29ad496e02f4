"""Responses streams: golden transcripts byte for byte, the SDK's own event types accept every
event, the parser reads the transcripts back, and errors end a stream as ``response.failed``."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from openai.types.responses import ResponseStreamEvent
from pydantic import TypeAdapter

from kimi_gateway.core.errors import GatewayError
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
from kimi_gateway.core.fold import fold
from kimi_gateway.core.model import Response, TextPart, ThinkingPart, ToolCallPart
from kimi_gateway.core.sse import SSEDecoder, SSEEvent
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.openai_responses import StreamParser, StreamRenderer

from .stream_cases import CASES, START, USAGE

GOLDEN = Path(__file__).parent / "golden"
SDK_EVENT: TypeAdapter[ResponseStreamEvent] = TypeAdapter(ResponseStreamEvent)


def render(events: list[StreamEvent]) -> bytes:
    renderer = StreamRenderer()
    return b"".join(renderer.render(event) for event in events)


def parse(data: bytes) -> list[StreamEvent]:
    decoder = SSEDecoder()
    parser = StreamParser()
    out: list[StreamEvent] = []
    for event in [*decoder.decode(data), *decoder.flush()]:
        out.extend(parser.feed(event))
    return [*out, *parser.close()]


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_transcript(name: str) -> None:
    assert render(CASES[name]) == (GOLDEN / f"{name}.sse").read_bytes()


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_event_is_valid_for_the_openai_sdk(name: str) -> None:
    decoder = SSEDecoder()
    events = decoder.decode((GOLDEN / f"{name}.sse").read_bytes())
    numbers = []
    for event in events:
        payload = orjson.loads(event.data)
        assert event.event == payload["type"]
        SDK_EVENT.validate_python(payload)  # raises on a missing or mistyped field
        numbers.append(payload["sequence_number"])
    assert numbers == list(range(len(events)))


@pytest.mark.parametrize("name", sorted(CASES))
def test_parser_reads_the_golden_transcripts_back(name: str) -> None:
    assert parse((GOLDEN / f"{name}.sse").read_bytes()) == CASES[name]


def test_fold_of_the_reasoning_transcript() -> None:
    assert fold(parse((GOLDEN / "reasoning_text.sse").read_bytes())) == Response(
        id="resp_1",
        model="kimi-k2.5",
        parts=(ThinkingPart("Thinking."), TextPart("Hi")),
        stop_reason="end_turn",
        usage=USAGE,
        created=1700000000,
    )


def test_max_tokens_ends_with_response_incomplete() -> None:
    events: list[StreamEvent] = [
        START,
        PartStart(0, "text"),
        TextDelta(0, "a"),
        PartEnd(0),
        Finish("max_tokens"),
    ]
    last = render([*events, Done()]).split(b"\n\n")[-2]
    assert last.startswith(b"event: response.incomplete\n")
    payload = orjson.loads(last.split(b"data: ", 1)[1])
    assert payload["response"]["status"] == "incomplete"
    assert payload["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert parse(render([*events, Done()]))[-3:] == [
        Finish("max_tokens"),
        UsageReport(Usage()),
        Done(),
    ]


def test_stream_error_renders_response_failed_and_nothing_after() -> None:
    renderer = StreamRenderer()
    for before in (START, PartStart(0, "text"), TextDelta(0, "par")):
        renderer.render(before)
    error = GatewayError("rate_limit", "slow down", retry_after=2.0)
    data = renderer.render(StreamError(error))
    assert renderer.render(Done()) == b""
    notice, event = SSEDecoder().decode(data)
    assert notice.event == "error"
    assert orjson.loads(notice.data) == {
        "type": "error",
        "sequence_number": 5,
        "code": "rate_limit_exceeded",
        "message": "slow down",
        "param": None,
    }
    SDK_EVENT.validate_python(orjson.loads(notice.data))
    assert event.event == "response.failed"
    payload = orjson.loads(event.data)
    SDK_EVENT.validate_python(payload)
    assert payload["sequence_number"] == 6
    assert payload["response"]["status"] == "failed"
    assert payload["response"]["error"] == {"code": "rate_limit_exceeded", "message": "slow down"}
    assert payload["response"]["output"] == [
        {
            "id": "msg_1_0",
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "par", "annotations": []}],
        }
    ]


def test_parser_turns_failures_into_stream_errors() -> None:
    failed = StreamRenderer()
    failed.render(START)
    data = failed.render(StreamError(GatewayError("quota_exhausted", "no money")))
    (*events, last) = parse(render([START]) + data)
    assert events == [START]
    assert isinstance(last, StreamError)
    assert (last.error.kind, last.error.message) == ("quota_exhausted", "no money")
    bare = SSEEvent(
        orjson.dumps({"type": "error", "code": "server_error", "message": "x"}).decode()
    )
    (error,) = StreamParser().feed(bare)
    assert isinstance(error, StreamError)
    assert error.error.kind == "server"


def test_a_cut_stream_is_a_stream_error() -> None:
    data = render(CASES["text"]).split(b"event: response.completed")[0]
    events = parse(data)
    assert events[:-1] == CASES["text"][:5]
    assert isinstance(events[-1], StreamError)
    assert events[-1].error.status == 502


def test_parser_reads_upstream_shapes_the_renderer_does_not_write() -> None:
    """Several summary parts (joined by a blank line), arguments only in the finished item,
    a refusal delta, and events it must skip."""

    def ev(kind: str, **fields: object) -> SSEEvent:
        return SSEEvent(orjson.dumps({"type": kind, **fields}).decode(), kind)

    call = {"type": "function_call", "call_id": "c1", "name": "f", "arguments": ""}
    feed = [
        ev("response.created", response={"id": "resp_9", "model": "m", "created_at": 5}),
        ev("response.output_item.added", output_index=0, item={"type": "reasoning"}),
        ev("response.reasoning_summary_text.delta", output_index=0, summary_index=0, delta="a"),
        ev("response.reasoning_summary_text.delta", output_index=0, summary_index=1, delta="b"),
        ev("response.output_item.done", output_index=0, item={"type": "reasoning"}),
        ev("response.output_item.added", output_index=1, item={"type": "message"}),
        ev("response.refusal.delta", output_index=1, content_index=0, delta="no"),
        ev("response.output_text.annotation.added", output_index=1),
        ev("response.output_item.done", output_index=1, item={"type": "message"}),
        ev("response.output_item.added", output_index=2, item=call),
        ev("response.output_item.done", output_index=2, item={**call, "arguments": "{}"}),
        ev("response.completed", response={"status": "completed"}),
    ]
    parser = StreamParser()
    events = [out for sse in feed for out in parser.feed(sse)]
    assert events == [
        MessageStart("resp_9", "m", 5),
        PartStart(0, "thinking"),
        ThinkingDelta(0, "a"),
        ThinkingDelta(0, "\n\nb"),
        PartEnd(0),
        PartStart(1, "text"),
        TextDelta(1, "no"),
        PartEnd(1),
        PartStart(2, "tool_call", tool_call_id="c1", tool_name="f"),
        ToolArgumentsDelta(2, "{}"),
        PartEnd(2),
        Finish("tool_use"),
        Done(),
    ]
    assert fold(events).parts == (
        ThinkingPart("a\n\nb"),
        TextPart("no"),
        ToolCallPart("c1", "f", "{}"),
    )
