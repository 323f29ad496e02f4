"""Responses ``response`` objects both ways, as whole values; usage includes cached tokens."""

from __future__ import annotations

from typing import Any

import pytest
from openai.types.responses import Response as SDKResponse

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.model import (
    Diagnostic,
    OpaquePart,
    Response,
    TextPart,
    ThinkingPart,
    ToolCallPart,
)
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.openai_responses import parse_response, render_response

USAGE = Usage(input_uncached=90, input_cache_read=10, input_cache_write=0, output=30, reasoning=12)
WIRE_USAGE = {
    "input_tokens": 100,
    "input_tokens_details": {"cached_tokens": 10, "cache_write_tokens": 0},
    "output_tokens": 30,
    "output_tokens_details": {"reasoning_tokens": 12},
    "total_tokens": 130,
}
RESPONSE = Response(
    id="resp_abc",
    model="kimi-k2.5",
    parts=(
        ThinkingPart("Let me look."),
        TextPart("Listing."),
        ToolCallPart("call_1", "exec_command", '{"cmd":"ls"}'),
    ),
    stop_reason="tool_use",
    usage=USAGE,
    created=1700000000,
)
WIRE: dict[str, Any] = {
    "id": "resp_abc",
    "object": "response",
    "created_at": 1700000000,
    "status": "completed",
    "error": None,
    "incomplete_details": None,
    "model": "kimi-k2.5",
    "output": [
        {
            "type": "reasoning",
            "id": "rs_abc_0",
            "summary": [{"type": "summary_text", "text": "Let me look."}],
        },
        {
            "id": "msg_abc_1",
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Listing.", "annotations": []}],
        },
        {
            "type": "function_call",
            "id": "fc_abc_2",
            "call_id": "call_1",
            "name": "exec_command",
            "arguments": '{"cmd":"ls"}',
            "status": "completed",
        },
    ],
    "parallel_tool_calls": True,
    "tool_choice": "auto",
    "tools": [],
    "usage": WIRE_USAGE,
}


def test_render_response_whole_value() -> None:
    assert render_response(RESPONSE) == WIRE
    SDKResponse.model_validate(WIRE)  # the official SDK's type accepts it


def test_parse_response_whole_value() -> None:
    assert parse_response(WIRE) == RESPONSE


def test_a_chat_completions_id_gets_the_resp_prefix() -> None:
    rendered = render_response(Response("chatcmpl-1", "m", (TextPart("hi"),), "end_turn", Usage()))
    assert rendered["id"] == "resp_chatcmpl-1"
    assert rendered["output"][0]["id"] == "msg_chatcmpl-1_0"


@pytest.mark.parametrize(
    ("stop", "status", "details"),
    [
        ("end_turn", "completed", None),
        ("max_tokens", "incomplete", {"reason": "max_output_tokens"}),
        ("content_filter", "incomplete", {"reason": "content_filter"}),
    ],
)
def test_status_both_ways(stop: Any, status: str, details: Any) -> None:
    response = Response("resp_1", "m", (TextPart("x"),), stop, Usage(), created=1)
    rendered = render_response(response)
    assert (rendered["status"], rendered["incomplete_details"]) == (status, details)
    assert parse_response(rendered) == response


def test_usage_input_tokens_include_cache_reads_and_writes() -> None:
    usage = Usage(input_uncached=5, input_cache_read=3, input_cache_write=2, output=1)
    rendered = render_response(Response("resp_1", "m", (), "end_turn", usage, created=0))
    assert rendered["usage"] == {
        "input_tokens": 10,
        "input_tokens_details": {"cached_tokens": 3, "cache_write_tokens": 2},
        "output_tokens": 1,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 11,
    }
    assert parse_response(rendered).usage == usage


def test_parse_reads_what_the_renderer_does_not_write() -> None:
    body = {
        "id": "resp_2",
        "model": "m",
        "status": "completed",
        "output": [
            {
                "type": "reasoning",
                "summary": [
                    {"type": "summary_text", "text": "a"},
                    {"type": "summary_text", "text": "b"},
                ],
                "encrypted_content": "enc",
            },
            {"type": "message", "content": [{"type": "refusal", "refusal": "No."}]},
            {"type": "web_search_call", "id": "ws_1", "status": "completed"},
        ],
        "usage": {"input_tokens": "bad"},
    }
    assert parse_response(body) == Response(
        id="resp_2",
        model="m",
        parts=(
            ThinkingPart("a\n\nb", provider_data={"encrypted_content": "enc"}),
            TextPart("No."),
            OpaquePart(
                "responses_item", {"type": "web_search_call", "id": "ws_1", "status": "completed"}
            ),
        ),
        stop_reason="end_turn",
        usage=Usage(),
        diagnostics=(
            Diagnostic("opaque_item", "output[2]: 'web_search_call' output items pass on as-is"),
        ),
    )


def test_failed_and_malformed_replies_raise_gateway_errors() -> None:
    failed = {"status": "failed", "error": {"code": "rate_limit_exceeded", "message": "slow"}}
    with pytest.raises(GatewayError) as info:
        parse_response(failed)
    assert (info.value.kind, info.value.message) == ("rate_limit", "slow")
    with pytest.raises(GatewayError) as info:
        parse_response({"output": [{"type": "function_call", "name": 3}]})
    assert (info.value.kind, info.value.status) == ("server", 502)
    assert "output[0].call_id" in info.value.message
