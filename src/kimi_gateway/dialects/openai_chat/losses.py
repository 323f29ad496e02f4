"""What rendering to OpenAI wire cannot carry, as Diagnostics (issue 3 §4: lossy is never silent).

``render_request`` / ``render_response`` return plain wire dicts, so the caller (the upstream
adapter, the server) asks here what a render dropped or merged and records it. Only losses of
meaning are listed: cache breakpoints are not, because Kimi caches prefixes automatically
(docs/kimi.md §12) and OpenAI has no such field; signatures are not, because the OpenAI face of
Kimi neither sends nor reads them.
"""

from __future__ import annotations

from collections.abc import Sequence

from kimi_gateway.core import history
from kimi_gateway.core.model import (
    Diagnostic,
    ImagePart,
    Message,
    OpaquePart,
    Request,
    Response,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
    derived,
)


def request_losses(request: Request) -> tuple[Diagnostic, ...]:
    """What ``render_request(request)`` drops or merges: for a history walked last turn, what
    was found then (core/history.py), and the new messages walked."""
    return history.walk(request.messages, "openai_chat.losses/history", _losses, ())


def _losses(
    messages: Sequence[Message], start: int, end: int, found: tuple[Diagnostic, ...]
) -> tuple[Diagnostic, ...]:
    out = list(found)
    for i in range(start, end):
        facts = derived(messages[i])  # found once per message object (core/model.py)
        lost = facts.get("openai_chat.losses")
        if lost is None:
            lost = facts["openai_chat.losses"] = _message_losses(messages[i])
        out.extend(Diagnostic(code, f"messages[{i}]{detail}") for code, detail in lost)
    return tuple(out) if len(out) != len(found) else found


def _message_losses(message: Message) -> tuple[tuple[str, str], ...]:
    """One message's losses: (code, detail after its ``messages[i]``)."""
    out: list[tuple[str, str]] = []
    thinking = [p for p in message.parts if isinstance(p, ThinkingPart)]
    if any(p.redacted for p in thinking):
        out.append(("dropped_redacted_thinking", ": redacted thinking has no form"))
    if len([p for p in thinking if not p.redacted]) > 1:
        out.append(("merged_thinking", ": thinking blocks joined into one text"))
    for j, part in enumerate(message.parts):
        if isinstance(part, ToolResultPart) and part.is_error:
            out.append(("dropped_is_error", f".parts[{j}]: tool error flag dropped"))
    return tuple(out)


def response_losses(
    response: Response, *, legacy_functions: bool = False
) -> tuple[Diagnostic, ...]:
    """What ``render_response(response)`` drops or merges (``legacy_functions``: a
    ``function_call`` carries one call per choice)."""
    out: list[Diagnostic] = []
    if legacy_functions:
        for i, parts in enumerate((response.parts, *(c.parts for c in response.more_choices))):
            extra = len([p for p in parts if isinstance(p, ToolCallPart)]) - 1
            if extra > 0:
                detail = f"choices[{i}]: function_call carries one call; {extra} more not sent"
                out.append(Diagnostic("dropped_tool_calls", detail))
    if response.stop_sequence is not None:
        out.append(Diagnostic("dropped_stop_sequence", "OpenAI replies do not name the stop"))
    dropped = sorted(
        {type(p).__name__ for p in response.parts if isinstance(p, ImagePart | OpaquePart)}
    )
    if dropped:
        out.append(Diagnostic("dropped_parts", f"reply parts with no OpenAI form: {dropped}"))
    thinking = [p for p in response.parts if isinstance(p, ThinkingPart)]
    if any(p.redacted for p in thinking):
        out.append(Diagnostic("dropped_redacted_thinking", "redacted thinking has no form"))
    if len([p for p in thinking if not p.redacted]) > 1:
        out.append(Diagnostic("merged_thinking", "thinking blocks joined into one text"))
    if response.usage.input_cache_write:
        out.append(
            Diagnostic("merged_cache_write", "cache-write tokens reported as plain prompt tokens")
        )
    return tuple(out)
