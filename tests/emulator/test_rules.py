"""Kimi's request rules and their exact messages on the Open Platform face (docs/kimi.md §2.2,
§2.3, §4.2, §5, §8)."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from .conftest import HI, WEATHER_TOOL

CALL = {
    "id": "get_weather:7",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
}
RESULT = {"role": "tool", "tool_call_id": "get_weather:7", "content": "sunny"}


def _tool_history(assistant: dict[str, Any], result: dict[str, Any] = RESULT) -> list[Any]:
    return [{"role": "user", "content": "weather?"}, assistant, result]


REJECTED: list[tuple[str, dict[str, Any], str]] = [
    (
        "k2.6 wrong temperature, thinking on",
        {"model": "kimi-k2.6", "temperature": 0.7},
        "invalid temperature: only 1 is allowed for this model",
    ),
    (
        "k2.6 wrong temperature, thinking off",
        {"model": "kimi-k2.6", "temperature": 1.0, "thinking": {"type": "disabled"}},
        "invalid temperature: only 0.6 is allowed for this model",
    ),
    (
        "k2.5 top_p",
        {"model": "kimi-k2.5", "top_p": 0.9},
        "invalid top_p: only 0.95 is allowed for this model",
    ),
    ("k2.5 n", {"model": "kimi-k2.5", "n": 2}, "invalid n: only 1 is allowed for this model"),
    (
        "k2.6 presence_penalty",
        {"model": "kimi-k2.6", "presence_penalty": 0.5},
        "invalid presence_penalty: only 0 is allowed for this model",
    ),
    (
        "k2.7-code frequency_penalty",
        {"model": "kimi-k2.7-code", "frequency_penalty": 0.1},
        "invalid frequency_penalty: only 0 is allowed for this model",
    ),
    (
        "k2.7-code thinking disabled",
        {"model": "kimi-k2.7-code", "thinking": {"type": "disabled"}},
        "invalid thinking: only type=enabled is allowed for this model",
    ),
    (
        "k2.7-code keep",
        {"model": "kimi-k2.7-code-highspeed", "thinking": {"type": "enabled", "keep": "last"}},
        "invalid thinking: only keep=all is allowed for this model",
    ),
    (
        "k2.6 unknown thinking type",
        {"model": "kimi-k2.6", "thinking": {"type": "auto"}},
        "invalid thinking: type must be one of enabled, disabled",
    ),
    (
        "k3 reasoning_effort",
        {"model": "kimi-k3", "reasoning_effort": "none"},
        "invalid reasoning_effort: must be one of low, high, max",
    ),
    (
        "k2.6 tool_choice required with thinking",
        {"model": "kimi-k2.6", "tools": [WEATHER_TOOL], "tool_choice": "required"},
        "tool_choice 'required' is incompatible with thinking enabled",
    ),
    (
        "k2.5 named tool_choice with thinking",
        {
            "model": "kimi-k2.5",
            "tools": [WEATHER_TOOL],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        },
        "tool_choice 'specified' is incompatible with thinking enabled",
    ),
    (
        "temperature above 1",
        {"model": "moonshot-v1-8k", "temperature": 1.5},
        "invalid temperature: 1.5, must be in [0, 1]",
    ),
    (
        "n > 1 with the default temperature 0",
        {"model": "moonshot-v1-8k", "n": 2},
        "invalid n: when temperature is very close to 0 only 1 result can be returned",
    ),
    (
        "n > 1 with temperature 0.001",
        {"model": "kimi-k2-turbo-preview", "n": 3, "temperature": 0.001},
        "invalid n: when temperature is very close to 0 only 1 result can be returned",
    ),
    (
        "n above 5",
        {"model": "moonshot-v1-8k", "n": 6, "temperature": 0.5},
        "invalid n: must be an integer in [1, 5]",
    ),
    (
        "six stop entries",
        {"model": "kimi-k2.6", "stop": ["a", "b", "c", "d", "e", "f"]},
        "stop array too long. Expected an array with maximum length 5, but got 6",
    ),
    (
        "stop longer than 32 bytes",
        {"model": "kimi-k2.6", "stop": "é" * 17},
        "stop sequence must not be longer than 32",
    ),
    (
        "legacy functions",
        {"model": "kimi-k2.6", "functions": [WEATHER_TOOL["function"]]},
        "Invalid request: functions is not supported, please use tools instead",
    ),
    (
        "legacy function_call",
        {"model": "kimi-k2.6", "function_call": "auto"},
        "Invalid request: function_call is not supported, please use tools instead",
    ),
    (
        "prompt plus max_tokens over the context",
        {"model": "moonshot-v1-8k", "max_tokens": 8192},
        "Your request exceeded model token limit : 8192",
    ),
    (
        "max_completion_tokens counts the same",
        {"model": "moonshot-v1-8k", "max_completion_tokens": 8190},
        "Your request exceeded model token limit : 8192",
    ),
    (
        "empty user content",
        {"messages": [{"role": "user", "content": ""}]},
        "the message at position 0 with role 'user' must not be empty",
    ),
    (
        "empty text part",
        {"messages": [{"role": "user", "content": [{"type": "text", "text": ""}]}]},
        "text content is empty",
    ),
    (
        "empty content beside tool_calls",
        {"messages": _tool_history({"role": "assistant", "content": "", "tool_calls": [CALL]})},
        "text content is empty",
    ),
    (
        "empty assistant message",
        {"messages": [*HI, {"role": "assistant", "content": ""}, *HI]},
        "the message at position 1 with role 'assistant' must not be empty",
    ),
    (
        "missing reasoning_content on a thinking tool-call turn",
        {
            "model": "kimi-k2.6",
            "messages": _tool_history({"role": "assistant", "tool_calls": [CALL]}),
        },
        "thinking is enabled but reasoning_content is missing in assistant tool call message at "
        "index 1",
    ),
    (
        "unknown tool_call_id",
        {
            "messages": _tool_history(
                {"role": "assistant", "tool_calls": [CALL]},
                {**RESULT, "tool_call_id": "get_weather:8"},
            )
        },
        "tool_call_id 'get_weather:8' is not found",
    ),
    (
        "empty tool_call_id",
        {
            "messages": _tool_history(
                {"role": "assistant", "tool_calls": [CALL]}, {**RESULT, "tool_call_id": ""}
            )
        },
        "tool_call_id  is not found",
    ),
    (
        "http image url",
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "what is it?"},
                        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                    ],
                }
            ]
        },
        "unsupported image url",
    ),
    (
        "developer role",
        {"messages": [{"role": "developer", "content": "be nice"}, *HI]},
        "Invalid request: unsupported role developer",
    ),
]


@pytest.mark.parametrize(
    ("fields", "message"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED]
)
def test_rejected_with_kimis_message(
    raw: httpx.Client, fields: dict[str, Any], message: str
) -> None:
    body = {"model": "moonshot-v1-8k", "messages": HI, **fields}
    response = raw.post("/v1/chat/completions", json=body)
    assert response.status_code == 400
    assert response.json() == {"error": {"type": "invalid_request_error", "message": message}}


ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    (
        "k2.6 fixed values given exactly",
        {
            "model": "kimi-k2.6",
            "temperature": 1,
            "top_p": 0.95,
            "n": 1,
            "presence_penalty": 0,
            "frequency_penalty": 0,
        },
    ),
    (
        "k2.6 thinking off with 0.6",
        {"model": "kimi-k2.6", "temperature": 0.6, "thinking": {"type": "disabled"}},
    ),
    ("k2.6 keep all", {"model": "kimi-k2.6", "thinking": {"type": "enabled", "keep": "all"}}),
    (
        "k2.7-code keep null",
        {"model": "kimi-k2.7-code", "thinking": {"type": "enabled", "keep": None}},
    ),
    (
        "k2.6 required tool_choice with thinking off",
        {
            "model": "kimi-k2.6",
            "tools": [WEATHER_TOOL],
            "tool_choice": "required",
            "thinking": {"type": "disabled"},
        },
    ),
    (
        "k3 required tool_choice",
        {
            "model": "kimi-k3",
            "tools": [WEATHER_TOOL],
            "tool_choice": "required",
            "reasoning_effort": "low",
        },
    ),
    ("n 2 with temperature", {"model": "moonshot-v1-8k", "n": 2, "temperature": 0.3}),
    ("five stops of 32 bytes", {"stop": ["a" * 32, "b", "c", "d", "e"]}),
    (
        "empty reasoning_content is kept reasoning",
        {
            "model": "kimi-k2.6",
            "messages": _tool_history(
                {"role": "assistant", "reasoning_content": "", "tool_calls": [CALL]}
            ),
        },
    ),
    (
        "no content beside tool_calls",
        {"messages": _tool_history({"role": "assistant", "tool_calls": [CALL]})},
    ),
    (
        "data uri image",
        {
            "model": "moonshot-v1-8k-vision-preview",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image_url",
                            "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="},
                        }
                    ],
                }
            ],
        },
    ),
    (
        "ms:// image",
        {
            "model": "kimi-k2.6",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": "ms://cnoki7pkqq4r540f4q6g"}}
                    ],
                }
            ],
        },
    ),
    ("max_tokens that fits", {"model": "moonshot-v1-8k", "max_tokens": 8000}),
    (
        "k3 dynamic tools system message",
        {
            "model": "kimi-k3",
            "messages": [
                {"role": "system", "tools": [WEATHER_TOOL]},
                {"role": "user", "content": '@@tool:get_weather {"city":"Oslo"}@@'},
            ],
        },
    ),
]


@pytest.mark.parametrize("fields", [a[1] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED])
def test_accepted(raw: httpx.Client, fields: dict[str, Any]) -> None:
    body = {"model": "moonshot-v1-8k", "messages": HI, **fields}
    response = raw.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["object"] == "chat.completion"


def test_dynamic_tool_is_offered(raw: httpx.Client) -> None:
    fields = dict(ACCEPTED)["k3 dynamic tools system message"]
    reply = raw.post("/v1/chat/completions", json={"model": "kimi-k3", **fields}).json()
    assert reply["choices"][0]["message"]["tool_calls"][0]["function"] == {
        "name": "get_weather",
        "arguments": '{"city":"Oslo"}',
    }


def test_prompt_alone_over_the_context(raw: httpx.Client) -> None:
    long_text = "word " * 9000
    body = {"model": "moonshot-v1-8k", "messages": [{"role": "user", "content": long_text}]}
    response = raw.post("/v1/chat/completions", json=body)
    assert response.status_code == 400
    assert response.json() == {
        "error": {"type": "invalid_request_error", "message": "Input token length too long"}
    }


def test_unknown_model_is_404(raw: httpx.Client) -> None:
    response = raw.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": HI})
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "type": "resource_not_found_error",
            "message": "Not found the model or Permission denied",
        }
    }


def test_invalid_json_body(raw: httpx.Client) -> None:
    response = raw.post(
        "/v1/chat/completions", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_streaming_request_errors_are_json(raw: httpx.Client) -> None:
    body = {"model": "kimi-k2.6", "messages": HI, "temperature": 0.2, "stream": True}
    response = raw.post("/v1/chat/completions", json=body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"


def test_sdk_sees_the_rule_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="kimi-k2.6", messages=HI, temperature=0.3)
    assert caught.value.status_code == 400
    assert caught.value.body == {
        "type": "invalid_request_error",
        "message": "invalid temperature: only 1 is allowed for this model",
    }
