"""Two 20-turn agent sessions replayed with the official SDKs, and the share of their input that
Kimi's cache served (docs/kimi.md §12): test_prefix_cache.py runs them through the gateway and
straight to the emulator; bench/prefix_cache.py reports them with their cost (§20).

- A Claude Code session: the captured request (tests/fixtures/clients/
  claude_code_tool_result_request.json: 3 system blocks, 24 tools, `metadata.user_id`,
  adaptive thinking, a `role: system` message in the history) growing by one Bash call and its
  result per turn, streamed, the assistant turn sent back as the SDK gives it and the
  `cache_control` marker moved to the newest block each turn, as Claude Code does.
- An OpenAI-SDK tool session: a system prompt, three function tools, one call and its result
  per turn, the reply message sent back as the SDK parsed it (reasoning included, §8.3).

Each tool result scripts the emulator's next call (`@@tool:…@@`); the last one asks for text.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anthropic
import openai
import orjson

TURNS = 20
FIXTURE = (
    Path(__file__).resolve().parents[1] / "fixtures/clients/claude_code_tool_result_request.json"
)
OPENAI_SYSTEM = (
    "You are a build assistant. Use the tools to inspect and fix the repository. "
    "Answer briefly once the work is done.\n" * 30
)


@dataclass
class TurnUsage:
    prompt: int  # every input token, cached included
    cached: int
    output: int


@dataclass
class Session:
    name: str
    model: str
    turns: list[TurnUsage] = field(default_factory=list)

    @property
    def prompt(self) -> int:
        return sum(t.prompt for t in self.turns)

    @property
    def cached(self) -> int:
        return sum(t.cached for t in self.turns)

    @property
    def output(self) -> int:
        return sum(t.output for t in self.turns)

    @property
    def ratio(self) -> float:
        return self.cached / self.prompt if self.prompt else 0.0


def _next_step(turn: int, calls: int) -> str:
    """The markers that script the next turn: `calls` Bash calls, or the closing text."""
    if turn + 1 >= TURNS:
        return "@@text:All steps done.@@"
    # Reasoning of its own each turn, as a model's is (and so a signature of its own).
    markers = [f"@@think:Step {turn + 1} comes next; I will run it.@@"]
    for n in range(calls):
        arguments = {"command": f"echo step-{turn + 1}.{n}", "description": "next step"}
        markers.append(f"@@tool:Bash {orjson.dumps(arguments).decode()}@@")
    return " ".join(markers)


def _tool_output(turn: int, index: int, calls: int) -> str:
    """The result of a call; the first one of a turn scripts the next turn."""
    script = _next_step(turn, calls) if index == 0 else ""
    return f"step-{turn}.{index} ok: {turn * 7} files checked\n{script}"


# --- Claude Code (Anthropic Messages) ---------------------------------------------------------


def claude_code_opening(calls: int = 1) -> dict[str, Any]:
    """The captured body up to the first tool call: the task and the mid-history system note."""
    body: dict[str, Any] = orjson.loads(FIXTURE.read_bytes())["body"]
    body["messages"] = copy.deepcopy(body["messages"][:2])
    # The capture cut its long texts; the task is written out again with its scripted call.
    body["messages"][0]["content"][-1]["text"] = "Run the checks step by step. " + _next_step(
        -1, calls
    )
    return body


def _move_cache_marker(messages: list[dict[str, Any]]) -> None:
    """Claude Code marks only its newest user block with cache_control."""
    for message in messages:
        if isinstance(message["content"], list):
            for block in message["content"]:
                block.pop("cache_control", None)
    messages[-1]["content"][-1]["cache_control"] = {"type": "ephemeral"}


def claude_code_session(
    client: anthropic.Anthropic | Callable[[int], anthropic.Anthropic],
    model: str,
    name: str,
    calls: int = 1,
) -> Session:
    """The session through `client` (or the client a function of the turn picks: replicas, a
    restart); `calls` parallel Bash calls per turn."""
    pick = client if callable(client) else lambda _turn: client
    body = claude_code_opening(calls)
    messages: list[dict[str, Any]] = body["messages"]
    session = Session(name, model)
    extra = {k: body[k] for k in ("context_management", "output_config") if k in body}
    thinking = body.get("thinking", anthropic.NOT_GIVEN)
    for turn in range(TURNS):
        with pick(turn).messages.stream(
            model=model,
            max_tokens=body["max_tokens"],
            system=body["system"],
            tools=body["tools"],
            messages=messages,  # type: ignore[arg-type]
            metadata=body["metadata"],
            thinking=thinking,
            extra_body=extra,
            extra_query={"beta": "true"},
        ) as stream:
            reply = stream.get_final_message()
        usage = reply.usage
        cached = usage.cache_read_input_tokens or 0
        prompt = usage.input_tokens + cached + (usage.cache_creation_input_tokens or 0)
        session.turns.append(TurnUsage(prompt, cached, usage.output_tokens))
        tool_uses = [b for b in reply.content if b.type == "tool_use"]
        if not tool_uses:
            break
        sent_back = [b.model_dump(mode="json", exclude_none=True) for b in reply.content]
        messages.append({"role": "assistant", "content": sent_back})
        results = [
            {"type": "tool_result", "tool_use_id": c.id, "content": _tool_output(turn, i, calls)}
            for i, c in enumerate(tool_uses)
        ]
        messages.append({"role": "user", "content": results})
        _move_cache_marker(messages)
    return session


# --- an OpenAI-SDK tool loop ------------------------------------------------------------------


def _function(name: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": sorted(properties)}
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": schema},
    }


OPENAI_TOOLS = [
    _function("Bash", "Run a shell command", {"command": {"type": "string"}}),
    _function("Read", "Read a file", {"path": {"type": "string"}, "limit": {"type": "integer"}}),
    _function("Write", "Write a file", {"path": {"type": "string"}, "text": {"type": "string"}}),
]


def openai_session(
    client: openai.OpenAI | Callable[[int], openai.OpenAI],
    model: str,
    name: str,
    calls: int = 1,
    extra_body: dict[str, Any] | None = None,
    keep_reasoning: bool = True,
) -> Session:
    """The session through `client` (or the one a function of the turn picks); `calls`
    parallel calls per turn; `extra_body` sent as well (Kimi's own client sends
    `prompt_cache_key`, docs/kimi.md §13.1). Without `keep_reasoning` the assistant turn goes
    back without `reasoning_content`, as most OpenAI-SDK apps send it."""
    pick = client if callable(client) else lambda _turn: client
    task = "Run the checks step by step. " + _next_step(-1, calls)
    messages: list[Any] = [
        {"role": "system", "content": OPENAI_SYSTEM},
        {"role": "user", "content": task},
    ]
    session = Session(name, model)
    for turn in range(TURNS):
        reply = pick(turn).chat.completions.create(
            model=model,
            messages=messages,
            tools=OPENAI_TOOLS,  # type: ignore[arg-type]
            extra_body=extra_body,
        )
        usage = reply.usage
        assert usage is not None
        details = usage.prompt_tokens_details
        cached = details.cached_tokens or 0 if details is not None else 0
        session.turns.append(TurnUsage(usage.prompt_tokens, cached, usage.completion_tokens))
        message = reply.choices[0].message
        if not message.tool_calls:
            break
        sent_back = message.model_dump(exclude_none=True)
        if not keep_reasoning:
            sent_back.pop("reasoning_content", None)
        messages.append(sent_back)
        messages.extend(
            {"role": "tool", "tool_call_id": call.id, "content": _tool_output(turn, i, calls)}
            for i, call in enumerate(message.tool_calls)
        )
    return session
