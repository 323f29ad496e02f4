"""The scripted-turn engine: markers, tool results, truncation, usage, delay and cut."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import cast

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionAssistantMessageParam, ChatCompletionMessageParam

from kimi_gateway.emulator.config import EmulatorConfig
from kimi_gateway.emulator.errors import EmulatorError
from kimi_gateway.emulator.script import (
    DEFAULT_REASONING,
    DEFAULT_REPLY,
    NeutralMessage,
    ReplyPlan,
    ScriptedToolCall,
    TurnInput,
    plan_reply,
    trailing_messages,
)
from kimi_gateway.emulator.state import EmulatorState
from kimi_gateway.emulator.tokens import count_text_tokens, token_pieces

from .conftest import WEATHER_TOOL, consume, drain


def _turn(
    *messages: NeutralMessage,
    tools: tuple[str, ...] = (),
    thinking: bool = False,
    max_tokens: int | None = None,
) -> TurnInput:
    return TurnInput("kimi-k2.6", messages, tools, thinking, max_tokens, "/v1/chat/completions")


def _plan(*texts: str, **kwargs: object) -> ReplyPlan:
    messages = tuple(NeutralMessage("user", t) for t in texts)
    return plan_reply(_turn(*messages, **kwargs), EmulatorState(EmulatorConfig()))  # type: ignore[arg-type]


def test_default_reply_is_stable() -> None:
    first, second = _plan("hello"), _plan("hello")
    assert first == second
    assert (first.text, first.reasoning, first.finish, first.tool_calls) == (
        DEFAULT_REPLY,
        None,
        "stop",
        (),
    )


def test_thinking_request_reasons_by_default() -> None:
    plan = _plan("hello", thinking=True)
    assert plan.reasoning == DEFAULT_REASONING
    assert plan.reasoning_tokens == count_text_tokens(DEFAULT_REASONING)
    assert plan.completion_tokens == plan.reasoning_tokens + count_text_tokens(DEFAULT_REPLY)


def test_markers_combine() -> None:
    plan = _plan(
        '@@think:Let me see@@ @@text:Done.@@ @@tool:a {"x": 1}@@ @@tool:b@@ @@delay:25@@',
        tools=("a", "b"),
    )
    assert plan.reasoning == "Let me see"
    assert plan.text == "Done."
    assert plan.tool_calls == (ScriptedToolCall("a", '{"x": 1}'), ScriptedToolCall("b", "{}"))
    assert plan.finish == "tool_calls"
    assert plan.delay_ms == 25


def test_thinking_marker_and_cut() -> None:
    plan = _plan("@@thinking@@ @@cut@@")
    assert (plan.reasoning, plan.cut) == (DEFAULT_REASONING, True)


def test_tool_marker_ignored_when_not_offered() -> None:
    plan = _plan('@@tool:rm {"path": "/"}@@', tools=("ls",))
    assert (plan.tool_calls, plan.text, plan.finish) == ((), DEFAULT_REPLY, "stop")


def test_markers_only_from_trailing_user_messages() -> None:
    old = NeutralMessage("user", "@@text:old@@")
    answer = NeutralMessage("assistant", "old")
    new = NeutralMessage("user", "now")
    assert trailing_messages((old, answer, new)) == (new,)
    plan = plan_reply(_turn(old, answer, new), EmulatorState(EmulatorConfig()))
    assert plan.text == DEFAULT_REPLY


def test_tool_result_seen() -> None:
    messages = (
        NeutralMessage("user", '@@tool:get {"k": 1}@@'),
        NeutralMessage("assistant", 'get{"k": 1}'),
        NeutralMessage("tool", "", ("42 degrees",)),
        NeutralMessage("tool", "", ("dry",)),
    )
    plan = plan_reply(_turn(*messages, tools=("get",)), EmulatorState(EmulatorConfig()))
    assert (plan.text, plan.tool_calls, plan.finish) == (
        "TOOL_RESULT_SEEN: 42 degrees\ndry",
        (),
        "stop",
    )


def test_tool_result_can_script_the_next_step() -> None:
    messages = (
        NeutralMessage("user", "start"),
        NeutralMessage("assistant", "a{}"),
        NeutralMessage("tool", "", ('@@tool:b {"n":2}@@',)),
    )
    plan = plan_reply(_turn(*messages, tools=("a", "b")), EmulatorState(EmulatorConfig()))
    assert plan.tool_calls == (ScriptedToolCall("b", '{"n":2}'),)
    assert plan.text == 'TOOL_RESULT_SEEN: @@tool:b {"n":2}@@'


@pytest.mark.parametrize(
    ("marker", "status", "type_", "message"),
    [
        (
            "@@error:429@@",
            429,
            "engine_overloaded_error",
            "The engine is currently overloaded, please try again later",
        ),
        (
            "@@error:429:exceeded_current_quota_error@@",
            429,
            "exceeded_current_quota_error",
            "You exceeded your current token quota: 0, please check your account balance",
        ),
        (
            "@@error:400:content_filter@@",
            400,
            "content_filter",
            "The request was rejected because it was considered high risk",
        ),
        (
            "@@error:503@@",
            503,
            "server_unavailable",
            "The service is temporarily unavailable, please try again later",
        ),
        ("@@error:418@@", 418, "invalid_request_error", "Invalid request: scripted error 418"),
        # §2.2 [O] DOCS-OLD/HC and §13.4 [O] KCDOCS (402: no type published).
        ("@@error:500:unexpected_output@@", 500, "unexpected_output", "invalid state transition"),
        ("@@error:402@@", 402, None, "unable to verify your membership benefits"),
    ],
)
def test_error_markers(marker: str, status: int, type_: str, message: str) -> None:
    error = _plan(marker).error
    assert isinstance(error, EmulatorError)
    assert (error.status, error.type, error.message) == (status, type_, message)


def test_max_tokens_truncates_text_and_finishes_length() -> None:
    plan = _plan("@@text:one two three four five@@", max_tokens=3)
    assert (plan.text, plan.finish, plan.completion_tokens) == ("one two three", "length", 3)


def test_max_tokens_spent_on_reasoning_leaves_empty_content() -> None:
    plan = _plan("@@think:a b c d e f@@ @@text:visible@@", max_tokens=4)
    assert (plan.reasoning, plan.text, plan.finish) == ("a b c d", "", "length")
    assert (plan.completion_tokens, plan.reasoning_tokens) == (4, 4)


def test_max_tokens_too_small_for_tool_call_drops_it() -> None:
    plan = _plan('@@tool:a {"long": "arguments here"}@@', tools=("a",), max_tokens=3)
    assert (plan.tool_calls, plan.finish) == ((), "length")


def test_tokens_round_trip() -> None:
    text = "Hello, world! 12345 你好  "
    assert "".join(token_pieces(text)) == text
    assert token_pieces(text) == ["Hello", ",", " world", "!", " 123", "45", " 你", "好", "  "]


def test_served_platform_requests_are_charged_kimi_code_not() -> None:
    state = EmulatorState(EmulatorConfig())
    plan_reply(_turn(NeutralMessage("user", "hi")), state)
    assert state.available_balance < Decimal(100)
    before = state.available_balance
    coding = TurnInput(
        "kimi-for-coding",
        (NeutralMessage("user", "hi"),),
        (),
        False,
        None,
        "/coding/v1/chat/completions",
    )
    plan_reply(coding, state)
    assert state.available_balance == before


def test_delay_marker_delays_first_byte(client: openai.OpenAI) -> None:
    started = time.monotonic()
    reply = client.chat.completions.create(
        model="kimi-k2.6", messages=[{"role": "user", "content": "@@delay:150@@"}]
    )
    assert time.monotonic() - started >= 0.15
    assert reply.choices[0].message.content == DEFAULT_REPLY


def test_cut_stream_stops_without_done(raw: httpx.Client) -> None:
    body = {
        "model": "moonshot-v1-8k",
        "messages": [{"role": "user", "content": "@@cut@@"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    parts: list[bytes] = []
    with pytest.raises(httpx.RemoteProtocolError):
        drain(raw, "/v1/chat/completions", body, parts)
    received = b"".join(parts)
    assert received.count(b"data: ") == 2
    assert b"[DONE]" not in received
    assert b'"choices":[]' not in received


def test_cut_stream_seen_by_sdk(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="moonshot-v1-8k", messages=[{"role": "user", "content": "@@cut@@"}], stream=True
    )
    with pytest.raises(openai.APIError):
        consume(stream, [])


def test_cut_non_stream_truncates_body(raw: httpx.Client) -> None:
    body = {"model": "moonshot-v1-8k", "messages": [{"role": "user", "content": "@@cut@@"}]}
    with pytest.raises(httpx.RemoteProtocolError):
        raw.post("/v1/chat/completions", json=body)


def test_error_marker_over_the_wire(client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(
            model="kimi-k2.6", messages=[{"role": "user", "content": "@@error:429@@"}]
        )
    assert caught.value.response.headers["retry-after"] == "1"
    assert caught.value.body == {
        "type": "engine_overloaded_error",
        "message": "The engine is currently overloaded, please try again later",
    }


def test_tool_loop_through_the_sdk(client: openai.OpenAI) -> None:
    messages: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": 'weather? @@tool:get_weather {"city":"Paris"}@@'}
    ]
    first = client.chat.completions.create(
        model="kimi-k2.6", messages=messages, tools=[WEATHER_TOOL]
    )
    message = first.choices[0].message
    call = (message.tool_calls or [])[0]
    # The reply as the next request's assistant turn, extra fields (reasoning_content) included.
    messages.append(
        cast(ChatCompletionAssistantMessageParam, message.model_dump(exclude_none=True))
    )
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 C"})
    second = client.chat.completions.create(
        model="kimi-k2.6", messages=messages, tools=[WEATHER_TOOL]
    )
    assert second.choices[0].message.content == "TOOL_RESULT_SEEN: sunny, 21 C"
    assert second.choices[0].finish_reason == "stop"


def test_tool_choice_none_suppresses_scripted_calls(raw: httpx.Client) -> None:
    body = {
        "model": "moonshot-v1-8k",
        "messages": [{"role": "user", "content": '@@tool:get_weather {"city":"Oslo"}@@'}],
        "tools": [WEATHER_TOOL],
        "tool_choice": "none",
    }
    choice = raw.post("/v1/chat/completions", json=body).json()["choices"][0]
    assert (choice["finish_reason"], choice["message"]) == (
        "stop",
        {"role": "assistant", "content": DEFAULT_REPLY},
    )
