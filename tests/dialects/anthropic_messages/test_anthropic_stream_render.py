"""StreamRenderer: golden Anthropic SSE transcripts, byte for byte (docs/kimi.md §F1, §F2.8)."""

from __future__ import annotations

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
    TextDelta,
    ThinkingDelta,
    ToolArgumentsDelta,
    UsageReport,
)
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.anthropic_messages import StreamRenderer


def render(events: list[StreamEvent]) -> str:
    renderer = StreamRenderer()
    return b"".join(renderer.render(event) for event in events).decode()


def test_text_stream() -> None:
    events: list[StreamEvent] = [
        MessageStart("msg_01", "kimi-k2.5"),
        UsageReport(Usage(input_uncached=12, input_cache_read=4)),
        PartStart(0, "text"),
        TextDelta(0, "Hel"),
        TextDelta(0, ""),
        TextDelta(0, "lo"),
        PartEnd(0),
        Finish("end_turn"),
        UsageReport(Usage(output=3)),
        Done(),
    ]
    assert render(events) == (
        "event: message_start\n"
        'data: {"type":"message_start","message":{"id":"msg_01","type":"message",'
        '"role":"assistant",'
        '"model":"kimi-k2.5","content":[],"stop_reason":null,"stop_sequence":null,"usage":'
        '{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":4,'
        '"output_tokens":0}}}\n\n'
        "event: content_block_start\n"
        'data: {"type":"content_block_start","index":0,"content_block":{"type":"text",'
        '"text":""}}\n\n'
        "event: content_block_delta\n"
        'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta",'
        '"text":"Hel"}}\n\n'
        "event: content_block_delta\n"
        'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta",'
        '"text":"lo"}}\n\n'
        "event: content_block_stop\n"
        'data: {"type":"content_block_stop","index":0}\n\n'
        "event: message_delta\n"
        'data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},'
        '"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":4,'
        '"output_tokens":3}}\n\n'
        "event: message_stop\n"
        'data: {"type":"message_stop"}\n\n'
    )


MESSAGE_START_ZERO = (
    "event: message_start\n"
    'data: {"type":"message_start","message":{"id":"msg_chatcmpl-9","type":"message",'
    '"role":"assistant","model":"kimi-k2.6","content":[],"stop_reason":null,"stop_sequence":null,'
    '"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,'
    '"output_tokens":0}}}\n\n'
)


def _end(stop_reason: str, usage: str) -> str:
    return (
        "event: message_delta\n"
        f'data: {{"type":"message_delta","delta":{{"stop_reason":"{stop_reason}",'
        f'"stop_sequence":null}},"usage":{usage}}}\n\n'
        "event: message_stop\n"
        'data: {"type":"message_stop"}\n\n'
    )


def test_thinking_with_a_signature_sends_one_signature_delta_before_the_stop() -> None:
    # An OpenAI-dialect upstream: no usage until the end, so message_start carries zeros.
    events: list[StreamEvent] = [
        MessageStart("chatcmpl-9", "kimi-k2.6"),
        PartStart(0, "thinking"),
        ThinkingDelta(0, "Let me"),
        SignatureDelta(0, "c2ln"),
        ThinkingDelta(0, " think."),
        SignatureDelta(0, "bmVk"),
        PartEnd(0),
        PartStart(1, "text"),
        TextDelta(1, "Done."),
        PartEnd(1),
        Finish("end_turn"),
        UsageReport(Usage(input_uncached=20, output=9, reasoning=5)),
        Done(),
    ]
    assert render(events) == (
        MESSAGE_START_ZERO + "event: content_block_start\n"
        'data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking",'
        '"thinking":"","signature":""}}\n\n'
        "event: content_block_delta\n"
        'data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta",'
        '"thinking":"Let me"}}\n\n'
        "event: content_block_delta\n"
        'data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta",'
        '"thinking":" think."}}\n\n'
        "event: content_block_delta\n"
        'data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta",'
        '"signature":"c2lnbmVk"}}\n\n'
        "event: content_block_stop\n"
        'data: {"type":"content_block_stop","index":0}\n\n'
        "event: content_block_start\n"
        'data: {"type":"content_block_start","index":1,"content_block":{"type":"text",'
        '"text":""}}\n\n'
        "event: content_block_delta\n"
        'data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta",'
        '"text":"Done."}}\n\n'
        "event: content_block_stop\n"
        'data: {"type":"content_block_stop","index":1}\n\n'
        + _end(
            "end_turn",
            '{"input_tokens":20,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,'
            '"output_tokens":9,"output_tokens_details":{"thinking_tokens":5}}',
        )
    )


def test_thinking_without_a_signature_sends_no_signature_delta() -> None:
    events: list[StreamEvent] = [
        MessageStart("chatcmpl-9", "kimi-k2.6"),
        PartStart(0, "thinking"),
        ThinkingDelta(0, "hmm"),
        PartEnd(0),
        Finish("max_tokens"),
        Done(),
    ]
    assert render(events) == (
        MESSAGE_START_ZERO + "event: content_block_start\n"
        'data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking",'
        '"thinking":"","signature":""}}\n\n'
        "event: content_block_delta\n"
        'data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta",'
        '"thinking":"hmm"}}\n\n'
        "event: content_block_stop\n"
        'data: {"type":"content_block_stop","index":0}\n\n'
        + _end(
            "max_tokens",
            '{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,'
            '"output_tokens":0}',
        )
    )


def test_parallel_tool_calls_are_serialised_with_contiguous_indexes() -> None:
    # OpenAI upstreams may open the second call before the first one's arguments are done,
    # and number parts from wherever they like; the wire must still be one block at a time.
    events: list[StreamEvent] = [
        MessageStart("chatcmpl-9", "kimi-k2.6"),
        PartStart(3, "tool_call", tool_call_id="Bash:0", tool_name="Bash"),
        ToolArgumentsDelta(3, '{"command":'),
        PartStart(4, "tool_call", tool_call_id="Read:1", tool_name="Read"),
        ToolArgumentsDelta(4, '{"path":"a"}'),
        ToolArgumentsDelta(3, '"ls"}'),
        PartEnd(4),
        PartEnd(3),
        Finish("tool_use"),
        UsageReport(Usage(input_uncached=30, input_cache_read=70, output=12)),
        Done(),
    ]
    assert render(events) == (
        MESSAGE_START_ZERO + "event: content_block_start\n"
        'data: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use",'
        '"id":"kx426173683a30","name":"Bash","input":{}}}\n\n'
        "event: content_block_delta\n"
        'data: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta",'
        '"partial_json":"{\\"command\\":"}}\n\n'
        "event: content_block_delta\n"
        'data: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta",'
        '"partial_json":"\\"ls\\"}"}}\n\n'
        "event: content_block_stop\n"
        'data: {"type":"content_block_stop","index":0}\n\n'
        "event: content_block_start\n"
        'data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use",'
        '"id":"kx526561643a31","name":"Read","input":{}}}\n\n'
        "event: content_block_delta\n"
        'data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta",'
        '"partial_json":"{\\"path\\":\\"a\\"}"}}\n\n'
        "event: content_block_stop\n"
        'data: {"type":"content_block_stop","index":1}\n\n'
        + _end(
            "tool_use",
            '{"input_tokens":30,"cache_creation_input_tokens":0,"cache_read_input_tokens":70,'
            '"output_tokens":12}',
        )
    )


def test_an_error_mid_stream_ends_with_an_error_event() -> None:
    renderer = StreamRenderer()
    events: list[StreamEvent] = [
        MessageStart("msg_02", "kimi-k2.5"),
        PartStart(0, "text"),
        TextDelta(0, "Hi"),
        StreamError(GatewayError("overloaded", "The engine is currently overloaded")),
        TextDelta(0, "late"),
        Done(),
    ]
    chunks = [renderer.render(event) for event in events]
    assert chunks[-2:] == [b"", b""]
    assert chunks[3] == (
        b"event: error\n"
        b'data: {"type":"error","error":{"type":"overloaded_error",'
        b'"message":"The engine is currently overloaded"}}\n\n'
    )
    assert chunks[0] == b""  # message_start waits one event for input usage


def test_done_closes_blocks_left_open() -> None:
    events: list[StreamEvent] = [
        MessageStart("msg_03", "m"),
        PartStart(0, "text"),
        TextDelta(0, "a"),
        Done(),
    ]
    assert render(events).count("event: content_block_stop\n") == 1
    assert render(events).endswith(_end_null())


def _end_null() -> str:
    return (
        "event: message_delta\n"
        'data: {"type":"message_delta","delta":{"stop_reason":null,"stop_sequence":null},'
        '"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,'
        '"output_tokens":0}}\n\n'
        "event: message_stop\n"
        'data: {"type":"message_stop"}\n\n'
    )


def test_an_error_before_anything_else_is_the_only_event() -> None:
    error = GatewayError("quota_exhausted", "You exceeded your current token quota: 0")
    assert render([MessageStart("msg_04", "m"), StreamError(error)]) == (
        "event: error\n"
        'data: {"type":"error","error":{"type":"billing_error",'
        '"message":"You exceeded your current token quota: 0"}}\n\n'
    )
