"""Exact wire bodies: what the emulator logged for the text, tool-result, system-prompt, image and
thinking-replay conversations, on each upstream dialect, from each client dialect.

The same conversation must reach an upstream as the same body whichever client sent it; the
only differences are the client's own: an Anthropic client holds tool arguments as an object
(compact JSON once rendered), and an OpenAI client streaming asks for ``stream_options``.
"""

from __future__ import annotations

from typing import Any

import pytest

from kimi_gateway.emulator.anthropic_signing import sign_thinking, signing_key

from .cases import CASES_BY_NAME, RED_PIXEL_PNG, SEEN, SUNNY
from .conftest import Converse
from .pipeline import PAIRS, Pair

OPENAI_WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
OPENAI_TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "The local time in a time zone",
        "parameters": {
            "type": "object",
            "properties": {"zone": {"type": "string"}},
            "required": ["zone"],
        },
    },
}
ANTHROPIC_WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
ANTHROPIC_TIME = {
    "name": "get_time",
    "description": "The local time in a time zone",
    "input_schema": {
        "type": "object",
        "properties": {"zone": {"type": "string"}},
        "required": ["zone"],
    },
}
OFF = {"type": "disabled"}
ON = {"type": "enabled"}
# "get_weather:7" is not a valid Anthropic id: the anthropic dialect's reversible encoding.
ENCODED_7 = "kx6765745f776561746865723a37"
TURN_2_RESULT = SUNNY + ' @@think:Now the time.@@ @@tool:get_time {"zone":"Europe/Paris"}@@'
TURN_3_RESULT = "12:00 @@think:Both known.@@ @@text:Sunny at noon.@@"
FIRST_ASK = (
    'Weather, then time? @@think:I need the weather.@@ @@tool:get_weather {"city": "Paris"}@@'
)


def openai_body(messages: list[Any], **fields: Any) -> dict[str, Any]:
    return {
        "model": "kimi-k2.6",
        "messages": messages,
        "max_completion_tokens": 1000,
        "thinking": OFF,
        **fields,
    }


def anthropic_body(messages: list[Any], **fields: Any) -> dict[str, Any]:
    return {
        "model": "kimi-for-coding",
        "max_tokens": 1000,
        "messages": messages,
        "thinking": OFF,
        **fields,
    }


def paris(pair: Pair) -> str:
    """The scripted arguments as this client holds them."""
    return '{"city": "Paris"}' if pair.client == "openai" else '{"city":"Paris"}'


def sent(conversations: Converse, pair: Pair, name: str, stream: bool = False) -> list[Any]:
    return [o.sent for o in conversations(CASES_BY_NAME[name], pair, stream)]


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.id)
def test_plain_text(conversations: Converse, pair: Pair) -> None:
    ask = [{"role": "user", "content": "Hello @@text:Hello there.@@"}]
    body = openai_body(ask) if pair.upstream.name == "openai" else anthropic_body(ask)
    assert sent(conversations, pair, "plain_text") == [body]


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.id)
def test_plain_text_streamed(conversations: Converse, pair: Pair) -> None:
    ask = [{"role": "user", "content": "Hello @@text:Hello there.@@"}]
    if pair.upstream.name == "anthropic":
        body = anthropic_body(ask, stream=True)
    else:
        # The engine asks for usage on every upstream stream (it records usage), whatever
        # the client asked; Kimi sends choice-level usage anyway.
        body = openai_body(ask, stream=True, stream_options={"include_usage": True})
    assert sent(conversations, pair, "plain_text", stream=True) == [body]


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.id)
def test_system_prompt_and_mid_conversation_system_message(
    conversations: Converse, pair: Pair
) -> None:
    """The top-level prompt stays first; a mid-conversation system message stays in place."""
    middle = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "system", "content": "From now on, answer in French."},
        {"role": "user", "content": "Say hello. @@text:Bonjour.@@"},
    ]
    if pair.upstream.name == "openai":
        system = {"role": "system", "content": "You are terse."}
        body = openai_body([system, *middle])
    else:
        body = anthropic_body(middle, system="You are terse.")
    assert sent(conversations, pair, "system_prompts") == [body]


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.id)
def test_image(conversations: Converse, pair: Pair) -> None:
    text = {"type": "text", "text": "What colour is it? @@text:Red.@@"}
    if pair.upstream.name == "openai":
        url = "data:image/png;base64," + RED_PIXEL_PNG
        image: dict[str, Any] = {"type": "image_url", "image_url": {"url": url}}
        body = openai_body([{"role": "user", "content": [image, text]}])
    else:
        source = {"type": "base64", "media_type": "image/png", "data": RED_PIXEL_PNG}
        image = {"type": "image", "source": source}
        body = anthropic_body([{"role": "user", "content": [image, text]}])
    assert sent(conversations, pair, "image") == [body]


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.id)
def test_tool_result(conversations: Converse, pair: Pair) -> None:
    ask = {"role": "user", "content": "Weather in Paris?"}
    if pair.upstream.name == "openai":
        function = {"name": "get_weather", "arguments": paris(pair)}
        call = {"id": "get_weather:7", "type": "function", "function": function}
        body = openai_body(
            [
                ask,
                {"role": "assistant", "tool_calls": [call]},  # no content beside calls (§8.2)
                {"role": "tool", "content": SUNNY, "tool_call_id": "get_weather:7"},
            ],
            tools=[OPENAI_WEATHER],
        )
    else:
        use = {
            "type": "tool_use",
            "id": ENCODED_7,
            "name": "get_weather",
            "input": {"city": "Paris"},
        }
        result = {"type": "tool_result", "tool_use_id": ENCODED_7, "content": SUNNY}
        body = anthropic_body(
            [
                ask,
                {"role": "assistant", "content": [use]},
                {"role": "user", "content": [{**result, "is_error": False}]},
            ],
            tools=[ANTHROPIC_WEATHER],
        )
    assert sent(conversations, pair, "tool_result") == [body]


def _openai_replay(pair: Pair) -> list[list[Any]]:
    """The OpenAI upstream's messages on each turn: reasoning_content replayed (§8.3)."""
    first = {"role": "user", "content": FIRST_ASK}
    weather = {"name": "get_weather", "arguments": paris(pair)}
    time = {"name": "get_time", "arguments": '{"zone":"Europe/Paris"}'}
    turn_2 = [
        first,
        {
            "role": "assistant",
            "reasoning_content": "I need the weather.",
            "tool_calls": [{"id": "get_weather:0", "type": "function", "function": weather}],
        },
        {"role": "tool", "content": TURN_2_RESULT, "tool_call_id": "get_weather:0"},
    ]
    turn_3 = [
        *turn_2,
        {
            "role": "assistant",
            "content": SEEN + TURN_2_RESULT,
            "reasoning_content": "Now the time.",
            "tool_calls": [{"id": "get_time:1", "type": "function", "function": time}],
        },
        {"role": "tool", "content": TURN_3_RESULT, "tool_call_id": "get_time:1"},
    ]
    return [[first], turn_2, turn_3]


def _thinking_block(pair: Pair, text: str) -> dict[str, Any]:
    """An Anthropic client replays the signature byte-exact (Kimi Code checks it, §13.3); an
    OpenAI client never saw one, and the block goes without (never a fake signature)."""
    block = {"type": "thinking", "thinking": text}
    if pair.client == "anthropic":
        block["signature"] = sign_thinking(signing_key(0), text)
    return block


def _anthropic_replay(pair: Pair) -> list[list[Any]]:
    first = {"role": "user", "content": FIRST_ASK}
    weather = {"type": "tool_use", "id": "get_weather_0", "name": "get_weather"}
    time = {"type": "tool_use", "id": "get_time_1", "name": "get_time"}
    turn_2 = [
        first,
        {
            "role": "assistant",
            "content": [
                _thinking_block(pair, "I need the weather."),
                {**weather, "input": {"city": "Paris"}},
            ],
        },
        {"role": "user", "content": [_result("get_weather_0", TURN_2_RESULT)]},
    ]
    turn_3 = [
        *turn_2,
        {
            "role": "assistant",
            "content": [
                _thinking_block(pair, "Now the time."),
                {"type": "text", "text": SEEN + TURN_2_RESULT},
                {**time, "input": {"zone": "Europe/Paris"}},
            ],
        },
        {"role": "user", "content": [_result("get_time_1", TURN_3_RESULT)]},
    ]
    return [[first], turn_2, turn_3]


def _result(call_id: str, text: str) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": call_id, "content": text, "is_error": False}


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.id)
def test_thinking_replay(conversations: Converse, pair: Pair) -> None:
    """Three turns with thinking and tools; every replay is accepted (converse checks 200s)."""
    if pair.upstream.name == "openai":
        tools: list[Any] = [OPENAI_WEATHER, OPENAI_TIME]
        bodies = [openai_body(m, tools=tools, thinking=ON) for m in _openai_replay(pair)]
    else:
        tools = [ANTHROPIC_WEATHER, ANTHROPIC_TIME]
        replay = _anthropic_replay(pair)
        bodies = [anthropic_body(m, tools=tools, thinking=ON) for m in replay]
    assert sent(conversations, pair, "thinking_tools") == bodies


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.id)
def test_stop_sequences(conversations: Converse, pair: Pair) -> None:
    ask = [{"role": "user", "content": "Count. @@text:one two STOP three@@"}]
    if pair.upstream.name == "openai":
        body = openai_body(ask, stop=["STOP"])
    else:
        body = anthropic_body(ask, stop_sequences=["STOP"])
    assert sent(conversations, pair, "stop_sequence") == [body]


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.id)
def test_forced_tool_choice_under_thinking(conversations: Converse, pair: Pair) -> None:
    """§8.4: on k2.6 "required" with thinking is a 400, so thinking goes off for the request;
    Kimi Code's Anthropic face takes ``any`` with thinking on."""
    ask = [{"role": "user", "content": 'Weather? @@tool:get_weather {"city": "Paris"}@@'}]
    if pair.upstream.name == "openai":
        tools: list[Any] = [OPENAI_WEATHER]
        body = openai_body(ask, tools=tools, tool_choice="required", thinking=OFF)
    else:
        tools = [ANTHROPIC_WEATHER]
        body = anthropic_body(ask, tools=tools, tool_choice={"type": "any"}, thinking=ON)
    assert sent(conversations, pair, "forced_tool_under_thinking") == [body]
