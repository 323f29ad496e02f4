"""parse_request refuses bad input with a TranslationError naming the field (``param``)."""

from __future__ import annotations

from typing import Any

import pytest

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.dialects.openai_chat import parse_request

USER = {"role": "user", "content": "hi"}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": [USER]}, "model"),
        ({"model": 5, "messages": [USER]}, "model"),
        ({"model": "m"}, "messages"),
        ({"model": "m", "messages": {"role": "user"}}, "messages"),
        ({"model": "m", "messages": []}, "messages"),
        ({"model": "m", "messages": ["hi"]}, "messages[0]"),
        ({"model": "m", "messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({"model": "m", "messages": [{"content": "x"}]}, "messages[0].role"),
        ({"model": "m", "messages": [USER, {"role": "user", "content": 3}]}, "messages[1].content"),
        ({"model": "m", "messages": [{"role": "user", "content": None}]}, "messages[0].content"),
        (
            {"model": "m", "messages": [{"role": "user", "content": [{"type": "text"}]}]},
            "messages[0].content[0].text",
        ),
        (
            {"model": "m", "messages": [{"role": "user", "content": [{"text": "x"}]}]},
            "messages[0].content[0].type",
        ),
        (
            {
                "model": "m",
                "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}],
            },
            "messages[0].content[0].image_url.url",
        ),
        (
            {"model": "m", "messages": [USER, {"role": "assistant", "tool_calls": {}}]},
            "messages[1].tool_calls",
        ),
        (
            {"model": "m", "messages": [USER, {"role": "assistant", "tool_calls": [{"id": "a"}]}]},
            "messages[1].tool_calls[0].function",
        ),
        (
            {
                "model": "m",
                "messages": [
                    USER,
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "id": "a",
                                "type": "function",
                                "function": {"name": "f", "arguments": {"x": 1}},
                            }
                        ],
                    },
                ],
            },
            "messages[1].tool_calls[0].function.arguments",
        ),
        (
            {
                "model": "m",
                "messages": [
                    USER,
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "id": "a",
                                "type": "custom",
                                "function": {"name": "f", "arguments": ""},
                            }
                        ],
                    },
                ],
            },
            "messages[1].tool_calls[0].type",
        ),
        (
            {"model": "m", "messages": [USER, {"role": "tool", "content": "x"}]},
            "messages[1].tool_call_id",
        ),
        (
            {
                "model": "m",
                "messages": [
                    USER,
                    {"role": "tool", "tool_call_id": "a", "content": [{"type": "input_audio"}]},
                ],
            },
            "messages[1].content[0].type",
        ),
        (
            {
                "model": "m",
                "messages": [{"role": "assistant", "content": "x", "partial": True}, USER],
            },
            "messages[0].partial",
        ),
        (
            {"model": "m", "messages": [{"role": "user", "content": "x", "partial": True}]},
            "messages[0].partial",
        ),
        (
            {
                "model": "m",
                "messages": [USER, {"role": "assistant", "content": "x", "reasoning_content": 1}],
            },
            "messages[1].reasoning_content",
        ),
        ({"model": "m", "messages": [USER], "temperature": "hot"}, "temperature"),
        ({"model": "m", "messages": [USER], "temperature": True}, "temperature"),
        ({"model": "m", "messages": [USER], "max_tokens": 1.5}, "max_tokens"),
        ({"model": "m", "messages": [USER], "n": "2"}, "n"),
        ({"model": "m", "messages": [USER], "stop": ["a", 1]}, "stop[1]"),
        ({"model": "m", "messages": [USER], "stream": "yes"}, "stream"),
        (
            {"model": "m", "messages": [USER], "stream_options": {"include_usage": 1}},
            "stream_options.include_usage",
        ),
        ({"model": "m", "messages": [USER], "tools": [{"type": "web_search"}]}, "tools[0].type"),
        (
            {"model": "m", "messages": [USER], "tools": [{"type": "function", "function": {}}]},
            "tools[0].function.name",
        ),
        ({"model": "m", "messages": [USER], "tool_choice": "any"}, "tool_choice"),
        (
            {"model": "m", "messages": [USER], "tool_choice": {"type": "function", "function": {}}},
            "tool_choice.function.name",
        ),
        ({"model": "m", "messages": [USER], "function_call": "always"}, "function_call"),
        ({"model": "m", "messages": [USER], "thinking": {"type": "on"}}, "thinking.type"),
        ({"model": "m", "messages": [USER], "thinking": "enabled"}, "thinking"),
        ({"model": "m", "messages": [USER], "reasoning_effort": 3}, "reasoning_effort"),
        ({"model": "m", "messages": [USER], "response_format": "json"}, "response_format"),
        ({"model": "m", "messages": [USER], "metadata": []}, "metadata"),
    ],
)
def test_type_errors_name_the_field(body: dict[str, Any], param: str) -> None:
    with pytest.raises(TranslationError) as caught:
        parse_request(body)
    assert (caught.value.param, caught.value.status) == (param, 400)


def test_body_not_an_object() -> None:
    with pytest.raises(TranslationError) as caught:
        parse_request([])  # type: ignore[arg-type]
    assert caught.value.param == "body"


def test_does_not_mutate_its_argument() -> None:
    body = {
        "model": "m",
        "messages": [USER, {"role": "tool", "tool_call_id": "a", "content": ""}],
        "seed": 1,
        "max_tokens": 3,
    }
    before = repr(body)
    parse_request(body)
    assert repr(body) == before
