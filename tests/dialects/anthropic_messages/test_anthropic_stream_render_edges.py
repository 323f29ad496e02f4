"""The Anthropic StreamRenderer's edges (issue 9 "Tests that pin the edges"): events after
``Done``, a part started twice, a stream without ``MessageStart``; and the renderer on a stream
whose thinking parts the engine removed (engine/hidden_thinking.py): block indexes from 0,
contiguous. Claude Code falls back to non-streaming on any deviation (docs/kimi.md §F2.8)."""

from __future__ import annotations

from typing import Any

import orjson

from kimi_gateway.core.events import (
    Done,
    Finish,
    MessageStart,
    PartEnd,
    PartStart,
    SignatureDelta,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolArgumentsDelta,
    UsageReport,
)
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.anthropic_messages import StreamRenderer
from kimi_gateway.engine.hidden_thinking import ThinkingFilter


def frames(events: list[StreamEvent]) -> list[tuple[str, dict[str, Any]]]:
    """Each SSE frame the renderer writes, as (event name, data)."""
    renderer = StreamRenderer()
    raw = b"".join(renderer.render(event) for event in events).decode()
    out = []
    for frame in raw.split("\n\n"):
        if not frame:
            continue
        name, data = frame.split("\n")
        out.append((name.removeprefix("event: "), orjson.loads(data.removeprefix("data: "))))
    return out


def test_events_after_done_write_nothing() -> None:
    renderer = StreamRenderer()
    for event in (MessageStart("m1", "kimi-k2.6"), PartStart(0, "text"), TextDelta(0, "a")):
        renderer.render(event)
    assert renderer.render(Done()).endswith(b'data: {"type":"message_stop"}\n\n')
    late: list[StreamEvent] = [
        PartStart(1, "text"),
        TextDelta(0, "late"),
        PartEnd(0),
        Finish("end_turn"),
        UsageReport(Usage(output=5)),
        MessageStart("m2", "other"),
        Done(),
    ]
    assert [renderer.render(event) for event in late] == [b""] * len(late)


def test_a_repeated_part_start_opens_no_second_block() -> None:
    events: list[StreamEvent] = [
        MessageStart("m1", "kimi-k2.6"),
        PartStart(0, "text"),
        TextDelta(0, "one"),
        PartStart(0, "text"),
        TextDelta(0, " two"),
        PartEnd(0),
        Finish("end_turn"),
        Done(),
    ]
    written = frames(events)
    assert [name for name, _ in written] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert [data["delta"]["text"] for name, data in written if name == "content_block_delta"] == [
        "one",
        " two",
    ]


def test_a_stream_without_message_start_still_opens_with_one() -> None:
    events: list[StreamEvent] = [
        PartStart(0, "text"),
        TextDelta(0, "hi"),
        PartEnd(0),
        Finish("end_turn"),
        UsageReport(Usage(input_uncached=3, output=1)),
        Done(),
    ]
    written = frames(events)
    assert written[0] == (
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": "msg_",
                "type": "message",
                "role": "assistant",
                "model": "",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {
                    "input_tokens": 0,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                    "output_tokens": 0,
                },
            },
        },
    )
    assert [name for name, _ in written].count("message_start") == 1
    assert written[-2][1]["usage"]["input_tokens"] == 3


def test_hidden_thinking_leaves_contiguous_block_indexes() -> None:
    """Kimi's thinking at part 0 (signed), text at 1, a tool call at 2: with the thinking
    removed, the client sees blocks 0 and 1, nothing of the thinking."""
    events: list[StreamEvent] = [
        MessageStart("m1", "kimi-k2.6"),
        PartStart(0, "thinking"),
        ThinkingDelta(0, "secret"),
        SignatureDelta(0, "sig"),
        PartEnd(0),
        PartStart(1, "text"),
        TextDelta(1, "Hello"),
        PartEnd(1),
        PartStart(2, "tool_call", tool_call_id="t1", tool_name="get_weather"),
        ToolArgumentsDelta(2, "{}"),
        PartEnd(2),
        Finish("tool_use"),
        Done(),
    ]
    kept = ThinkingFilter().feed(events)
    written = frames(kept)
    starts = [data for name, data in written if name == "content_block_start"]
    assert [(s["index"], s["content_block"]["type"]) for s in starts] == [
        (0, "text"),
        (1, "tool_use"),
    ]
    assert {data["index"] for name, data in written if name.startswith("content_block")} == {0, 1}
    assert b"secret" not in orjson.dumps(written)
    assert b"sig" not in orjson.dumps(written)
