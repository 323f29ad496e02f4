"""Kimi's rules on the Anthropic faces, part one: auth and the mixed error shapes
(docs/kimi.md §14), Kimi Code's caps and gates (§13), request and message validation."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from kimi_gateway.emulator.config import EmulatorConfig
from kimi_gateway.emulator.script import TOOL_RESULT_PREFIX
from kimi_gateway.emulator.server import EmulatorServer

from .test_anthropic_support import (
    BASH_TOOL,
    BASH_TURN,
    CODING,
    HI,
    KIMI_CODE_KEY,
    PLATFORM,
    error_of,
    post,
)

REQUEST_ID = re.compile(r"[0-9a-f]{8}")


def anthropic_error(response: Any, status: int, kind: str, message: str) -> None:
    """Assert an Anthropic-shape error; a platform body also carries an 8-hex request_id."""
    assert response.status_code == status, response.text
    body = error_of(response)
    if response.request.url.path.startswith("/anthropic"):
        assert REQUEST_ID.fullmatch(body.pop("request_id"))
    assert body == {"type": "error", "error": {"type": kind, "message": message}}


def bad(server: EmulatorServer, path: str, body: dict[str, Any], message: str) -> None:
    full = {"model": "k3" if path == CODING else "kimi-k3", "max_tokens": 100, **body}
    anthropic_error(post(server, path, full), 400, "invalid_request_error", message)


# --- auth and the mixed shapes -------------------------------------------------------------


def test_platform_401_and_429_are_openai_shaped(kimi_emulator: EmulatorServer) -> None:
    body = {"model": "kimi-k3", "max_tokens": 10, "messages": HI}
    missing = post(kimi_emulator, PLATFORM, body, key="")
    assert missing.status_code == 401
    assert error_of(missing) == {
        "error": {"type": "incorrect_api_key_error", "message": "Incorrect API key provided"}
    }
    cross = post(kimi_emulator, PLATFORM, body, key=KIMI_CODE_KEY)  # a Kimi Code key
    assert cross.status_code == 401
    assert error_of(cross) == {
        "error": {"type": "invalid_authentication_error", "message": "Invalid Authentication"}
    }


def test_platform_quota_429_is_openai_shaped(kimi_emulator_factory: Any) -> None:
    server = kimi_emulator_factory(EmulatorConfig(initial_cash_balance=Decimal(0)))
    response = post(server, PLATFORM, {"model": "kimi-k3", "max_tokens": 10, "messages": HI})
    assert response.status_code == 429
    assert error_of(response) == {
        "error": {
            "type": "exceeded_current_quota_error",
            "message": "You exceeded your current token quota: 0, please check your account "
            "balance",
        }
    }


def test_kimi_code_errors_are_anthropic_shaped(kimi_emulator: EmulatorServer) -> None:
    body = {"model": "kimi-for-coding", "max_tokens": 10, "messages": HI}
    cross = post(kimi_emulator, CODING, body, key="sk-platform-key")
    anthropic_error(
        cross,
        401,
        "authentication_error",
        "The API Key appears to be invalid or may have expired",
    )
    assert "request_id" not in cross.json()
    # Key order as captured from each route (Kimi-K2 #90 for Kimi Code; HALRO for the platform).
    assert cross.content.startswith(b'{"error":{"type":"authentication_error","message":')
    platform = post(kimi_emulator, PLATFORM, {**body, "model": "kimi-k3", "messages": []})
    assert platform.content.startswith(b'{"type":"error","error":{"type":"invalid_request_error"')
    assert platform.content.endswith(b'"}')


def test_kimi_code_accepts_bearer_keys(kimi_emulator: EmulatorServer) -> None:
    body = {"model": "kimi-for-coding", "max_tokens": 100, "messages": HI}
    response = post(kimi_emulator, CODING, body, key="", authorization=f"Bearer {KIMI_CODE_KEY}")
    assert response.status_code == 200


def test_user_agent_gate_when_configured(kimi_emulator_factory: Any) -> None:
    server = kimi_emulator_factory(EmulatorConfig(require_coding_agent_ua=True))
    body = {"model": "kimi-for-coding", "max_tokens": 100, "messages": HI}
    anthropic_error(
        post(server, CODING, body, **{"user-agent": "python-httpx/0.28"}),
        403,
        "access_terminated_error",
        "Kimi For Coding is currently only available for Coding Agents",
    )
    agent = {"user-agent": "claude-cli/2.1.197 (external, sdk-cli)"}
    assert post(server, CODING, body, **agent).status_code == 200
    # The gate is Kimi Code's only (§1): the platform route serves any client.
    platform = {**body, "model": "kimi-k3"}
    assert post(server, PLATFORM, platform, **{"user-agent": "curl/8"}).status_code == 200


def test_count_tokens_is_method_not_found(kimi_emulator: EmulatorServer) -> None:
    body = {"model": "kimi-for-coding", "messages": HI}
    for path in (CODING, PLATFORM):
        anthropic_error(
            post(kimi_emulator, path + "/count_tokens", body),
            404,
            "not_found_error",
            "method not found",
        )


# --- Kimi Code caps ---------------------------------------------------------------------------


def test_two_mebibyte_request_cap(kimi_emulator: EmulatorServer) -> None:
    def body_of(size: int) -> bytes:
        # Spaces before one word: a huge body that is still a short prompt.
        head = b'{"model":"kimi-for-coding","max_tokens":10,"messages":[{"role":"user","content":"'
        tail = b'x"}]}'
        return head + b" " * (size - len(head) - len(tail)) + tail

    over = body_of(2_097_153)
    anthropic_error(
        post(kimi_emulator, CODING, over),
        400,
        "invalid_request_error",
        "total message size 2097153 exceeds limit 2097152",
    )
    assert post(kimi_emulator, CODING, body_of(2_097_152)).status_code == 200
    # The platform route has no such cap.
    platform = post(kimi_emulator, PLATFORM, over.replace(b"kimi-for-coding", b"kimi-k3"))
    assert platform.status_code == 200


def _tools(count: int) -> list[dict[str, Any]]:
    return [{**BASH_TOOL, "name": f"tool_{i}"} for i in range(count)]


def test_tool_count_cap_and_duplicates(kimi_emulator: EmulatorServer) -> None:
    for path in (CODING, PLATFORM):
        bad(
            kimi_emulator,
            path,
            {"tools": _tools(129), "messages": HI},
            "a max of 128 tools can be supported",
        )
        bad(
            kimi_emulator,
            path,
            {"tools": [BASH_TOOL, BASH_TOOL], "messages": HI},
            "function name Bash is duplicated",
        )
    ok = post(
        kimi_emulator,
        CODING,
        {"model": "k3", "max_tokens": 9, "tools": _tools(128), "messages": HI},
    )
    assert ok.status_code == 200


def test_tool_schema_rules_apply(kimi_emulator: EmulatorServer) -> None:
    tool = {
        "name": "pick",
        "input_schema": {"type": "object", "properties": {"c": {"enum": ["a"]}}},
    }
    bad(
        kimi_emulator,
        CODING,
        {"tools": [tool], "messages": HI},
        "Invalid request: tools.function.parameters is not a valid moonshot flavored json "
        "schema, details: <At path 'properties.c': type is not defined>",
    )


# --- messages ---------------------------------------------------------------------------------


def _image(source: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"type": "image", "source": source}]}]


def test_image_sources(kimi_emulator: EmulatorServer) -> None:
    url = {"type": "url", "url": "https://example.com/cat.png"}
    for path in (CODING, PLATFORM):
        bad(kimi_emulator, path, {"messages": _image(url)}, "unsupported image url")
    b64 = {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}
    ok = post(kimi_emulator, CODING, {"model": "k3", "max_tokens": 99, "messages": _image(b64)})
    assert ok.status_code == 200


def _result(tool_use_id: str) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": tool_use_id, "content": "x"}


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        ([], "Invalid request: messages must not be empty"),
        (
            [{"role": "user", "content": ""}],
            "the message at position 0 with role 'user' must not be empty",
        ),
        ([{"role": "user", "content": [{"type": "text", "text": ""}]}], "text content is empty"),
        ([{"role": "tool", "content": "x"}], "messages.0.role: unsupported role tool"),
        ([{"role": "user", "content": [_result("nope")]}], "tool_call_id 'nope' is not found"),
        ([{"role": "user", "content": [_result("")]}], "tool_call_id  is not found"),
        (
            [{"role": "user", "content": [{"type": "video", "x": 1}]}],
            "messages.0.content.0: unsupported content block type 'video'",
        ),
    ],
)
def test_message_validation(
    kimi_emulator: EmulatorServer, messages: list[Any], message: str
) -> None:
    bad(kimi_emulator, PLATFORM, {"messages": messages}, message)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": "kimi-k3", "messages": HI}, "max_tokens: Field required"),
        (
            {"model": "kimi-k3", "max_tokens": 0, "messages": HI},
            "max_tokens: Input should be greater than or equal to 1",
        ),
        ({"max_tokens": 5, "messages": HI}, "model: Field required"),
        (
            {"model": "kimi-k3", "max_tokens": 5, "messages": HI, "stop_sequences": list("abcdef")},
            "stop array too long. Expected an array with maximum length 5, but got 6",
        ),
        (
            {"model": "kimi-k3", "max_tokens": 5, "messages": HI, "thinking": {"type": "maybe"}},
            "thinking.type: must be one of enabled, adaptive, disabled",
        ),
        (
            {
                "model": "kimi-k2.7-code",
                "max_tokens": 5,
                "messages": HI,
                "thinking": {"type": "disabled"},
            },
            "invalid thinking: only type=enabled is allowed for this model",
        ),
    ],
)
def test_top_level_validation(
    kimi_emulator: EmulatorServer, body: dict[str, Any], message: str
) -> None:
    anthropic_error(post(kimi_emulator, PLATFORM, body), 400, "invalid_request_error", message)


def test_tool_result_pairs_with_an_earlier_tool_use(kimi_emulator: EmulatorServer) -> None:
    history = [
        *BASH_TURN,
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "call-1", "name": "Bash", "input": {"command": "ls"}}
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "call-1",
                    "content": [
                        {"type": "text", "text": "a.txt"},
                        {"type": "text", "text": "b.txt"},
                    ],
                }
            ],
        },
        {"role": "user", "content": "and now?"},  # two consecutive user messages (OpenClaw)
    ]
    body = {"model": "kimi-k3", "max_tokens": 200, "tools": [BASH_TOOL], "messages": history}
    reply = post(kimi_emulator, PLATFORM, body).json()
    assert reply["content"][-1] == {"type": "text", "text": TOOL_RESULT_PREFIX + "a.txt\nb.txt"}


def _tool_reference_history() -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "find a tool"},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "ts1", "name": "ToolSearch", "input": {"query": "web"}}
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "ts1",
                    "content": [{"type": "tool_reference", "tool_name": "WebSearch"}],
                }
            ],
        },
    ]


def test_tool_reference_refused_on_kimi_code_only(kimi_emulator: EmulatorServer) -> None:
    """docs/kimi.md §F2.11; [3M] kimi-cli #1449: 400 "Invalid request Error"."""
    body = {"messages": _tool_reference_history()}
    bad(kimi_emulator, CODING, body, "Invalid request Error")
    platform = post(kimi_emulator, PLATFORM, {"model": "kimi-k3", "max_tokens": 200, **body})
    assert platform.json()["content"][-1]["text"] == TOOL_RESULT_PREFIX + "WebSearch"
