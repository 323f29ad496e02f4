"""Legacy ``functions`` / ``function_call`` through the gateway (issue 9 item 2), with the official
openai SDK, which still accepts them. Kimi has only ``tools`` (docs/kimi.md §5.2), so the gateway
sends tools and answers a legacy client in its own terms: ``message.function_call`` and
``finish_reason: "function_call"`` (streams: ``delta.function_call``, the name, then argument
pieces); legacy history turns become Kimi tool turns with ids minted from their position."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from gateway_server import GatewayServer

FUNCTIONS: list[Any] = [
    {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
]
CALL = 'Weather in Paris? @@tool:get_weather {"city":"Paris"}@@'
MODEL = "kimi-k2.6"


def _client(gateway: GatewayServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.openai_url, api_key="k", max_retries=0)


def _create(gateway: GatewayServer, stream: bool, **kwargs: Any) -> tuple[Any, Any, Any]:
    """(function_call as {name, arguments}, tool_calls seen, finish_reason) of choice 0."""
    client = _client(gateway)
    if not stream:
        choice = client.chat.completions.create(**kwargs).choices[0]
        call = choice.message.function_call
        got = None if call is None else {"name": call.name, "arguments": call.arguments}
        return got, choice.message.tool_calls, choice.finish_reason
    name, arguments, finish = None, "", None
    tool_calls: list[Any] = []
    for chunk in client.chat.completions.create(**kwargs, stream=True):
        for choice in chunk.choices:
            delta = choice.delta
            if delta.function_call is not None:
                name = delta.function_call.name or name
                arguments += delta.function_call.arguments or ""
            tool_calls += delta.tool_calls or []
            finish = choice.finish_reason or finish
    got = None if name is None else {"name": name, "arguments": arguments}
    return got, tool_calls or None, finish


@pytest.mark.parametrize("stream", [False, True])
def test_a_legacy_client_reads_function_call(gateway: GatewayServer, stream: bool) -> None:
    ask = [{"role": "user", "content": CALL}]
    got = _create(gateway, stream, model=MODEL, messages=ask, functions=FUNCTIONS)
    assert got == (
        {"name": "get_weather", "arguments": '{"city":"Paris"}'},
        None,
        "function_call",
    )
    sent = gateway.emulator.requests()[-1]["body"]
    assert "functions" not in sent
    assert [t["function"]["name"] for t in sent["tools"]] == ["get_weather"]


@pytest.mark.parametrize("stream", [False, True])
def test_a_named_function_call_is_a_forced_tool_choice(
    gateway: GatewayServer, stream: bool
) -> None:
    ask = [{"role": "user", "content": CALL}]
    forced = {"name": "get_weather"}
    got = _create(
        gateway, stream, model=MODEL, messages=ask, functions=FUNCTIONS, function_call=forced
    )
    assert got[0] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}
    assert got[2] == "function_call"
    sent = gateway.emulator.requests()[-1]["body"]
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


def test_legacy_history_becomes_kimi_tool_turns_with_stable_ids(gateway: GatewayServer) -> None:
    call = {
        "role": "assistant",
        "content": None,
        "function_call": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
    }
    history: list[Any] = [
        {"role": "user", "content": "Weather in Paris, twice?"},
        call,
        {"role": "function", "name": "get_weather", "content": "sunny"},
        call,
        {"role": "function", "name": "get_weather", "content": "sunny again"},
    ]
    for _ in range(2):  # the same history gives the same ids: Kimi's prompt cache holds
        reply = _client(gateway).chat.completions.create(
            model=MODEL, messages=history, functions=FUNCTIONS
        )
        assert reply.choices[0].finish_reason == "stop"
        sent = gateway.emulator.requests()[-1]["body"]["messages"]
        ids = [
            (m["role"], m.get("tool_call_id") or [c["id"] for c in m.get("tool_calls", [])])
            for m in sent[1:]
        ]
        assert ids == [
            ("assistant", ["functions.get_weather:1"]),
            ("tool", "functions.get_weather:1"),
            ("assistant", ["functions.get_weather:3"]),
            ("tool", "functions.get_weather:3"),
        ]


def test_a_second_call_has_no_legacy_form_and_the_diagnostics_say_so(
    gateway: GatewayServer,
) -> None:
    two = (
        'Paris and Oslo? @@tool:get_weather {"city":"Paris"}@@ @@tool:get_weather {"city":"Oslo"}@@'
    )
    raw = _client(gateway).chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": two}], functions=FUNCTIONS
    )
    choice = raw.parse().choices[0]
    assert choice.message.function_call is not None
    assert choice.message.function_call.arguments == '{"city":"Paris"}'
    assert (choice.message.tool_calls, choice.finish_reason) == (None, "function_call")
    diagnostics = raw.headers["x-kimi-gateway-diagnostics"]
    assert "dropped_tool_calls" in diagnostics
