"""render_request and request round trips (wire → canonical → wire keeps meaning)."""

from __future__ import annotations

from typing import Any

import pytest

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.model import (
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
from kimi_gateway.dialects.openai_chat import render_request

USER = {"role": "user", "content": "hi"}


def test_renders_every_field_in_openai_wire() -> None:
    request = Request(
        model="kimi-k2.6",
        system=(TextPart("be brief"),),
        messages=(
            Message("user", (TextPart("hi"), ImagePart("base64", "AAA=", "image/png", "high"))),
            Message(
                "assistant",
                (
                    ThinkingPart("plan"),
                    ToolCallPart("get:0", "get", '{"a": 1}'),
                    ToolCallPart("s:1", "$web_search", "{}", "builtin_function"),
                ),
            ),
            Message(
                "user",
                (
                    ToolResultPart("get:0", (TextPart("42"),)),
                    ToolResultPart("s:1", (), name="$web_search"),
                ),
            ),
        ),
        tools=(
            Tool("get", "d", {"type": "object"}, strict=False),
            Tool("$web_search", kind="builtin_function"),
        ),
        tool_choice=ToolChoice("tool", "$web_search", parallel=True),
        max_tokens=512,
        temperature=0.6,
        top_p=0.95,
        n=1,
        presence_penalty=0.1,
        frequency_penalty=0.2,
        stop=("END",),
        stream=True,
        include_usage=True,
        thinking=ThinkingConfig("enabled", keep="all"),
        response_format={"type": "json_object"},
        metadata={"k": "v"},
        user="u",
        prompt_cache_key="pk",
        openai_chat=OpenAIChatFields(passthrough={"seed": 3, "model": "ignored: known fields win"}),
    )
    assert render_request(request) == {
        "model": "kimi-k2.6",
        "messages": [
            {"role": "system", "content": "be brief"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "hi"},
                    {
                        "type": "image_url",
                        "image_url": {"url": "data:image/png;base64,AAA=", "detail": "high"},
                    },
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "reasoning_content": "plan",
                "tool_calls": [
                    {
                        "id": "get:0",
                        "type": "function",
                        "function": {"name": "get", "arguments": '{"a": 1}'},
                    },
                    {
                        "id": "s:1",
                        "type": "builtin_function",
                        "function": {"name": "$web_search", "arguments": "{}"},
                    },
                ],
            },
            {"role": "tool", "content": "42", "tool_call_id": "get:0"},
            {"role": "tool", "content": "", "tool_call_id": "s:1", "name": "$web_search"},
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get",
                    "description": "d",
                    "parameters": {"type": "object"},
                    "strict": False,
                },
            },
            {"type": "builtin_function", "function": {"name": "$web_search"}},
        ],
        "tool_choice": {"type": "builtin_function", "function": {"name": "$web_search"}},
        "parallel_tool_calls": True,
        "max_completion_tokens": 512,
        "temperature": 0.6,
        "top_p": 0.95,
        "n": 1,
        "presence_penalty": 0.1,
        "frequency_penalty": 0.2,
        "stop": ["END"],
        "stream": True,
        "stream_options": {"include_usage": True},
        "response_format": {"type": "json_object"},
        "thinking": {"type": "enabled", "keep": "all"},
        "metadata": {"k": "v"},
        "user": "u",
        "prompt_cache_key": "pk",
        "seed": 3,
    }


def test_minimal_request_renders_only_what_is_set() -> None:
    assert render_request(Request("m", (Message("user", (TextPart("hi"),)),))) == {
        "model": "m",
        "messages": [USER],
    }


def test_tool_results_and_text_around_them_keep_their_order() -> None:
    """An Anthropic-style user turn: text, two results, text → user, tool, tool, user."""
    request = Request(
        "m",
        (
            Message(
                "user",
                (
                    TextPart("before"),
                    ToolResultPart("a", (TextPart("A"),)),
                    ToolResultPart("b", (TextPart("B1"), ImagePart("file", "f1"))),
                    TextPart("after"),
                ),
            ),
        ),
    )
    assert render_request(request)["messages"] == [
        {"role": "user", "content": "before"},
        {"role": "tool", "content": "A", "tool_call_id": "a"},
        {
            "role": "tool",
            "content": [
                {"type": "text", "text": "B1"},
                {"type": "image_url", "image_url": {"url": "ms://f1"}},
            ],
            "tool_call_id": "b",
        },
        {"role": "user", "content": "after"},
    ]


def test_several_thinking_blocks_join_and_reasoning_details_ride_along() -> None:
    details = [{"type": "summary", "summary": "s"}, {"type": "encrypted", "encrypted": "e"}]
    message = Message(
        "assistant",
        (
            ThinkingPart("one"),
            ThinkingPart("", redacted=True, provider_data={"data": "opaque"}),
            TextPart("a"),
            TextPart("b"),
            ThinkingPart("two", provider_data={"reasoning_details": details}),
        ),
        name="bot",
    )
    assert render_request(Request("m", (message,)))["messages"] == [
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
            "name": "bot",
            "reasoning_content": "one\n\ntwo",
            "reasoning_details": details,
        },
    ]


@pytest.mark.parametrize(
    ("thinking", "expected"),
    [
        (ThinkingConfig("enabled"), {"thinking": {"type": "enabled"}}),
        (ThinkingConfig("disabled"), {"thinking": {"type": "disabled"}}),
        (
            ThinkingConfig("adaptive", budget_tokens=100),
            {"thinking": {"type": "adaptive", "budget_tokens": 100}},
        ),
        (ThinkingConfig("enabled", effort="high"), {"reasoning_effort": "high"}),
        (ThinkingConfig("disabled", effort="none"), {"reasoning_effort": "none"}),
        (
            ThinkingConfig("disabled", effort="low"),
            {"thinking": {"type": "disabled"}, "reasoning_effort": "low"},
        ),
        (
            ThinkingConfig("enabled", effort="max", keep="all"),
            {"thinking": {"type": "enabled", "keep": "all"}, "reasoning_effort": "max"},
        ),
    ],
)
def test_thinking_renders_as_kimi_thinking_and_reasoning_effort(
    thinking: ThinkingConfig, expected: dict[str, Any]
) -> None:
    body = render_request(Request("m", (Message("user", (TextPart("hi"),)),), thinking=thinking))
    assert {k: v for k, v in body.items() if k not in ("model", "messages")} == expected


def test_partial_mode_marks_the_last_assistant_message_only() -> None:
    request = Request(
        "m",
        (Message("user", (TextPart("hi"),)), Message("assistant", (TextPart("Once"),))),
        openai_chat=OpenAIChatFields(partial=True),
    )
    assert render_request(request) == {
        "model": "m",
        "messages": [USER, {"role": "assistant", "content": "Once", "partial": True}],
    }
    last_is_user = Request(
        "m", (Message("user", (TextPart("hi"),)),), openai_chat=OpenAIChatFields(partial=True)
    )
    assert render_request(last_is_user) == {"model": "m", "messages": [USER]}


def test_opaque_parts_render_verbatim_and_empty_messages_as_empty_strings() -> None:
    video = {"type": "video_url", "video_url": {"url": "ms://v"}}
    request = Request(
        "m",
        (
            Message("user", (OpaquePart("video_url", video),)),
            Message("user", ()),
            Message("assistant", ()),
        ),
    )
    assert render_request(request)["messages"] == [
        {"role": "user", "content": [video]},
        {"role": "user", "content": ""},
        {"role": "assistant", "content": ""},
    ]


@pytest.mark.parametrize(
    ("message", "param"),
    [
        (Message("user", (ToolCallPart("a", "f", "{}"),)), "messages[0].parts[0]"),
        (Message("user", (TextPart("x"), ThinkingPart("t"))), "messages[0].parts[1]"),
        (Message("assistant", (ToolResultPart("a", ()),)), "messages[0].parts[0]"),
        (Message("system", (ToolCallPart("a", "f", "{}"),)), "messages[0].parts[0]"),
    ],
)
def test_parts_that_have_no_place_raise(message: Message, param: str) -> None:
    with pytest.raises(TranslationError) as caught:
        render_request(Request("m", (message,)))
    assert caught.value.param == param
