"""The OpenAI-dialect rendering of a ReplyPlan: ids, usage and the non-streaming body (§6).

`chatcmpl-<24 hex>` ids, `fpv0_<8 hex>` fingerprints, `<name>:<n>` tool-call ids, and usage with
`cached_tokens` both at the top level and in `prompt_tokens_details` plus
`completion_tokens_details.reasoning_tokens` (docs/kimi.md §6 [O] OAS, [3M] HALRO).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from kimi_gateway.emulator.script import ReplyPlan
from kimi_gateway.emulator.state import EmulatorState


@dataclass(frozen=True)
class Envelope:
    """What every body or chunk of one response shares."""

    id: str
    created: int
    model: str
    fingerprint: str


def new_envelope(state: EmulatorState, model: str) -> Envelope:
    with state.lock:
        state.request_counter += 1
        counter = state.request_counter
    seed = f"{state.config.seed}:{counter}".encode()
    ident = "chatcmpl-" + hashlib.sha256(seed).hexdigest()[:24]
    # §6 [3M]: `fpv0_ca1d2527`-style; stable per model.
    fingerprint = "fpv0_" + hashlib.sha256(model.encode()).hexdigest()[:8]
    return Envelope(ident, int(time.time()), model, fingerprint)


def usage_full(plan: ReplyPlan, choices: int = 1) -> dict[str, object]:
    """Top-level usage of the whole request (§6); with n choices, completions add up."""
    completion = plan.completion_tokens * choices
    return {
        "prompt_tokens": plan.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": plan.prompt_tokens + completion,
        "cached_tokens": plan.cached_tokens,
        "prompt_tokens_details": {"cached_tokens": plan.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": plan.reasoning_tokens * choices},
    }


def usage_choice(plan: ReplyPlan) -> dict[str, object]:
    """Choice-level usage of a final stream chunk (§7.1, §7.4: these four fields)."""
    return {
        "prompt_tokens": plan.prompt_tokens,
        "completion_tokens": plan.completion_tokens,
        "total_tokens": plan.prompt_tokens + plan.completion_tokens,
        "cached_tokens": plan.cached_tokens,
    }


def tool_call_ids(state: EmulatorState, plan: ReplyPlan) -> list[str]:
    return [state.next_tool_call_id(call.name) for call in plan.tool_calls]


def _message(plan: ReplyPlan, ids: list[str]) -> dict[str, object]:
    message: dict[str, object] = {
        "role": "assistant",
        # §6: content may be null; the emulator sends null only beside tool calls.
        "content": plan.text if plan.text or not plan.tool_calls else None,
    }
    if plan.reasoning is not None:
        message["reasoning_content"] = plan.reasoning
    if plan.tool_calls:
        # §6: the official guide's example carries no `index` here.
        message["tool_calls"] = [
            {
                "id": ident,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for ident, call in zip(ids, plan.tool_calls, strict=True)
        ]
    return message


def completion_body(
    state: EmulatorState, envelope: Envelope, plan: ReplyPlan, n: int
) -> dict[str, object]:
    """The `chat.completion` object of §6 (n identical choices when n > 1)."""
    choices = [
        {
            "index": i,
            "message": _message(plan, tool_call_ids(state, plan)),
            "finish_reason": plan.finish,
        }
        for i in range(n)
    ]
    return {
        "id": envelope.id,
        "object": "chat.completion",
        "created": envelope.created,
        "model": envelope.model,
        "choices": choices,
        "usage": usage_full(plan, n),
        "system_fingerprint": envelope.fingerprint,
    }
