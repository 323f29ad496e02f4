"""One test per lesson of docs/kimi.md §F2 that this dialect carries."""

from __future__ import annotations

from kimi_gateway.core.events import PartStart, StreamEvent, ThinkingDelta, UsageReport
from kimi_gateway.core.model import (
    Message,
    OpenAIChatFields,
    Request,
    TextPart,
    ThinkingPart,
    ToolCallPart,
)
from kimi_gateway.core.sse import SSEDecoder
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.openai_chat import (
    StreamParser,
    parse_request,
    parse_response,
    render_request,
)

CALL = {
    "id": "functions.get_weather:0",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
}


def parse_stream(raw: bytes) -> list[StreamEvent]:
    decoder, parser = SSEDecoder(), StreamParser()
    return [e for sse in decoder.decode(raw) for e in parser.feed(sse)] + parser.close()


def test_lesson_2_1_reasoning_content_survives_on_every_tool_call_turn() -> None:
    history = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": None, "reasoning_content": "first", "tool_calls": [CALL]},
        {"role": "tool", "tool_call_id": CALL["id"], "content": "sunny"},
        {
            "role": "assistant",
            "content": "",
            "reasoning_content": "",
            "tool_calls": [{**CALL, "id": "functions.get_weather:1"}],
        },
        {"role": "tool", "tool_call_id": "functions.get_weather:1", "content": "rainy"},
    ]
    rendered = render_request(parse_request({"model": "kimi-k2.6", "messages": history}))
    assistants = [m for m in rendered["messages"] if m["role"] == "assistant"]
    assert [m["reasoning_content"] for m in assistants] == ["first", ""]
    # thinking that came from an Anthropic client (signed) goes out as reasoning_content too
    anthropic = Request(
        "kimi-k2.6",
        (
            Message(
                "assistant",
                (ThinkingPart("plan", signature="c2ln"), ToolCallPart("toolu_1", "f", "{}")),
            ),
        ),
    )
    assert render_request(anthropic)["messages"][0]["reasoning_content"] == "plan"


def test_lesson_2_4_stream_usage_in_the_finish_choice_with_cached_tokens() -> None:
    raw = (
        b'data: {"id":"c","model":"m","created":1,"choices":[{"index":0,"delta":{"content":"x"},'
        b'"finish_reason":null}]}\n\n'
        b'data: {"id":"c","model":"m","created":1,"choices":[{"index":0,"delta":{},'
        b'"finish_reason":"stop","usage":{"prompt_tokens":100,"completion_tokens":7,'
        b'"total_tokens":107,"cached_tokens":64}}]}\n\n'
        b"data: [DONE]\n\n"
    )
    reports = [e for e in parse_stream(raw) if isinstance(e, UsageReport)]
    assert reports == [UsageReport(Usage(input_uncached=36, input_cache_read=64, output=7))]


def test_lesson_2_5_tool_ids_pass_byte_exact_both_ways() -> None:
    ids = ["functions.get_weather:0", "get_weather:12", "t-web_search-691805032181", "call_AbC-1"]
    messages = [
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{**CALL, "id": call_id} for call_id in ids],
        },
        *({"role": "tool", "tool_call_id": call_id, "content": "ok"} for call_id in ids),
    ]
    rendered = render_request(parse_request({"model": "m", "messages": messages}))
    assert [c["id"] for c in rendered["messages"][1]["tool_calls"]] == ids
    assert [m["tool_call_id"] for m in rendered["messages"][2:]] == ids


def test_lesson_2_6_reasoning_becomes_thinking_in_stream_and_non_stream() -> None:
    reply = {
        "id": "c",
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hi", "reasoning_content": "greet"},
                "finish_reason": "stop",
            }
        ],
    }
    assert parse_response(reply).parts == (ThinkingPart("greet"), TextPart("Hi"))
    raw = (
        b'data: {"id":"c","model":"m","choices":[{"index":0,"delta":{"reasoning_content":"greet"},'
        b'"finish_reason":null}]}\n\ndata: [DONE]\n\n'
    )
    assert parse_stream(raw)[1:3] == [PartStart(0, "thinking"), ThinkingDelta(0, "greet")]


def test_lesson_2_7_unknown_fields_are_named_in_the_chat_fields_not_passed_blindly() -> None:
    request = parse_request(
        {
            "model": "m",
            "messages": [{"role": "user", "content": "x"}],
            "output_config": {"effort": "high"},
            "service_tier": "flex",
        }
    )
    assert request.openai_chat == OpenAIChatFields(
        passthrough={"output_config": {"effort": "high"}, "service_tier": "flex"}
    )
    without = Request(request.model, request.messages)
    assert "output_config" not in render_request(without)


def test_lesson_2_9_empty_tool_content_is_kept_empty_for_the_quirk_to_fill() -> None:
    messages = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": None, "tool_calls": [CALL]},
        {"role": "tool", "tool_call_id": CALL["id"], "content": ""},
    ]
    request = parse_request({"model": "m", "messages": messages})
    assert request.messages[2].parts[0].content == ()  # type: ignore[union-attr]
    assert render_request(request)["messages"][2] == {
        "role": "tool",
        "content": "",
        "tool_call_id": CALL["id"],
    }
