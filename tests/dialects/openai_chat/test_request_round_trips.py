"""Request round trips: wire → canonical → wire keeps meaning, incl. captured OpenClaw requests."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from kimi_gateway.core.model import (
    ToolChoice,
)
from kimi_gateway.dialects.openai_chat import parse_request, render_request

CLIENTS = Path(__file__).parents[2] / "fixtures" / "clients"
USER = {"role": "user", "content": "hi"}


ROUND_TRIPS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    # (client body, expected render): same meaning, OpenAI's preferred spellings.
    (
        {
            "model": "m",
            "messages": [{"role": "developer", "content": "s"}, USER],
            "max_tokens": 5,
            "stop": "x",
            "stream": False,
            "seed": None,
        },
        {
            "model": "m",
            "messages": [{"role": "system", "content": "s"}, USER],
            "max_completion_tokens": 5,
            "stop": ["x"],
        },
    ),
    (
        {
            "model": "m",
            "messages": [USER],
            "tools": [{"type": "function", "function": {"name": "f"}}],
            "parallel_tool_calls": False,
            "functions": None,
        },
        {
            "model": "m",
            "messages": [USER],
            "tools": [{"type": "function", "function": {"name": "f"}}],
            "tool_choice": "auto",
            "parallel_tool_calls": False,
        },
    ),
    (
        {"model": "m", "messages": [USER], "functions": [{"name": "f"}], "function_call": "auto"},
        {
            "model": "m",
            "messages": [USER],
            "tools": [{"type": "function", "function": {"name": "f"}}],
            "tool_choice": "auto",
        },
    ),
    (
        {
            "model": "m",
            "messages": [
                USER,
                {
                    "role": "assistant",
                    "content": "",
                    "reasoning": "r",
                    "tool_calls": [
                        {"index": 0, "id": "f:0", "function": {"name": "f", "arguments": "{}"}}
                    ],
                },
                {
                    "role": "tool",
                    "tool_call_id": "f:0",
                    "content": [{"type": "text", "text": "ok"}],
                },
            ],
        },
        {
            "model": "m",
            "messages": [
                USER,
                {
                    "role": "assistant",
                    "content": "",
                    "reasoning_content": "r",
                    "tool_calls": [
                        {
                            "id": "f:0",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        }
                    ],
                },
                {"role": "tool", "content": "ok", "tool_call_id": "f:0"},
            ],
        },
    ),
    (
        {
            "model": "m",
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": "https://e.com/i.png"}],
                }
            ],
            "stream": True,
            "stream_options": {"include_usage": False, "include_obfuscation": None},
        },
        {
            "model": "m",
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": "https://e.com/i.png"}}],
                }
            ],
            "stream": True,
        },
    ),
]


@pytest.mark.parametrize(("body", "expected"), ROUND_TRIPS)
def test_round_trip_keeps_meaning(body: dict[str, Any], expected: dict[str, Any]) -> None:
    assert render_request(parse_request(body)) == expected
    parsed = replace(parse_request(body), diagnostics=())
    if parsed.openai_chat is not None and parsed.openai_chat.legacy_functions:
        # How the reply is shaped for a legacy client; nothing of it goes upstream.
        parsed = replace(parsed, openai_chat=None)
    assert parse_request(expected) == parsed


def test_a_full_request_round_trips_exactly() -> None:
    body = {
        "model": "kimi-k2.6",
        "messages": [
            {"role": "system", "content": "s"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "a"},
                    {"type": "image_url", "image_url": {"url": "ms://f"}},
                ],
                "name": "bob",
            },
            {
                "role": "assistant",
                "content": None,
                "reasoning_content": "r",
                "tool_calls": [
                    {
                        "id": "a:0",
                        "type": "function",
                        "function": {"name": "a", "arguments": ' {"x" :1} '},
                    },
                    {"id": "b:1", "type": "function", "function": {"name": "b", "arguments": ""}},
                ],
            },
            {"role": "tool", "content": "", "tool_call_id": "a:0"},
            {"role": "tool", "content": "B", "tool_call_id": "b:1", "name": "b"},
            {"role": "system", "content": "mid"},
            {"role": "user", "content": "go on"},
            {"role": "assistant", "content": "Sure", "partial": True},
        ],
        "tools": [
            {"type": "function", "function": {"name": "a", "parameters": {"type": "object"}}},
            {"type": "function", "function": {"name": "b"}},
        ],
        "tool_choice": "required",
        "max_completion_tokens": 9,
        "temperature": 1,
        "stop": ["a", "b"],
        "stream": True,
        "stream_options": {"include_usage": True},
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}},
        "thinking": {"type": "enabled", "keep": "all"},
        "metadata": {"m": "1"},
        "user": "u",
        "prompt_cache_key": "k",
        "seed": 1,
        "logprobs": True,
        "x_vendor": [1, 2],
    }
    assert render_request(parse_request(body)) == body


def _one_text_arrays_as_strings(body: dict[str, Any]) -> dict[str, Any]:
    """The only spelling change: a content array of one text part renders as the string."""
    messages = []
    for message in body["messages"]:
        content = message.get("content")
        if isinstance(content, list) and len(content) == 1 and content[0].get("type") == "text":
            message = {**message, "content": content[0]["text"]}
        messages.append(message)
    return {**body, "messages": messages}


@pytest.mark.parametrize(
    "name", ["openclaw_openai_text_request.json", "openclaw_openai_tool_result_request.json"]
)
def test_captured_openclaw_requests_parse_and_render_without_loss(name: str) -> None:
    body = json.loads((CLIENTS / name).read_text())["body"]
    request = parse_request(body)
    assert request.diagnostics == ()
    assert (request.stream, request.include_usage, request.max_tokens, request.tool_choice) == (
        True,
        True,
        8192,
        ToolChoice("auto"),
    )
    assert render_request(request) == _one_text_arrays_as_strings(body)
    assert parse_request(render_request(request)) == request
