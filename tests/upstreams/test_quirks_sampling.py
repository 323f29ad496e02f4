from __future__ import annotations

from typing import Any

import pytest

from kimi_gateway.core.errors import OneChoicePerCall, TranslationError
from kimi_gateway.core.model import Diagnostic, ImagePart, Message, TextPart
from kimi_gateway.upstreams.kimi.policy import SamplingOverride
from kimi_gateway.upstreams.kimi.quirks_sampling import (
    estimate_prompt_tokens,
    fix_sampling,
    limit_stop,
    raise_temperature_for_n,
    set_max_tokens,
)

from .canonical import ctx, request, user

OMIT_N: dict[str, Any] = {"n_on_single_choice_models": "omit"}  # the pre-fan-out behaviour


def test_fixed_temperature_wrong_value_is_omitted_with_a_diagnostic() -> None:
    fixed = fix_sampling(request("kimi-k2.6", temperature=0.2), ctx("kimi-k2.6"), thinking=True)
    assert fixed.temperature is None
    assert fixed.diagnostics == (
        Diagnostic(
            "omitted_param",
            "temperature=0.2 not sent: kimi-k2.6 only accepts 1 here",
        ),
    )


def test_fixed_temperature_can_be_forced_by_policy() -> None:
    context = ctx("kimi-k2.5", fixed_sampling="force")
    fixed = fix_sampling(request("kimi-k2.5", temperature=0.2), context, thinking=False)
    assert fixed.temperature == 0.6
    assert fixed.diagnostics == (
        Diagnostic(
            "changed_param",
            "temperature=0.2 sent as 0.6: kimi-k2.5 only accepts 0.6 here",
        ),
    )


def test_fixed_values_that_match_pass_silently() -> None:
    raw = request("kimi-k2.6", temperature=0.6, top_p=0.95, n=1, presence_penalty=0.0)
    assert fix_sampling(raw, ctx("kimi-k2.6"), thinking=False) == raw


def test_every_fixed_parameter_is_checked() -> None:
    raw = request("kimi-k2.6", top_p=0.5, n=2, presence_penalty=0.5, frequency_penalty=-1)
    fixed = fix_sampling(raw, ctx("kimi-k2.6", **OMIT_N), thinking=True)
    assert (fixed.top_p, fixed.n, fixed.presence_penalty, fixed.frequency_penalty) == (
        None,
        None,
        None,
        None,
    )
    assert [d.detail.split(" ")[0] for d in fixed.diagnostics] == [
        "top_p=0.5",
        "n=2",
        "presence_penalty=0.5",
        "frequency_penalty=-1",
    ]


def test_ranged_temperature_is_clamped() -> None:
    fixed = fix_sampling(request("moonshot-v1-8k", temperature=1.7), ctx("moonshot-v1-8k"), False)
    assert fixed.temperature == 1.0
    assert fixed.diagnostics == (
        Diagnostic("changed_param", "temperature=1.7 sent as 1: outside [0, 1]"),
    )


def test_n_is_clamped_to_an_integer() -> None:
    fixed = fix_sampling(request("moonshot-v1-8k", n=9), ctx("moonshot-v1-8k"), False)
    assert fixed.n == 5
    assert isinstance(fixed.n, int)


def test_unsupported_parameters_are_omitted_and_neutral_ones_silently() -> None:
    raw = request("kimi-k3", temperature=0.7, n=1, presence_penalty=0.0)
    fixed = fix_sampling(raw, ctx("kimi-k3"), thinking=True)
    assert (fixed.temperature, fixed.n, fixed.presence_penalty) == (None, None, None)
    assert fixed.diagnostics == (
        Diagnostic("omitted_param", "temperature=0.7 not sent: kimi-k3 does not take it"),
    )


def test_overrides_can_omit_force_clamp_or_pass() -> None:
    policy = {
        "sampling_overrides": (
            SamplingOverride("kimi-k2.*", "temperature", "omit"),
            SamplingOverride("moonshot-v1-*", "top_p", "force", value=0.9),
            SamplingOverride("moonshot-v1-*", "temperature", "clamp", low=0.1, high=0.5),
            SamplingOverride("kimi-k3", "temperature", "pass"),
        )
    }
    k26 = fix_sampling(request("kimi-k2.6", temperature=1.0), ctx("kimi-k2.6", **policy), True)
    assert k26.temperature is None
    assert k26.diagnostics == (
        Diagnostic("omitted_param", "temperature=1 not sent: an override omits it"),
    )
    v1 = fix_sampling(
        request("moonshot-v1-8k", temperature=0.9), ctx("moonshot-v1-8k", **policy), False
    )
    assert (v1.temperature, v1.top_p) == (0.5, 0.9)
    k3 = fix_sampling(request("kimi-k3", temperature=0.3), ctx("kimi-k3", **policy), True)
    assert (k3.temperature, k3.diagnostics) == (0.3, ())


def test_default_temperature_applies_only_where_a_range_allows() -> None:
    ranged = fix_sampling(
        request("moonshot-v1-8k"), ctx("moonshot-v1-8k", default_temperature=0.3), False
    )
    assert (ranged.temperature, ranged.diagnostics) == (0.3, ())
    fixed = fix_sampling(request("kimi-k2.6"), ctx("kimi-k2.6", default_temperature=0.3), True)
    assert (fixed.temperature, fixed.diagnostics) == (None, ())


def test_anthropic_wire_has_no_n_or_penalties() -> None:
    raw = request("kimi-k2.6", n=3, presence_penalty=0.4)
    fixed = fix_sampling(raw, ctx("kimi-k2.6", "anthropic_messages", **OMIT_N), thinking=True)
    assert (fixed.n, fixed.presence_penalty) == (None, None)
    assert [d.code for d in fixed.diagnostics] == ["omitted_param", "omitted_param"]


@pytest.mark.parametrize(
    ("model", "wire"),
    [("kimi-k2.6", "openai_chat"), ("kimi-k3", "openai_chat"), ("kimi-k2.6", "anthropic_messages")],
)
def test_n_on_a_one_answer_model_is_left_to_the_engine_to_fan_out(model: str, wire: str) -> None:
    with pytest.raises(OneChoicePerCall) as caught:
        fix_sampling(request(model, n=3), ctx(model, wire), thinking=True)
    assert (caught.value.n, caught.value.message) == (3, f"{model} gives one answer per request")
    one = request(model, n=1)
    assert fix_sampling(one, ctx(model, wire), thinking=True).diagnostics == ()


def test_strict_mode_turns_a_change_into_a_400_naming_the_field() -> None:
    with pytest.raises(TranslationError) as caught:
        fix_sampling(request("kimi-k2.6", temperature=0.2), ctx("kimi-k2.6", strict=True), True)
    assert caught.value.param == "temperature"
    assert caught.value.status == 400
    assert caught.value.message == (
        "strict mode: the request would be changed: temperature=0.2 not sent: "
        "kimi-k2.6 only accepts 1 here"
    )


def test_n_with_zero_temperature_is_left_to_the_engine_to_fan_out() -> None:
    with pytest.raises(OneChoicePerCall) as caught:
        raise_temperature_for_n(request("moonshot-v1-8k", n=3), ctx("moonshot-v1-8k"))
    assert (caught.value.n, caught.value.param, caught.value.message) == (
        3,
        "n",
        "Kimi returns only one result when temperature is close to 0 (got 0)",
    )


def test_n_with_zero_temperature_raises_temperature() -> None:
    raising = ctx("moonshot-v1-8k", n_with_low_temperature="raise_temperature")
    fixed = raise_temperature_for_n(request("moonshot-v1-8k", n=3), raising)
    assert fixed.temperature == 0.3
    assert fixed.diagnostics == (
        Diagnostic("changed_param", "temperature=0 sent as 0.3: n=3 needs it"),
    )
    fine = request("moonshot-v1-8k", n=3, temperature=0.5)
    assert raise_temperature_for_n(fine, raising) == fine


def test_n_with_zero_temperature_can_be_refused() -> None:
    with pytest.raises(TranslationError) as caught:
        raise_temperature_for_n(
            request("moonshot-v1-8k", n=2, temperature=0.0),
            ctx("moonshot-v1-8k", n_with_low_temperature="reject"),
        )
    assert caught.value.param == "n"


def test_stop_beyond_kimis_limits_is_left_to_the_gateway() -> None:
    long = "é" * 20  # 40 bytes
    raw = request("kimi-k2.6", stop=("a", "b", long, "c", "d", "e", "f"))
    fixed = limit_stop(raw, ctx())
    assert fixed.stop == ("a", "b", "c", "d", "e")
    assert fixed.diagnostics == (
        Diagnostic(
            "stop_enforced",
            f"stop {[long, 'f']!r} enforced by the gateway: Kimi takes ≤ 5 entries of ≤ 32 bytes",
        ),
    )
    # Strict mode keeps it: the client's meaning is not changed.
    assert limit_stop(raw, ctx(strict=True)).stop == ("a", "b", "c", "d", "e")
    five = request(stop=tuple("abcde"))
    assert limit_stop(five, ctx()) == five  # exactly at the limit: untouched
    at_32 = request(stop=("x" * 32,))
    assert limit_stop(at_32, ctx()) == at_32


def test_watched_stops_with_several_choices_need_one_call_per_choice() -> None:
    raw = request("moonshot-v1-8k", n=2, stop=tuple("abcdef"))
    with pytest.raises(OneChoicePerCall) as caught:
        limit_stop(raw, ctx("moonshot-v1-8k"))
    assert caught.value.n == 2
    fitting = request("moonshot-v1-8k", n=2, stop=tuple("abcde"))
    assert limit_stop(fitting, ctx("moonshot-v1-8k")) == fitting


def test_stop_can_be_truncated_to_five_entries_of_32_bytes() -> None:
    long = "é" * 20  # 40 bytes: cut on a character boundary
    raw = request("kimi-k2.6", stop=("a", "b", long, "c", "d", "e", "f"))
    fixed = limit_stop(raw, ctx(stop_overflow="truncate"))
    assert fixed.stop == ("a", "b", "é" * 16, "c", "d")
    assert [d.code for d in fixed.diagnostics] == ["changed_param"]
    assert limit_stop(request(stop=("a",)), ctx()) == request(stop=("a",))


def test_stop_overflow_can_be_refused() -> None:
    with pytest.raises(TranslationError) as caught:
        limit_stop(request(stop=tuple("abcdef")), ctx(stop_overflow="reject"))
    assert caught.value.param == "stop"


def test_max_tokens_default_and_model_cap() -> None:
    assert set_max_tokens(request(), ctx(default_max_tokens=4096)).max_tokens == 4096
    assert set_max_tokens(request(), ctx()).max_tokens is None
    raw = request("kimi-k3", max_tokens=2_000_000)
    capped = set_max_tokens(raw, ctx("kimi-k3"))
    assert capped.max_tokens == 1048576 - estimate_prompt_tokens(raw) // 2  # minus the prompt
    uncapped = set_max_tokens(raw, ctx("kimi-k3", clamp_max_tokens_to_context=False))
    assert uncapped.max_tokens == 1048576  # the model's output cap still holds
    assert [d.code for d in capped.diagnostics] == ["changed_param"]


def test_max_tokens_is_required_on_the_anthropic_wire() -> None:
    assert set_max_tokens(request(), ctx("kimi-k2.6", "anthropic_messages")).max_tokens == 32768
    k3 = set_max_tokens(request("kimi-k3"), ctx("kimi-k3", "anthropic_messages"))
    assert k3.max_tokens == 131072


def test_max_tokens_clamped_to_the_context_by_default() -> None:
    raw = request("moonshot-v1-8k", user("x" * 3000), max_tokens=8000)
    fixed = set_max_tokens(raw, ctx("moonshot-v1-8k"))
    assert fixed.max_tokens == 8192 - (1000 + 16 + 8 * 2) // 2  # half the high estimate
    assert [d.code for d in fixed.diagnostics] == ["changed_param"]
    off = ctx("moonshot-v1-8k", clamp_max_tokens_to_context=False)
    assert set_max_tokens(raw, off).max_tokens == 8000


def test_max_tokens_clamp_keeps_a_floor_when_the_estimate_fills_the_window() -> None:
    raw = request("moonshot-v1-8k", user("x" * 60000), max_tokens=32000)
    assert set_max_tokens(raw, ctx("moonshot-v1-8k")).max_tokens == 1024
    assert set_max_tokens(raw, ctx("moonshot-v1-8k", max_tokens_floor=2000)).max_tokens == 2000
    small = request("moonshot-v1-8k", user("x" * 60000), max_tokens=500)
    assert set_max_tokens(small, ctx("moonshot-v1-8k")) == small


def test_prompt_estimate_counts_text_and_images() -> None:
    image = Message("user", (TextPart("abcdef"), ImagePart("base64", "AAAA", "image/png")))
    assert estimate_prompt_tokens(request("kimi-k2.6", image)) == 2 + 1024 + 16 + 8 * 2
