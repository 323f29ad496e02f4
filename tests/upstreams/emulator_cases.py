"""The table of quirk cases run against the emulator by test_quirks_emulator.py: a client body,
the surface it goes to, Kimi's message for the raw request, and the diagnostic of the fix.
Sampling, thinking and message cases are here; tool and schema cases in emulator_tool_cases.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kimi_gateway.upstreams.kimi import (
    KIMI_CODE_ANTHROPIC,
    KIMI_CODE_OPENAI,
    PLATFORM_ANTHROPIC,
    PLATFORM_GLOBAL,
    KimiSurface,
    QuirkPolicy,
)

from .emulator_calls import Client

MISSING_REASONING = (
    "thinking is enabled but reasoning_content is missing in assistant tool call message at index 1"
)
MFJS = "Invalid request: tools.function.parameters is not a valid moonshot flavored json schema"
CALL = {
    "id": "get_weather:0",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def chat(model: str, *messages: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "model": model,
        "messages": list(messages) or [{"role": "user", "content": "hi"}],
        **fields,
    }


def tool_schema(parameters: dict[str, Any], name: str = "lookup") -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "parameters": parameters}}


def messages(model: str, *msgs: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "model": model,
        "max_tokens": 256,
        "messages": list(msgs) or [{"role": "user", "content": "hi"}],
        **fields,
    }


@dataclass(frozen=True)
class Case:
    id: str
    surface: KimiSurface
    body: dict[str, Any]
    message: str  # Kimi's answer to the raw request (the emulator's rule text)
    client: Client = "openai_chat"
    policy: QuirkPolicy = field(default_factory=QuirkPolicy)
    rendered_raw: bool = False


TOOL_HISTORY = (
    {"role": "user", "content": "weather in Paris?"},
    {"role": "assistant", "content": None, "tool_calls": [CALL]},
    {"role": "tool", "tool_call_id": "get_weather:0", "content": "sunny"},
)

MESSAGE_CASES = [
    Case(
        "fixed_temperature",
        PLATFORM_GLOBAL,
        chat("kimi-k2.6", temperature=0.3),
        "invalid temperature: only 1 is allowed for this model",
    ),
    Case(
        "fixed_temperature_force",
        PLATFORM_GLOBAL,
        chat("kimi-k2.5", temperature=0.3),
        "invalid temperature: only 1 is allowed for this model",
        policy=QuirkPolicy(fixed_sampling="force"),
    ),
    Case(
        "fixed_top_p",
        PLATFORM_GLOBAL,
        chat("kimi-k2.6", top_p=0.5),
        "invalid top_p: only 0.95 is allowed for this model",
    ),
    Case(
        "fixed_n",
        PLATFORM_GLOBAL,
        chat("kimi-k2.5", n=2),
        "invalid n: only 1 is allowed for this model",
        # The default (fan_out) is the engine's: one call per choice (tests/e2e/test_n_choices.py).
        policy=QuirkPolicy(n_on_single_choice_models="omit"),
    ),
    Case(
        "fixed_penalty",
        PLATFORM_GLOBAL,
        chat("kimi-k2.7-code", presence_penalty=0.5),
        "invalid presence_penalty: only 0 is allowed for this model",
    ),
    Case(
        "temperature_range",
        PLATFORM_GLOBAL,
        chat("moonshot-v1-8k", temperature=1.5),
        "invalid temperature: 1.5, must be in [0, 1]",
    ),
    Case(
        "n_with_zero_temperature",
        PLATFORM_GLOBAL,
        chat("moonshot-v1-8k", n=2, temperature=0),
        "invalid n: when temperature is very close to 0 only 1 result can be returned",
        # The default (fan_out) is the engine's: one call per choice (tests/e2e/test_n_choices.py).
        policy=QuirkPolicy(n_with_low_temperature="raise_temperature"),
    ),
    Case(
        "stop_entries",
        PLATFORM_GLOBAL,
        chat("kimi-k2.6", stop=list("abcdef")),
        "stop array too long. Expected an array with maximum length 5, but got 6",
    ),
    Case(
        "stop_bytes",
        PLATFORM_GLOBAL,
        chat("kimi-k2.6", stop=["x" * 33]),
        "stop sequence must not be longer than 32",
    ),
    Case(
        "stop_sequences_anthropic",
        KIMI_CODE_ANTHROPIC,
        messages("kimi-for-coding", stop_sequences=["é" * 17]),
        "stop sequence must not be longer than 32",
        client="anthropic_messages",
    ),
    Case(
        "required_tool_choice_disables_thinking",
        PLATFORM_GLOBAL,
        chat("kimi-k2.6", tools=[WEATHER], tool_choice="required"),
        "tool_choice 'required' is incompatible with thinking enabled",
    ),
    Case(
        "required_tool_choice_nudge",
        PLATFORM_GLOBAL,
        chat("kimi-k2.7-code", tools=[WEATHER], tool_choice="required"),
        "tool_choice 'required' is incompatible with thinking enabled",
    ),
    Case(
        "named_tool_choice_nudge_by_policy",
        PLATFORM_GLOBAL,
        chat(
            "kimi-k2.5",
            tools=[WEATHER],
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
        ),
        "tool_choice 'specified' is incompatible with thinking enabled",
        policy=QuirkPolicy(forced_tool_choice="nudge"),
    ),
    Case(
        "named_tool_choice_kimi_code_anthropic",
        KIMI_CODE_ANTHROPIC,
        messages(
            "kimi-for-coding",
            tools=[{"name": "get_weather", "input_schema": {"type": "object"}}],
            tool_choice={"type": "tool", "name": "get_weather"},
            thinking={"type": "enabled", "budget_tokens": 1024},
        ),
        "tool_choice 'specified' is incompatible with thinking enabled",
        client="anthropic_messages",
    ),
    Case(
        "missing_reasoning_placeholder",
        PLATFORM_GLOBAL,
        chat("kimi-k2.6", *TOOL_HISTORY),
        MISSING_REASONING,
    ),
    Case(
        "missing_reasoning_disable",
        KIMI_CODE_OPENAI,
        chat("kimi-for-coding", *TOOL_HISTORY),
        MISSING_REASONING,
        policy=QuirkPolicy(missing_reasoning="disable_thinking"),
    ),
    Case(
        "thinking_disabled_on_always_on",
        PLATFORM_GLOBAL,
        chat("kimi-k2.7-code", thinking={"type": "disabled"}),
        "invalid thinking: only type=enabled is allowed for this model",
    ),
    Case(
        "thinking_keep_value",
        PLATFORM_GLOBAL,
        chat("kimi-k2.7-code", thinking={"type": "enabled", "keep": "last"}),
        "invalid thinking: only keep=all is allowed for this model",
    ),
    Case(
        "adaptive_thinking_on_openai_wire",
        PLATFORM_GLOBAL,
        messages("kimi-k2.6", thinking={"type": "adaptive"}, output_config={"effort": "high"}),
        "invalid thinking: type must be one of enabled, disabled",
        client="anthropic_messages",
    ),
    Case(
        "k3_effort_medium",
        PLATFORM_GLOBAL,
        chat("kimi-k3", reasoning_effort="medium"),
        "invalid reasoning_effort: must be one of low, high, max",
    ),
    Case(
        "empty_text_beside_tool_calls",
        PLATFORM_GLOBAL,
        chat(
            "kimi-k2.6",
            TOOL_HISTORY[0],
            {**TOOL_HISTORY[1], "content": "", "reasoning_content": "r"},
            TOOL_HISTORY[2],
        ),
        "text content is empty",
    ),
    Case(
        "empty_text_block_anthropic",
        PLATFORM_ANTHROPIC,
        messages(
            "kimi-k2.6",
            {
                "role": "user",
                "content": [{"type": "text", "text": ""}, {"type": "text", "text": "hi"}],
            },
        ),
        "text content is empty",
        client="anthropic_messages",
    ),
    Case(
        "empty_tool_result",
        PLATFORM_GLOBAL,
        chat(
            "kimi-k2.6",
            TOOL_HISTORY[0],
            {**TOOL_HISTORY[1], "reasoning_content": "r"},
            {**TOOL_HISTORY[2], "content": ""},
        ),
        "the message at position 2 with role 'tool' must not be empty",
    ),
    Case(
        "empty_assistant_turn",
        PLATFORM_GLOBAL,
        chat(
            "kimi-k2.6",
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": ""},
            {"role": "user", "content": "b"},
        ),
        "the message at position 1 with role 'assistant' must not be empty",
    ),
    Case(
        "unknown_content_part",
        PLATFORM_GLOBAL,
        chat(
            "kimi-k2.6",
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "listen"},
                    {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
                ],
            },
        ),
        "Invalid request: unsupported content type input_audio",
    ),
    Case(
        "refusal_part_in_history",
        PLATFORM_GLOBAL,
        chat(
            "kimi-k2.6",
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "no", "refusal": "I can't"},
            {"role": "user", "content": "b"},
        ),
        "Invalid request: unsupported content type refusal",
        rendered_raw=True,
    ),
    Case(
        "reasoning_details_index",
        KIMI_CODE_OPENAI,
        chat(
            "k3",
            {"role": "user", "content": "a"},
            {
                "role": "assistant",
                "content": "ok",
                "reasoning_content": "r",
                "reasoning_details": [{"index": 0, "type": "summary", "summary": "r"}],
            },
            {"role": "user", "content": "b"},
        ),
        "the reasoning_details at position 1 entry 0 must not contain streaming index",
    ),
]


# The diagnostic each fixed request carries (issue 3 §4); fixes that change no meaning carry none.
DIAGNOSED = {
    "fixed_temperature": ("omitted_param",),
    "fixed_temperature_force": ("changed_param",),
    "fixed_top_p": ("omitted_param",),
    "fixed_n": ("omitted_param",),
    "fixed_penalty": ("omitted_param",),
    "temperature_range": ("changed_param",),
    "n_with_zero_temperature": ("changed_param",),
    "stop_entries": ("stop_enforced",),
    "stop_bytes": ("stop_enforced",),
    "stop_sequences_anthropic": ("stop_enforced",),
    "required_tool_choice_disables_thinking": ("changed_thinking",),
    "required_tool_choice_nudge": ("nudged_tool_choice",),
    "named_tool_choice_nudge_by_policy": ("nudged_tool_choice",),
    "named_tool_choice_kimi_code_anthropic": ("changed_thinking",),
    "missing_reasoning_placeholder": ("placeholder_reasoning",),
    "missing_reasoning_disable": ("changed_thinking",),
    "thinking_disabled_on_always_on": ("changed_thinking",),
    "thinking_keep_value": ("changed_thinking",),
    "adaptive_thinking_on_openai_wire": ("changed_thinking",),
    "k3_effort_medium": ("changed_thinking",),
    "empty_assistant_turn": ("dropped_empty_message",),
    "unknown_content_part": ("flattened_block",),
    "refusal_part_in_history": ("flattened_block",),
    "mfjs_enum_value_type": ("changed_schema",),
    "duplicated_tool": ("dropped_tool",),
    "tool_cap_trimmed": ("dropped_tool",),
    "server_tools_on_kimi": ("dropped_param",),
    "context_overflow_clamped": ("changed_param",),
}
