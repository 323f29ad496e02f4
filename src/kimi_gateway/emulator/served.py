"""What a generation reply served, noted in its request-log entry: the oracle a gateway's
usage ledger is checked against.

A reply that carries its usage whole (not refused, not cut, not failed mid-stream) gets
``usage`` (prompt tokens with cached ones included, cached, completion with reasoning included,
reasoning: the numbers its body reports) and ``tool_calls`` (the names of the calls it makes).
Whether the client read it to the end is the log's ``cancelled``.
"""

from __future__ import annotations

from typing import Any

from kimi_gateway.emulator.script import ReplyPlan

ENTRY = "kimi_emulator.log_entry"  # the scope key under which the middleware puts the entry


def note_served(scope: Any, plan: ReplyPlan, choices: int = 1) -> None:
    entry = scope.get(ENTRY)
    if entry is None or plan.error is not None or plan.cut or plan.mid_error is not None:
        return
    entry["usage"] = {
        "prompt_tokens": plan.prompt_tokens,
        "cached_tokens": plan.cached_tokens,
        "completion_tokens": plan.completion_tokens * choices,
        "reasoning_tokens": plan.reasoning_tokens * choices,
    }
    entry["tool_calls"] = [call.name for call in plan.tool_calls] * choices
