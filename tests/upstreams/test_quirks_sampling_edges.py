"""The edges of upstreams/kimi/quirks_sampling.py that mutation testing found unpinned (issue 9,
"Tests that pin the edges"): each test below fails if one of those mutants is put back (the
prompt estimate's parts, the stop limits at exactly 5 entries and 32 bytes, n = 1 at
temperature 0, the Anthropic wire on a ranged model, the ``pass`` override, n kept an integer,
strict-mode errors naming the field). Rules from docs/kimi.md §4.2, §5.1."""

from __future__ import annotations

import pytest

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.model import (
    Diagnostic,
    ImagePart,
    Message,
    TextPart,
    Tool,
    ToolCallPart,
    ToolResultPart,
)
from kimi_gateway.upstreams.kimi.policy import SamplingOverride
from kimi_gateway.upstreams.kimi.quirks_sampling import (
    estimate_prompt_tokens,
    fix_sampling,
    limit_stop,
    raise_temperature_for_n,
    set_max_tokens,
)

from .canonical import ctx, request, user

RANGED = "moonshot-v1-8k"  # §4.2: ranges for every sampling parameter; 8192-token context
SCHEMA = {"type": "object"}  # str() of it: "{'type': 'object'}", 18 characters
# The estimate (quirks_sampling.py): characters // 3, plus 16 per prompt, 8 per message and one
# more for the reply, 16 per tool, 1024 per image.


def _markup(messages: int, tools: int) -> int:
    return 16 + 8 * (messages + 1) + 16 * tools


# --- the prompt estimate: tools, descriptions, tool calls -----------------------------------


def test_estimate_counts_a_tool_s_schema_and_description() -> None:
    tool = Tool("f", "d" * 9, SCHEMA)
    estimate = estimate_prompt_tokens(request(RANGED, user("x" * 30), tools=(tool,)))
    assert estimate == (30 + 18 + 9) // 3 + _markup(1, 1)


def test_estimate_counts_a_tool_without_description_or_schema() -> None:
    estimate = estimate_prompt_tokens(request(RANGED, user("x" * 30), tools=(Tool("f"),)))
    assert estimate == 30 // 3 + _markup(1, 1)


def test_estimate_counts_tool_calls_and_tool_results() -> None:
    call = ToolCallPart("call_1", "get_weather", '{"city":"Paris"}')
    result = ToolResultPart("call_1", (TextPart("y" * 12), ImagePart("url", "https://x/a.png")))
    messages = (user("x" * 30), Message("assistant", (call,)), Message("user", (result,)))
    estimate = estimate_prompt_tokens(request(RANGED, *messages))
    assert estimate == (30 + len(str(call)) + 12) // 3 + 1024 + _markup(3, 0)


def test_the_estimate_drives_the_context_clamp() -> None:
    tool = Tool("f", "d" * 6000, SCHEMA)
    raw = request(RANGED, user("x" * 30), tools=(tool,), max_tokens=8000)
    fixed = set_max_tokens(raw, ctx(RANGED))
    room = 8192 - ((30 + 18 + 6000) // 3 + _markup(1, 1)) // 2  # half: a low estimate
    assert (fixed.max_tokens, fixed.diagnostics) == (
        room,
        (
            Diagnostic(
                "changed_param",
                f"max_tokens=8000 sent as {room}: the model's room for output",
            ),
        ),
    )


# --- stop lists at exactly the limits ----------------------------------------------------------


def test_exactly_five_stops_of_exactly_32_bytes_go_as_they_are() -> None:
    stops = ("a" * 32, "é" * 16, "c", "d", "e")  # "é" is 2 bytes: 32 bytes, 16 characters
    raw = request(RANGED, stop=stops)
    assert limit_stop(raw, ctx(RANGED)) == raw


@pytest.mark.parametrize("policy", ["enforce", "truncate", "reject"])
def test_a_sixth_stop_is_over_the_limit(policy: str) -> None:
    raw = request(RANGED, stop=("a", "b", "c", "d", "e", "f"))
    if policy == "reject":
        with pytest.raises(TranslationError) as caught:
            limit_stop(raw, ctx(RANGED, stop_overflow=policy))
        assert caught.value.param == "stop"
        return
    fixed = limit_stop(raw, ctx(RANGED, stop_overflow=policy))
    assert fixed.stop == ("a", "b", "c", "d", "e")
    assert len(fixed.diagnostics) == 1


def test_33_bytes_in_16_characters_is_over_the_limit() -> None:
    long = "é" * 16 + "x"  # 17 characters, 33 bytes
    fixed = limit_stop(request(RANGED, stop=(long, "b")), ctx(RANGED))
    assert fixed.stop == ("b",)
    assert fixed.diagnostics == (
        Diagnostic(
            "stop_enforced",
            f"stop [{long!r}] enforced by the gateway: Kimi takes ≤ 5 entries of ≤ 32 bytes",
        ),
    )


# --- n and temperature -------------------------------------------------------------------------


@pytest.mark.parametrize("temperature", [0.0, None])  # None: the model's default, 0 here
def test_n_1_at_temperature_0_is_left_alone(temperature: float | None) -> None:
    raw = request(RANGED, n=1, temperature=temperature)
    assert raise_temperature_for_n(raw, ctx(RANGED)) == raw


def test_n_2_at_temperature_0_is_raised() -> None:
    policy = ctx(RANGED, n_with_low_temperature="raise_temperature")
    fixed = raise_temperature_for_n(request(RANGED, n=2, temperature=0.0), policy)
    assert (fixed.temperature, fixed.n) == (0.3, 2)


@pytest.mark.parametrize(
    ("override", "asked", "sent"),
    [
        (None, 9, 5),  # the profile's range [1, 5]
        (SamplingOverride(RANGED, "n", "clamp", low=1.0, high=3.0), 7, 3),  # float bounds
    ],
)
def test_n_stays_an_integer_under_a_clamp(
    override: SamplingOverride | None, asked: int, sent: int
) -> None:
    overrides = () if override is None else (override,)
    fixed = fix_sampling(
        request(RANGED, n=asked), ctx(RANGED, sampling_overrides=overrides), thinking=False
    )
    assert (fixed.n, type(fixed.n)) == (sent, int)


# --- the Anthropic wire on a ranged model -------------------------------------------------------


def test_anthropic_wire_drops_n_and_penalties_even_where_the_model_ranges_them() -> None:
    raw = request(RANGED, n=2, presence_penalty=0.5, frequency_penalty=-0.5, temperature=0.4)
    policy = ctx(RANGED, "anthropic_messages", n_on_single_choice_models="omit")
    fixed = fix_sampling(raw, policy, thinking=False)
    assert (fixed.n, fixed.presence_penalty, fixed.frequency_penalty, fixed.temperature) == (
        None,
        None,
        None,
        0.4,  # temperature keeps its range there
    )
    assert [d.detail for d in fixed.diagnostics] == [
        f"n=2 not sent: {RANGED} does not take it",
        f"presence_penalty=0.5 not sent: {RANGED} does not take it",
        f"frequency_penalty=-0.5 not sent: {RANGED} does not take it",
    ]


def test_openai_wire_keeps_them_on_the_same_model() -> None:
    raw = request(RANGED, n=2, presence_penalty=0.5, frequency_penalty=-0.5)
    assert fix_sampling(raw, ctx(RANGED), thinking=False) == raw


def test_anthropic_wire_clamps_temperature_on_a_ranged_model() -> None:
    fixed = fix_sampling(
        request(RANGED, temperature=1.5), ctx(RANGED, "anthropic_messages"), thinking=False
    )
    assert (fixed.temperature, [d.detail for d in fixed.diagnostics]) == (
        1.0,
        ["temperature=1.5 sent as 1: outside [0, 1]"],
    )


# --- the pass override and strict mode ---------------------------------------------------------


def test_pass_override_sends_an_out_of_range_value_unchanged() -> None:
    override = SamplingOverride(RANGED, "temperature", "pass")
    raw = request(RANGED, temperature=1.7)
    assert fix_sampling(raw, ctx(RANGED, sampling_overrides=(override,)), thinking=False) == raw


@pytest.mark.parametrize(
    ("model", "fields", "param"),
    [
        (RANGED, {"temperature": 1.5}, "temperature"),
        (RANGED, {"top_p": 2.0}, "top_p"),
        ("kimi-k2.6", {"presence_penalty": 0.5}, "presence_penalty"),
        ("kimi-k3", {"frequency_penalty": 0.5}, "frequency_penalty"),
    ],
)
def test_strict_mode_errors_name_the_field(
    model: str, fields: dict[str, float], param: str
) -> None:
    with pytest.raises(TranslationError) as caught:
        fix_sampling(request(model, **fields), ctx(model, strict=True), thinking=False)
    assert caught.value.param == param
    assert caught.value.message.startswith(f"strict mode: the request would be changed: {param}=")


def test_the_floor_never_lifts_max_tokens_past_the_context() -> None:
    raw = request(RANGED, max_tokens=20000)
    fixed = set_max_tokens(raw, ctx(RANGED, max_tokens_floor=10000))
    assert fixed.max_tokens == 8192
