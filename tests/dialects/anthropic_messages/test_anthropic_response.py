"""Anthropic ``message`` replies: parse_response / render_response."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

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
from kimi_gateway.dialects.anthropic_messages import parse_response, render_response
from kimi_gateway.dialects.anthropic_messages.response import render_diagnostics

from .canonical_strategies import responses

KIMI_REPLY: dict[str, Any] = {
    "id": "msg_0a1b2c",
    "type": "message",
    "role": "assistant",
    "model": "kimi-for-coding",
    "content": [
        {"type": "thinking", "thinking": "plan", "signature": "c2lnbmVk"},
        {"type": "text", "text": "Running it."},
        {"type": "tool_use", "id": "Bash_3", "name": "Bash", "input": {"command": "ls"}},
        {"type": "server_tool_use", "id": "s1", "name": "web_search", "input": {}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 100,
        "cache_creation_input_tokens": None,
        "cache_read_input_tokens": 1900,
        "output_tokens": 50,
        "output_tokens_details": {"thinking_tokens": 20},
    },
}


def test_parse_a_kimi_reply() -> None:
    assert parse_response(KIMI_REPLY) == Response(
        id="msg_0a1b2c",
        model="kimi-for-coding",
        parts=(
            ThinkingPart("plan", signature="c2lnbmVk"),
            TextPart("Running it."),
            ToolCallPart("Bash_3", "Bash", '{"command":"ls"}'),
            OpaquePart("server_tool_use", KIMI_REPLY["content"][3]),
        ),
        stop_reason="tool_use",
        usage=Usage(input_uncached=100, input_cache_read=1900, output=50, reasoning=20),
    )


@pytest.mark.parametrize(
    ("wire", "canonical", "diagnostics"),
    [
        ("end_turn", "end_turn", ()),
        ("refusal", "refusal", ()),
        (
            "pause_turn",
            "end_turn",
            (Diagnostic("mapped_stop_reason", "stop_reason 'pause_turn' read as 'end_turn'"),),
        ),
        (
            "model_context_window_exceeded",
            "max_tokens",
            (
                Diagnostic(
                    "mapped_stop_reason",
                    "stop_reason 'model_context_window_exceeded' read as 'max_tokens'",
                ),
            ),
        ),
        ("weird", None, (Diagnostic("mapped_stop_reason", "stop_reason 'weird' read as None"),)),
    ],
)
def test_stop_reasons(
    wire: str, canonical: str | None, diagnostics: tuple[Diagnostic, ...]
) -> None:
    body = {"id": "msg_1", "model": "m", "content": [], "stop_reason": wire}
    response = parse_response(body)
    assert (response.stop_reason, response.diagnostics, response.usage) == (
        canonical,
        diagnostics,
        Usage(),
    )


def test_an_error_envelope_with_status_200_raises_it() -> None:
    with pytest.raises(GatewayError) as info:
        parse_response({"type": "error", "error": {"type": "overloaded_error", "message": "busy"}})
    assert (info.value.kind, info.value.message) == ("overloaded", "busy")


def test_render_for_a_client() -> None:
    response = Response(
        id="chatcmpl-7",
        model="kimi-k2.5",
        parts=(
            ThinkingPart("unsigned"),
            ThinkingPart("", redacted=True, provider_data={"data": "xyz"}),
            TextPart("hi"),
            ToolCallPart("Bash:0", "Bash", '{"a": 1}'),
            ToolCallPart("Read:1", "Read", ""),
            ToolCallPart("Grep:2", "Grep", "not json"),
        ),
        stop_reason="content_filter",
        usage=Usage(input_uncached=10, input_cache_read=90, input_cache_write=5, output=7),
    )
    assert render_response(response) == {
        "id": "msg_chatcmpl-7",
        "type": "message",
        "role": "assistant",
        "model": "kimi-k2.5",
        "content": [
            {"type": "thinking", "thinking": "unsigned", "signature": ""},
            {"type": "redacted_thinking", "data": "xyz"},
            {"type": "text", "text": "hi"},
            {"type": "tool_use", "id": "kx426173683a30", "name": "Bash", "input": {"a": 1}},
            {"type": "tool_use", "id": "kx526561643a31", "name": "Read", "input": {}},
            {
                "type": "tool_use",
                "id": "kx477265703a32",
                "name": "Grep",
                "input": {"_raw": "not json"},
            },
        ],
        "stop_reason": "refusal",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 10,
            "cache_creation_input_tokens": 5,
            "cache_read_input_tokens": 90,
            "output_tokens": 7,
        },
    }
    assert render_diagnostics(response) == (
        Diagnostic(
            "invalid_tool_arguments",
            "tool arguments are not a JSON object; sent as {'_raw': …}: 'not json'",
        ),
    )


@given(responses(redacted=True))
def test_render_then_parse_gives_the_response_back(response: Response) -> None:
    assert parse_response(render_response(response)) == response
