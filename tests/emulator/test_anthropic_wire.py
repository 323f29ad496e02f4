"""The Anthropic faces on the wire, read with raw httpx: the exact SSE event sequence and
shapes (docs/kimi.md §14), ping as an option, cuts, delays, mid-stream filters, scripted errors."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson
import pytest

from kimi_gateway.emulator.config import EmulatorConfig, FaultRule
from kimi_gateway.emulator.script import DEFAULT_REASONING, DEFAULT_REPLY
from kimi_gateway.emulator.server import EmulatorServer

from .test_anthropic_support import (
    BASH_ARGS,
    BASH_TOOL,
    CODING,
    HI,
    KIMI_CODE_KEY,
    PLATFORM,
    error_of,
    names,
    post,
    raw_client,
    sse_events,
)

BLOCKS = ["content_block_start", "delta", "content_block_stop"]


def _stream(server: EmulatorServer, path: str, body: dict[str, Any]) -> httpx.Response:
    response = post(server, path, {**body, "stream": True})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    return response


def test_platform_stream_sequence_thinking_text_tool(kimi_emulator: EmulatorServer) -> None:
    body = {
        "model": "kimi-k3",
        "max_tokens": 1000,
        "tools": [BASH_TOOL],
        "messages": [{"role": "user", "content": f"@@text:ok@@ @@tool:Bash {BASH_ARGS}@@"}],
    }
    events = sse_events(_stream(kimi_emulator, PLATFORM, body).content)
    # Six standard event types only: no ping, no error (§14).
    assert names(events) == ["message_start", *BLOCKS * 3, "message_delta", "message_stop"]
    start = events[0][1]["message"]
    assert start["content"] == []
    assert start["stop_reason"] is None
    assert start["stop_sequence"] is None
    assert start["model"] == "kimi-k3"
    assert start["usage"]["output_tokens"] == 1
    assert "output_tokens_details" not in start["usage"]
    starts = [data["content_block"] for name, data in events if name == "content_block_start"]
    assert starts == [
        {"type": "thinking", "thinking": "", "signature": ""},
        {"type": "text", "text": ""},
        {"type": "tool_use", "id": "Bash_0", "name": "Bash", "input": {}},
    ]
    deltas = [data for name, data in events if name == "content_block_delta"]
    assert {d["index"] for d in deltas} == {0, 1, 2}
    by_index = {i: [d["delta"] for d in deltas if d["index"] == i] for i in range(3)}
    assert "".join(d["thinking"] for d in by_index[0][:-1]) == DEFAULT_REASONING
    assert by_index[0][-1]["type"] == "signature_delta"
    assert [d["type"] for d in by_index[1]] == ["text_delta"]
    assert "".join(d["partial_json"] for d in by_index[2]) == BASH_ARGS  # byte-exact
    assert len(by_index[2]) > 1
    message_delta = events[-2][1]
    assert message_delta["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}
    assert message_delta["usage"]["output_tokens_details"]["thinking_tokens"] > 0
    assert events[-1][1] == {"type": "message_stop"}


def test_coding_stream_text_only_when_thinking_disabled(kimi_emulator: EmulatorServer) -> None:
    body = {
        "model": "kimi-for-coding",
        "max_tokens": 1000,
        "thinking": {"type": "disabled"},
        "messages": HI,
    }
    events = sse_events(_stream(kimi_emulator, CODING, body).content)
    assert names(events) == ["message_start", *BLOCKS, "message_delta", "message_stop"]
    text = "".join(d["delta"]["text"] for n, d in events if n == "content_block_delta")
    assert text == DEFAULT_REPLY
    assert events[-2][1]["delta"]["stop_reason"] == "end_turn"


def test_json_body_for_non_streaming(kimi_emulator: EmulatorServer) -> None:
    response = post(kimi_emulator, PLATFORM, {"model": "kimi-k3", "max_tokens": 99, "messages": HI})
    assert response.headers["content-type"] == "application/json"
    assert list(response.json()) == [
        "id",
        "type",
        "role",
        "model",
        "content",
        "stop_reason",
        "stop_sequence",
        "usage",
    ]


def test_kimi_code_ping_is_an_opt_in(
    kimi_emulator: EmulatorServer, kimi_emulator_factory: Any
) -> None:
    body = {"model": "kimi-for-coding", "max_tokens": 1000, "stream": True, "messages": HI}
    assert "ping" not in names(sse_events(post(kimi_emulator, CODING, body).content))
    server = kimi_emulator_factory(anthropic={"coding_ping": True})
    coding = post(server, CODING, body)
    platform = post(server, PLATFORM, {**body, "model": "kimi-k3"})
    assert names(sse_events(coding.content))[:2] == ["message_start", "ping"]
    assert "ping" not in names(sse_events(platform.content))  # §14: never on the platform


def _read_until_drop(server: EmulatorServer, path: str, body: dict[str, Any]) -> bytes:
    received: list[bytes] = []
    headers = {"x-api-key": KIMI_CODE_KEY if path == CODING else "sk-test"}
    with raw_client(server) as client, client.stream("POST", path, json=body, headers=headers) as r:
        assert r.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            received.extend(r.iter_raw())  # the server drops the line mid-body
    return b"".join(received)


def test_cut_drops_the_connection_before_message_stop(kimi_emulator: EmulatorServer) -> None:
    body = {"model": "kimi-k3", "max_tokens": 1000, "stream": True}
    received = _read_until_drop(
        kimi_emulator, PLATFORM, {**body, "messages": [{"role": "user", "content": "@@cut@@"}]}
    )
    events = sse_events(received)
    # Two content deltas (script.DEFAULT_CUT_AFTER), then the line goes dead.
    assert names(events) == ["message_start", "content_block_start", "delta"]
    assert [n for n, _ in events].count("content_block_delta") == 2


def test_cut_of_a_json_reply_sends_half_a_body(kimi_emulator: EmulatorServer) -> None:
    body = {"model": "k3", "max_tokens": 1000, "messages": [{"role": "user", "content": "@@cut@@"}]}
    received = _read_until_drop(kimi_emulator, CODING, body)
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(received)
    assert received.startswith(b'{"id":"msg_')


def test_mid_stream_content_filter_ends_with_refusal(
    kimi_emulator_factory: Any,
) -> None:
    rule = FaultRule(kind="content_filter_mid", after_chunks=3)
    server = kimi_emulator_factory(EmulatorConfig(faults=(rule,)))
    body = {"model": "kimi-k3", "max_tokens": 1000, "messages": HI}
    events = sse_events(_stream(server, PLATFORM, body).content)
    assert names(events) == ["message_start", *BLOCKS, "message_delta", "message_stop"]
    assert [n for n, _ in events].count("content_block_delta") == 3
    assert events[-2][1]["delta"] == {"stop_reason": "refusal", "stop_sequence": None}
    refused = post(server, PLATFORM, body)  # not streaming: the whole reply is refused
    assert refused.status_code == 400
    assert error_of(refused)["error"] == {
        "type": "invalid_request_error",
        "message": "The request was rejected because it was considered high risk",
    }


def test_delay_marker_holds_the_first_byte(kimi_emulator: EmulatorServer) -> None:
    body = {"model": "kimi-k3", "max_tokens": 1000}
    started = time.monotonic()
    response = post(
        kimi_emulator,
        PLATFORM,
        {**body, "messages": [{"role": "user", "content": "@@delay:150@@"}]},
    )
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.15


@pytest.mark.parametrize(
    ("marker", "path", "status", "expected"),
    [
        (
            "@@error:429@@",
            PLATFORM,
            429,
            {
                "error": {
                    "type": "engine_overloaded_error",
                    "message": "The engine is currently overloaded, please try again later",
                }
            },
        ),
        (
            "@@error:429@@",
            CODING,
            429,
            {
                "type": "error",
                "error": {
                    "type": "rate_limit_error",
                    "message": "The engine is currently overloaded, please try again later",
                },
            },
        ),
        (
            "@@error:500@@",
            CODING,
            500,
            {
                "type": "error",
                "error": {
                    "type": "api_error",
                    "message": "Internal server error, please try again later",
                },
            },
        ),
    ],
)
def test_scripted_errors_in_each_face_shape(
    kimi_emulator: EmulatorServer, marker: str, path: str, status: int, expected: Any
) -> None:
    body = {"model": "k3" if path == CODING else "kimi-k3", "max_tokens": 100, "stream": True}
    response = post(
        kimi_emulator, path, {**body, "messages": [{"role": "user", "content": marker}]}
    )
    assert response.status_code == status
    assert error_of(response) == expected
    if status == 429:
        assert response.headers["retry-after"] == "1"


def test_platform_500_is_anthropic_shaped_with_request_id(kimi_emulator: EmulatorServer) -> None:
    body = {"model": "kimi-k3", "max_tokens": 100}
    response = post(
        kimi_emulator,
        PLATFORM,
        {**body, "messages": [{"role": "user", "content": "@@error:500@@"}]},
    )
    assert response.status_code == 500
    error = error_of(response)
    assert error.pop("request_id").isalnum()
    assert error == {
        "type": "error",
        "error": {"type": "api_error", "message": "Internal server error, please try again later"},
    }


def test_gateway_timeout_stays_an_html_page(kimi_emulator: EmulatorServer) -> None:
    body = {"model": "kimi-k3", "max_tokens": 100}
    response = post(
        kimi_emulator,
        PLATFORM,
        {**body, "messages": [{"role": "user", "content": "@@error:504@@"}]},
    )
    assert response.status_code == 504
    assert response.headers["content-type"].startswith("text/html")
    assert b"504 Gateway Time-out" in response.content


def test_stop_sequence_cuts_the_text_and_reports_end_turn(kimi_emulator: EmulatorServer) -> None:
    """[3M] HALRO: honoured, but stop_reason end_turn with a null stop_sequence."""
    body = {
        "model": "kimi-k3",
        "max_tokens": 100,
        "stop_sequences": ["emulator"],
        "thinking": {"type": "disabled"},
        "messages": HI,
    }
    reply = post(kimi_emulator, PLATFORM, body).json()
    assert reply["content"] == [{"type": "text", "text": "Hello! This is the Kimi "}]
    assert (reply["stop_reason"], reply["stop_sequence"]) == ("end_turn", None)


def test_request_log_records_anthropic_requests_redacted(kimi_emulator: EmulatorServer) -> None:
    with raw_client(kimi_emulator) as client:
        client.post(
            PLATFORM + "?beta=true",
            json={"model": "kimi-k3", "max_tokens": 10, "messages": HI},
            headers={"authorization": "Bearer sk-secret-platform", "anthropic-beta": "x-y-1"},
        )
    (entry,) = kimi_emulator.requests()
    assert (entry["method"], entry["path"], entry["query"]) == ("POST", PLATFORM, "beta=true")
    assert entry["headers"]["authorization"] == "***"
    assert entry["body"] == {"model": "kimi-k3", "max_tokens": 10, "messages": HI}
    assert entry["status"] == 200
