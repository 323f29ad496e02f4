"""parse_response / render_response: Kimi's chat.completion body (docs/kimi.md §6)."""

from __future__ import annotations

from typing import Any

import pytest

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.model import (
    Choice,
    Diagnostic,
    Response,
    TextPart,
    ThinkingPart,
    ToolCallPart,
)
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.openai_chat import parse_response, render_response

KIMI_TOOL_REPLY = {
    "id": "chatcmpl-67c96964971a7a505b6ff17a",
    "object": "chat.completion",
    "created": 1741252964,
    "model": "kimi-k2.6",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "reasoning_content": "Need the weather.",
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "get_weather:0",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    },
                    {
                        "id": "get_weather:1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'},
                    },
                ],
            },
            "finish_reason": "tool_calls",
        }
    ],
    "usage": {
        "prompt_tokens": 120,
        "completion_tokens": 30,
        "total_tokens": 150,
        "cached_tokens": 100,
        "prompt_tokens_details": {"cached_tokens": 100},
        "completion_tokens_details": {"reasoning_tokens": 12},
    },
    "system_fingerprint": "fpv0_ca1d2527",
}
TOOL_RESPONSE = Response(
    id="chatcmpl-67c96964971a7a505b6ff17a",
    model="kimi-k2.6",
    parts=(
        ThinkingPart("Need the weather."),
        ToolCallPart("get_weather:0", "get_weather", '{"city": "Paris"}'),
        ToolCallPart("get_weather:1", "get_weather", '{"city":"Rome"}'),
    ),
    stop_reason="tool_use",
    usage=Usage(input_uncached=20, input_cache_read=100, output=30, reasoning=12),
    created=1741252964,
)


def test_parses_a_kimi_tool_call_reply() -> None:
    assert parse_response(KIMI_TOOL_REPLY) == TOOL_RESPONSE


def test_renders_like_kimi() -> None:
    expected = {k: v for k, v in KIMI_TOOL_REPLY.items() if k != "system_fingerprint"}
    calls = expected["choices"][0]["message"]["tool_calls"]  # type: ignore[index]
    calls[1] = {"index": 1, **calls[1]}
    assert render_response(TOOL_RESPONSE) == expected


def test_text_reply_round_trips() -> None:
    response = Response(
        "chatcmpl-1",
        "kimi-k2.5",
        (TextPart("Hello"),),
        "end_turn",
        Usage(input_uncached=5, output=2),
        created=7,
    )
    body = render_response(response)
    assert body == {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 7,
        "model": "kimi-k2.5",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello"},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 5,
            "completion_tokens": 2,
            "total_tokens": 7,
            "cached_tokens": 0,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0},
        },
    }
    assert parse_response(body) == response


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        ({"prompt_tokens": 10, "completion_tokens": 3, "cached_tokens": 4}, Usage(6, 4, 0, 3)),
        (
            {
                "prompt_tokens": 10,
                "completion_tokens": 3,
                "prompt_tokens_details": {"cached_tokens": 6},
            },
            Usage(4, 6, 0, 3),
        ),
        (
            {"prompt_tokens": 10, "completion_tokens": 3, "prompt_tokens_details": None},
            Usage(10, 0, 0, 3),
        ),
        ({"prompt_tokens": 2, "cached_tokens": 9}, Usage(0, 2, 0, 0)),
        ({"prompt_tokens": "many", "completion_tokens": -1, "cached_tokens": True}, Usage()),
    ],
)
def test_usage_is_cache_inclusive_and_read_leniently(
    usage: dict[str, Any], expected: Usage
) -> None:
    body = {"id": "x", "model": "m", "choices": [], "usage": usage}
    assert parse_response(body).usage == expected


def test_choice_level_usage_is_a_fallback() -> None:
    body = {
        "id": "x",
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"content": "hi"},
                "finish_reason": "stop",
                "usage": {"prompt_tokens": 3, "completion_tokens": 1},
            }
        ],
    }
    assert parse_response(body).usage == Usage(input_uncached=3, output=1)


@pytest.mark.parametrize(
    ("finish", "stop", "diagnostics"),
    [
        ("stop", "end_turn", ()),
        ("length", "max_tokens", ()),
        ("tool_calls", "tool_use", ()),
        ("function_call", "tool_use", ()),
        ("content_filter", "content_filter", ()),
        ("", None, ()),
        (None, None, ()),
        ("eos", None, (Diagnostic("unknown_finish_reason", "finish_reason 'eos'"),)),
    ],
)
def test_finish_reasons(
    finish: str | None, stop: str | None, diagnostics: tuple[Diagnostic, ...]
) -> None:
    body = {
        "id": "x",
        "model": "m",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": finish}
        ],
    }
    parsed = parse_response(body)
    assert (parsed.stop_reason, parsed.diagnostics) == (stop, diagnostics)


def test_empty_content_reasoning_key_refusal_and_extra_choices() -> None:
    body = {
        "id": "x",
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "",
                    "reasoning": "hm",
                    "refusal": "I can't help with that.",
                },
                "finish_reason": "stop",
            },
            {
                "index": 1,
                "message": {"role": "assistant", "content": "other"},
                "finish_reason": "stop",
            },
        ],
    }
    assert parse_response(body) == Response(
        "x",
        "m",
        (ThinkingPart("hm"), TextPart("I can't help with that.")),
        "refusal",
        Usage(),
        more_choices=(Choice((TextPart("other"),), "end_turn"),),
    )


def test_renders_reasoning_details_and_maps_stop_reasons_back() -> None:
    details = [{"type": "summary", "summary": "s"}]
    response = Response(
        "x",
        "m",
        (
            ThinkingPart("s", provider_data={"reasoning_details": details}),
            TextPart("a"),
            TextPart("b"),
        ),
        "max_tokens",
        Usage(),
    )
    message = render_response(response)["choices"][0]
    assert message == {
        "index": 0,
        "message": {
            "role": "assistant",
            "content": "ab",
            "reasoning_content": "s",
            "reasoning_details": details,
        },
        "finish_reason": "length",
    }
    for stop, finish in [("stop_sequence", "stop"), ("refusal", "content_filter"), (None, None)]:
        rendered = render_response(Response("x", "m", (), stop, Usage()))  # type: ignore[arg-type]
        assert rendered["choices"][0]["finish_reason"] == finish
        assert rendered["choices"][0]["message"] == {"role": "assistant", "content": ""}


def test_an_error_body_with_a_2xx_status_raises_its_error() -> None:
    with pytest.raises(GatewayError) as caught:
        parse_response({"error": {"type": "engine_overloaded_error", "message": "busy"}})
    assert (caught.value.kind, caught.value.upstream_type) == (
        "overloaded",
        "engine_overloaded_error",
    )


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"choices": {}},
        {"choices": ["x"]},
        {"choices": [{"message": {"content": 5}}]},
        {"choices": [{"message": {"tool_calls": [{"id": 1}]}}]},
        {"id": 3, "choices": []},
    ],
)
def test_malformed_replies_are_upstream_errors(body: Any) -> None:
    with pytest.raises(GatewayError) as caught:
        parse_response(body)
    assert (caught.value.kind, caught.value.status) == ("server", 502)
    assert caught.value.message.startswith("The upstream sent a malformed reply: ")
