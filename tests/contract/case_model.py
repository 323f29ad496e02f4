"""The shape of a canonical conversation in cases.py: turns, what each reply must be, and how the
next turn is built from the reply the client read.

What does not belong here: the conversations themselves (cases.py), running them
(conversation.py, pipeline.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from kimi_gateway.core.model import (
    Message,
    Part,
    Request,
    Response,
    StopReason,
    TextPart,
    ThinkingConfig,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
)

OFF = ThinkingConfig("disabled")
ON = ThinkingConfig("enabled")


def reply_call(index: int) -> str:
    """A tool_call_id placeholder: the id of the previous reply's ``index``-th tool call."""
    return f"@reply.call{index}"


@dataclass(frozen=True)
class Call:
    """An expected tool call. ``n`` is the emulator's running tool-call counter (§8.1 ``name:n``),
    which restarts at 0 for each conversation."""

    name: str
    arguments: str  # as scripted
    n: int


@dataclass(frozen=True)
class Expect:
    """The reply a turn must produce, in canonical terms."""

    text: str | None = None
    thinking: str | None = None
    calls: tuple[Call, ...] = ()
    stop: StopReason = "end_turn"
    diagnostics: tuple[str, ...] = ()  # codes, request and reply side, in order


@dataclass(frozen=True)
class Turn:
    messages: tuple[Message, ...]
    expect: Expect
    # Overrides by pair id ("anthropic-via-openai") or by upstream dialect ("openai").
    overrides: Mapping[str, Expect] = field(default_factory=dict)

    def expect_for(self, pair_id: str, upstream: str) -> Expect:
        return self.overrides.get(pair_id) or self.overrides.get(upstream) or self.expect


@dataclass(frozen=True)
class Case:
    name: str
    turns: tuple[Turn, ...]
    system: tuple[TextPart, ...] = ()
    tools: tuple[Tool, ...] = ()
    tool_choice: ToolChoice | None = None
    thinking: ThinkingConfig = OFF
    max_tokens: int = 1000
    stop: tuple[str, ...] = ()

    def request(self, messages: tuple[Message, ...]) -> Request:
        """The canonical request of one turn (the pipeline sets model and stream)."""
        return Request(
            model="",
            messages=messages,
            system=self.system,
            tools=self.tools,
            tool_choice=self.tool_choice,
            max_tokens=self.max_tokens,
            stop=self.stop,
            thinking=self.thinking,
        )


def next_messages(
    history: tuple[Message, ...], reply: Response | None, turn: Turn
) -> tuple[Message, ...]:
    """The conversation for ``turn``: history, the previous reply, the turn's messages."""
    if reply is None:
        return (*history, *turn.messages)
    calls = [p.id for p in reply.parts if isinstance(p, ToolCallPart)]
    assistant = Message("assistant", reply.parts)
    return (*history, assistant, *(_resolved(m, calls) for m in turn.messages))


def _resolved(message: Message, calls: list[str]) -> Message:
    return replace(message, parts=tuple(_resolved_part(p, calls) for p in message.parts))


def _resolved_part(part: Part, calls: list[str]) -> Part:
    if isinstance(part, ToolResultPart) and part.tool_call_id.startswith("@reply.call"):
        return replace(part, tool_call_id=calls[int(part.tool_call_id.removeprefix("@reply.call"))])
    return part


def user(*parts: Part | str) -> Message:
    return Message("user", tuple(TextPart(p) if isinstance(p, str) else p for p in parts))


def assistant(*parts: Part | str) -> Message:
    return Message("assistant", tuple(TextPart(p) if isinstance(p, str) else p for p in parts))


def result(call_id: str, text: str, *, is_error: bool = False) -> ToolResultPart:
    return ToolResultPart(call_id, (TextPart(text),), is_error=is_error)
