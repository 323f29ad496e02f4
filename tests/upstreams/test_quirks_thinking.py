from __future__ import annotations

import pytest

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.model import (
    Diagnostic,
    Message,
    TextPart,
    ThinkingConfig,
    ThinkingPart,
    ToolChoice,
)
from kimi_gateway.upstreams.kimi.policy import QuirkContext, QuirkPolicy
from kimi_gateway.upstreams.kimi.profiles import profile_for
from kimi_gateway.upstreams.kimi.quirks_thinking import (
    map_thinking_config,
    resolve_forced_tool_choice,
    restore_reasoning,
    thinking_on,
)

from .canonical import ctx, request, tool_turn, user


def test_thinking_state_follows_profile_and_request() -> None:
    assert thinking_on(request("kimi-k2.6"), ctx("kimi-k2.6")) is True
    off = request("kimi-k2.6", thinking=ThinkingConfig("disabled"))
    assert thinking_on(off, ctx("kimi-k2.6")) is False
    assert thinking_on(off, ctx("kimi-k3")) is True
    assert thinking_on(request("moonshot-v1-8k"), ctx("moonshot-v1-8k")) is False
    assert thinking_on(request("kimi-k9"), ctx("kimi-k9")) is False


def test_adaptive_with_effort_becomes_enabled_on_k26_with_a_note() -> None:
    raw = request("kimi-k2.6", thinking=ThinkingConfig("adaptive", effort="high"))
    fixed = map_thinking_config(raw, ctx("kimi-k2.6"))
    assert fixed.thinking == ThinkingConfig("enabled")
    assert fixed.diagnostics == (Diagnostic("changed_thinking", "effort=high has no Kimi form"),)


def test_budget_is_dropped_and_keep_kept_where_accepted() -> None:
    raw = request("kimi-k2.6", thinking=ThinkingConfig("enabled", budget_tokens=1024, keep="all"))
    fixed = map_thinking_config(raw, ctx("kimi-k2.6"))
    assert fixed.thinking == ThinkingConfig("enabled", keep="all")
    assert [d.detail for d in fixed.diagnostics] == ["budget_tokens=1024 has no Kimi form"]
    k25 = map_thinking_config(
        request("kimi-k2.5", thinking=ThinkingConfig("enabled", keep="all")), ctx("kimi-k2.5")
    )
    assert k25.thinking == ThinkingConfig("enabled")
    assert [d.detail for d in k25.diagnostics] == ["keep='all' is not accepted by kimi-k2.5"]


def test_disabled_is_kept_on_switchable_and_refused_on_always_on_models() -> None:
    off = request("kimi-k2.6", thinking=ThinkingConfig("disabled"))
    assert map_thinking_config(off, ctx("kimi-k2.6")).thinking == ThinkingConfig("disabled")
    code = map_thinking_config(
        request("kimi-k2.7-code", thinking=ThinkingConfig("disabled")), ctx("kimi-k2.7-code")
    )
    assert code.thinking == ThinkingConfig("enabled")
    assert [d.detail for d in code.diagnostics] == ["kimi-k2.7-code cannot turn thinking off"]


def test_openai_reasoning_effort_none_turns_thinking_off() -> None:
    raw = request("kimi-k2.6", thinking=ThinkingConfig("disabled", effort="none"))
    fixed = map_thinking_config(raw, ctx("kimi-k2.6"))
    assert (fixed.thinking, fixed.diagnostics) == (ThinkingConfig("disabled"), ())


@pytest.mark.parametrize(
    ("config", "effort", "notes"),
    [
        (ThinkingConfig("enabled", effort="high"), "high", 0),
        (ThinkingConfig("adaptive", effort="medium"), "high", 1),
        (ThinkingConfig("enabled", effort="xhigh"), "max", 1),
        (ThinkingConfig("enabled", budget_tokens=2000), "low", 1),
        (ThinkingConfig("enabled", budget_tokens=20000), "high", 1),
        (ThinkingConfig("enabled", budget_tokens=64000), "max", 1),
        (ThinkingConfig("disabled"), "low", 1),
    ],
)
def test_k3_gets_a_reasoning_effort(config: ThinkingConfig, effort: str, notes: int) -> None:
    fixed = map_thinking_config(request("kimi-k3", thinking=config), ctx("kimi-k3"))
    assert fixed.thinking == ThinkingConfig("enabled", effort=effort)
    assert len(fixed.diagnostics) == notes


def test_k3_unknown_effort_falls_back_to_the_default_with_a_note() -> None:
    raw = request("kimi-k3", thinking=ThinkingConfig("enabled", effort="turbo"))
    fixed = map_thinking_config(raw, ctx("kimi-k3"))
    assert fixed.thinking is None
    assert [d.detail for d in fixed.diagnostics] == [
        "effort=turbo has no Kimi form; the model default is used"
    ]


def test_k3_enabled_without_effort_uses_the_model_default() -> None:
    fixed = map_thinking_config(
        request("kimi-k3", thinking=ThinkingConfig("enabled")), ctx("kimi-k3")
    )
    assert (fixed.thinking, fixed.diagnostics) == (None, ())


def test_models_without_thinking_lose_the_setting() -> None:
    raw = request("moonshot-v1-8k", thinking=ThinkingConfig("enabled"))
    fixed = map_thinking_config(raw, ctx("moonshot-v1-8k"))
    assert fixed.thinking is None
    assert [d.detail for d in fixed.diagnostics] == ["moonshot-v1-8k cannot think"]
    quiet = map_thinking_config(
        request("moonshot-v1-8k", thinking=ThinkingConfig("disabled")), ctx("moonshot-v1-8k")
    )
    assert (quiet.thinking, quiet.diagnostics) == (None, ())


def test_anthropic_wire_keeps_budget_and_adaptive() -> None:
    config = ThinkingConfig("adaptive", budget_tokens=4000, effort="high")
    raw = request("kimi-for-coding", thinking=config)
    assert map_thinking_config(raw, ctx("kimi-for-coding", "anthropic_messages")) == raw


def test_forced_tool_choice_under_thinking_disables_thinking_by_default() -> None:
    raw = request("kimi-k2.6", tool_choice=ToolChoice("required"))
    fixed = resolve_forced_tool_choice(raw, ctx("kimi-k2.6"))
    assert fixed.thinking == ThinkingConfig("disabled")
    assert fixed.tool_choice == ToolChoice("required")
    assert fixed.diagnostics == (
        Diagnostic(
            "changed_thinking",
            "thinking disabled: tool_choice forcing required needs it off",
        ),
    )


def test_forced_tool_choice_is_left_alone_where_accepted() -> None:
    k3 = request("kimi-k3", tool_choice=ToolChoice("tool", "get_weather"))
    assert resolve_forced_tool_choice(k3, ctx("kimi-k3")) == k3
    off = request(
        "kimi-k2.6", tool_choice=ToolChoice("required"), thinking=ThinkingConfig("disabled")
    )
    assert resolve_forced_tool_choice(off, ctx("kimi-k2.6")) == off


def test_nudge_replaces_tool_choice_with_a_user_message() -> None:
    raw = request("kimi-k2.6", tool_choice=ToolChoice("tool", "get_weather"))
    fixed = resolve_forced_tool_choice(raw, ctx("kimi-k2.6", forced_tool_choice="nudge"))
    assert fixed.tool_choice is None
    assert fixed.thinking is None
    assert fixed.messages == (
        user("hi"),
        Message(
            "user", (TextPart("Please use the get_weather tool to handle the current issue."),)
        ),
    )
    assert [d.code for d in fixed.diagnostics] == ["nudged_tool_choice"]


def test_always_thinking_models_fall_back_to_the_nudge() -> None:
    raw = request("kimi-k2.7-code", tool_choice=ToolChoice("required", parallel=True))
    fixed = resolve_forced_tool_choice(raw, ctx("kimi-k2.7-code"))
    assert fixed.tool_choice == ToolChoice("auto", parallel=True)
    assert fixed.messages[-1] == user("Please select a tool to handle the current issue.")


def test_forced_tool_choice_can_be_refused() -> None:
    raw = request("kimi-k2.5", tool_choice=ToolChoice("required"))
    with pytest.raises(TranslationError) as caught:
        resolve_forced_tool_choice(raw, ctx("kimi-k2.5", forced_tool_choice="reject"))
    assert caught.value.param == "tool_choice"
    assert "with thinking on" in caught.value.message


def test_reasoning_is_restored_from_the_callers_store() -> None:
    raw = request("kimi-k2.6", *tool_turn())
    context = QuirkContext(
        profile_for("kimi-k2.6"), QuirkPolicy(), "openai_chat", {"get_weather:0": "I will look"}.get
    )
    fixed = restore_reasoning(raw, context)
    assert fixed.messages[1].parts[0] == ThinkingPart("I will look")
    assert fixed.diagnostics == ()


def test_missing_reasoning_gets_a_placeholder_by_default() -> None:
    fixed = restore_reasoning(request("kimi-k2.6", *tool_turn()), ctx("kimi-k2.6"))
    assert fixed.messages[1].parts[0] == ThinkingPart(" ")
    assert fixed.diagnostics == (
        Diagnostic(
            "placeholder_reasoning",
            "messages[1]: missing reasoning sent as a placeholder",
        ),
    )


def test_missing_reasoning_can_turn_thinking_off_or_be_refused() -> None:
    raw = request("kimi-k2.6", *tool_turn())
    off = restore_reasoning(raw, ctx("kimi-k2.6", missing_reasoning="disable_thinking"))
    assert off.thinking == ThinkingConfig("disabled")
    assert off.messages == raw.messages
    with pytest.raises(TranslationError) as caught:
        restore_reasoning(raw, ctx("kimi-k2.6", missing_reasoning="reject"))
    assert caught.value.param == "messages[1].reasoning_content"


def test_reasoning_is_not_touched_without_thinking_or_when_present() -> None:
    raw = request("kimi-k2.6", *tool_turn(), thinking=ThinkingConfig("disabled"))
    assert restore_reasoning(raw, ctx("kimi-k2.6")) == raw
    kept = request("kimi-k2.6", *tool_turn(reasoning="why"))
    assert restore_reasoning(kept, ctx("kimi-k2.6")) == kept
    anthropic = request("kimi-k2.6", *tool_turn(reasoning="why"))
    assert restore_reasoning(anthropic, ctx("kimi-k2.6", "anthropic_messages")) == anthropic


def test_anthropic_faces_get_the_missing_thinking_too() -> None:
    """docs/kimi.md §18.7: a tool-call turn replayed without thinking is refused there too."""
    raw = request("kimi-k2.6", *tool_turn())
    fixed = restore_reasoning(raw, ctx("kimi-k2.6", "anthropic_messages"))
    assert fixed.messages[1].parts[0] == ThinkingPart(" ")
    off = restore_reasoning(
        raw, ctx("kimi-k2.6", "anthropic_messages", missing_reasoning="disable_thinking")
    )
    assert (off.thinking, off.messages) == (ThinkingConfig("disabled"), raw.messages)
