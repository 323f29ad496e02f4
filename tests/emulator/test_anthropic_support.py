"""Shared pieces of the Anthropic-face tests: keys, clients, a strict SSE parser, bodies.

Plain functions, not fixtures, so the test modules import them without shadowing names.
"""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import orjson
from anthropic.types import MessageParam, ToolParam

from kimi_gateway.emulator.server import EmulatorServer

PLATFORM_KEY = "sk-test-platform"
KIMI_CODE_KEY = "sk-kimi-test"
PLATFORM = "/anthropic/v1/messages"
CODING = "/coding/v1/messages"

BASH_TOOL: ToolParam = {
    "name": "Bash",
    "description": "Run a shell command",
    "input_schema": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"command": {"type": "string"}},
        "required": ["command"],
        "additionalProperties": False,
    },
}
BASH_ARGS = '{"command": "echo hi"}'
BASH_TURN: list[MessageParam] = [{"role": "user", "content": f"run it @@tool:Bash {BASH_ARGS}@@"}]
HI: list[MessageParam] = [{"role": "user", "content": "hi"}]


def platform_sdk(server: EmulatorServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=server.url + "/anthropic", api_key=PLATFORM_KEY, max_retries=0
    )


def coding_sdk(server: EmulatorServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=server.url + "/coding", api_key=KIMI_CODE_KEY, max_retries=0
    )


def raw_client(server: EmulatorServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=10)


def post(
    server: EmulatorServer, path: str, body: Any, *, key: str | None = None, **headers: str
) -> httpx.Response:
    """POST a JSON body with the face's key as `x-api-key` (or `key`, or none when "")."""
    chosen = (
        key if key is not None else (KIMI_CODE_KEY if path.startswith("/coding") else PLATFORM_KEY)
    )
    sent = {"anthropic-version": "2023-06-01", **headers}
    if chosen:
        sent["x-api-key"] = chosen
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    with raw_client(server) as client:
        return client.post(
            path, content=content, headers={"content-type": "application/json", **sent}
        )


def sse_events(body: bytes) -> list[tuple[str, dict[str, Any]]]:
    """Parse an SSE body strictly: every frame is `event: NAME` + `data: JSON` + blank line,
    and the event name equals the data's `type`."""
    text = body.decode()
    assert text.endswith("\n\n"), text[-200:]
    events = []
    for frame in text[:-2].split("\n\n"):
        lines = frame.split("\n")
        assert len(lines) == 2, frame
        assert lines[0].startswith("event: "), frame
        assert lines[1].startswith("data: "), frame
        name, data = lines[0][len("event: ") :], orjson.loads(lines[1][len("data: ") :])
        assert data["type"] == name
        events.append((name, data))
    return events


def names(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The event names, with runs of content_block_delta collapsed to one `delta` entry."""
    out: list[str] = []
    for name, _ in events:
        short = "delta" if name == "content_block_delta" else name
        if not (short == "delta" and out and out[-1] == "delta"):
            out.append(short)
    return out


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body
