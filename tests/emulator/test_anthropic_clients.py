"""Replay the requests real clients sent (Claude Code 2.1.197, OpenClaw 2026.9.6; captured in
tests/fixtures/clients/, see docs/kimi.md §F1) against both Anthropic faces: all accepted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from kimi_gateway.emulator.config import EmulatorConfig
from kimi_gateway.emulator.script import DEFAULT_REPLY, TOOL_RESULT_PREFIX
from kimi_gateway.emulator.server import EmulatorServer

from .test_anthropic_support import CODING, KIMI_CODE_KEY, PLATFORM, names, raw_client, sse_events

CLIENTS = Path(__file__).parents[1] / "fixtures" / "clients"
CAPTURES = (
    "claude_code_text_request.json",
    "claude_code_tool_call_request.json",
    "claude_code_tool_result_request.json",
    "openclaw_anthropic_tool_call_request.json",
    "openclaw_anthropic_tool_result_request.json",
)
# Hop-by-hop or recomputed headers, and the redacted key, are not replayed.
_DROPPED = ("host", "content-length", "connection", "accept-encoding", "x-api-key")


def _capture(name: str) -> dict[str, Any]:
    captured: dict[str, Any] = orjson.loads((CLIENTS / name).read_bytes())
    return captured


def _replay(server: EmulatorServer, name: str, path: str, model: str) -> list[Any]:
    """POST the captured body (model swapped where the face needs it) with the captured headers
    and query; return the SSE events (every capture streams)."""
    capture = _capture(name)
    assert capture["body"]["stream"] is True
    headers = {k: v for k, v in capture["headers"].items() if k not in _DROPPED}
    headers["x-api-key"] = KIMI_CODE_KEY if path == CODING else "sk-replay"
    body = orjson.dumps({**capture["body"], "model": model})
    query = capture["raw_path"].partition("?")[2]
    with raw_client(server) as client:
        response = client.post(f"{path}?{query}" if query else path, content=body, headers=headers)
    assert response.status_code == 200, response.text
    return sse_events(response.content)


def _text(events: list[Any]) -> str:
    return "".join(
        data["delta"]["text"]
        for name, data in events
        if name == "content_block_delta" and data["delta"]["type"] == "text_delta"
    )


@pytest.mark.parametrize("name", CAPTURES)
@pytest.mark.parametrize(
    ("path", "model"),
    # The captures name kimi-k2.5: a platform model and a Kimi Code request name (§13.1).
    [(CODING, "kimi-k2.5"), (PLATFORM, "kimi-k2.5"), (PLATFORM, "kimi-k3[1m]")],
)
def test_captured_requests_are_accepted(
    kimi_emulator: EmulatorServer, name: str, path: str, model: str
) -> None:
    events = _replay(kimi_emulator, name, path, model)
    assert names(events)[0] == "message_start"
    assert names(events)[-2:] == ["message_delta", "message_stop"]
    (logged,) = kimi_emulator.requests()
    assert logged["body"]["tools"] == _capture(name)["body"]["tools"]


def test_claude_code_text_turn_thinks_then_answers(kimi_emulator: EmulatorServer) -> None:
    events = _replay(kimi_emulator, "claude_code_text_request.json", CODING, "kimi-k2.5")
    starts = [data["content_block"]["type"] for n, data in events if n == "content_block_start"]
    assert starts == ["thinking", "text"]  # thinking: adaptive
    assert _text(events) == DEFAULT_REPLY
    assert events[0][1]["message"]["model"] == "kimi-for-coding"


def test_claude_code_tool_result_turn(kimi_emulator: EmulatorServer) -> None:
    events = _replay(kimi_emulator, "claude_code_tool_result_request.json", CODING, "kimi-k2.5")
    assert _text(events) == TOOL_RESULT_PREFIX + "cc-accept-2647410650"


def test_openclaw_tool_call_then_result(kimi_emulator: EmulatorServer) -> None:
    events = _replay(
        kimi_emulator, "openclaw_anthropic_tool_call_request.json", PLATFORM, "kimi-k2.5"
    )
    (tool,) = [
        d["content_block"]
        for n, d in events
        if n == "content_block_start" and d["content_block"]["type"] == "tool_use"
    ]
    assert (tool["id"], tool["name"]) == ("exec_0", "exec")
    arguments = "".join(
        d["delta"]["partial_json"]
        for n, d in events
        if n == "content_block_delta" and d["delta"]["type"] == "input_json_delta"
    )
    assert (
        arguments
        == '{"command":"echo oc-proof-123 > proof.txt && cat proof.txt","title":"write proof"}'
    )
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"
    result = _replay(
        kimi_emulator, "openclaw_anthropic_tool_result_request.json", PLATFORM, "kimi-k2.5"
    )
    assert _text(result) == TOOL_RESULT_PREFIX + "oc-proof-123"


def test_claude_code_passes_the_user_agent_gate(kimi_emulator_factory: Any) -> None:
    server = kimi_emulator_factory(EmulatorConfig(require_coding_agent_ua=True))
    events = _replay(server, "claude_code_tool_result_request.json", CODING, "kimi-for-coding")
    assert names(events)[-1] == "message_stop"
