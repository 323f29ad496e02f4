"""Issue 9 item 4 through the gateway with the official openai and anthropic SDKs: a forced
tool_choice the gateway could not send as is (thinking on: it turned thinking off, or nudged)
ends with the required call, after a bounded re-ask, or with an error saying so; never a text
reply. The emulator is scripted to answer in text (it does not enforce tool_choice), so only the
gateway's re-ask, whose text a test may script, brings the call (docs/emulator.md markers).
"""

from __future__ import annotations

from typing import Any

import anthropic
import openai
import pytest
from sdk_turns import anthropic_turn, openai_turn

ROUTES: dict[str, dict[str, str]] = {
    "via-platform": {"upstream": "platform", "model": "kimi-k2.6"},
    "via-platform-anthropic": {"upstream": "platform_anthropic", "model": "kimi-k2.6"},
    "via-code-anthropic": {"upstream": "code_anthropic", "model": "kimi-for-coding"},
}
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
OPENAI_TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": SCHEMA}}]
ANTHROPIC_TOOLS = [{"name": "get_weather", "input_schema": SCHEMA}]
TEXT_ONLY = "Weather in Paris? @@text:I would rather chat@@"
CALL = '@@tool:get_weather {"city":"Paris"}@@'
NAMED = {"type": "function", "function": {"name": "get_weather"}}
# The re-ask text scripts the emulator's second answer.
SCRIPTED = {
    "forced_tool_reask_text": "Call a tool. " + CALL,
    "forced_tool_reask_named_text": "Call {name}. " + CALL,
}


def _sent(emulator: Any) -> list[dict[str, Any]]:
    return [entry["body"] for entry in emulator.requests()]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
@pytest.mark.parametrize("choice", ["required", NAMED], ids=["required", "named"])
@pytest.mark.parametrize("policy", ["disable_thinking", "nudge"])
def test_openai_reasks_until_the_call_arrives(
    gateway_pool: Any, kimi_emulator: Any, policy: str, choice: Any, stream: bool
) -> None:
    quirks = {**SCRIPTED, "forced_tool_choice": policy}
    gateway = gateway_pool.get(routes=ROUTES, quirks=quirks)
    client = openai.OpenAI(base_url=gateway.openai_url, api_key="unused", max_retries=0)
    messages = [{"role": "user", "content": TEXT_ONLY}]
    turn = openai_turn(
        client,
        stream,
        model="via-platform",
        messages=messages,
        tools=OPENAI_TOOLS,
        tool_choice=choice,
    )
    assert (turn.tool_calls, turn.stop) == ([("get_weather", '{"city":"Paris"}')], "tool_calls")
    sent = _sent(kimi_emulator)
    assert len(sent) == 2
    reask = "Call a tool. " if choice == "required" else "Call get_weather. "
    assert reask + CALL in [m.get("content") for m in sent[1]["messages"]]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_openai_error_when_the_call_never_comes(
    gateway_pool: Any, kimi_emulator: Any, stream: bool
) -> None:
    gateway = gateway_pool.get(routes=ROUTES)
    client = openai.OpenAI(base_url=gateway.openai_url, api_key="unused", max_retries=0)
    with pytest.raises(openai.InternalServerError) as caught:
        openai_turn(
            client,
            stream,
            model="via-platform",
            messages=[{"role": "user", "content": TEXT_ONLY}],
            tools=OPENAI_TOOLS,
            tool_choice="required",
        )
    assert caught.value.status_code == 502
    assert "tool_choice requires a tool" in caught.value.message
    assert "2 time(s)" in caught.value.message
    assert len(_sent(kimi_emulator)) == 2  # the default: one re-ask


def test_no_reask_when_retries_are_zero(gateway_pool: Any, kimi_emulator: Any) -> None:
    gateway = gateway_pool.get(routes=ROUTES, quirks={"forced_tool_retries": 0})
    client: Any = openai.OpenAI(base_url=gateway.openai_url, api_key="unused", max_retries=0)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(
            model="via-platform",
            messages=[{"role": "user", "content": TEXT_ONLY}],
            tools=OPENAI_TOOLS,
            tool_choice=NAMED,
        )
    assert len(_sent(kimi_emulator)) == 1


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
@pytest.mark.parametrize("alias", ["via-platform-anthropic", "via-code-anthropic"])
def test_anthropic_named_tool_reasked(
    gateway_pool: Any, kimi_emulator: Any, alias: str, stream: bool
) -> None:
    gateway = gateway_pool.get(routes=ROUTES, quirks=SCRIPTED)
    client = anthropic.Anthropic(base_url=gateway.url, api_key="unused", max_retries=0)
    turn = anthropic_turn(
        client,
        stream,
        model=alias,
        max_tokens=2000,
        tools=ANTHROPIC_TOOLS,
        tool_choice={"type": "tool", "name": "get_weather"},
        messages=[{"role": "user", "content": TEXT_ONLY}],
    )
    assert (turn.tool_calls, turn.stop) == ([("get_weather", '{"city":"Paris"}')], "tool_use")
    assert len(_sent(kimi_emulator)) == 2


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_anthropic_error_when_the_call_never_comes(
    gateway_pool: Any, kimi_emulator: Any, stream: bool
) -> None:
    gateway = gateway_pool.get(routes=ROUTES)
    client = anthropic.Anthropic(base_url=gateway.url, api_key="unused", max_retries=0)
    with pytest.raises(anthropic.InternalServerError) as caught:
        anthropic_turn(
            client,
            stream,
            model="via-code-anthropic",
            max_tokens=2000,
            tools=ANTHROPIC_TOOLS,
            tool_choice={"type": "tool", "name": "get_weather"},
            messages=[{"role": "user", "content": TEXT_ONLY}],
        )
    assert caught.value.status_code == 502
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["error"]["type"] == "api_error"
    assert "tool_choice requires the tool 'get_weather'" in body["error"]["message"]
    assert len(_sent(kimi_emulator)) == 2


def test_what_kimi_code_takes_natively_is_left_alone(gateway_pool: Any, kimi_emulator: Any) -> None:
    """Kimi Code takes Anthropic's ``any`` with thinking on (docs/kimi.md §8.4): sent as is,
    once, and its answer is Kimi's."""
    gateway = gateway_pool.get(routes=ROUTES, quirks=SCRIPTED)
    client: Any = anthropic.Anthropic(base_url=gateway.url, api_key="unused", max_retries=0)
    message = client.messages.create(
        model="via-code-anthropic",
        max_tokens=2000,
        tools=ANTHROPIC_TOOLS,
        tool_choice={"type": "any"},
        messages=[{"role": "user", "content": TEXT_ONLY}],
    )
    sent = _sent(kimi_emulator)
    assert [s["tool_choice"] for s in sent] == [{"type": "any"}]
    assert [block.type for block in message.content] == ["text"]
