"""The tool, schema and context cases of the quirk table (emulator_cases.py has the rest and
the case model): what Kimi refuses in a tool list or schema, and how the fix gets it accepted."""

from __future__ import annotations

from kimi_gateway.upstreams.kimi import (
    KIMI_CODE_ANTHROPIC,
    KIMI_CODE_OPENAI,
    PLATFORM_GLOBAL,
    QuirkPolicy,
)

from .emulator_cases import MFJS, WEATHER, Case, chat, messages, tool_schema

TOOL_CASES = [
    Case(
        "mfjs_enum_without_type",
        PLATFORM_GLOBAL,
        chat(
            "kimi-k2.6",
            tools=[tool_schema({"type": "object", "properties": {"unit": {"enum": ["c", "f"]}}})],
        ),
        f"{MFJS}, details: <At path 'properties.unit': type is not defined>",
    ),
    Case(
        "mfjs_type_beside_anyof",
        PLATFORM_GLOBAL,
        chat(
            "kimi-k2.6",
            tools=[
                tool_schema(
                    {
                        "type": "object",
                        "properties": {
                            "v": {"type": "string", "anyOf": [{"enum": ["a"]}, {"type": "null"}]}
                        },
                    }
                )
            ],
        ),
        f"{MFJS}, details: <At path 'properties.v': when using anyOf, type should be defined in "
        "anyOf items instead of the parent schema>",
    ),
    Case(
        "mfjs_definitions_ref",
        PLATFORM_GLOBAL,
        chat(
            "kimi-k2.6",
            tools=[
                tool_schema(
                    {
                        "type": "object",
                        "properties": {"a": {"$ref": "#/definitions/A"}},
                        "definitions": {"A": {"type": "string"}},
                    }
                )
            ],
        ),
        f"{MFJS}, details: <At path 'properties.a.$ref': references must start with #/$defs/>",
    ),
    Case(
        "mfjs_enum_value_type",
        PLATFORM_GLOBAL,
        chat(
            "kimi-k2.6",
            tools=[
                tool_schema(
                    {
                        "type": "object",
                        "properties": {"flag": {"type": "string", "enum": ["yes", True]}},
                    }
                )
            ],
        ),
        f"{MFJS}, details: <At path 'properties.flag.enum': enum value (true) does not match any "
        "type in [string]>",
    ),
    Case(
        "mfjs_root_type",
        PLATFORM_GLOBAL,
        chat("kimi-k2.6", tools=[tool_schema({"properties": {"a": {"type": "string"}}})]),
        'Invalid request: tools.function.parameters.type is required and must be "object"',
    ),
    Case(
        "mfjs_on_the_anthropic_face",
        KIMI_CODE_ANTHROPIC,
        messages(
            "kimi-for-coding",
            tools=[
                {
                    "name": "Bash",
                    "input_schema": {
                        "$schema": "https://json-schema.org/draft/2020-12/schema",
                        "type": "object",
                        "properties": {"mode": {"enum": ["a", "b"]}},
                    },
                }
            ],
        ),
        f"{MFJS}, details: <At path 'properties.mode': type is not defined>",
        client="anthropic_messages",
    ),
    Case(
        "builtin_web_search",
        PLATFORM_GLOBAL,
        chat("kimi-k2.6", tools=[{"type": "function", "function": {"name": "$web_search"}}]),
        "Invalid request: function name $web_search is invalid, must match "
        r"^[a-zA-Z_][a-zA-Z0-9\-_]{0,255}$",
    ),
    Case(
        "duplicated_tool",
        KIMI_CODE_OPENAI,
        chat("kimi-for-coding", tools=[WEATHER, WEATHER]),
        "function name get_weather is duplicated",
    ),
    Case(
        "tool_cap_trimmed",
        KIMI_CODE_ANTHROPIC,
        messages(
            "kimi-for-coding",
            tools=[{"name": f"t{i}", "input_schema": {"type": "object"}} for i in range(130)],
        ),
        "a max of 128 tools can be supported",
        client="anthropic_messages",
        policy=QuirkPolicy(trim_tools=True),
    ),
    Case(
        "server_tools_on_kimi",
        KIMI_CODE_ANTHROPIC,
        messages("kimi-for-coding", tools=[{"type": "web_search_20250305", "name": "web_search"}]),
        "tools.0: unsupported tool type 'web_search_20250305'",
        client="anthropic_messages",
    ),
    Case(
        "context_overflow_clamped",
        PLATFORM_GLOBAL,
        chat("moonshot-v1-8k", max_tokens=9000),
        "Your request exceeded model token limit : 8192",
        policy=QuirkPolicy(clamp_max_tokens_to_context=True),
    ),
]
