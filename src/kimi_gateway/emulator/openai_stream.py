"""The OpenAI-dialect SSE rendering of a ReplyPlan, exactly as docs/kimi.md §7.

Per choice: a role chunk `{"role":"assistant","content":""}`; reasoning pieces before content
pieces; tool calls by `index` (the first chunk carries id, type, name and `arguments: ""`, later
ones only argument pieces); a final `delta: {}` chunk with `finish_reason` and choice-level
usage, always. With `stream_options.include_usage` every chunk carries `"usage": null` and one
`choices: []` chunk with the whole usage comes before `data: [DONE]`. Faults shorten the list:
a cut (no [DONE], no usage) or a content_filter error event after some chunks.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from kimi_gateway.emulator.openai_render import Envelope, tool_call_ids, usage_choice, usage_full
from kimi_gateway.emulator.script import ReplyPlan
from kimi_gateway.emulator.state import EmulatorState
from kimi_gateway.emulator.tokens import group_pieces
from kimi_gateway.emulator.wire import CUT, Part

TEXT_PIECES_PER_CHUNK = 1
ARGUMENT_PIECES_PER_CHUNK = 3
DONE = b"data: [DONE]\n\n"


def sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


class _ChunkMaker:
    def __init__(self, envelope: Envelope, include_usage: bool) -> None:
        self.envelope = envelope
        self.include_usage = include_usage

    def chunk(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.envelope.id,
            "object": "chat.completion.chunk",
            "created": self.envelope.created,
            "model": self.envelope.model,
            "system_fingerprint": self.envelope.fingerprint,
            "choices": choices,
        }
        if self.include_usage:
            body["usage"] = None
        return body

    def delta(self, index: int, delta: dict[str, Any]) -> dict[str, Any]:
        return self.chunk([{"index": index, "delta": delta, "finish_reason": None}])


def _reasoning_deltas(plan: ReplyPlan, details: bool) -> list[dict[str, Any]]:
    if plan.reasoning is None:
        return []
    deltas: list[dict[str, Any]] = []
    for piece in group_pieces(plan.reasoning, TEXT_PIECES_PER_CHUNK):
        delta: dict[str, Any] = {"reasoning_content": piece}
        if details:
            # §7.2 [3M] OPENCODE #50232: Kimi Code K3 also streams `reasoning_details`.
            delta["reasoning_details"] = [{"index": 0, "type": "summary", "summary": piece}]
        deltas.append(delta)
    if details:
        opaque = hashlib.sha256(plan.reasoning.encode()).hexdigest()
        entry = {"index": 1, "type": "encrypted", "encrypted": opaque}
        deltas.append({"reasoning_details": [entry]})
    return deltas


def _tool_deltas(plan: ReplyPlan, ids: list[str]) -> list[dict[str, Any]]:
    deltas: list[dict[str, Any]] = []
    for index, (ident, call) in enumerate(zip(ids, plan.tool_calls, strict=True)):
        first = {
            "index": index,
            "id": ident,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        deltas.append({"tool_calls": [first]})
        for piece in group_pieces(call.arguments, ARGUMENT_PIECES_PER_CHUNK):
            deltas.append({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    return deltas


def choice_chunks(
    state: EmulatorState, maker: _ChunkMaker, plan: ReplyPlan, index: int, details: bool
) -> list[dict[str, Any]]:
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    deltas += _reasoning_deltas(plan, details)
    deltas += [{"content": p} for p in group_pieces(plan.text, TEXT_PIECES_PER_CHUNK)]
    deltas += _tool_deltas(plan, tool_call_ids(state, plan))
    chunks = [maker.delta(index, d) for d in deltas]
    final = {"index": index, "delta": {}, "finish_reason": plan.finish, "usage": usage_choice(plan)}
    chunks.append(maker.chunk([final]))
    return chunks


def stream_parts(
    state: EmulatorState,
    envelope: Envelope,
    plan: ReplyPlan,
    *,
    n: int = 1,
    include_usage: bool = False,
    reasoning_details: bool = False,
) -> list[Part]:
    """Every SSE event of the reply in order, shortened by a cut or a mid-stream error."""
    maker = _ChunkMaker(envelope, include_usage)
    chunks: list[dict[str, Any]] = []
    for index in range(n):
        chunks += choice_chunks(state, maker, plan, index, reasoning_details)
    if include_usage:
        chunks.append({**maker.chunk([]), "usage": usage_full(plan, n)})
    parts: list[Part] = [*(sse(chunk) for chunk in chunks), DONE]
    if plan.mid_error is not None:
        # §2.2: content_filter "can also arrive mid-generation"; sent as an error event.
        return [*parts[: plan.mid_after], sse(plan.mid_error.openai_body())]
    if plan.cut:
        return [*parts[: plan.cut_after], CUT]
    return parts
