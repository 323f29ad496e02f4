"""Kimi Code's OpenAI face `/coding/v1/chat/completions` and `/coding/v1/models` (§13)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import openai
import orjson
import pytest

from kimi_gateway.emulator.server import EmulatorServer

from .conftest import HI, KIMI_CODE_KEY, KIMI_CODE_MODEL_NAMES, WEATHER_TOOL


@pytest.fixture
def code_raw(kimi_emulator: EmulatorServer) -> Any:
    with httpx.Client(
        base_url=kimi_emulator.url, headers={"authorization": f"Bearer {KIMI_CODE_KEY}"}
    ) as raw:
        yield raw


@pytest.mark.parametrize("model", KIMI_CODE_MODEL_NAMES)
def test_model_names_reported_as_kimi_for_coding(code_client: openai.OpenAI, model: str) -> None:
    reply = code_client.chat.completions.create(model=model, messages=HI)
    assert reply.model == "kimi-for-coding"
    assert reply.choices[0].message.content == "Hello! This is the Kimi emulator's default reply."


def test_stream_reports_kimi_for_coding(code_client: openai.OpenAI) -> None:
    stream = code_client.chat.completions.create(model="k3", messages=HI, stream=True)
    assert {chunk.model for chunk in stream} == {"kimi-for-coding"}


def test_unknown_model(code_raw: httpx.Client) -> None:
    response = code_raw.post("/coding/v1/chat/completions", json={"model": "gpt-5", "messages": HI})
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "type": "resource_not_found_error",
            "message": "Not found the model gpt-5 or Permission denied",
        }
    }


def test_models_list(code_client: openai.OpenAI) -> None:
    models = code_client.models.list().data
    assert [(m.id, (m.model_extra or {})["display_name"]) for m in models] == [
        ("kimi-for-coding", "Kimi For Coding"),
        ("kimi-for-coding-highspeed", "Kimi For Coding HighSpeed"),
    ]


def test_request_size_cap(code_raw: httpx.Client) -> None:
    body = orjson.dumps(
        {"model": "kimi-for-coding", "messages": [{"role": "user", "content": "x" * 2_097_152}]}
    )
    response = code_raw.post(
        "/coding/v1/chat/completions", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "type": "invalid_request_error",
            "message": f"total message size {len(body)} exceeds limit 2097152",
        }
    }


def _tool(name: str) -> dict[str, Any]:
    return {**WEATHER_TOOL, "function": {**WEATHER_TOOL["function"], "name": name}}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"tools": [_tool("read"), _tool("read")]}, "function name read is duplicated"),
        (
            {"tools": [_tool(f"t{i:03}") for i in range(129)]},
            "a max of 128 tools can be supported",  # [3M] Kimi-K2 #90, as on /coding/v1/messages
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "http://x/a.png"}}],
                    }
                ]
            },
            "unsupported image url",
        ),
        (
            {"messages": [{"role": "user", "content": "x " * 200_000}], "max_tokens": 100_000},
            "Your request exceeded model token limit: 262144",
        ),
        (
            {
                "messages": [
                    *HI,
                    {
                        "role": "assistant",
                        "reasoning_content": "r",
                        "tool_calls": [
                            {
                                "id": "read:0",
                                "type": "function",
                                "function": {"name": "read", "arguments": "{}"},
                            }
                        ],
                        "reasoning_details": [{"index": 0, "type": "summary", "summary": "r"}],
                    },
                    {"role": "tool", "tool_call_id": "read:0", "content": "ok"},
                ]
            },
            "the reasoning_details at position 1 entry 0 must not contain streaming index",
        ),
    ],
)
def test_kimi_code_rules(code_raw: httpx.Client, fields: dict[str, Any], message: str) -> None:
    response = code_raw.post(
        "/coding/v1/chat/completions", json={"model": "kimi-for-coding", "messages": HI, **fields}
    )
    assert response.status_code == 400
    assert response.json() == {"error": {"type": "invalid_request_error", "message": message}}


def test_128_tools_accepted(code_raw: httpx.Client) -> None:
    body = {
        "model": "kimi-for-coding",
        "messages": HI,
        "tools": [_tool(f"t{i:03}") for i in range(128)],
    }
    assert code_raw.post("/coding/v1/chat/completions", json=body).status_code == 200


def test_reasoning_effort_none_turns_thinking_off(code_raw: httpx.Client) -> None:
    body = {"model": "kimi-for-coding", "messages": HI}
    on = code_raw.post("/coding/v1/chat/completions", json=body).json()["choices"][0]["message"]
    off = code_raw.post(
        "/coding/v1/chat/completions", json={**body, "reasoning_effort": "none"}
    ).json()
    assert "reasoning_content" in on
    assert "reasoning_content" not in off["choices"][0]["message"]


def test_tool_choice_required_accepted_with_thinking(code_raw: httpx.Client) -> None:
    body = {
        "model": "kimi-for-coding",
        "messages": HI,
        "tools": [WEATHER_TOOL],
        "tool_choice": "required",
    }
    assert code_raw.post("/coding/v1/chat/completions", json=body).status_code == 200


@pytest.mark.parametrize(
    ("path", "key", "status", "error"),
    [
        (
            "/coding/v1/chat/completions",
            "sk-test-platform",
            401,
            {
                "type": "invalid_authentication_error",
                "message": "The API Key appears to be invalid or may have expired",
            },
        ),
        (
            "/v1/chat/completions",
            KIMI_CODE_KEY,
            401,
            {"type": "invalid_authentication_error", "message": "Invalid Authentication"},
        ),
        (
            "/coding/v1/chat/completions",
            None,
            401,
            {"type": "incorrect_api_key_error", "message": "Incorrect API key provided"},
        ),
    ],
)
def test_keys_do_not_cross_products(
    kimi_emulator: EmulatorServer, path: str, key: str | None, status: int, error: Any
) -> None:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    model = "kimi-for-coding" if path.startswith("/coding") else "kimi-k2.6"
    response = httpx.post(
        kimi_emulator.url + path, json={"model": model, "messages": HI}, headers=headers
    )
    assert (response.status_code, response.json()) == (status, {"error": error})


def test_user_agent_gating(kimi_emulator_factory: Callable[..., EmulatorServer]) -> None:
    server = kimi_emulator_factory(require_coding_agent_ua=True)
    generic = openai.OpenAI(base_url=server.kimi_code_url, api_key=KIMI_CODE_KEY, max_retries=0)
    with pytest.raises(openai.PermissionDeniedError) as caught:
        generic.chat.completions.create(model="kimi-for-coding", messages=HI)
    assert caught.value.body == {
        "type": "access_terminated_error",
        "message": "Kimi For Coding is currently only available for Coding Agents",
    }
    agent = openai.OpenAI(
        base_url=server.kimi_code_url,
        api_key=KIMI_CODE_KEY,
        max_retries=0,
        default_headers={"User-Agent": "KimiCLI/1.2.3"},
    )
    assert (
        agent.chat.completions.create(model="kimi-for-coding", messages=HI).model
        == "kimi-for-coding"
    )


def test_user_agent_gating_off_by_default(code_client: openai.OpenAI) -> None:
    assert code_client.chat.completions.create(model="k3", messages=HI).choices


def test_reasoning_details_option(kimi_emulator_factory: Callable[..., EmulatorServer]) -> None:
    server = kimi_emulator_factory(reasoning_details=True)
    body = {
        "model": "k3",
        "messages": [{"role": "user", "content": "@@think:ab cd@@"}],
        "stream": True,
    }
    headers = {"authorization": f"Bearer {KIMI_CODE_KEY}"}
    response = httpx.post(server.url + "/coding/v1/chat/completions", json=body, headers=headers)
    deltas = [
        orjson.loads(line[6:])["choices"][0]["delta"]
        for line in response.text.split("\n\n")
        if line.startswith("data: {")
    ]
    assert deltas[1:4] == [
        {
            "reasoning_content": "ab",
            "reasoning_details": [{"index": 0, "type": "summary", "summary": "ab"}],
        },
        {
            "reasoning_content": " cd",
            "reasoning_details": [{"index": 0, "type": "summary", "summary": " cd"}],
        },
        {
            "reasoning_details": [
                {
                    "index": 1,
                    "type": "encrypted",
                    "encrypted": deltas[3]["reasoning_details"][0]["encrypted"],
                }
            ]
        },
    ]
    platform = httpx.post(
        server.url + "/v1/chat/completions",
        json={**body, "model": "kimi-k3"},
        headers={"authorization": "Bearer sk-x"},
    )
    assert b"reasoning_details" not in platform.content
