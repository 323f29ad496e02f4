"""Anthropic Messages requests that real clients sent (Claude Code, OpenClaw; captured in
tests/fixtures/clients/, docs/kimi.md §F1): each parses and renders back without loss."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest

from kimi_gateway.core.model import (
    AnthropicMessagesFields,
    TextPart,
    ThinkingConfig,
    ToolCallPart,
    ToolResultPart,
)
from kimi_gateway.dialects.anthropic_messages import parse_request, render_request

CLIENTS = Path(__file__).parents[2] / "fixtures" / "clients"
# The Anthropic-dialect captures among the client requests in tests/fixtures/clients/.
CAPTURES = sorted(
    path
    for client in ("claude_code", "openclaw_anthropic")
    for path in CLIENTS.glob(f"{client}_*_request.json")
)


def _body(path: Path) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(path.read_bytes())["body"]
    return body


def _normalise_content(content: Any) -> Any:
    """The documented normalisations of render_request (content_render.py docstring)."""
    if isinstance(content, str):
        return content
    blocks = [_normalise_block(block) for block in content]
    if len(blocks) == 1 and blocks[0]["type"] == "text" and "cache_control" not in blocks[0]:
        return blocks[0]["text"]
    return blocks


def _normalise_block(block: dict[str, Any]) -> dict[str, Any]:
    block = {key: value for key, value in block.items() if value is not None}
    if block["type"] == "thinking" and block.get("signature") == "":
        del block["signature"]
    if block["type"] == "tool_result":
        block.setdefault("is_error", False)
        if "content" in block:
            block["content"] = _normalise_content(block["content"])
    return block


def normalise(body: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(body)
    for message in body["messages"]:
        message["content"] = _normalise_content(message["content"])
    if "system" in body:
        body["system"] = _normalise_content(body["system"])
    if body.get("stream") is False:
        del body["stream"]
    return body


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.stem)
def test_every_captured_client_request_round_trips(path: Path) -> None:
    body = _body(path)
    request = parse_request(body)
    assert request.diagnostics == ()
    assert render_request(request) == normalise(body)


def test_parse_does_not_mutate_its_argument() -> None:
    body = _body(CLIENTS / "claude_code_tool_result_request.json")
    before = copy.deepcopy(body)
    render_request(parse_request(body))
    assert body == before


def test_claude_code_capture_maps_every_field() -> None:
    body = _body(CLIENTS / "claude_code_tool_result_request.json")
    request = parse_request(body)
    assert [part.cache for part in request.system] == [False, True, True]
    assert [message.role for message in request.messages] == [
        "user",
        "system",
        "assistant",
        "user",
    ]
    assert request.messages[2].parts[1] == ToolCallPart(
        "toolu_fake000403276b80d3e0",
        "Bash",
        '{"command":"echo cc-accept-2647410650 > proof.txt && cat proof.txt",'
        '"description":"write proof file"}',
    )
    assert request.messages[3].parts == (
        ToolResultPart(
            "toolu_fake000403276b80d3e0", (TextPart("cc-accept-2647410650"),), cache=True
        ),
    )
    assert request.thinking == ThinkingConfig("adaptive", effort="high")
    assert request.anthropic_messages == AnthropicMessagesFields(
        context_management=body["context_management"]
    )
    assert request.metadata == body["metadata"]
    assert (request.max_tokens, request.stream, len(request.tools)) == (32000, True, 24)
    assert request.tools[0].parameters == body["tools"][0]["input_schema"]


def test_openclaw_consecutive_user_messages_stay_separate() -> None:
    request = parse_request(_body(CLIENTS / "openclaw_anthropic_tool_result_request.json"))
    assert [message.role for message in request.messages] == [
        "user",
        "assistant",
        "user",
        "user",
    ]
    assert request.tools[-1].cache is True
    assert request.thinking is None
