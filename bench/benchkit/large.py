"""Request bodies of the sizes coding agents really send (issue 15 item 2).

The captured client requests (tests/fixtures/clients/: Claude Code, OpenClaw on both APIs, Codex)
as they were sent, and a long agent history of about 150 KB built deterministically from them:
the captured conversation followed by tool rounds (an assistant tool call, its result) whose
text is cut from the captured system prompt and tool descriptions, so the words are real. The
Anthropic history is Claude Code's, the OpenAI one OpenClaw's. ``growing_session`` gives the
bodies of one session turn after turn (each turn the last body plus one new round), for the
"per-turn work proportional to what is new" measurement.

Pure: reads the repository's own fixture files, builds bytes in memory.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson

CLIENTS = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "clients"
LONG_TARGET_BYTES = 150_000
Route = Literal["/v1/chat/completions", "/v1/messages", "/v1/responses"]


@dataclass(frozen=True, slots=True)
class LargeBody:
    name: str  # cell label part: "claude-code", "long-anthropic", …
    route: Route
    body: dict[str, Any]  # stream is set per cell

    def encoded(self, stream: bool, model: str | None = None) -> bytes:
        body = {**self.body, "stream": stream}
        if model is not None:
            body["model"] = model
        return orjson.dumps(body)

    @property
    def path(self) -> str:
        return "same" if self.route == "/v1/chat/completions" else "translated"


@functools.cache
def captured(name: str) -> dict[str, Any]:
    """One captured request's body (tests/fixtures/clients/<name>.json)."""
    body: dict[str, Any] = orjson.loads((CLIENTS / f"{name}.json").read_bytes())["body"]
    return body


def _words(body: dict[str, Any]) -> str:
    """Real text to cut tool results from: the body's tool descriptions, in order."""
    parts = [
        str(t.get("description") or t.get("function", {}).get("description", ""))
        for t in body["tools"]
    ]
    return "\n".join(p for p in parts if p)


def _slice(text: str, turn: int, size: int) -> str:
    start = (turn * 7919) % max(1, len(text) - size)
    return text[start : start + size]


def anthropic_round(turn: int, text: str) -> list[dict[str, Any]]:
    """One Claude Code tool round: the assistant's text and Bash call, the user's result."""
    tool_id = f"toolu_bench{turn:012d}"
    command = f"sed -n {turn * 40 + 1},{turn * 40 + 40}p src/module_{turn % 17}.py"
    return [
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": f"Step {turn}: reading the next part of the module."},
                {
                    "type": "tool_use",
                    "id": tool_id,
                    "name": "Bash",
                    "input": {"command": command, "description": f"read part {turn}"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": tool_id, "content": _slice(text, turn, 1100)}
            ],
        },
    ]


def openai_round(turn: int, text: str) -> list[dict[str, Any]]:
    """One OpenClaw tool round on the OpenAI API: the assistant's exec call, the tool's result."""
    call_id = f"callbench{turn:015d}"
    arguments = orjson.dumps({"command": f"sed -n {turn * 40 + 1},+40p src/m{turn % 17}.ts"})
    return [
        {
            "role": "assistant",
            "content": f"Step {turn}: reading the next part.",
            "tool_calls": [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": "exec", "arguments": arguments.decode()},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call_id, "content": _slice(text, turn, 1100)},
    ]


def _grow(base: dict[str, Any], rounds: int, anthropic: bool) -> dict[str, Any]:
    body = copy.deepcopy(base)
    text = _words(base)
    make = anthropic_round if anthropic else openai_round
    for turn in range(rounds):
        body["messages"] += make(turn, text)
    return body


def _rounds_for(base: dict[str, Any], anthropic: bool, target: int) -> int:
    one = len(orjson.dumps(_grow(base, 1, anthropic))) - len(orjson.dumps(base))
    return max(0, (target - len(orjson.dumps(base))) // one)


def long_history(anthropic: bool, target: int = LONG_TARGET_BYTES) -> dict[str, Any]:
    """A ~``target``-byte agent session: Claude Code's (Anthropic) or OpenClaw's (OpenAI)."""
    base = captured(
        "claude_code_tool_result_request" if anthropic else "openclaw_openai_tool_result_request"
    )
    return _grow(base, _rounds_for(base, anthropic, target), anthropic)


def growing_session(anthropic: bool, turns: int, start_bytes: int) -> Iterator[bytes]:
    """The non-streaming bodies of one session, turn by turn: the first about ``start_bytes``
    long, each next one the previous plus one tool round (what an agent resends)."""
    base = captured(
        "claude_code_tool_result_request" if anthropic else "openclaw_openai_tool_result_request"
    )
    first = _rounds_for(base, anthropic, start_bytes)
    body = _grow(base, first, anthropic)
    make = anthropic_round if anthropic else openai_round
    text = _words(base)
    for turn in range(turns):
        yield orjson.dumps({**body, "stream": False})
        body["messages"] += make(first + turn, text)


def bodies() -> list[LargeBody]:
    """Every large-body cell's request, captured first, then the two long histories."""
    return [
        LargeBody("claude-code", "/v1/messages", captured("claude_code_tool_result_request")),
        LargeBody(
            "openclaw-anthropic", "/v1/messages", captured("openclaw_anthropic_tool_result_request")
        ),
        LargeBody(
            "openclaw-openai",
            "/v1/chat/completions",
            captured("openclaw_openai_tool_result_request"),
        ),
        LargeBody("codex", "/v1/responses", captured("codex_responses_request")),
        LargeBody("long-anthropic", "/v1/messages", long_history(anthropic=True)),
        LargeBody("long-openai", "/v1/chat/completions", long_history(anthropic=False)),
    ]
