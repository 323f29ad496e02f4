"""One test per lesson of docs/kimi.md §F2 that the Anthropic dialect carries (issue 3)."""

from __future__ import annotations

import re

import orjson

from kimi_gateway.core.events import (
    Done,
    Finish,
    MessageStart,
    PartEnd,
    PartStart,
    SignatureDelta,
    StreamEvent,
    ThinkingDelta,
    UsageReport,
)
from kimi_gateway.core.model import Diagnostic, Response, TextPart, ThinkingPart, ToolCallPart
from kimi_gateway.core.sse import SSEDecoder
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.anthropic_messages import (
    StreamRenderer,
    parse_request,
    parse_response,
    render_request,
    render_response,
)


def _events(raw: bytes) -> list[tuple[str | None, dict[str, object]]]:
    return [(event.event, orjson.loads(event.data)) for event in SSEDecoder().decode(raw)]


def test_lesson_2_4_anthropic_input_tokens_exclude_the_cache() -> None:
    body = {
        "id": "msg_1",
        "model": "m",
        "content": [],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 10, "cache_read_input_tokens": 990, "output_tokens": 5},
    }
    usage = parse_response(body).usage
    assert (usage, usage.input_total) == (
        Usage(input_uncached=10, input_cache_read=990, output=5),
        1000,
    )
    assert render_response(parse_response(body))["usage"] == {
        "input_tokens": 10,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 990,
        "output_tokens": 5,
    }


def test_lesson_2_5_kimi_tool_ids_reach_clients_valid_and_come_back_unchanged() -> None:
    response = Response(
        "msg_1", "m", (ToolCallPart("functions.Bash:0", "Bash", "{}"),), "tool_use", Usage()
    )
    sent = render_response(response)["content"][0]["id"]
    assert re.fullmatch(r"[a-zA-Z0-9_-]+", sent)
    replay = {
        "model": "m",
        "max_tokens": 1,
        "messages": [
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": sent, "name": "Bash", "input": {}}],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": sent, "content": "ok"}],
            },
        ],
    }
    request = parse_request(replay)
    assert request.messages[0].parts[0] == ToolCallPart("functions.Bash:0", "Bash", "{}")
    assert request.messages[1].parts[0].tool_call_id == "functions.Bash:0"  # type: ignore[union-attr]


def test_lesson_2_6_reasoning_becomes_thinking_blocks_and_signatures_are_never_faked() -> None:
    response = Response(
        "msg_1",
        "m",
        (ThinkingPart("why", signature="c2ln"), ThinkingPart("unsigned"), TextPart("answer")),
        "end_turn",
        Usage(),
    )
    assert render_response(response)["content"][:2] == [
        {"type": "thinking", "thinking": "why", "signature": "c2ln"},
        {"type": "thinking", "thinking": "unsigned", "signature": ""},
    ]
    events: list[StreamEvent] = [
        MessageStart("msg_1", "m"),
        PartStart(0, "thinking"),
        ThinkingDelta(0, "why"),
        SignatureDelta(0, "c2ln"),
        PartEnd(0),
        PartStart(1, "thinking"),
        ThinkingDelta(1, "unsigned"),
        PartEnd(1),
        Finish("end_turn"),
        Done(),
    ]
    renderer = StreamRenderer()
    deltas = [
        data["delta"]
        for name, data in _events(b"".join(renderer.render(e) for e in events))
        if name == "content_block_delta"
    ]
    assert deltas == [
        {"type": "thinking_delta", "thinking": "why"},
        {"type": "signature_delta", "signature": "c2ln"},
        {"type": "thinking_delta", "thinking": "unsigned"},
    ]


def test_lesson_2_7_unknown_fields_are_reported_and_never_forwarded() -> None:
    body = {"model": "m", "max_tokens": 1, "messages": [], "frequency_penalty": 1, "top_k": 5}
    request = parse_request(body)
    assert request.diagnostics == (
        Diagnostic(
            "unknown_field",
            "frequency_penalty is not an Anthropic Messages field known here; not forwarded",
        ),
    )
    assert render_request(request) == {"model": "m", "max_tokens": 1, "messages": [], "top_k": 5}


def test_lesson_2_8_the_block_sequence_is_exactly_anthropics() -> None:
    events: list[StreamEvent] = [
        MessageStart("msg_1", "m"),
        UsageReport(Usage(input_uncached=3)),
        PartStart(0, "text"),
        PartStart(1, "tool_call", tool_call_id="a:0", tool_name="a"),
        PartEnd(1),
        PartEnd(0),
        Finish("tool_use"),
        Done(),
    ]
    renderer = StreamRenderer()
    seen = [
        (name, data.get("index"))
        for name, data in _events(b"".join(renderer.render(e) for e in events))
    ]
    assert seen == [
        ("message_start", None),
        ("content_block_start", 0),
        ("content_block_stop", 0),
        ("content_block_start", 1),
        ("content_block_stop", 1),
        ("message_delta", None),
        ("message_stop", None),
    ]


def test_lesson_2_11_tool_reference_blocks_are_flattened_to_text() -> None:
    block = {"type": "tool_reference", "tool_name": "Read"}
    body = {
        "model": "m",
        "max_tokens": 1,
        "messages": [
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t", "content": [block]}],
            }
        ],
    }
    request = parse_request(body)
    assert render_request(request)["messages"][0]["content"] == [
        {
            "type": "tool_result",
            "tool_use_id": "t",
            "content": '{"type":"tool_reference","tool_name":"Read"}',
            "is_error": False,
        }
    ]
    assert [d.code for d in request.diagnostics] == ["flattened_block"]
