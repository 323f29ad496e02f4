"""reasoning_content across tool turns for OpenAI clients that drop it (issue 9 item 6).

Kimi needs every earlier assistant tool-call turn's reasoning while thinking is on (docs/kimi.md
§8.3, §F2.1); most SDK-based agents send the assistant message back without it. The gateway
gives each tool call an id of its own, remembers the reply's reasoning under it (in memory, or
in Redis shared by replicas) and puts it back on the next turn: the emulator must receive the
original reasoning. Calls the gateway never saw get the placeholder, with a diagnostic."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
import redis
from gateway_server import GatewayServer

REDIS = "redis://127.0.0.1:6379/0"
TOOLS: Any = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]
REASONING = "The user wants Paris weather, so call the tool"
ASK = f'Weather in Paris? @@think:{REASONING}@@ @@tool:get_weather {{"city":"Paris"}}@@'


def _first_turn(client: openai.OpenAI, stream: bool) -> tuple[str, str]:
    """Turn 1 (thinking on by default for kimi-k2.6): the call's id and arguments."""
    messages: Any = [{"role": "user", "content": ASK}]
    if not stream:
        reply = client.chat.completions.create(model="kimi-k2.6", messages=messages, tools=TOOLS)
        [call] = reply.choices[0].message.tool_calls or []
        assert call.type == "function"
        return call.id, call.function.arguments
    ids, arguments = [], ""
    for chunk in client.chat.completions.create(
        model="kimi-k2.6", messages=messages, tools=TOOLS, stream=True
    ):
        for delta in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            ids += [delta.id] if delta.id else []
            arguments += delta.function.arguments or "" if delta.function else ""
    [call_id] = ids
    return call_id, arguments


def _second_turn(client: openai.OpenAI, call_id: str, arguments: str) -> Any:
    """Turn 2, as an SDK agent sends it: the assistant message without reasoning_content."""
    call = {
        "id": call_id,
        "type": "function",
        "function": {"name": "get_weather", "arguments": arguments},
    }
    messages: Any = [
        {"role": "user", "content": ASK},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call_id, "content": "18C sunny"},
    ]
    return client.chat.completions.with_raw_response.create(
        model="kimi-k2.6", messages=messages, tools=TOOLS
    )


def _received_reasoning(gateway: GatewayServer) -> Any:
    return gateway.emulator.requests()[-1]["body"]["messages"][1].get("reasoning_content")


@pytest.mark.parametrize("stream", [False, True])
def test_dropped_reasoning_is_put_back(gateway: GatewayServer, stream: bool) -> None:
    client = openai.OpenAI(base_url=gateway.openai_url, api_key="k", max_retries=0)
    call_id, arguments = _first_turn(client, stream)
    assert call_id.startswith("call_")  # the gateway's own, not Kimi's repeating get_weather:0
    raw = _second_turn(client, call_id, arguments)
    assert raw.parse().choices[0].message.content == "TOOL_RESULT_SEEN: 18C sunny"
    assert _received_reasoning(gateway) == REASONING
    assert "placeholder_reasoning" not in raw.headers.get("x-kimi-gateway-diagnostics", "")


def test_only_calls_the_gateway_never_saw_get_the_placeholder(gateway: GatewayServer) -> None:
    client = openai.OpenAI(base_url=gateway.openai_url, api_key="k", max_retries=0)
    call_id, arguments = _first_turn(client, False)
    foreign = {  # a turn from before the gateway (another provider's id)
        "id": "get_weather:0",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'},
    }
    ours = {
        "id": call_id,
        "type": "function",
        "function": {"name": "get_weather", "arguments": arguments},
    }
    messages: Any = [
        {"role": "user", "content": "Weather in Rome?"},
        {"role": "assistant", "content": None, "tool_calls": [foreign]},
        {"role": "tool", "tool_call_id": "get_weather:0", "content": "20C"},
        {"role": "user", "content": ASK},
        {"role": "assistant", "content": None, "tool_calls": [ours]},
        {"role": "tool", "tool_call_id": call_id, "content": "18C sunny"},
    ]
    raw = client.chat.completions.with_raw_response.create(
        model="kimi-k2.6", messages=messages, tools=TOOLS
    )
    assert raw.parse().choices[0].message.content == "TOOL_RESULT_SEEN: 18C sunny"
    sent = gateway.emulator.requests()[-1]["body"]["messages"]
    assert [sent[1].get("reasoning_content"), sent[4].get("reasoning_content")] == [" ", REASONING]
    assert "messages[1]: missing reasoning" in raw.headers["x-kimi-gateway-diagnostics"]


def test_reasoning_is_kept_per_gateway_key(gateway_factory: Any) -> None:
    """Another key's turn naming the same id does not get this key's reasoning."""
    gateway = gateway_factory(master_key="sk-master")
    keys = []
    for name in ("alice", "bob"):
        made = httpx.post(
            gateway.url + "/admin/keys",
            headers={"authorization": "Bearer sk-master"},
            json={"name": name, "models": []},
        )
        keys.append(made.json()["key"])
    alice = openai.OpenAI(base_url=gateway.openai_url, api_key=keys[0], max_retries=0)
    bob = openai.OpenAI(base_url=gateway.openai_url, api_key=keys[1], max_retries=0)
    call_id, arguments = _first_turn(alice, False)
    _second_turn(bob, call_id, arguments)
    assert _received_reasoning(gateway) == " "
    _second_turn(alice, call_id, arguments)
    assert _received_reasoning(gateway) == REASONING


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    prefix = f"kgw-e2e-{secrets.token_hex(4)}"
    yield prefix
    client = redis.Redis.from_url(REDIS)
    keys = client.keys(prefix + "*")
    if keys:
        client.delete(*keys)
    client.close()


def test_replicas_share_the_reasoning_through_redis(
    gateway_factory: Any, redis_prefix: str
) -> None:
    shared = {"redis_url": REDIS, "reliability": {"redis_prefix": redis_prefix}}
    one, two = gateway_factory(**shared), gateway_factory(**shared)
    call_id, arguments = _first_turn(
        openai.OpenAI(base_url=one.openai_url, api_key="k", max_retries=0), True
    )
    client = openai.OpenAI(base_url=two.openai_url, api_key="k", max_retries=0)
    raw = _second_turn(client, call_id, arguments)
    assert raw.parse().choices[0].message.content == "TOOL_RESULT_SEEN: 18C sunny"
    assert _received_reasoning(two) == REASONING
