"""Official SDKs through the gateway to the emulator on every route: each client dialect to each
Kimi surface (Open Platform OpenAI face, its Anthropic route, Kimi Code's OpenAI and Anthropic
faces), sync and async, streaming and not, text with thinking, and a two-turn tool call."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
import pytest
from sdk_turns import (
    Turn,
    anthropic_turn,
    anthropic_turn_async,
    openai_turn,
    openai_turn_async,
)

# One alias per surface, so one gateway serves every pair.
ROUTES: dict[str, dict[str, str]] = {
    "via-platform": {"upstream": "platform", "model": "kimi-k2.6"},
    "via-platform-anthropic": {"upstream": "platform_anthropic", "model": "kimi-k2.6"},
    "via-code-openai": {"upstream": "code_openai", "model": "kimi-for-coding"},
    "via-code-anthropic": {"upstream": "code_anthropic", "model": "kimi-for-coding"},
}
UPSTREAM_PATH = {
    "via-platform": "/v1/chat/completions",
    "via-platform-anthropic": "/anthropic/v1/messages",
    "via-code-openai": "/coding/v1/chat/completions",
    "via-code-anthropic": "/coding/v1/messages",
}
WEATHER_TOOL_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}
OPENAI_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": WEATHER_TOOL_SCHEMA,
        },
    }
]
ANTHROPIC_TOOLS = [
    {
        "name": "get_weather",
        "description": "Weather for a city",
        "input_schema": WEATHER_TOOL_SCHEMA,
    }
]
THINK_AND_SAY = "@@think:Let me think@@ @@text:Hello there@@"
CALL_TOOL = 'Weather in Paris? @@think:Need the tool@@ @@tool:get_weather {"city":"Paris"}@@'


@pytest.fixture
def routed(gateway_pool: Any, kimi_emulator: Any) -> Any:
    return gateway_pool.get(routes=ROUTES)


def _openai_text_kwargs(model: str) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": THINK_AND_SAY}]}


def _anthropic_text_kwargs(model: str) -> dict[str, Any]:
    return {
        "model": model,
        "max_tokens": 2000,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "messages": [{"role": "user", "content": THINK_AND_SAY}],
    }


def _upstream_paths(routed: Any) -> list[str]:
    return [entry["path"] for entry in routed.emulator.requests()]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
@pytest.mark.parametrize("alias", list(ROUTES))
def test_openai_sdk_text_and_thinking(routed: Any, alias: str, stream: bool) -> None:
    client = openai.OpenAI(base_url=routed.openai_url, api_key="unused", max_retries=0)
    turn = openai_turn(client, stream, **_openai_text_kwargs(alias))
    assert turn.key() == ("Hello there", "Let me think", [], "stop", alias)
    assert turn.input_tokens > 0
    assert turn.output_tokens > 0
    assert _upstream_paths(routed) == [UPSTREAM_PATH[alias]]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
@pytest.mark.parametrize("alias", list(ROUTES))
def test_anthropic_sdk_text_and_thinking(routed: Any, alias: str, stream: bool) -> None:
    client = anthropic.Anthropic(base_url=routed.url, api_key="unused", max_retries=0)
    turn = anthropic_turn(client, stream, **_anthropic_text_kwargs(alias))
    assert turn.key() == ("Hello there", "Let me think", [], "end_turn", alias)
    assert turn.input_tokens > 0
    assert turn.output_tokens > 0
    assert _upstream_paths(routed) == [UPSTREAM_PATH[alias]]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
@pytest.mark.parametrize("alias", list(ROUTES))
@pytest.mark.anyio
async def test_async_sdks(routed: Any, alias: str, stream: bool) -> None:
    oclient = openai.AsyncOpenAI(base_url=routed.openai_url, api_key="unused", max_retries=0)
    aclient = anthropic.AsyncAnthropic(base_url=routed.url, api_key="unused", max_retries=0)
    async with oclient, aclient:
        first = await openai_turn_async(oclient, stream, **_openai_text_kwargs(alias))
        second = await anthropic_turn_async(aclient, stream, **_anthropic_text_kwargs(alias))
    assert first.key() == ("Hello there", "Let me think", [], "stop", alias)
    assert second.key() == ("Hello there", "Let me think", [], "end_turn", alias)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
@pytest.mark.parametrize("alias", list(ROUTES))
def test_openai_sdk_tool_loop(routed: Any, alias: str, stream: bool) -> None:
    client = openai.OpenAI(base_url=routed.openai_url, api_key="unused", max_retries=0)
    messages: list[dict[str, Any]] = [{"role": "user", "content": CALL_TOOL}]
    call = openai_turn(client, stream, model=alias, messages=messages, tools=OPENAI_TOOLS)
    assert call.key() == (
        "",
        "Need the tool",
        [("get_weather", '{"city":"Paris"}')],
        "tool_calls",
        alias,
    )
    messages += [
        call.raw_assistant,
        {"role": "tool", "tool_call_id": call.tool_ids[0], "content": "18C sunny"},
    ]
    answer = openai_turn(client, stream, model=alias, messages=messages, tools=OPENAI_TOOLS)
    assert (answer.text, answer.tool_calls, answer.stop) == (
        "TOOL_RESULT_SEEN: 18C sunny",
        [],
        "stop",
    )


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
@pytest.mark.parametrize("alias", list(ROUTES))
def test_anthropic_sdk_tool_loop(routed: Any, alias: str, stream: bool) -> None:
    client = anthropic.Anthropic(base_url=routed.url, api_key="unused", max_retries=0)
    common: dict[str, Any] = {
        "model": alias,
        "max_tokens": 2000,
        "tools": ANTHROPIC_TOOLS,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
    }
    messages: list[dict[str, Any]] = [{"role": "user", "content": CALL_TOOL}]
    call = anthropic_turn(client, stream, messages=messages, **common)
    assert call.key() == (
        "",
        "Need the tool",
        [("get_weather", '{"city":"Paris"}')],
        "tool_use",
        alias,
    )
    result = {"type": "tool_result", "tool_use_id": call.tool_ids[0], "content": "18C sunny"}
    messages += [call.raw_assistant, {"role": "user", "content": [result]}]
    answer = anthropic_turn(client, stream, messages=messages, **common)
    assert (answer.text, answer.tool_calls, answer.stop) == (
        "TOOL_RESULT_SEEN: 18C sunny",
        [],
        "end_turn",
    )


@pytest.mark.parametrize(
    ("dialect", "model", "path", "upstream_model"),
    [
        ("openai", "kimi-k2.6", "/v1/chat/completions", "kimi-k2.6"),
        ("openai", "kimi-for-coding", "/coding/v1/chat/completions", "kimi-for-coding"),
        ("openai", "claude-opus-4-1", "/v1/chat/completions", "kimi-k3"),
        ("anthropic", "kimi-k2.6", "/anthropic/v1/messages", "kimi-k2.6"),
        ("anthropic", "claude-sonnet-4-5-20250929", "/anthropic/v1/messages", "kimi-k2.6"),
        ("anthropic", "claude-3-5-haiku-latest", "/anthropic/v1/messages", "kimi-k2.5"),
        ("anthropic", "kimi-for-coding", "/coding/v1/messages", "kimi-for-coding"),
    ],
)
def test_default_routing(
    gateway: Any, dialect: str, model: str, path: str, upstream_model: str
) -> None:
    """Without any routes configured: Kimi names go native, Claude families map to Kimi."""
    prompt = [{"role": "user", "content": "@@text:routed@@"}]
    if dialect == "openai":
        client = openai.OpenAI(base_url=gateway.openai_url, api_key="unused", max_retries=0)
        turn: Turn = openai_turn(client, False, model=model, messages=prompt)
    else:
        aclient = anthropic.Anthropic(base_url=gateway.url, api_key="unused", max_retries=0)
        turn = anthropic_turn(aclient, False, model=model, max_tokens=500, messages=prompt)
    assert (turn.text, turn.model) == ("routed", model)
    [upstream] = gateway.emulator.requests()
    assert (upstream["path"], upstream["body"]["model"]) == (path, upstream_model)


def test_translate_setting_sends_anthropic_clients_to_the_openai_face(
    gateway_pool: Any, kimi_emulator: Any
) -> None:
    gateway = gateway_pool.get(anthropic_route="translate")
    client = anthropic.Anthropic(base_url=gateway.url, api_key="unused", max_retries=0)
    turn = anthropic_turn(
        client,
        True,
        model="claude-sonnet-4-5",
        max_tokens=500,
        messages=[{"role": "user", "content": "@@text:translated@@"}],
    )
    assert (turn.text, turn.stop) == ("translated", "end_turn")
    [upstream] = gateway.emulator.requests()
    assert (upstream["path"], upstream["body"]["model"]) == ("/v1/chat/completions", "kimi-k2.6")


def test_report_upstream_model(gateway_pool: Any, kimi_emulator: Any) -> None:
    gateway = gateway_pool.get(report_model="upstream")
    client = openai.OpenAI(base_url=gateway.openai_url, api_key="unused", max_retries=0)
    reply = client.chat.completions.create(
        model="claude-opus-4", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.model == "kimi-k3"


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_upstream_stream_match_mode(gateway_pool: Any, kimi_emulator: Any, stream: bool) -> None:
    """``upstream_stream: match`` calls Kimi without streaming for non-streaming clients."""
    gateway = gateway_pool.get(upstream_stream="match", routes=ROUTES)
    oai = openai.OpenAI(base_url=gateway.openai_url, api_key="unused", max_retries=0)
    ant = anthropic.Anthropic(base_url=gateway.url, api_key="unused", max_retries=0)
    for alias in ROUTES:
        turn = openai_turn(oai, stream, **_openai_text_kwargs(alias))
        assert turn.key() == ("Hello there", "Let me think", [], "stop", alias)
        turn = anthropic_turn(ant, stream, **_anthropic_text_kwargs(alias))
        assert turn.key() == ("Hello there", "Let me think", [], "end_turn", alias)
    bodies = [entry["body"] for entry in gateway.emulator.requests()]
    assert [bool(body.get("stream")) for body in bodies] == [stream] * 2 * len(ROUTES)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_openai_clients_get_a_creation_time_from_anthropic_upstreams(
    routed: Any, stream: bool
) -> None:
    client = openai.OpenAI(base_url=routed.openai_url, api_key="unused", max_retries=0)
    kwargs = _openai_text_kwargs("via-code-anthropic")
    if stream:
        created = {chunk.created for chunk in client.chat.completions.create(stream=True, **kwargs)}
    else:
        created = {client.chat.completions.create(**kwargs).created}
    [when] = created
    assert when > 1_700_000_000
