"""parse_request: every Chat Completions field → canonical Request (whole values asserted)."""

from __future__ import annotations

from typing import Any

import pytest

from kimi_gateway.core.model import (
    Diagnostic,
    ImagePart,
    Message,
    OpaquePart,
    OpenAIChatFields,
    Request,
    TextPart,
    ThinkingConfig,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
)
from kimi_gateway.dialects.openai_chat import parse_request

USER = {"role": "user", "content": "hi"}


def parse(**fields: Any) -> Request:
    return parse_request({"model": "kimi-k2.6", "messages": [USER], **fields})


def test_minimal_request() -> None:
    assert parse() == Request("kimi-k2.6", (Message("user", (TextPart("hi"),)),))


def test_system_developer_and_mid_conversation_system() -> None:
    request = parse_request(
        {
            "model": "m",
            "messages": [
                {
                    "role": "developer",
                    "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
                },
                {"role": "system", "content": "second"},
                USER,
                {"role": "system", "content": "mid", "name": "sys"},
            ],
        }
    )
    assert request == Request(
        "m",
        (
            Message("system", (TextPart("second"),)),
            Message("user", (TextPart("hi"),)),
            Message("system", (TextPart("mid"),), name="sys"),
        ),
        system=(TextPart("a"), TextPart("b")),
    )


def test_named_first_system_message_stays_a_message() -> None:
    request = parse_request(
        {"model": "m", "messages": [{"role": "system", "content": "s", "name": "n"}, USER]}
    )
    assert request.system == ()
    assert request.messages[0] == Message("system", (TextPart("s"),), name="n")


def test_consecutive_same_role_messages_are_kept() -> None:
    request = parse_request(
        {"model": "m", "messages": [USER, {"role": "user", "content": "again", "name": "bob"}]}
    )
    assert request.messages == (
        Message("user", (TextPart("hi"),)),
        Message("user", (TextPart("again"),), name="bob"),
    )


def test_user_content_parts_images_and_video() -> None:
    content = [
        {"type": "text", "text": "look", "cache_control": {"type": "ephemeral"}},
        {
            "type": "image_url",
            "image_url": {"url": "data:image/jpeg;base64,/9j/AA==", "detail": "low"},
        },
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        {"type": "image_url", "image_url": {"url": "ms://file-abc"}},
        {"type": "image_url", "image_url": "data:text/plain,notbase64"},
        {"type": "video_url", "video_url": {"url": "ms://video-1"}},
    ]
    request = parse(messages=[{"role": "user", "content": content}])
    assert request.messages == (
        Message(
            "user",
            (
                TextPart("look", cache=True),
                ImagePart("base64", "/9j/AA==", "image/jpeg", "low"),
                ImagePart("url", "https://example.com/a.png"),
                ImagePart("file", "file-abc"),
                ImagePart("url", "data:text/plain,notbase64"),
                OpaquePart(
                    "video_url", {"type": "video_url", "video_url": {"url": "ms://video-1"}}
                ),
            ),
        ),
    )


def test_assistant_reasoning_tool_calls_byte_exact_and_builtin() -> None:
    arguments = '{ "city" : "Paris",\n "unit": "°C" }'
    search_args = '{"search_result":{"search_id":"s-1"},"usage":{"total_tokens":8933}}'
    message = {
        "role": "assistant",
        "content": None,
        "reasoning_content": "weather first",
        "tool_calls": [
            {
                "index": 0,
                "id": "get_weather:0",
                "type": "function",
                "function": {"name": "get_weather", "arguments": arguments},
            },
            {
                "id": "t-web_search-1",
                "type": "builtin_function",
                "function": {"name": "$web_search", "arguments": search_args},
            },
        ],
    }
    request = parse(messages=[USER, message])
    assert request.messages[1] == Message(
        "assistant",
        (
            ThinkingPart("weather first"),
            ToolCallPart("get_weather:0", "get_weather", arguments),
            ToolCallPart("t-web_search-1", "$web_search", search_args, "builtin_function"),
        ),
    )


def test_empty_reasoning_content_is_kept() -> None:
    request = parse(messages=[USER, {"role": "assistant", "content": "x", "reasoning_content": ""}])
    assert request.messages[1] == Message("assistant", (ThinkingPart(""), TextPart("x")))


def test_reasoning_key_and_reasoning_details() -> None:
    details = [
        {"type": "summary", "summary": "Plan: "},
        {"type": "summary", "summary": "answer."},
        {"type": "encrypted", "encrypted": "QUJD"},
    ]
    only_details = parse(
        messages=[USER, {"role": "assistant", "content": "a", "reasoning_details": details}]
    )
    assert only_details.messages[1] == Message(
        "assistant",
        (
            ThinkingPart("Plan: answer.", provider_data={"reasoning_details": details}),
            TextPart("a"),
        ),
    )
    with_reasoning = parse(messages=[USER, {"role": "assistant", "content": "a", "reasoning": "r"}])
    assert with_reasoning.messages[1] == Message("assistant", (ThinkingPart("r"), TextPart("a")))


def test_tool_messages_merge_into_one_user_message_empty_content_kept() -> None:
    request = parse(
        messages=[
            USER,
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": "a:0", "type": "function", "function": {"name": "a", "arguments": "{}"}},
                    {"id": "b:1", "type": "function", "function": {"name": "b", "arguments": "{}"}},
                    {"id": "c:2", "type": "function", "function": {"name": "c", "arguments": "{}"}},
                ],
            },
            {"role": "tool", "tool_call_id": "a:0", "content": ""},
            {
                "role": "tool",
                "tool_call_id": "b:1",
                "content": [{"type": "text", "text": "B"}],
                "name": "b",
            },
            {"role": "tool", "tool_call_id": "c:2", "content": None},
            {"role": "user", "content": "next"},
        ]
    )
    assert request.messages[2:] == (
        Message(
            "user",
            (
                ToolResultPart("a:0", ()),
                ToolResultPart("b:1", (TextPart("B"),), name="b"),
                ToolResultPart("c:2", ()),
            ),
        ),
        Message("user", (TextPart("next"),)),
    )


def test_partial_mode_goes_to_the_chat_fields() -> None:
    request = parse(messages=[USER, {"role": "assistant", "content": "Once upon", "partial": True}])
    assert (request.messages[1], request.openai_chat) == (
        Message("assistant", (TextPart("Once upon"),)),
        OpenAIChatFields(partial=True),
    )
    off = parse(messages=[USER, {"role": "assistant", "content": "x", "partial": False}])
    assert off.openai_chat is None


def test_tools_and_tool_choice_forms() -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get",
                "description": "d",
                "parameters": {"type": "object"},
                "strict": True,
            },
        },
        {"type": "builtin_function", "function": {"name": "$web_search"}},
    ]
    request = parse(
        tools=tools,
        tool_choice={"type": "function", "function": {"name": "get"}},
        parallel_tool_calls=False,
    )
    assert (request.tools, request.tool_choice) == (
        (
            Tool("get", "d", {"type": "object"}, strict=True),
            Tool("$web_search", kind="builtin_function"),
        ),
        ToolChoice("tool", "get", parallel=False),
    )
    for mode in ("auto", "none", "required"):
        assert parse(tools=tools, tool_choice=mode).tool_choice == ToolChoice(mode)
    assert parse(tools=tools, parallel_tool_calls=True).tool_choice == ToolChoice(
        "auto", parallel=True
    )
    assert parse(parallel_tool_calls=True).tool_choice is None


def test_legacy_functions_become_tools_with_diagnostics() -> None:
    request = parse(
        functions=[{"name": "f", "parameters": {"type": "object"}}], function_call={"name": "f"}
    )
    assert (request.tools, request.tool_choice, request.diagnostics) == (
        (Tool("f", parameters={"type": "object"}),),
        ToolChoice("tool", "f"),
        (
            Diagnostic("legacy_functions", "'functions' became 'tools'"),
            Diagnostic("legacy_function_call", "'function_call' → 'tool_choice'"),
        ),
    )
    assert parse(functions=[{"name": "f"}], function_call="none").tool_choice == ToolChoice("none")


def test_legacy_function_messages_get_ids_minted_from_their_position() -> None:
    call = {"role": "assistant", "content": None, "function_call": {"name": "f", "arguments": "{}"}}
    result = {"role": "function", "name": "f", "content": "42"}
    request = parse(messages=[USER, call, result, call, result])
    assert request.messages[1:] == (
        Message("assistant", (ToolCallPart("functions.f:1", "f", "{}"),)),
        Message("user", (ToolResultPart("functions.f:1", (TextPart("42"),), name="f"),)),
        Message("assistant", (ToolCallPart("functions.f:3", "f", "{}"),)),
        Message("user", (ToolResultPart("functions.f:3", (TextPart("42"),), name="f"),)),
    )
    assert request.diagnostics[:2] == (
        Diagnostic("legacy_function_call", "messages[1].function_call became a tool call"),
        Diagnostic("legacy_function_message", "messages[2] became a tool result"),
    )
    orphan = parse(messages=[USER, result]).messages[1]
    assert orphan == Message(
        "user", (ToolResultPart("functions.f:1", (TextPart("42"),), name="f"),)
    )


def test_legacy_functions_mark_the_request_and_tools_do_not() -> None:
    functions = [{"name": "f"}]
    assert parse(functions=functions).openai_chat == OpenAIChatFields(legacy_functions=True)
    tools = [{"type": "function", "function": {"name": "f"}}]
    assert parse(tools=tools).openai_chat is None


def test_sampling_limits_stop_stream_and_the_rest() -> None:
    request = parse(
        max_tokens=100,
        temperature=0.6,
        top_p=0.95,
        n=2,
        presence_penalty=0.5,
        frequency_penalty=-1,
        stop="END",
        stream=True,
        stream_options={"include_usage": True},
        response_format={"type": "json_object"},
        metadata={"k": "v"},
        user="u-1",
        prompt_cache_key="session-1",
    )
    assert request == Request(
        "kimi-k2.6",
        (Message("user", (TextPart("hi"),)),),
        max_tokens=100,
        temperature=0.6,
        top_p=0.95,
        n=2,
        presence_penalty=0.5,
        frequency_penalty=-1,
        stop=("END",),
        stream=True,
        include_usage=True,
        response_format={"type": "json_object"},
        metadata={"k": "v"},
        user="u-1",
        prompt_cache_key="session-1",
    )


def test_max_completion_tokens_wins_and_stop_list() -> None:
    request = parse(max_tokens=10, max_completion_tokens=20, stop=["a", "b"])
    assert (request.max_tokens, request.stop) == (20, ("a", "b"))


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"thinking": {"type": "enabled"}}, ThinkingConfig("enabled")),
        ({"thinking": {"type": "disabled"}}, ThinkingConfig("disabled")),
        ({"thinking": {"type": "enabled", "keep": "all"}}, ThinkingConfig("enabled", keep="all")),
        ({"thinking": {"type": "enabled", "budget_tokens": 2048}}, ThinkingConfig("enabled", 2048)),
        ({"reasoning_effort": "high"}, ThinkingConfig("enabled", effort="high")),
        ({"reasoning_effort": "none"}, ThinkingConfig("disabled", effort="none")),
        (
            {"thinking": {"type": "disabled"}, "reasoning_effort": "low"},
            ThinkingConfig("disabled", effort="low"),
        ),
    ],
)
def test_thinking_and_reasoning_effort(fields: dict[str, Any], expected: ThinkingConfig) -> None:
    assert parse(**fields).thinking == expected


def test_other_fields_go_to_the_chat_passthrough_by_name_nulls_dropped() -> None:
    fields = {
        "seed": 7,
        "logit_bias": {"50256": -100},
        "logprobs": True,
        "top_logprobs": 3,
        "service_tier": "auto",
        "store": False,
        "modalities": ["text"],
        "audio": {"voice": "alloy", "format": "mp3"},
        "web_search_options": {},
        "prediction": {"type": "content", "content": "x"},
        "safety_identifier": "h",
        "verbosity": "low",
        "totally_unknown": {"a": [1]},
    }
    request = parse(**fields, echo=None)
    assert request.openai_chat == OpenAIChatFields(passthrough=fields)
    assert (request.anthropic_messages, request.openai_responses) == (None, None)


def test_unknown_message_fields_are_reported_echoed_ones_ignored() -> None:
    request = parse(
        messages=[
            USER,
            {
                "role": "assistant",
                "content": "x",
                "refusal": None,
                "annotations": [],
                "audio": {"id": "a"},
            },
        ]
    )
    assert request.diagnostics == (
        Diagnostic("dropped_message_field", "messages[1].audio has no canonical form; dropped"),
    )


def test_refusal_in_history_is_kept_as_an_opaque_part() -> None:
    request = parse(messages=[USER, {"role": "assistant", "content": None, "refusal": "no"}])
    assert request.messages[1] == Message(
        "assistant", (OpaquePart("refusal", {"type": "refusal", "refusal": "no"}),)
    )
