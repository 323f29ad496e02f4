"""Non-streaming is the stream, folded: events in, one :class:`Response` out (DESIGN.md §2).

``Folder`` accepts events one at a time (so a tap can fold while forwarding); ``fold`` and
``afold`` fold a whole iterator. A ``StreamError`` is raised as its ``GatewayError``. Parts
and finishes of choices other than 0 (``n > 1``) become ``Response.more_choices``.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from kimi_gateway.core.events import (
    Finish,
    MessageStart,
    PartStart,
    SignatureDelta,
    StreamError,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolArgumentsDelta,
    UsageReport,
)
from kimi_gateway.core.model import (
    Choice,
    Part,
    Response,
    StopReason,
    TextPart,
    ThinkingPart,
    ToolCallPart,
)
from kimi_gateway.core.usage import Usage


@dataclass(slots=True)
class _Open:
    kind: Literal["text", "thinking", "tool_call"]
    chunks: list[str] = field(default_factory=list)
    signature: list[str] = field(default_factory=list)
    tool_call_id: str = ""
    tool_name: str = ""
    tool_kind: Literal["function", "builtin_function"] = "function"
    choice: int = 0

    def part(self) -> Part:
        text = "".join(self.chunks)
        if self.kind == "text":
            return TextPart(text)
        if self.kind == "thinking":
            return ThinkingPart(text, signature="".join(self.signature) or None)
        return ToolCallPart(self.tool_call_id, self.tool_name, text, self.tool_kind)


class Folder:
    """Accumulates a stream into a Response."""

    def __init__(self) -> None:
        self.id = ""
        self.model = ""
        self.created: int | None = None
        self.usage = Usage()
        self.stop_reason: StopReason | None = None
        self.stop_sequence: str | None = None
        self._parts: dict[int, _Open] = {}
        self._finishes: dict[int, Finish] = {}  # choices other than 0 (n > 1)

    def feed(self, event: StreamEvent) -> None:
        kind = type(event)  # exact types first: deltas are most of a stream (events are final)
        if kind is TextDelta or kind is ThinkingDelta:
            self._parts[event.index].chunks.append(event.text)  # type: ignore[union-attr]
        elif kind is ToolArgumentsDelta:
            self._parts[event.index].chunks.append(event.fragment)  # type: ignore[union-attr]
        elif isinstance(event, PartStart):
            self._parts[event.index] = _Open(
                event.kind,
                tool_call_id=event.tool_call_id or "",
                tool_name=event.tool_name or "",
                tool_kind=event.tool_kind,
                choice=event.choice,
            )
        elif isinstance(event, SignatureDelta):
            self._parts[event.index].signature.append(event.signature)
        elif isinstance(event, UsageReport):
            self.usage = self.usage.merge(event.usage)
        elif isinstance(event, Finish) and event.choice:
            self._finishes[event.choice] = event
        elif isinstance(event, Finish):
            self.stop_reason = event.stop_reason
            self.stop_sequence = event.stop_sequence
        elif isinstance(event, MessageStart):
            self.id, self.model, self.created = event.id, event.model, event.created
        elif isinstance(event, StreamError):
            raise event.error

    def _choice_parts(self, choice: int) -> tuple[Part, ...]:
        return tuple(
            self._parts[i].part() for i in sorted(self._parts) if self._parts[i].choice == choice
        )

    def _more_choices(self) -> tuple[Choice, ...]:
        count = 1 + max([*self._finishes, *(p.choice for p in self._parts.values())], default=0)
        out: list[Choice] = []
        for choice in range(1, count):
            finish = self._finishes.get(choice)
            stop, sequence = (
                (None, None) if finish is None else (finish.stop_reason, finish.stop_sequence)
            )
            out.append(Choice(self._choice_parts(choice), stop, sequence))
        return tuple(out)

    def response(self) -> Response:
        parts = self._choice_parts(0)
        return Response(
            id=self.id,
            model=self.model,
            parts=parts,
            stop_reason=self.stop_reason,
            usage=self.usage,
            stop_sequence=self.stop_sequence,
            created=self.created,
            more_choices=self._more_choices(),
        )


def fold(events: Iterable[StreamEvent]) -> Response:
    folder = Folder()
    for event in events:
        folder.feed(event)
    return folder.response()


async def afold(events: AsyncIterable[StreamEvent]) -> Response:
    folder = Folder()
    async for event in events:
        folder.feed(event)
    return folder.response()


__all__ = ["Folder", "afold", "fold"]
