"""Small builders of canonical requests for the quirk tests (no behaviour of their own)."""

from __future__ import annotations

from typing import Any

from kimi_gateway.core.model import (
    Message,
    Request,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
)
from kimi_gateway.upstreams.kimi.policy import QuirkContext, QuirkPolicy, UpstreamDialect
from kimi_gateway.upstreams.kimi.profiles import Product, profile_for

# A test's dialect name -> the product it targets and the wire dialect Kimi is spoken in there
# (Kimi Code speaks OpenAI Chat).
_DIALECTS: dict[str, tuple[Product, UpstreamDialect]] = {
    "openai_chat": ("platform", "openai_chat"),
    "anthropic_messages": ("platform", "anthropic_messages"),
    "kimi_code": ("kimi_code", "openai_chat"),
}


def user(text: str) -> Message:
    return Message("user", (TextPart(text),))


def request(model: str = "kimi-k2.6", *messages: Message, **fields: Any) -> Request:
    return Request(model=model, messages=messages or (user("hi"),), **fields)


def ctx(model: str = "kimi-k2.6", dialect: str = "openai_chat", /, **policy: Any) -> QuirkContext:
    product, wire = _DIALECTS[dialect]
    return QuirkContext(profile_for(model, product=product), QuirkPolicy(**policy), wire)


def tool_turn(call_id: str = "get_weather:0", reasoning: str | None = None) -> tuple[Message, ...]:
    """A user question, an assistant tool call (with or without reasoning), its result."""
    parts: tuple[Any, ...] = (ToolCallPart(call_id, "get_weather", '{"city":"Paris"}'),)
    if reasoning is not None:
        parts = (ThinkingPart(reasoning), *parts)
    return (
        user("weather in Paris?"),
        Message("assistant", parts),
        Message("user", (ToolResultPart(call_id, (TextPart("sunny"),)),)),
    )
