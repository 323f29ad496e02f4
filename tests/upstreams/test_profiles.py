from __future__ import annotations

from dataclasses import replace

import pytest

from kimi_gateway.upstreams.kimi.profiles import (
    Fixed,
    Range,
    Sampling,
    Unsupported,
    known_models,
    profile_for,
)

PLATFORM = (
    "moonshot-v1-8k",
    "moonshot-v1-32k",
    "moonshot-v1-128k",
    "moonshot-v1-auto",
    "moonshot-v1-8k-vision-preview",
    "moonshot-v1-32k-vision-preview",
    "moonshot-v1-128k-vision-preview",
    "kimi-k2-0711-preview",
    "kimi-k2-0905-preview",
    "kimi-k2-turbo-preview",
    "kimi-k2-thinking",
    "kimi-k2-thinking-turbo",
    "kimi-k2.5",
    "kimi-k2.6",
    "kimi-k2.7-code",
    "kimi-k2.7-code-highspeed",
    "kimi-k3",
)
KIMI_CODE = (
    "kimi-for-coding",
    "kimi-for-coding-highspeed",
    "k3",
    "k3-256k",
    "kimi-k3",
    "kimi-k2.7",
    "k2.7",
    "kimi-k2.5",
)


def test_every_named_model_is_in_the_table() -> None:
    assert known_models() == PLATFORM
    assert known_models("kimi_code") == KIMI_CODE


def test_k26_profile_is_the_documented_one() -> None:
    profile = profile_for("kimi-k2.6")
    assert profile.name == "kimi-k2.6"
    assert profile.context_window == 262144
    assert (profile.thinking, profile.thinking_default_on) == ("switchable", True)
    assert profile.thinking_control == "thinking_type"
    assert profile.keep_values == ("all",)
    assert profile.sampling == Sampling(
        temperature=Fixed(1.0, 0.6),
        top_p=Fixed(0.95, 0.95),
        n=Fixed(1, 1),
        presence_penalty=Fixed(0.0, 0.0),
        frequency_penalty=Fixed(0.0, 0.0),
    )
    assert (profile.tool_choice_forced, profile.tool_choice_forced_thinking) == (True, False)
    assert (profile.image_input, profile.video_input) == (True, True)
    assert profile.max_tools is None
    assert profile.requires_prompt_cache_key is False


def test_k3_thinks_always_with_reasoning_effort_and_no_sampling() -> None:
    profile = profile_for("kimi-k3")
    assert profile.context_window == 1048576
    assert profile.thinking == "always"
    assert profile.thinking_control == "reasoning_effort"
    assert profile.reasoning_efforts == ("low", "high", "max")
    assert profile.default_reasoning_effort == "max"
    assert profile.tool_choice_forced_thinking is True
    assert profile.sampling.temperature == Unsupported()
    assert (profile.default_max_tokens, profile.max_output_tokens) == (131072, 1048576)


def test_k27_code_cannot_turn_thinking_off_and_keeps_all() -> None:
    profile = profile_for("kimi-k2.7-code-highspeed")
    assert profile.name == "kimi-k2.7-code-highspeed"
    assert (profile.thinking, profile.thinking_control) == ("always", "thinking_type")
    assert profile.keep_values == ("all",)
    assert profile.tool_choice_forced_thinking is False


def test_ranged_models_carry_their_default_temperature() -> None:
    assert profile_for("moonshot-v1-8k").sampling.default_temperature == 0.0
    assert profile_for("kimi-k2-turbo-preview").sampling.default_temperature == 0.6
    assert profile_for("kimi-k2-thinking").sampling.default_temperature == 1.0
    assert profile_for("moonshot-v1-8k").sampling.temperature == Range(0.0, 1.0)
    assert profile_for("moonshot-v1-8k").sampling.n == Range(1, 5)


def test_contexts_and_images_of_older_models() -> None:
    assert profile_for("moonshot-v1-8k").context_window == 8192
    assert profile_for("moonshot-v1-32k-vision-preview").context_window == 32768
    assert profile_for("moonshot-v1-32k").image_input is False
    assert profile_for("moonshot-v1-32k-vision-preview").image_input is True
    assert profile_for("kimi-k2-0711-preview").context_window == 131072
    assert profile_for("kimi-k2-thinking").thinking == "always"
    assert profile_for("kimi-k2-thinking").thinking_control == "none"


def test_kimi_code_limits_apply_to_every_name_there() -> None:
    for name in KIMI_CODE:
        profile = profile_for(name, product="kimi_code")
        assert (profile.name, profile.product) == (name, "kimi_code")
        assert profile.context_window == 262144
        assert profile.max_tools == 128
        assert profile.requires_prompt_cache_key is True
    assert profile_for("k3", product="kimi_code").thinking_control == "reasoning_effort"
    assert profile_for("k3", product="kimi_code").tool_choice_forced_thinking is False
    assert profile_for("kimi-for-coding", product="kimi_code").tool_choice_forced_thinking is False


def test_platform_model_on_kimi_code_gets_kimi_code_limits() -> None:
    profile = profile_for("kimi-k2.6", product="kimi_code")
    expected = replace(
        profile_for("kimi-k2.6"),
        product="kimi_code",
        max_tools=128,
        requires_prompt_cache_key=True,
        sampling=profile.sampling,
        default_max_tokens=32768,
    )
    assert profile == expected


@pytest.mark.parametrize("name", ["KIMI-K2.6", " kimi-k2.6 ", "kimi-k2.6[1m]"])
def test_lookup_normalises_case_spaces_and_client_suffixes(name: str) -> None:
    assert profile_for(name) == profile_for("kimi-k2.6")


def test_unknown_names_get_the_conservative_default() -> None:
    profile = profile_for("kimi-k9-preview")
    assert (profile.name, profile.known) == ("kimi-k9-preview", False)
    assert profile.context_window is None
    assert (profile.thinking, profile.thinking_default_on) == ("switchable", False)
    assert profile.sampling.temperature == Range(0.0, 1.0)
    assert profile.tool_choice_forced_thinking is False
    unknown_code = profile_for("kimi-k9-preview", product="kimi_code")
    assert (unknown_code.max_tools, unknown_code.known) == (128, False)
