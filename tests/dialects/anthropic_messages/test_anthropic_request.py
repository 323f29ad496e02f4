"""Anthropic Messages requests: parse_request / render_request on every field and edge case
(the captured clients' requests are in test_anthropic_captures.py)."""

from __future__ import annotations

from typing import Any

import pytest

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.model import (
    AnthropicMessagesFields,
    Diagnostic,
    ImagePart,
    Message,
    OpaquePart,
    Request,
    TextPart,
    ThinkingConfig,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
)
from kimi_gateway.dialects.anthropic_messages import parse_request, render_request

FULL_BODY: dict[str, Any] = {
    "model": "kimi-k2.5",
    "max_tokens": 1024,
    "system": "be brief",
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look", "cache_control": {"type": "ephemeral"}},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"},
                },
                {"type": "image", "source": {"type": "url", "url": "ms://file-1"}},
                {"type": "image", "source": {"type": "file", "file_id": "file-2"}},
                {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}},
                {"type": "document", "source": {"type": "text", "data": "doc"}},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "hmm", "signature": ""},
                {"type": "thinking", "thinking": "ok", "signature": "sig=="},
                {"type": "redacted_thinking", "data": "opaque"},
                {
                    "type": "tool_use",
                    "id": "kx426173683a30",
                    "name": "Bash",
                    "input": {"a": [1, 2]},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "kx426173683a30",
                    "is_error": True,
                    "content": [
                        {"type": "text", "text": "boom"},
                        {"type": "tool_reference", "tool_name": "Read"},
                    ],
                }
            ],
        },
    ],
    "tools": [
        {"name": "Bash", "description": "run", "input_schema": {"type": "object"}},
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
        {"type": "custom", "name": "Read", "input_schema": {"type": "object"}, "strict": True},
    ],
    "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
    "thinking": {"type": "enabled", "budget_tokens": 2048},
    "output_config": {
        "effort": "low",
        "format": {"type": "json_schema", "schema": {"type": "object"}},
    },
    "temperature": 1,
    "top_p": 0.95,
    "top_k": 40,
    "stop_sequences": ["END"],
    "metadata": {"user_id": "u1"},
    "service_tier": "auto",
}


def test_every_block_and_field_parses_to_the_canonical_model() -> None:
    assert parse_request(FULL_BODY) == Request(
        model="kimi-k2.5",
        system=(TextPart("be brief"),),
        messages=(
            Message(
                "user",
                (
                    TextPart("look", cache=True),
                    ImagePart("base64", "iVBO", media_type="image/png"),
                    ImagePart("file", "file-1"),
                    ImagePart("file", "file-2"),
                    ImagePart("url", "https://x.test/a.png"),
                    OpaquePart("document", FULL_BODY["messages"][0]["content"][5]),
                ),
            ),
            Message(
                "assistant",
                (
                    ThinkingPart("hmm"),
                    ThinkingPart("ok", signature="sig=="),
                    ThinkingPart("", redacted=True, provider_data={"data": "opaque"}),
                    ToolCallPart("Bash:0", "Bash", '{"a":[1,2]}'),
                ),
            ),
            Message(
                "user",
                (
                    ToolResultPart(
                        "Bash:0",
                        (
                            TextPart("boom"),
                            TextPart('{"type":"tool_reference","tool_name":"Read"}'),
                        ),
                        is_error=True,
                    ),
                ),
            ),
        ),
        tools=(
            Tool("Bash", "run", {"type": "object"}),
            Tool("Read", None, {"type": "object"}, strict=True),
        ),
        tool_choice=ToolChoice("required", parallel=False),
        max_tokens=1024,
        temperature=1,
        top_p=0.95,
        stop=("END",),
        thinking=ThinkingConfig("enabled", budget_tokens=2048, effort="low"),
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "output", "schema": {"type": "object"}},
        },
        metadata={"user_id": "u1"},
        anthropic_messages=AnthropicMessagesFields(
            server_tools=(FULL_BODY["tools"][1],), top_k=40, service_tier="auto"
        ),
        diagnostics=(
            Diagnostic(
                "flattened_block",
                "messages[2].content[0].content[1] (tool_reference) became a text part "
                "holding its JSON",
            ),
        ),
    )


def test_render_request_writes_the_upstream_wire_form() -> None:
    body = render_request(parse_request(FULL_BODY))
    assert body["messages"][0]["content"][1:5] == [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}},
        {"type": "image", "source": {"type": "url", "url": "ms://file-1"}},
        {"type": "image", "source": {"type": "url", "url": "ms://file-2"}},
        {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}},
    ]
    assert body["messages"][1]["content"] == [
        {"type": "thinking", "thinking": "hmm"},
        {"type": "thinking", "thinking": "ok", "signature": "sig=="},
        {"type": "redacted_thinking", "data": "opaque"},
        {"type": "tool_use", "id": "kx426173683a30", "name": "Bash", "input": {"a": [1, 2]}},
    ]
    assert body["messages"][2]["content"][0]["content"][1] == {
        "type": "text",
        "text": '{"type":"tool_reference","tool_name":"Read"}',
    }
    assert body["tools"] == [
        FULL_BODY["tools"][0],
        {"name": "Read", "input_schema": {"type": "object"}, "strict": True},
        FULL_BODY["tools"][1],
    ]
    assert {key: body[key] for key in ("tool_choice", "thinking", "output_config")} == {
        "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "output_config": {
            "effort": "low",
            "format": {"type": "json_schema", "schema": {"type": "object"}},
        },
    }
    assert (body["top_k"], body["service_tier"], body["stop_sequences"]) == (40, "auto", ["END"])


def test_tool_results_lead_the_user_message() -> None:
    request = Request(
        model="m",
        max_tokens=10,
        messages=(
            Message(
                "user",
                (TextPart("then this"), ToolResultPart("a:1", ()), ToolResultPart("b", ())),
            ),
        ),
    )
    assert render_request(request)["messages"][0]["content"] == [
        {"type": "tool_result", "tool_use_id": "kx613a31", "is_error": False},
        {"type": "tool_result", "tool_use_id": "b", "is_error": False},
        {"type": "text", "text": "then this"},
    ]


def test_unknown_fields_are_reported_and_not_forwarded() -> None:
    request = parse_request({"model": "m", "max_tokens": 1, "messages": [], "seed": 7})
    assert request.anthropic_messages == AnthropicMessagesFields(unknown={"seed": 7})
    assert request.diagnostics == (
        Diagnostic(
            "unknown_field", "seed is not an Anthropic Messages field known here; not forwarded"
        ),
    )
    assert render_request(request) == {"model": "m", "max_tokens": 1, "messages": []}


def test_effort_without_thinking_stays_in_output_config() -> None:
    body = {"model": "m", "max_tokens": 1, "messages": [], "output_config": {"effort": "max"}}
    request = parse_request(body)
    assert (request.thinking, request.anthropic_messages) == (
        None,
        AnthropicMessagesFields(output_config={"effort": "max"}),
    )
    assert render_request(request) == body


@pytest.mark.parametrize(
    ("wire", "canonical"),
    [
        ({"type": "auto"}, ToolChoice("auto")),
        ({"type": "any"}, ToolChoice("required")),
        ({"type": "none"}, ToolChoice("none")),
        ({"type": "tool", "name": "Bash"}, ToolChoice("tool", name="Bash")),
        ({"type": "auto", "disable_parallel_tool_use": False}, ToolChoice("auto", parallel=True)),
    ],
)
def test_tool_choice_maps_both_ways(wire: dict[str, Any], canonical: ToolChoice) -> None:
    body = {"model": "m", "max_tokens": 1, "messages": [], "tool_choice": wire}
    assert parse_request(body).tool_choice == canonical
    assert render_request(parse_request(body))["tool_choice"] == wire


@pytest.mark.parametrize(
    ("wire", "canonical"),
    [
        ({"type": "adaptive"}, ThinkingConfig("adaptive")),
        ({"type": "disabled"}, ThinkingConfig("disabled")),
        ({"type": "enabled"}, ThinkingConfig("enabled")),
        (
            {"type": "enabled", "budget_tokens": 5, "keep": "all"},
            ThinkingConfig("enabled", 5, keep="all"),
        ),
    ],
)
def test_thinking_maps_both_ways(wire: dict[str, Any], canonical: ThinkingConfig) -> None:
    body = {"model": "m", "max_tokens": 1, "messages": [], "thinking": wire}
    assert parse_request(body).thinking == canonical
    assert render_request(parse_request(body))["thinking"] == wire


def _error(body: dict[str, Any]) -> tuple[str | None, str]:
    with pytest.raises(TranslationError) as info:
        parse_request(body)
    return info.value.param, info.value.message


def test_max_tokens_is_required() -> None:
    assert _error({"model": "m", "messages": []}) == ("max_tokens", "max_tokens: required")


def test_a_block_type_error_names_the_path() -> None:
    messages = [{"role": "user", "content": "a"}] * 3 + [{"role": "user", "content": [{"type": 5}]}]
    assert _error({"model": "m", "max_tokens": 1, "messages": messages}) == (
        "messages[3].content[0].type",
        "messages[3].content[0].type: expected a string, got int",
    )


@pytest.mark.parametrize(
    ("patch", "param"),
    [
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].role"),
        ({"messages": "hi"}, "messages"),
        ({"model": None}, "model"),
        ({"max_tokens": "5"}, "max_tokens"),
        ({"max_tokens": True}, "max_tokens"),
        ({"system": [{"type": "image"}]}, "system[0].type"),
        ({"tool_choice": {"type": "required"}}, "tool_choice.type"),
        ({"thinking": {"type": "on"}}, "thinking.type"),
        ({"stream": "yes"}, "stream"),
        ({"temperature": "hot"}, "temperature"),
        ({"stop_sequences": [1]}, "stop_sequences[0]"),
        ({"tools": [{"name": "x", "input_schema": []}]}, "tools[0].input_schema"),
        (
            {
                "messages": [
                    {
                        "role": "assistant",
                        "content": [{"type": "tool_use", "id": "a", "name": "b", "input": 3}],
                    }
                ]
            },
            "messages[0].content[0].input",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": 1}]}
                ]
            },
            "messages[0].content[0].tool_use_id",
        ),
    ],
)
def test_type_errors_raise_translation_error_with_param(patch: dict[str, Any], param: str) -> None:
    body = {"model": "m", "max_tokens": 1, "messages": []} | patch
    assert _error(body)[0] == param


def test_cache_ttl_and_tool_use_cache_control_are_reported() -> None:
    body = {
        "model": "m",
        "max_tokens": 1,
        "messages": [
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "text",
                        "text": "t",
                        "cache_control": {"type": "ephemeral", "ttl": "1h"},
                    },
                    {
                        "type": "tool_use",
                        "id": "a",
                        "name": "b",
                        "input": {},
                        "cache_control": {"type": "ephemeral"},
                    },
                ],
            }
        ],
    }
    request = parse_request(body)
    assert request.messages[0].parts == (TextPart("t", cache=True), ToolCallPart("a", "b", "{}"))
    assert request.diagnostics == (
        Diagnostic(
            "cache_control_simplified",
            "messages[0].content[0].cache_control: ttl not kept (breakpoint only)",
        ),
        Diagnostic("dropped_field", "messages[0].content[1].cache_control: no breakpoint here"),
    )
