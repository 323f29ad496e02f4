"""What rendering to Responses wire cannot carry, as Diagnostics (lossy is never silent).

``render_request`` / ``render_response`` return plain wire dicts, so the caller (the server for
replies, a future Responses upstream for requests) asks here what a render dropped or changed.
Only losses of meaning are listed: cache breakpoints are not (the Responses API caches prefixes
by itself and has no such field).
"""

from __future__ import annotations

from kimi_gateway.core.model import (
    Diagnostic,
    ImagePart,
    Message,
    OpaquePart,
    Part,
    Request,
    Response,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
)
from kimi_gateway.dialects.openai_responses.items import ITEM
from kimi_gateway.dialects.openai_responses.response import WEB_SEARCH


def response_losses(response: Response) -> tuple[Diagnostic, ...]:
    """What ``render_response(response)`` (and the stream renderer) drops or changes."""
    out = list(_part_losses(response.parts, "reply"))
    if response.stop_reason in ("stop_sequence", "refusal"):
        out.append(
            Diagnostic("changed_stop_reason", f"{response.stop_reason!r} renders as 'completed'")
        )
    if response.stop_sequence is not None:
        out.append(Diagnostic("dropped_stop_sequence", "Responses replies do not name the stop"))
    kept = (ITEM, "refusal")
    shown = [p for p in response.parts if isinstance(p, ImagePart | OpaquePart)]
    if any(not (isinstance(p, OpaquePart) and p.type in kept) for p in shown):
        out.append(Diagnostic("dropped_parts", "reply images / unknown blocks have no form"))
    return tuple(out)


def request_losses(request: Request) -> tuple[Diagnostic, ...]:
    """What ``render_request(request)`` drops or changes."""
    out: list[Diagnostic] = []
    thinking = request.thinking
    if thinking is not None and (
        thinking.budget_tokens is not None
        or thinking.keep is not None
        or (thinking.mode == "adaptive" and thinking.effort is None)
    ):
        out.append(Diagnostic("changed_thinking", "only reasoning.effort has a Responses form"))
    if len(request.system) > 1:
        out.append(Diagnostic("merged_system", "system blocks joined into one 'instructions'"))
    dropped = [
        name
        for name, value in (
            ("stop", request.stop),
            ("n", request.n),
            ("presence_penalty", request.presence_penalty),
            ("frequency_penalty", request.frequency_penalty),
        )
        if value not in (None, ())
    ]
    if dropped:
        out.append(Diagnostic("dropped_param", f"no Responses form: {dropped}"))
    if any(tool.kind == "builtin_function" for tool in request.tools):
        out.append(Diagnostic("changed_tool_kind", "builtin_function tools render as functions"))
    for i, message in enumerate(request.messages):
        out.extend(_message_losses(message, f"messages[{i}]"))
    return tuple(out)


def _message_losses(message: Message, param: str) -> list[Diagnostic]:
    out = list(_part_losses(message.parts, param))
    if message.name is not None:
        out.append(Diagnostic("dropped_name", f"{param}.name has no Responses form"))
    for j, part in enumerate(message.parts):
        if isinstance(part, ToolResultPart) and (part.is_error or part.name is not None):
            out.append(
                Diagnostic("dropped_tool_result_field", f"{param}.parts[{j}]: is_error / name")
            )
    return out


def _part_losses(parts: tuple[Part, ...], param: str) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    thinking = [p for p in parts if isinstance(p, ThinkingPart)]
    if any(p.signature is not None for p in thinking):
        out.append(Diagnostic("dropped_signature", f"{param}: thinking signatures have no form"))
    if any(p.redacted for p in thinking):
        out.append(Diagnostic("dropped_redacted_thinking", f"{param}: redacted thinking"))
    if any(
        isinstance(p, ToolCallPart) and p.kind == "builtin_function" and p.name != WEB_SEARCH
        for p in parts
    ):
        out.append(Diagnostic("changed_tool_kind", f"{param}: builtin calls render as functions"))
    return out
