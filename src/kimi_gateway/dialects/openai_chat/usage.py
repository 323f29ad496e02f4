"""``usage`` objects and ``finish_reason`` values ↔ canonical Usage and StopReason.

Kimi's ``prompt_tokens`` INCLUDES cached tokens; the cached count arrives at top level
(``cached_tokens``) and/or in ``prompt_tokens_details.cached_tokens``; reasoning tokens in
``completion_tokens_details.reasoning_tokens`` (docs/kimi.md §6, docs/kimi.md §F2.4). Rendering
writes both cached fields so clients reading either find them. Reading is lenient: a usage
object with odd values must not fail an otherwise good reply, so non-integers count as 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kimi_gateway.core.model import StopReason
from kimi_gateway.core.usage import Usage

FINISH_TO_STOP: dict[str, StopReason] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "content_filter",
}
STOP_TO_FINISH: dict[StopReason, str] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "content_filter": "content_filter",
    "refusal": "content_filter",  # OpenAI's nearest: the reply was withheld for safety
}


def parse_finish(value: Any) -> StopReason | None:
    """``""`` is the same as null (an early Kimi version sent it, docs/kimi.md §7.3)."""
    return FINISH_TO_STOP.get(value) if isinstance(value, str) else None


def render_finish(stop: StopReason | None) -> str | None:
    return None if stop is None else STOP_TO_FINISH[stop]


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return 0
    return int(value)


def _nested(usage: Mapping[str, Any], outer: str, inner: str) -> int:
    details = usage.get(outer)
    return _count(details.get(inner)) if isinstance(details, Mapping) else 0


def parse_usage(value: Any) -> Usage | None:
    """A wire usage object, or None when there is none."""
    if not isinstance(value, Mapping):
        return None
    prompt = _count(value.get("prompt_tokens"))
    cached = _nested(value, "prompt_tokens_details", "cached_tokens") or _count(
        value.get("cached_tokens")
    )
    cached = min(cached, prompt)
    return Usage(
        input_uncached=prompt - cached,
        input_cache_read=cached,
        output=_count(value.get("completion_tokens")),
        reasoning=_nested(value, "completion_tokens_details", "reasoning_tokens"),
    )


def render_usage(usage: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.input_total,
        "completion_tokens": usage.output,
        "total_tokens": usage.total,
        "cached_tokens": usage.input_cache_read,
        "prompt_tokens_details": {"cached_tokens": usage.input_cache_read},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning},
    }
