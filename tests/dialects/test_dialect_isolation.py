"""A dialect's private request fields reach only its own wire body.

Each body below carries fields only its dialect has, several of them under names another
dialect also knows (``service_tier``, ``store``, ``output_config``, ``tools``), which is what
leaked when all three shared one bag of unmapped fields: rendered by another dialect none of
them may appear; rendered by the same dialect all of them come back as sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from kimi_gateway.core.model import Request
from kimi_gateway.dialects import anthropic_messages, openai_chat, openai_responses

Parse = Callable[[Mapping[str, Any]], Request]
Render = Callable[[Request], dict[str, Any]]

CHAT = {
    "model": "m",
    "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "Once", "partial": True},
    ],
    "logit_bias": {"1": 2},
    "seed": 7,
    "service_tier": "auto",
    "store": False,
    "output_config": {"effort": "high"},
    "top_k": 3,
}
ANTHROPIC = {
    "model": "m",
    "max_tokens": 16,
    "messages": [{"role": "user", "content": "hi"}],
    "tools": [{"type": "web_search_20250305", "name": "web_search", "max_uses": 2}],
    "output_config": {"effort": "high"},  # no thinking: kept as sent, not mapped
    "top_k": 5,
    "service_tier": "standard_only",
    "container": "container_1",
    "context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]},
    "mcp_servers": [{"type": "url", "url": "https://mcp.test/sse", "name": "x"}],
}
RESPONSES = {
    "model": "m",
    "input": "hi",
    "tools": [{"type": "web_search"}],
    "tool_choice": {"type": "web_search"},
    "reasoning": {"summary": "auto"},
    "text": {"verbosity": "low"},
    "store": False,
    "include": ["reasoning.encrypted_content"],
    "truncation": "auto",
    "service_tier": "flex",
    "safety_identifier": "h",
}
PRIVATE = {
    "openai_chat": {k for k in CHAT if k not in ("model", "messages")},
    "anthropic_messages": {k for k in ANTHROPIC if k not in ("model", "max_tokens", "messages")},
    "openai_responses": {k for k in RESPONSES if k not in ("model", "input")},
}
DIALECTS: dict[str, tuple[Parse, Render, Mapping[str, Any]]] = {
    "openai_chat": (openai_chat.parse_request, openai_chat.render_request, CHAT),
    "anthropic_messages": (
        anthropic_messages.parse_request,
        anthropic_messages.render_request,
        ANTHROPIC,
    ),
    "openai_responses": (
        openai_responses.parse_request,
        openai_responses.render_request,
        RESPONSES,
    ),
}
PAIRS = [(a, b) for a in DIALECTS for b in DIALECTS if a != b]


def own_fields(request: Request) -> dict[str, Any]:
    return {name: getattr(request, name) for name in DIALECTS}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_parser_fills_only_its_own_field(dialect: str) -> None:
    parse, _, body = DIALECTS[dialect]
    fields = own_fields(parse(body))
    assert fields.pop(dialect) is not None
    assert fields == {name: None for name in fields}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_same_dialect_round_trips_keep_the_private_fields(dialect: str) -> None:
    parse, render, body = DIALECTS[dialect]
    rendered = render(parse(body))
    assert {k: rendered[k] for k in PRIVATE[dialect]} == {k: body[k] for k in PRIVATE[dialect]}


def test_chat_round_trip_keeps_partial_and_unknown_fields() -> None:
    rendered = openai_chat.render_request(openai_chat.parse_request(CHAT))
    assert rendered == CHAT


@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_private_fields_never_reach_another_dialect_s_body(source: str, target: str) -> None:
    parse, _, body = DIALECTS[source]
    _, render, _ = DIALECTS[target]
    rendered = render(parse(body))
    assert PRIVATE[source].isdisjoint(rendered), sorted(PRIVATE[source] & set(rendered))


def test_anthropic_top_k_and_output_config_are_not_written_as_chat() -> None:
    body = openai_chat.render_request(anthropic_messages.parse_request(ANTHROPIC))
    assert body == {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "max_completion_tokens": 16,
    }


def test_responses_store_and_include_are_not_written_as_chat_or_anthropic() -> None:
    request = openai_responses.parse_request(RESPONSES)
    chat = openai_chat.render_request(request)
    anthropic = anthropic_messages.render_request(request)
    assert chat == {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    assert anthropic == {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def test_chat_logit_bias_and_partial_are_not_written_as_anthropic() -> None:
    body = anthropic_messages.render_request(openai_chat.parse_request(CHAT))
    assert body == {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Once"}],
    }
