"""What a chat call gives back: :class:`ChatResult` (whole), :class:`Delta` (one stream piece),
:class:`ToolCall`, built from the canonical :class:`~kimi_gateway.core.model.Response` and
stream events. Plain frozen data, no I/O.

``ChatResult.message`` is the assistant message to append to the history, in the OpenAI shape
the SDK takes: ``reasoning_content`` kept (docs/kimi.md §8.3: with thinking on, every assistant
tool-call message must carry it back) and tool-call ``arguments`` byte-exact (§8.5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from kimi_gateway.core.events import PartStart, StreamEvent, TextDelta, ThinkingDelta
from kimi_gateway.core.events import ToolArgumentsDelta as _ArgsDelta
from kimi_gateway.core.model import (
    Diagnostic,
    Response,
    StopReason,
    TextPart,
    ThinkingPart,
    ToolCallPart,
)
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.openai_chat.message_render import render_reasoning, render_tool_call


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One call the model asked for. ``arguments`` is the JSON text as Kimi sent it."""

    id: str
    name: str
    arguments: str
    kind: Literal["function", "builtin_function"] = "function"

    def parsed(self) -> Any:
        """The arguments decoded from JSON (raises ``ValueError`` when they are not JSON)."""
        return orjson.loads(self.arguments)


@dataclass(frozen=True, slots=True)
class ChatResult:
    """One finished reply. ``usage`` names what it counts (core/usage.py): ``input_total`` is
    OpenAI's ``prompt_tokens``, ``input_cache_read`` the cached part, ``output`` includes
    ``reasoning``."""

    text: str
    reasoning: str | None
    tool_calls: tuple[ToolCall, ...]
    usage: Usage
    model: str
    stop_reason: StopReason | None
    id: str = ""
    request_id: str | None = None  # Kimi's own id of the call (what its support asks for)
    upstream: str | None = None  # which upstream answered (in-process clients)
    diagnostics: tuple[Diagnostic, ...] = ()  # what the quirk layer changed on the way
    response: Response | None = field(default=None, repr=False, compare=False)

    @property
    def message(self) -> dict[str, Any]:
        """The assistant message to append to the history (OpenAI shape, reasoning kept)."""
        return assistant_message(self)


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A piece of a tool call in a stream: the first piece of each call has ``id`` and
    ``name``; later pieces carry argument text only. ``index`` counts calls from 0."""

    index: int
    id: str | None
    name: str | None
    arguments: str


@dataclass(frozen=True, slots=True)
class Delta:
    """One piece of a streamed reply: reasoning text, answer text, or a tool-call piece."""

    text: str = ""
    reasoning: str = ""
    tool_call: ToolCallDelta | None = None


def result_from_response(
    response: Response,
    *,
    request_id: str | None = None,
    upstream: str | None = None,
    diagnostics: tuple[Diagnostic, ...] = (),
) -> ChatResult:
    thinking = [p.text for p in response.parts if isinstance(p, ThinkingPart) and not p.redacted]
    calls = tuple(
        ToolCall(p.id, p.name, p.arguments, p.kind)
        for p in response.parts
        if isinstance(p, ToolCallPart)
    )
    return ChatResult(
        text="".join(p.text for p in response.parts if isinstance(p, TextPart)),
        reasoning="\n\n".join(thinking) if thinking else None,
        tool_calls=calls,
        usage=response.usage,
        model=response.model,
        stop_reason=response.stop_reason,
        id=response.id,
        request_id=request_id,
        upstream=upstream,
        diagnostics=(*diagnostics, *response.diagnostics),
        response=response,
    )


def assistant_message(result: ChatResult) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": result.text or None}
    if result.response is not None:
        thinking = [p for p in result.response.parts if isinstance(p, ThinkingPart)]
        message.update(render_reasoning([p for p in thinking if not p.redacted]))
    elif result.reasoning is not None:
        message["reasoning_content"] = result.reasoning
    if result.tool_calls:
        message["tool_calls"] = [
            render_tool_call(ToolCallPart(c.id, c.name, c.arguments, c.kind))
            for c in result.tool_calls
        ]
    elif message["content"] is None:
        message["content"] = ""
    return message


class DeltaMaker:
    """Stream events → :class:`Delta` pieces, numbering tool calls from 0."""

    def __init__(self) -> None:
        self._calls: dict[int, int] = {}  # part index → tool-call index

    def delta(self, event: StreamEvent) -> Delta | None:
        if isinstance(event, TextDelta):
            return Delta(text=event.text) if event.text else None
        if isinstance(event, ThinkingDelta):
            return Delta(reasoning=event.text) if event.text else None
        if isinstance(event, PartStart) and event.kind == "tool_call":
            index = self._calls[event.index] = len(self._calls)
            return Delta(tool_call=ToolCallDelta(index, event.tool_call_id, event.tool_name, ""))
        if isinstance(event, _ArgsDelta) and event.fragment:
            index = self._calls.get(event.index, 0)
            return Delta(tool_call=ToolCallDelta(index, None, None, event.fragment))
        return None
