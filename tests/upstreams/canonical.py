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
from kimi_gateway.upstreams.kimi.policy import QuirkContext, QuirkPolicy
from kimi_gateway.upstreams.kimi.profiles import profile_for


def user(text: str) -> Message:
    return Message("user", (TextPart(text),))


def request(model: str = "kimi-k2.6", *messages: Message, **fields: Any) -> Request:
    return Request(model=model, messages=messages or (user("hi"),), **fields)


def ctx(model: str = "kimi-k2.6", dialect: Any = "openai_chat", **policy: Any) -> QuirkContext:
    product = "kimi_code" if dialect == "kimi_code" else "platform"
    wire = "openai_chat" if dialect == "kimi_code" else dialect
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
