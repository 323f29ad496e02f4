from __future__ import annotations

import pytest

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.model import Diagnostic, Tool, ToolChoice
from kimi_gateway.upstreams.kimi.quirks_tools import (
    cap_tools,
    conversation_key,
    dedupe_tools,
    ensure_prompt_cache_key,
    mark_builtin_tools,
    normalise_tool_schemas,
)

from .canonical import ctx, request, user


def _tools(count: int) -> tuple[Tool, ...]:
    return tuple(Tool(f"t{i}", parameters={"type": "object"}) for i in range(count))


def test_dollar_tools_become_builtin_functions() -> None:
    raw = request(tools=(Tool("$web_search"), Tool("search")))
    fixed = mark_builtin_tools(raw, ctx())
    assert fixed.tools == (Tool("$web_search", kind="builtin_function"), Tool("search"))
    assert mark_builtin_tools(raw, ctx("kimi-k2.6", "anthropic_messages")) == raw


def test_duplicate_tools_keep_the_first() -> None:
    raw = request(tools=(Tool("a", "first"), Tool("b"), Tool("a", "second")))
    fixed = dedupe_tools(raw, ctx())
    assert fixed.tools == (Tool("a", "first"), Tool("b"))
    assert [d.code for d in fixed.diagnostics] == ["dropped_tool"]


def test_kimi_code_tool_cap_is_a_clear_error_naming_the_limit() -> None:
    raw = request("kimi-for-coding", tools=_tools(130))
    with pytest.raises(TranslationError) as caught:
        cap_tools(raw, ctx("kimi-for-coding", "kimi_code"))
    assert caught.value.param == "tools"
    assert caught.value.message.startswith(
        "130 tools were sent; kimi-for-coding accepts at most 128"
    )
    assert cap_tools(request("kimi-k2.6", tools=_tools(130)), ctx()) == request(
        "kimi-k2.6", tools=_tools(130)
    )


def test_kimi_code_tool_cap_trims_when_configured() -> None:
    raw = request("kimi-for-coding", tools=_tools(130))
    fixed = cap_tools(raw, ctx("kimi-for-coding", "kimi_code", trim_tools=True))
    assert fixed.tools == _tools(128)
    assert fixed.diagnostics == (
        Diagnostic(
            "dropped_tool", "only the first 128 tools were sent (the limit); dropped: t128, t129"
        ),
    )


def test_trimming_never_drops_the_forced_tool() -> None:
    raw = request("kimi-for-coding", tools=_tools(130), tool_choice=ToolChoice("tool", "t129"))
    with pytest.raises(TranslationError):
        cap_tools(raw, ctx("kimi-for-coding", "kimi_code", trim_tools=True))


def test_schemas_are_normalised_and_lossy_changes_recorded() -> None:
    schema = {"$schema": "x", "type": "object", "properties": {"a": {"description": "?"}}}
    raw = request(
        tools=(Tool("t", parameters=schema), Tool("$web_search", kind="builtin_function"))
    )
    fixed = normalise_tool_schemas(raw, ctx())
    assert fixed.tools[0].parameters == {
        "type": "object",
        "properties": {"a": {"description": "?", "type": "string"}},
    }
    assert fixed.tools[1] == Tool("$web_search", kind="builtin_function")
    assert fixed.diagnostics == (
        Diagnostic(
            "changed_schema",
            "tools[0].function.parameters: root.properties.a: a schema without type became "
            "type string (MFJS)",
        ),
    )


def test_response_format_schema_is_normalised_on_the_openai_wire() -> None:
    fmt = {
        "type": "json_schema",
        "json_schema": {"name": "x", "schema": {"properties": {"k": {"enum": [1, 2]}}}},
    }
    fixed = normalise_tool_schemas(request(response_format=fmt), ctx())
    assert fixed.response_format == {
        "type": "json_schema",
        "json_schema": {
            "name": "x",
            "schema": {"type": "object", "properties": {"k": {"type": "integer", "enum": [1, 2]}}},
        },
    }


def test_unfixable_schema_is_refused_naming_the_tool() -> None:
    raw = request(tools=(Tool("t", parameters={"type": "array"}),))
    with pytest.raises(TranslationError) as caught:
        normalise_tool_schemas(raw, ctx())
    assert caught.value.param == "tools[0].function.parameters"


def test_prompt_cache_key_for_kimi_code_from_metadata_or_a_stable_hash() -> None:
    context = ctx("kimi-for-coding", "kimi_code")
    from_meta = ensure_prompt_cache_key(
        request("kimi-for-coding", metadata={"user_id": "s1"}), context
    )
    assert from_meta.prompt_cache_key == "s1"
    first = request("kimi-for-coding", user("hello"))
    later = request("kimi-for-coding", user("hello"), user("more"))
    key = ensure_prompt_cache_key(first, context).prompt_cache_key
    assert (
        key == conversation_key(first) == ensure_prompt_cache_key(later, context).prompt_cache_key
    )
    assert isinstance(key, str)
    assert (key[:4], len(key)) == ("kgw-", 36)
    assert ensure_prompt_cache_key(first, ctx()) == first  # the platform does not need one
    given = request("kimi-for-coding", prompt_cache_key="mine")
    assert ensure_prompt_cache_key(given, context) == given
    off = ctx("kimi-for-coding", "kimi_code", derive_prompt_cache_key=False)
    assert ensure_prompt_cache_key(first, off) == first
