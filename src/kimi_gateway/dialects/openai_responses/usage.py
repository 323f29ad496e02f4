"""Responses ``usage`` and ``status`` ↔ canonical Usage and StopReason.

``input_tokens`` INCLUDES cached tokens, as ``prompt_tokens`` does in Chat Completions
(docs/kimi.md §F2.4); the cached count is ``input_tokens_details.cached_tokens``, the cache write
``input_tokens_details.cache_write_tokens``, reasoning ``output_tokens_details.reasoning_tokens``.
Reading is lenient (odd values count as 0). Status: ``completed`` is end_turn, or tool_use when
the output holds a function call; ``incomplete`` with ``incomplete_details.reason``
``max_output_tokens`` is max_tokens, ``content_filter`` content_filter. stop_sequence and refusal
have no Responses form and render as ``completed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kimi_gateway.core.model import StopReason
from kimi_gateway.core.usage import Usage

_INCOMPLETE: dict[str, StopReason] = {
    "max_output_tokens": "max_tokens",
    "content_filter": "content_filter",
}


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return 0
    return int(value)


def _nested(usage: Mapping[str, Any], outer: str, inner: str) -> int:
    details = usage.get(outer)
    return _count(details.get(inner)) if isinstance(details, Mapping) else 0


def parse_usage(value: Any) -> Usage | None:
    if not isinstance(value, Mapping):
        return None
    total = _count(value.get("input_tokens"))
    cached = min(_nested(value, "input_tokens_details", "cached_tokens"), total)
    written = min(_nested(value, "input_tokens_details", "cache_write_tokens"), total - cached)
    return Usage(
        input_uncached=total - cached - written,
        input_cache_read=cached,
        input_cache_write=written,
        output=_count(value.get("output_tokens")),
        reasoning=_nested(value, "output_tokens_details", "reasoning_tokens"),
    )


def render_usage(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_total,
        "input_tokens_details": {
            "cached_tokens": usage.input_cache_read,
            "cache_write_tokens": usage.input_cache_write,
        },
        "output_tokens": usage.output,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning},
        "total_tokens": usage.total,
    }


def parse_stop(status: Any, details: Any, has_calls: bool) -> StopReason | None:
    if status == "completed":
        return "tool_use" if has_calls else "end_turn"
    if status == "incomplete":
        reason = details.get("reason") if isinstance(details, Mapping) else None
        return _INCOMPLETE.get(reason) if isinstance(reason, str) else None
    return None


def render_status(stop: StopReason | None) -> tuple[str, dict[str, Any] | None]:
    """``status`` and ``incomplete_details`` of a finished response."""
    if stop == "max_tokens":
        return "incomplete", {"reason": "max_output_tokens"}
    if stop == "content_filter":
        return "incomplete", {"reason": "content_filter"}
    return "completed", None
