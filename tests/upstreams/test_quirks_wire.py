from __future__ import annotations

import copy
from typing import Any

from kimi_gateway.upstreams.kimi.profiles import profile_for
from kimi_gateway.upstreams.kimi.quirks_wire import (
    fix_anthropic_wire,
    fix_openai_wire,
    message_fix,
)


def test_openai_wire_fixups_whole_body() -> None:
    body: dict[str, Any] = {
        "model": "kimi-k2.6",
        "max_tokens": 100,
        "parallel_tool_calls": True,
        "user": "u",
        "metadata": {"a": 1},
        "thinking": {"type": "enabled", "budget_tokens": 500, "keep": "all"},
        "reasoning_effort": "high",
        "messages": [
            {"role": "user", "content": "q"},
            {
                "role": "assistant",
                "content": None,
                "reasoning_content": "r",
                "tool_calls": [
                    {"id": "a:0", "type": "function", "function": {"name": "a", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "a:0", "content": ""},
        ],
        "tools": [
            {"type": "builtin_function", "function": {"name": "$web_search", "parameters": {}}},
            {"type": "function", "function": {"name": "a", "parameters": {"type": "object"}}},
        ],
    }
    before = copy.deepcopy(body)
    fixed = fix_openai_wire(body, profile_for("kimi-k2.6"))
    fix = message_fix()[1]  # the messages are fixed as they are rendered
    assert {**fixed, "messages": [fix(m) for m in body["messages"]]} == {
        "model": "kimi-k2.6",
        "max_completion_tokens": 100,
        "thinking": {"type": "enabled", "keep": "all"},
        "messages": [
            {"role": "user", "content": "q"},
            {
                "role": "assistant",
                "reasoning_content": "r",
                "tool_calls": [
                    {"id": "a:0", "type": "function", "function": {"name": "a", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "a:0", "content": "(empty)"},
        ],
        "tools": [
            {"type": "builtin_function", "function": {"name": "$web_search"}},
            {"type": "function", "function": {"name": "a", "parameters": {"type": "object"}}},
        ],
    }
    assert body == before


def test_openai_wire_keeps_only_the_thinking_field_the_model_takes() -> None:
    body = {"messages": [], "thinking": {"type": "enabled"}, "reasoning_effort": "high"}
    assert fix_openai_wire(body, profile_for("kimi-k3")) == {
        "messages": [],
        "reasoning_effort": "high",
    }
    assert fix_openai_wire(body, profile_for("moonshot-v1-8k")) == {"messages": []}
    k25 = {"messages": [], "thinking": {"type": "enabled", "keep": "all"}}
    assert fix_openai_wire(k25, profile_for("kimi-k2.5")) == {
        "messages": [],
        "thinking": {"type": "enabled"},
    }


def test_openai_wire_keeps_the_newer_max_tokens_name_when_both_are_present() -> None:
    body = {"messages": [], "max_tokens": 5, "max_completion_tokens": 9}
    assert fix_openai_wire(body, profile_for("kimi-k2.6")) == {
        "messages": [],
        "max_completion_tokens": 9,
    }


def test_anthropic_wire_fixups() -> None:
    body = {
        "model": "k",
        "system": [],
        "thinking": {"type": "enabled", "keep": "all"},
        "messages": [],
    }
    assert fix_anthropic_wire(body, profile_for("kimi-k2.5")) == {
        "model": "k",
        "thinking": {"type": "enabled"},
        "messages": [],
    }
    assert body["system"] == []
