"""The ``openai_compatible`` upstream's pure parts: each preset's HostProfile and the options
that refine it, the history rewrite to Kimi's parser's ids, the body sent per profile, and the
reply ids made unique (docs/kimi.md §19)."""

from __future__ import annotations

import re
from typing import Any, get_args

import pytest
from pydantic import ValidationError

from kimi_gateway.core.events import Finish, PartStart, StreamEvent, TextDelta, ToolArgumentsDelta
from kimi_gateway.core.model import (
    Diagnostic,
    Message,
    OpenAIChatFields,
    Request,
    Response,
    TextPart,
    ThinkingConfig,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
)
from kimi_gateway.core.usage import Usage
from kimi_gateway.upstreams import openai_compatible
from kimi_gateway.upstreams.openai_compatible import (
    PRESETS,
    HostOptions,
    HostProfile,
    Preset,
    UniqueToolIds,
    native_tool_ids,
    render_for_host,
)

DROPPED = Diagnostic(
    "dropped_param", "thinking: this host takes no thinking switch; the host's default applies"
)


def user(text: str) -> Message:
    return Message("user", (TextPart(text),))


def call(call_id: str, name: str = "get_weather", arguments: str = "{}") -> ToolCallPart:
    return ToolCallPart(call_id, name, arguments)


def result(call_id: str, text: str = "sunny") -> ToolResultPart:
    return ToolResultPart(call_id, (TextPart(text),))


# --- HostOptions.profile() ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "profile"),
    [
        ("generic", HostProfile("reasoning_content", "unique", "drop")),
        ("vllm", HostProfile("reasoning", "kimi_native", "chat_template_kwargs")),
        ("sglang", HostProfile("reasoning_content", "kimi_native", "chat_template_kwargs")),
        ("openrouter", HostProfile("reasoning", "unique", "openrouter")),
        ("together", HostProfile("reasoning_content", "keep", "drop")),
        ("fireworks", HostProfile("reasoning_content", "kimi_native", "drop")),
        ("groq", HostProfile("omit", "kimi_native", "drop")),
    ],
)
def test_preset_profile(preset: str, profile: HostProfile) -> None:
    assert HostOptions.model_validate({"preset": preset}).profile() == profile


def test_every_preset_has_a_profile_and_generic_is_the_default() -> None:
    assert list(PRESETS) == list(get_args(Preset))
    assert HostOptions().profile() == HostProfile("reasoning_content", "unique", "drop")


@pytest.mark.parametrize(
    ("options", "profile"),
    [
        (
            {"preset": "vllm", "reasoning_field": "reasoning_content"},
            HostProfile("reasoning_content", "kimi_native", "chat_template_kwargs"),
        ),
        (
            {"preset": "vllm", "tool_ids": "keep"},
            HostProfile("reasoning", "keep", "chat_template_kwargs"),
        ),
        ({"preset": "groq", "thinking": "kimi"}, HostProfile("omit", "kimi_native", "kimi")),
        (
            {"reasoning_field": "omit", "tool_ids": "kimi_native", "thinking": "openrouter"},
            HostProfile("omit", "kimi_native", "openrouter"),
        ),
    ],
)
def test_options_refine_the_preset(options: dict[str, Any], profile: HostProfile) -> None:
    assert HostOptions.model_validate(options).profile() == profile


def test_options_refuse_unknown_values_and_fields() -> None:
    with pytest.raises(ValidationError) as caught:
        HostOptions.model_validate({"preset": "nope", "tool_id": "keep", "thinking": "yes"})
    assert [(e["loc"], e["type"]) for e in caught.value.errors()] == [
        (("preset",), "literal_error"),
        (("thinking",), "literal_error"),
        (("tool_id",), "extra_forbidden"),
    ]


# --- native_tool_ids ------------------------------------------------------------------------


def test_native_tool_ids_count_calls_over_the_conversation() -> None:
    history = (
        user("weather?"),
        Message("assistant", (ThinkingPart("hm"), call("call_a_1"), call("call_a_2", "time"))),
        Message("user", (result("call_a_2", "noon"), result("call_a_1"))),
        Message("assistant", (TextPart("again"), call("toolu_01"))),
        Message("user", (result("toolu_01"), TextPart("thanks")), name="me"),
    )
    assert native_tool_ids(history) == (
        user("weather?"),
        Message(
            "assistant",
            (ThinkingPart("hm"), call("functions.get_weather:0"), call("functions.time:1", "time")),
        ),
        Message("user", (result("functions.time:1", "noon"), result("functions.get_weather:0"))),
        Message("assistant", (TextPart("again"), call("functions.get_weather:2"))),
        Message("user", (result("functions.get_weather:2"), TextPart("thanks")), name="me"),
    )


def test_native_tool_ids_tell_a_repeated_id_apart_by_position() -> None:
    """A client echoing vLLM's own repeating ids: each result points at the call before it."""
    history = (
        Message("assistant", (call("functions.get_weather:0"),)),
        Message("user", (result("functions.get_weather:0", "first"),)),
        Message("assistant", (call("functions.get_weather:0"),)),
        Message("user", (result("functions.get_weather:0", "second"), result("lost"))),
    )
    assert native_tool_ids(history) == (
        Message("assistant", (call("functions.get_weather:0"),)),
        Message("user", (result("functions.get_weather:0", "first"),)),
        Message("assistant", (call("functions.get_weather:1"),)),
        Message("user", (result("functions.get_weather:1", "second"), result("lost"))),
    )


# --- render_for_host ------------------------------------------------------------------------

TOOL_HISTORY = (
    user("weather?"),
    Message("assistant", (ThinkingPart("need it"), call("call_x_1", arguments='{"city":"P"}'))),
    Message("user", (result("call_x_1"),)),
)


def _assistant(call_id: str, **reasoning: str) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": None,
        **reasoning,
        "tool_calls": [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"P"}'},
            }
        ],
    }


def _history(call_id: str, **reasoning: str) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "weather?"},
        _assistant(call_id, **reasoning),
        {"role": "tool", "content": "sunny", "tool_call_id": call_id},
    ]


@pytest.mark.parametrize(
    ("profile", "messages"),
    [
        (
            HostProfile("reasoning_content", "kimi_native"),
            _history("functions.get_weather:0", reasoning_content="need it"),
        ),
        (HostProfile("reasoning", "unique"), _history("call_x_1", reasoning="need it")),
        (HostProfile("omit", "keep"), _history("call_x_1")),
    ],
    ids=["vllm-like", "openrouter-like", "groq-like"],
)
def test_history_per_profile(profile: HostProfile, messages: list[dict[str, Any]]) -> None:
    request = Request(model="host/kimi", messages=TOOL_HISTORY, stream=True, include_usage=True)
    assert render_for_host(request, profile) == (
        {
            "model": "host/kimi",
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
        },
        (),
    )
    assert request.messages == TOOL_HISTORY  # the caller's request is left alone


@pytest.mark.parametrize(
    ("style", "thinking", "fields", "dropped"),
    [
        (
            "chat_template_kwargs",
            ThinkingConfig("disabled"),
            {"chat_template_kwargs": {"thinking": False}},
            False,
        ),
        (
            "chat_template_kwargs",
            ThinkingConfig("enabled", 1024),
            {"chat_template_kwargs": {"thinking": True}},
            False,
        ),
        (
            "chat_template_kwargs",
            ThinkingConfig("adaptive"),
            {"chat_template_kwargs": {"thinking": True}},
            False,
        ),
        (
            "openrouter",
            ThinkingConfig("enabled", effort="high"),
            {"reasoning": {"effort": "high"}},
            False,
        ),
        ("openrouter", ThinkingConfig("enabled"), {"reasoning": {"enabled": True}}, False),
        (
            "openrouter",
            ThinkingConfig("disabled", effort="none"),
            {"reasoning": {"enabled": False}},
            False,
        ),
        ("kimi", ThinkingConfig("disabled"), {"thinking": {"type": "disabled"}}, False),
        ("kimi", ThinkingConfig("enabled", effort="high"), {"reasoning_effort": "high"}, False),
        ("drop", ThinkingConfig("disabled"), {}, True),
        ("chat_template_kwargs", None, {}, False),
        ("openrouter", None, {}, False),
        ("drop", None, {}, False),
    ],
)
def test_thinking_switch_per_style(
    style: Any, thinking: ThinkingConfig | None, fields: dict[str, Any], dropped: bool
) -> None:
    earlier = Diagnostic("dropped_param", "top_k")
    request = Request(model="m", messages=(user("hi"),), thinking=thinking, diagnostics=(earlier,))
    body, diagnostics = render_for_host(request, HostProfile(thinking=style))
    assert body == {"model": "m", "messages": [{"role": "user", "content": "hi"}], **fields}
    assert diagnostics == ((earlier, DROPPED) if dropped else (earlier,))


def test_thinking_switch_keeps_the_clients_other_template_kwargs() -> None:
    kwargs = {"chat_template_kwargs": {"enable_thinking": False, "custom": 1}}
    request = Request(
        model="m",
        messages=(user("hi"),),
        thinking=ThinkingConfig("disabled"),
        openai_chat=OpenAIChatFields(passthrough=kwargs),
    )
    body, _ = render_for_host(request, HostOptions(preset="vllm").profile())
    assert body["chat_template_kwargs"] == {
        "enable_thinking": False,
        "custom": 1,
        "thinking": False,
    }


def test_omit_sends_no_reasoning_key_at_all() -> None:
    details = [{"type": "reasoning.text", "text": "r"}]
    thinking = ThinkingPart("r", provider_data={"reasoning_details": details})
    request = Request(
        model="m", messages=(user("hi"), Message("assistant", (thinking, TextPart("ok"))))
    )
    body, _ = render_for_host(request, HostOptions(preset="groq").profile())
    assert body["messages"] == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "ok"},
    ]


# --- UniqueToolIds --------------------------------------------------------------------------


@pytest.fixture
def fixed_nonce(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(f"{openai_compatible.__name__}.secrets.token_hex", lambda n: "ab" * n)
    return "ab" * 6


def test_unique_ids_in_stream_batches(fixed_nonce: str) -> None:
    ids = UniqueToolIds()
    first: list[StreamEvent] = [
        PartStart(0, "thinking"),
        PartStart(1, "tool_call", "functions.get_weather:0", "get_weather"),
        ToolArgumentsDelta(1, "{}"),
    ]
    second: list[StreamEvent] = [
        PartStart(2, "tool_call", "functions.get_weather:0", "get_weather"),
        TextDelta(0, "x"),
        Finish("tool_use"),
    ]
    assert ids(first) + ids(second) == [
        PartStart(0, "thinking"),
        PartStart(1, "tool_call", f"call_{fixed_nonce}_1", "get_weather"),
        ToolArgumentsDelta(1, "{}"),
        PartStart(2, "tool_call", f"call_{fixed_nonce}_2", "get_weather"),
        TextDelta(0, "x"),
        Finish("tool_use"),
    ]


def test_unique_ids_in_a_whole_response(fixed_nonce: str) -> None:
    def response(*parts: Any) -> Response:
        return Response("chatcmpl-1", "host/kimi", parts, "tool_use", Usage(3, 0, 0, 4))

    reply = response(ThinkingPart("hm"), TextPart("t"), call("functions.f:0", "f"), call("x", "g"))
    assert UniqueToolIds().response(reply) == response(
        ThinkingPart("hm"),
        TextPart("t"),
        call(f"call_{fixed_nonce}_2", "f"),
        call(f"call_{fixed_nonce}_3", "g"),
    )


def test_each_reply_gets_its_own_client_safe_nonce() -> None:
    events: list[StreamEvent] = [PartStart(0, "tool_call", "functions.f:0", "f")]
    made = [UniqueToolIds()(events)[0] for _ in range(2)]
    ids = [e.tool_call_id for e in made if isinstance(e, PartStart)]
    assert [bool(re.fullmatch(r"call_[0-9a-f]{12}_0", str(i))) for i in ids] == [True, True]
    assert ids[0] != ids[1]
