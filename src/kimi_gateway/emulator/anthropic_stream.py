"""The Anthropic Messages reply of the emulator, as one JSON body or as SSE events.

What belongs here: the face-neutral description of one finished reply (:class:`AnthropicReply`,
built by ``anthropic_reply`` from a ``script.ReplyPlan``), the non-streaming ``message`` body,
and the exact SSE event sequence with its ``event:`` lines. What does not: validation, auth,
error bodies (``anthropic_errors``), cuts and filters (``anthropic_reply``), timing (the face).

Event sequence (docs/kimi.md §14, [3M] HALRO; Anthropic's documented stream): ``message_start``
(``content: []``, ``stop_reason: null``, usage with the input side), then per block
``content_block_start`` / ``content_block_delta``… / ``content_block_stop``, then
``message_delta`` (stop reason and the final usage) and ``message_stop``. The Open Platform route
sends **no ``ping`` and no ``error`` events** (§14); a ``ping`` after ``message_start`` is an
opt-in for the Kimi Code face only. Streams carry usage only in ``message_start`` and
``message_delta`` (§13.3, [3C] N.E.K.O PR #1948).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from kimi_gateway.emulator.tokens import group_pieces

# Deltas carry token-sized pieces (tokens.group_pieces), as the OpenAI faces do: one piece per
# text/thinking delta, three per input_json_delta, so a client that mishandles joining is caught.
TEXT_PIECES_PER_DELTA = 1
JSON_PIECES_PER_DELTA = 3


@dataclass(frozen=True)
class ReplyBlock:
    """One content block of the reply.

    ``kind`` is ``thinking`` (``text`` is the thinking, ``signature`` its signature), ``text``,
    or ``tool_use`` (``text`` is the arguments JSON text, byte-exact; ``tool_id``/``name`` set).
    """

    kind: str
    text: str
    signature: str = ""
    tool_id: str = ""
    name: str = ""


@dataclass(frozen=True)
class ReplyUsage:
    """Anthropic usage: ``input_tokens`` excludes cache reads (§14, docs/kimi.md §F2.4)."""

    input_tokens: int
    cache_read_input_tokens: int
    output_tokens: int
    thinking_tokens: int

    def as_dict(self, *, at_start: bool = False) -> dict[str, Any]:
        """The wire form; the thinking count sits under ``output_tokens_details`` (§14).

        At ``message_start`` nothing has been generated yet: output is reported as 1 token (as
        Anthropic does) and the thinking count is left to ``message_delta`` ([3M] HALRO
        stream_usage_test: Kimi sends it there).
        """
        body: dict[str, Any] = {
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "output_tokens": 1 if at_start else self.output_tokens,
        }
        if self.thinking_tokens and not at_start:
            body["output_tokens_details"] = {"thinking_tokens": self.thinking_tokens}
        return body


@dataclass(frozen=True)
class AnthropicReply:
    """A finished reply, ready to be rendered as JSON or as a stream."""

    message_id: str
    model: str
    blocks: tuple[ReplyBlock, ...]
    stop_reason: str
    usage: ReplyUsage


def message_body(reply: AnthropicReply) -> dict[str, Any]:
    """The non-streaming ``message`` object."""
    return {
        "id": reply.message_id,
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": [_full_block(block) for block in reply.blocks],
        "stop_reason": reply.stop_reason,
        "stop_sequence": None,
        "usage": reply.usage.as_dict(),
    }


def _full_block(block: ReplyBlock) -> dict[str, Any]:
    if block.kind == "thinking":
        return {"type": "thinking", "thinking": block.text, "signature": block.signature}
    if block.kind == "tool_use":
        return {
            "type": "tool_use",
            "id": block.tool_id,
            "name": block.name,
            "input": orjson.loads(block.text),
        }
    return {"type": "text", "text": block.text}


Event = tuple[str, dict[str, Any]]


def stream_events(reply: AnthropicReply, *, ping: bool = False) -> list[Event]:
    """Every SSE event of the reply, in order, as ``(event name, data)`` pairs."""
    start_message: dict[str, Any] = {
        "id": reply.message_id,
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": reply.usage.as_dict(at_start=True),
    }
    events: list[Event] = [("message_start", {"type": "message_start", "message": start_message})]
    if ping:
        events.append(("ping", {"type": "ping"}))
    for index, block in enumerate(reply.blocks):
        events.extend(_block_events(index, block))
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
                "usage": reply.usage.as_dict(),
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def _block_events(index: int, block: ReplyBlock) -> list[Event]:
    if block.kind == "thinking":
        opening: dict[str, Any] = {"type": "thinking", "thinking": "", "signature": ""}
        deltas = [{"type": "thinking_delta", "thinking": p} for p in _pieces(block.text)]
        # The signature arrives once, after the thinking text (Anthropic's stream contract).
        deltas.append({"type": "signature_delta", "signature": block.signature})
    elif block.kind == "tool_use":
        opening = {"type": "tool_use", "id": block.tool_id, "name": block.name, "input": {}}
        deltas = [
            {"type": "input_json_delta", "partial_json": p}
            for p in _pieces(block.text, JSON_PIECES_PER_DELTA)
        ]
    else:
        opening = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": p} for p in _pieces(block.text)]
    events: list[Event] = [
        (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": opening},
        )
    ]
    events.extend(
        ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
        for d in deltas
    )
    events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    return events


def _pieces(text: str, per_delta: int = TEXT_PIECES_PER_DELTA) -> list[str]:
    return group_pieces(text, per_delta)


def encode_event(event: Event) -> bytes:
    """One SSE frame: an ``event:`` line, a ``data:`` line, a blank line."""
    name, data = event
    return b"event: " + name.encode("ascii") + b"\ndata: " + orjson.dumps(data) + b"\n\n"
