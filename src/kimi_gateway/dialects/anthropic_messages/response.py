"""Anthropic Messages replies ↔ canonical Response, with the usage and stop-reason mappings
the stream modules share.

Usage: Anthropic ``input_tokens`` *excludes* cache reads and writes (docs/kimi.md §14,
docs/kimi.md §F2.4), so it maps to ``input_uncached``; ``cache_read_input_tokens`` →
``input_cache_read``; ``cache_creation_input_tokens`` → ``input_cache_write``;
``output_tokens_details.thinking_tokens`` (Kimi's Anthropic route, §14) → ``reasoning``; null
counts are 0. Stop reasons map one to one; ``content_filter`` renders as ``refusal`` (Anthropic
has no filter reason); ``pause_turn`` (a server-tool pause) parses as ``end_turn`` and
``model_context_window_exceeded`` as ``max_tokens``, each with a Diagnostic; unknown values parse
as None with a Diagnostic. Rendered ids start with ``msg_`` (the prefix is added when missing).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kimi_gateway.core.model import Diagnostic, Response, StopReason, ToolCallPart
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.anthropic_messages import fields
from kimi_gateway.dialects.anthropic_messages.content import parse_block
from kimi_gateway.dialects.anthropic_messages.content_render import render_block, tool_input
from kimi_gateway.dialects.anthropic_messages.errors import error_from_body

_STOP_REASONS: dict[str, StopReason] = {
    "end_turn": "end_turn",
    "max_tokens": "max_tokens",
    "tool_use": "tool_use",
    "stop_sequence": "stop_sequence",
    "refusal": "refusal",
}
# Anthropic stop reasons without a canonical twin, read as the nearest one.
_NEAREST: dict[str, StopReason] = {
    "pause_turn": "end_turn",
    "model_context_window_exceeded": "max_tokens",
}
_MESSAGE_PREFIX = "msg_"


def parse_response(body: Mapping[str, Any]) -> Response:
    """An upstream's Anthropic ``message`` body → canonical Response.

    A 200 body that is an Anthropic error envelope raises that error as a GatewayError.
    """
    body = fields.mapping(body, "body")
    if body.get("type") == "error":
        raise error_from_body(500, body, {})
    diags: list[Diagnostic] = []
    content = fields.sequence(body.get("content"), "content")
    parts = tuple(parse_block(block, f"content[{i}]", diags) for i, block in enumerate(content))
    stop_reason, stop_diag = parse_stop_reason(body.get("stop_reason"))
    if stop_diag is not None:
        diags.append(stop_diag)
    usage = body.get("usage")
    return Response(
        id=fields.string(body.get("id"), "id"),
        model=fields.string(body.get("model"), "model"),
        parts=parts,
        stop_reason=stop_reason,
        usage=Usage() if usage is None else parse_usage(usage, "usage"),
        stop_sequence=fields.opt_string(body.get("stop_sequence"), "stop_sequence"),
        diagnostics=tuple(diags),
    )


def parse_usage(value: Any, param: str) -> Usage:
    usage = fields.mapping(value, param)
    details = usage.get("output_tokens_details")
    reasoning = 0
    if details is not None:
        details = fields.mapping(details, f"{param}.output_tokens_details")
        reasoning = fields.count(
            details.get("thinking_tokens"), f"{param}.output_tokens_details.thinking_tokens"
        )
    return Usage(
        input_uncached=fields.count(usage.get("input_tokens"), f"{param}.input_tokens"),
        input_cache_read=fields.count(
            usage.get("cache_read_input_tokens"), f"{param}.cache_read_input_tokens"
        ),
        input_cache_write=fields.count(
            usage.get("cache_creation_input_tokens"), f"{param}.cache_creation_input_tokens"
        ),
        output=fields.count(usage.get("output_tokens"), f"{param}.output_tokens"),
        reasoning=reasoning,
    )


def parse_stop_reason(value: Any) -> tuple[StopReason | None, Diagnostic | None]:
    wire = fields.opt_string(value, "stop_reason")
    if wire is None:
        return None, None
    if wire in _STOP_REASONS:
        return _STOP_REASONS[wire], None
    nearest = _NEAREST.get(wire)
    detail = f"stop_reason {wire!r} read as {nearest!r}"
    return nearest, Diagnostic("mapped_stop_reason", detail)


def render_response(response: Response) -> dict[str, Any]:
    """Canonical Response → the Anthropic ``message`` body a client receives."""
    return {
        "id": message_id(response.id),
        "type": "message",
        "role": "assistant",
        "model": response.model,
        "content": [render_block(part, to_client=True) for part in response.parts],
        "stop_reason": render_stop_reason(response.stop_reason),
        "stop_sequence": response.stop_sequence,
        "usage": render_usage(response.usage),
    }


def render_diagnostics(response: Response) -> tuple[Diagnostic, ...]:
    """What :func:`render_response` changes: tool arguments that are not a JSON object."""
    calls = [part for part in response.parts if isinstance(part, ToolCallPart)]
    found = (tool_input(call.arguments)[1] for call in calls)
    return tuple(diag for diag in found if diag is not None)


def message_id(id: str) -> str:
    return id if id.startswith(_MESSAGE_PREFIX) else _MESSAGE_PREFIX + id


def render_stop_reason(reason: StopReason | None) -> str | None:
    return "refusal" if reason == "content_filter" else reason


def render_usage(usage: Usage) -> dict[str, Any]:
    wire: dict[str, Any] = {
        "input_tokens": usage.input_uncached,
        "cache_creation_input_tokens": usage.input_cache_write,
        "cache_read_input_tokens": usage.input_cache_read,
        "output_tokens": usage.output,
    }
    if usage.reasoning:
        wire["output_tokens_details"] = {"thinking_tokens": usage.reasoning}
    return wire
