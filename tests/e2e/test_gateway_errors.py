"""Errors through the gateway: Kimi's errors in the caller's dialect with Kimi's message kept,
hints where they help, mid-stream failures as the dialect's error event, and clear 4xx for bad
input, unknown routes and limits."""

from __future__ import annotations

import socket
from typing import Any

import anthropic
import httpx
import openai
import orjson
import pytest

from kimi_gateway.upstreams.kimi.upstream import CODING_AGENT_HINT

# Wire JSON bodies (and, for the openai SDK, its keyword arguments).
OPENAI_BODY: dict[str, Any] = {
    "model": "kimi-k2.6",
    "messages": [{"role": "user", "content": "hi"}],
}
ANTHROPIC_BODY: dict[str, Any] = {
    "model": "kimi-k2.6",
    "max_tokens": 100,
    "messages": [{"role": "user", "content": "hi"}],
}


def _say(body: dict[str, Any], text: str, **extra: Any) -> dict[str, Any]:
    return {**body, "messages": [{"role": "user", "content": text}], **extra}


def _sse_data(text: str) -> list[Any]:
    return [
        line.removeprefix("data: ")
        if line.removeprefix("data: ") == "[DONE]"
        else orjson.loads(line.removeprefix("data: "))
        for line in text.splitlines()
        if line.startswith("data: ")
    ]


def _without_request_id(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "request_id"}


@pytest.mark.parametrize("stream", [False, True])
def test_openai_client_gets_kimi_429_in_openai_shape(gateway: Any, stream: bool) -> None:
    body = _say(OPENAI_BODY, "@@error:429@@", stream=stream)
    reply = httpx.post(gateway.openai_url + "/chat/completions", json=body)
    assert (reply.status_code, reply.headers["retry-after"]) == (429, "1")
    assert reply.json() == {
        "error": {
            "message": "The engine is currently overloaded, please try again later",
            "type": "server_error",
            "param": None,
            "code": "engine_overloaded_error",
        }
    }


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_client_gets_kimi_errors_in_anthropic_shape(gateway: Any, stream: bool) -> None:
    body = _say(ANTHROPIC_BODY, "@@error:400@@", stream=stream)
    reply = httpx.post(gateway.url + "/v1/messages", json=body)
    assert reply.status_code == 400
    assert _without_request_id(reply.json()) == {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "Invalid request: scripted error 400",
        },
    }


def test_sdk_sees_kimi_rate_limit(gateway: Any) -> None:
    client = openai.OpenAI(base_url=gateway.openai_url, api_key="unused", max_retries=0)
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(
            **_say(OPENAI_BODY, "@@error:429:rate_limit_reached_error@@")
        )
    assert caught.value.status_code == 429


@pytest.mark.parametrize("dialect", ["openai", "anthropic"])
def test_kimi_code_403_explains_itself_and_ua_is_forwarded(
    gateway_factory: Any, kimi_emulator_factory: Any, dialect: str
) -> None:
    emulator = kimi_emulator_factory(require_coding_agent_ua=True)
    gateway = gateway_factory(emulator=emulator)
    if dialect == "openai":
        path, body = "/v1/chat/completions", {**OPENAI_BODY, "model": "kimi-for-coding"}
    else:
        path, body = "/v1/messages", {**ANTHROPIC_BODY, "model": "kimi-for-coding"}
    refused = httpx.post(gateway.url + path, json=body, headers={"user-agent": "my-app/1.0"})
    accepted = httpx.post(
        gateway.url + path, json=body, headers={"user-agent": "claude-cli/2.1.197 (external)"}
    )
    assert (refused.status_code, accepted.status_code) == (403, 200)
    message = "Kimi For Coding is currently only available for Coding Agents"
    if dialect == "openai":
        assert refused.json()["error"] == {
            "message": f"{message} (hint: {CODING_AGENT_HINT})",
            "type": "permission_error",
            "param": None,
            "code": "access_terminated_error",
        }
    else:
        error = refused.json()["error"]
        assert error["type"] == "permission_error"
        assert error["message"].startswith(message)
        assert CODING_AGENT_HINT in error["message"]
    agents = [entry["headers"].get("user-agent") for entry in emulator.requests()]
    assert agents == ["my-app/1.0", "claude-cli/2.1.197 (external)"]


def test_open_platform_gets_the_gateway_user_agent(gateway: Any) -> None:
    httpx.post(gateway.openai_url + "/chat/completions", json=OPENAI_BODY)
    [entry] = gateway.emulator.requests()
    assert entry["headers"]["user-agent"].startswith("kimi-gateway/")


def test_openai_stream_cut_midway_ends_with_error_chunk_and_done(gateway: Any) -> None:
    body = _say(OPENAI_BODY, "@@cut@@", stream=True)
    reply = httpx.post(gateway.openai_url + "/chat/completions", json=body)
    assert reply.status_code == 200
    events = _sse_data(reply.text)
    assert events[-2:] == [
        {
            "error": {
                "message": "the Kimi upstream 127.0.0.1 broke off its response",
                "type": "server_error",
                "param": None,
                "code": None,
            }
        },
        "[DONE]",
    ]
    assert all("choices" in event for event in events[:-2])


def test_anthropic_stream_cut_midway_ends_with_error_event(gateway: Any) -> None:
    body = _say(ANTHROPIC_BODY, "@@cut@@", stream=True)
    reply = httpx.post(gateway.url + "/v1/messages", json=body)
    lines = reply.text.strip().split("\n\n")
    assert lines[0].startswith("event: message_start\n")
    assert lines[-1] == (
        "event: error\n"
        'data: {"type":"error","error":{"type":"api_error","message":"the Kimi upstream '
        '127.0.0.1 broke off its response"}}'
    )
    client = anthropic.Anthropic(base_url=gateway.url, api_key="unused", max_retries=0)
    sdk_body = {k: v for k, v in body.items() if k != "stream"}
    with pytest.raises(anthropic.APIStatusError), client.messages.stream(**sdk_body) as events:
        events.get_final_message()


def test_kimi_error_event_mid_stream_reaches_the_client(
    gateway_factory: Any, kimi_emulator_factory: Any
) -> None:
    emulator = kimi_emulator_factory(faults=[{"kind": "content_filter_mid", "after_chunks": 2}])
    gateway = gateway_factory(emulator=emulator)
    reply = httpx.post(
        gateway.openai_url + "/chat/completions", json={**OPENAI_BODY, "stream": True}
    )
    events = _sse_data(reply.text)
    assert events[-1] == "[DONE]"
    assert events[-2]["error"]["code"] == "content_filter"


def test_non_streaming_cut_is_a_clean_error(gateway: Any) -> None:
    """A transport failure is the upstream's, not the gateway's: 502, not 500."""
    reply = httpx.post(gateway.openai_url + "/chat/completions", json=_say(OPENAI_BODY, "@@cut@@"))
    assert reply.status_code == 502
    assert reply.json()["error"] == {
        "message": "the Kimi upstream 127.0.0.1 broke off its response",
        "type": "server_error",
        "param": None,
        "code": None,
    }


def test_an_unreachable_upstream_is_a_502(gateway_factory: Any) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gateway = gateway_factory(base_url=f"http://127.0.0.1:{port}/v1")
    reply = httpx.post(gateway.openai_url + "/chat/completions", json=OPENAI_BODY)
    assert reply.status_code == 502
    assert reply.json()["error"]["message"] == "cannot connect to the Kimi upstream 127.0.0.1"


@pytest.mark.parametrize(
    ("path", "content", "status", "message"),
    [
        ("/v1/chat/completions", b"{not json", 400, "request body is not valid JSON"),
        ("/v1/chat/completions", b"[1, 2]", 400, "request body must be a JSON object"),
        (
            "/v1/chat/completions",
            b'{"model": 5, "messages": [{"role": "user", "content": "hi"}]}',
            400,
            "model",
        ),
        ("/v1/messages", b"{not json", 400, "request body is not valid JSON"),
        ("/v1/messages", b'{"model":"kimi-k2.6","messages":"hi","max_tokens":5}', 400, "messages"),
        ("/v1/messages/count_tokens", b"null", 400, "request body must be a JSON object"),
    ],
)
def test_bad_input_is_a_clear_4xx_in_the_route_dialect(
    gateway: Any, path: str, content: bytes, status: int, message: str
) -> None:
    headers = {"content-type": "application/json"}
    reply = httpx.post(gateway.url + path, content=content, headers=headers)
    assert reply.status_code == status
    body = reply.json()
    if path.startswith("/v1/messages"):
        assert body["type"] == "error"
        assert body["error"]["type"] == "invalid_request_error"
        assert message in body["error"]["message"]
    else:
        assert body["error"]["type"] == "invalid_request_error"
        assert message in body["error"]["message"]


def test_unknown_route_and_method(gateway: Any) -> None:
    unknown = httpx.get(gateway.url + "/v1/v1/models")
    assert unknown.status_code == 404
    assert unknown.json() == {
        "error": {
            "message": "Unknown request URL: GET /v1/v1/models. The gateway serves this at"
            " /v1/models: remove /v1 from the end of the client's base URL. OpenAI clients"
            f" (Chat Completions, Responses) take the base URL {gateway.url}/v1.",
            "type": "not_found_error",
            "param": None,
            "code": None,
        }
    }
    wrong = httpx.get(gateway.url + "/v1/messages")
    assert wrong.status_code == 405
    assert wrong.json()["type"] == "error"
    assert wrong.json()["error"]["message"] == "GET is not allowed on /v1/messages (POST)"


def test_body_size_limit(gateway_pool: Any, kimi_emulator: Any) -> None:
    gateway = gateway_pool.get(max_body_bytes=1000)
    big = {**ANTHROPIC_BODY, "messages": [{"role": "user", "content": "x" * 2000}]}
    reply = httpx.post(gateway.url + "/v1/messages", json=big)
    assert reply.status_code == 413
    assert reply.json()["error"] == {
        "type": "request_too_large",
        "message": "request body is larger than the limit of 1000 bytes",
    }
    assert kimi_emulator.requests() == []


def test_tool_count_limit(gateway_pool: Any, kimi_emulator: Any) -> None:
    gateway = gateway_pool.get(max_tools=2)
    tools = [
        {"type": "function", "function": {"name": f"t{i}", "parameters": {"type": "object"}}}
        for i in range(3)
    ]
    reply = httpx.post(
        gateway.openai_url + "/chat/completions", json={**OPENAI_BODY, "tools": tools}
    )
    assert reply.status_code == 400
    assert reply.json()["error"] == {
        "message": "too many tools: 3 (this gateway's limit is 2)",
        "type": "invalid_request_error",
        "param": "tools",
        "code": None,
    }


def test_first_byte_timeout(gateway_pool: Any, kimi_emulator: Any) -> None:
    gateway = gateway_pool.get(first_byte_timeout=0.1, reliability={"retry": {"enabled": False}})
    reply = httpx.post(
        gateway.openai_url + "/chat/completions", json=_say(OPENAI_BODY, "@@delay:600@@")
    )
    assert reply.status_code == 504
    assert reply.json()["error"]["message"] == (
        "the Kimi upstream 127.0.0.1 sent no response head within 0.1 s"
    )


def test_idle_timeout_mid_stream(gateway_factory: Any, kimi_emulator_factory: Any) -> None:
    emulator = kimi_emulator_factory(faults=[{"kind": "slow_chunks", "delay_ms": 1500}])
    # Retries off: a stall before any content would otherwise be retried (nothing was sent).
    gateway = gateway_factory(
        emulator=emulator, idle_timeout=0.25, reliability={"retry": {"enabled": False}}
    )
    reply = httpx.post(
        gateway.url + "/v1/messages", json={**ANTHROPIC_BODY, "stream": True}, timeout=10
    )
    assert reply.status_code == 200
    assert reply.text.strip().split("\n\n")[-1] == (
        "event: error\n"
        'data: {"type":"error","error":{"type":"timeout_error","message":"the Kimi upstream '
        '127.0.0.1 sent nothing for 0.25 s"}}'
    )


def test_total_timeout(gateway_factory: Any, kimi_emulator_factory: Any) -> None:
    emulator = kimi_emulator_factory(faults=[{"kind": "slow_chunks", "delay_ms": 300}])
    gateway = gateway_factory(emulator=emulator, total_timeout=1.0)
    reply = httpx.post(
        gateway.openai_url + "/chat/completions", json={**OPENAI_BODY, "stream": True}
    )
    events = _sse_data(reply.text)
    assert events[-2]["error"]["message"] == (
        "the request took longer than the gateway's limit of 1 s"
    )
    assert events[-1] == "[DONE]"
