from __future__ import annotations

import pytest

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.model import (
    Diagnostic,
    Message,
    OpaquePart,
    TextPart,
    ThinkingConfig,
    ThinkingPart,
    Tool,
    ToolChoice,
)
from kimi_gateway.upstreams.kimi import QuirkPolicy, apply_quirks, profile_for

from .canonical import request, tool_turn, user


def test_a_clean_request_passes_unchanged() -> None:
    raw = request("kimi-k2.6", user("hi"), max_tokens=100, stop=("END",))
    assert apply_quirks(raw, profile_for("kimi-k2.6"), QuirkPolicy()) == raw


def test_thinking_is_settled_before_the_sampling_rules_read_it() -> None:
    # tool_choice required turns thinking off, so 0.6 becomes the right fixed temperature.
    raw = request(
        "kimi-k2.6",
        tools=(Tool("get_weather", parameters={"type": "object"}),),
        tool_choice=ToolChoice("required"),
        temperature=0.6,
    )
    fixed = apply_quirks(raw, profile_for("kimi-k2.6"), QuirkPolicy())
    assert (fixed.thinking, fixed.temperature) == (ThinkingConfig("disabled"), 0.6)
    assert [d.code for d in fixed.diagnostics] == ["changed_thinking"]


def test_turning_thinking_off_for_history_skips_the_placeholder() -> None:
    raw = request("kimi-k2.6", *tool_turn(), temperature=1.0)
    policy = QuirkPolicy(missing_reasoning="disable_thinking")
    fixed = apply_quirks(raw, profile_for("kimi-k2.6"), policy)
    assert fixed.messages == raw.messages
    assert fixed.temperature is None  # 1.0 is the thinking value; thinking is now off
    assert [d.code for d in fixed.diagnostics] == ["changed_thinking", "omitted_param"]


def test_restored_reasoning_counts_for_every_tool_call_turn() -> None:
    raw = request("kimi-k2.6", *tool_turn("a:0"), *tool_turn("b:1", reasoning="kept"))
    stored = {"a:0": "restored"}
    fixed = apply_quirks(raw, profile_for("kimi-k2.6"), QuirkPolicy(), reasoning_lookup=stored.get)
    assert [m.parts[0] for m in fixed.messages if m.role == "assistant"] == [
        ThinkingPart("restored"),
        ThinkingPart("kept"),
    ]
    assert fixed.diagnostics == ()


def test_strict_mode_refuses_the_first_change_naming_its_field() -> None:
    raw = request(
        "kimi-k2.6",
        Message("user", (OpaquePart("tool_reference", {"tool_name": "Bash"}),)),
        temperature=0.2,
    )
    with pytest.raises(TranslationError) as caught:
        apply_quirks(raw, profile_for("kimi-k2.6"), QuirkPolicy(strict=True))
    assert (caught.value.status, caught.value.param) == (400, "temperature")


def test_strict_mode_lets_meaning_preserving_fixes_through() -> None:
    raw = request(
        "kimi-for-coding",
        Message("user", (TextPart(""), TextPart("hi"))),
        tools=(Tool("t", parameters={"$schema": "x", "properties": {"a": {"enum": ["x"]}}}),),
        metadata={"user_id": "s"},
    )
    fixed = apply_quirks(
        raw,
        profile_for("kimi-for-coding", product="kimi_code"),
        QuirkPolicy(strict=True),
        dialect="anthropic_messages",
    )
    assert fixed.messages == (user("hi"),)
    assert fixed.tools[0].parameters == {
        "type": "object",
        "properties": {"a": {"type": "string", "enum": ["x"]}},
    }
    assert fixed.diagnostics == ()


def test_diagnostics_are_appended_after_the_dialects_own() -> None:
    earlier = Diagnostic("legacy_functions", "'functions' became 'tools'")
    raw = request("kimi-k2.6", temperature=0.3, diagnostics=(earlier,))
    fixed = apply_quirks(raw, profile_for("kimi-k2.6"), QuirkPolicy())
    assert fixed.diagnostics[0] == earlier
    assert [d.code for d in fixed.diagnostics] == ["legacy_functions", "omitted_param"]
