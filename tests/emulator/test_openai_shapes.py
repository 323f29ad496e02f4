"""The Open Platform OpenAI face's wire shapes: JSON (docs/kimi.md §6) and SSE (§7)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import openai
import orjson
import pytest
from openai.types.chat import ChatCompletionMessageFunctionToolCall, ChatCompletionMessageParam

from kimi_gateway.emulator.script import DEFAULT_REASONING, DEFAULT_REPLY
from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.emulator.tokens import count_text_tokens

from .conftest import HI, PLATFORM_KEY, WEATHER_TOOL

TOOL_TURN: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": 'weather? @@tool:get_weather {"city":"Paris"}@@'}
]


def sse_events(body: bytes) -> list[Any]:
    """Parse an SSE body strictly: only `data: ` lines, each followed by a blank line."""
    text = body.decode()
    assert text.endswith("\n\n")
    events = []
    for block in text[:-2].split("\n\n"):
        assert block.startswith("data: "), block
        assert "\n" not in block
        payload = block[len("data: ") :]
        events.append(payload if payload == "[DONE]" else orjson.loads(payload))
    return events


def post_stream(raw: httpx.Client, body: dict[str, Any]) -> list[Any]:
    response = raw.post("/v1/chat/completions", json={**body, "stream": True})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    return sse_events(response.content)


def strip_envelope(chunk: dict[str, Any]) -> dict[str, Any]:
    """Drop the per-response fields after checking their form."""
    assert re.fullmatch(r"chatcmpl-[0-9a-f]{24}", chunk.pop("id"))
    assert re.fullmatch(r"fpv0_[0-9a-f]{8}", chunk.pop("system_fingerprint"))
    assert isinstance(chunk.pop("created"), int)
    return chunk


def test_non_stream_default_reply_whole_body(raw: httpx.Client) -> None:
    body = {"model": "kimi-k2.6", "messages": HI, "thinking": {"type": "disabled"}}
    reply = raw.post("/v1/chat/completions", json=body).json()
    prompt = 3 + 4 + count_text_tokens("user") + count_text_tokens("hi")
    completion = count_text_tokens(DEFAULT_REPLY)
    assert strip_envelope(reply) == {
        "object": "chat.completion",
        "model": "kimi-k2.6",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": DEFAULT_REPLY},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "cached_tokens": 0,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0},
        },
    }


def test_thinking_default_on_for_k26_gives_reasoning_content(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model="kimi-k2.6", messages=HI)
    message = reply.choices[0].message
    assert message.content == DEFAULT_REPLY
    assert message.model_extra == {"reasoning_content": DEFAULT_REASONING}
    assert reply.usage is not None
    details = reply.usage.completion_tokens_details
    assert details is not None
    assert details.reasoning_tokens == count_text_tokens(DEFAULT_REASONING)


def test_non_stream_tool_call_ids_count_up(client: openai.OpenAI) -> None:
    calls: list[ChatCompletionMessageFunctionToolCall] = []
    for _ in range(2):
        reply = client.chat.completions.create(
            model="moonshot-v1-8k",
            messages=TOOL_TURN,
            tools=[WEATHER_TOOL],
        )
        assert reply.choices[0].finish_reason == "tool_calls"
        assert reply.choices[0].message.content is None
        for call in reply.choices[0].message.tool_calls or []:
            assert call.type == "function"
            calls.append(call)
    assert [(c.id, c.type, c.function.name, c.function.arguments) for c in calls] == [
        ("get_weather:0", "function", "get_weather", '{"city":"Paris"}'),
        ("get_weather:1", "function", "get_weather", '{"city":"Paris"}'),
    ]


def test_stream_text_with_include_usage_exact_sequence(raw: httpx.Client) -> None:
    body = {
        "model": "moonshot-v1-8k",
        "messages": [{"role": "user", "content": "@@text:Hi there.@@"}],
        "stream_options": {"include_usage": True},
    }
    events = post_stream(raw, body)
    assert events[-1] == "[DONE]"
    ids = {e["id"] for e in events[:-1]}
    assert len(ids) == 1
    chunks = [strip_envelope(e) for e in events[:-1]]
    base = {"object": "chat.completion.chunk", "model": "moonshot-v1-8k"}
    prompt = 3 + 4 + count_text_tokens("user") + count_text_tokens("@@text:Hi there.@@")
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": 3,
        "total_tokens": prompt + 3,
        "cached_tokens": 0,
    }

    def delta(d: dict[str, Any]) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}], "usage": None}

    assert chunks == [
        delta({"role": "assistant", "content": ""}),
        delta({"content": "Hi"}),
        delta({"content": " there"}),
        delta({"content": "."}),
        {
            **base,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop", "usage": usage}],
            "usage": None,
        },
        {
            **base,
            "choices": [],
            "usage": {
                **usage,
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0},
            },
        },
    ]


def test_stream_without_stream_options_has_choice_usage_only(raw: httpx.Client) -> None:
    events = post_stream(raw, {"model": "moonshot-v1-8k", "messages": HI})
    chunks = events[:-1]
    assert all("usage" not in chunk for chunk in chunks)
    final = chunks[-1]["choices"][0]
    assert final["finish_reason"] == "stop"
    assert set(final["usage"]) == {
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "cached_tokens",
    }
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == DEFAULT_REPLY


def test_stream_reasoning_comes_before_content(raw: httpx.Client) -> None:
    body = {
        "model": "kimi-k2.6",
        "messages": [{"role": "user", "content": "@@think:Hmm ok@@ @@text:Yes@@"}],
    }
    deltas = [e["choices"][0]["delta"] for e in post_stream(raw, body)[:-1]]
    assert deltas == [
        {"role": "assistant", "content": ""},
        {"reasoning_content": "Hmm"},
        {"reasoning_content": " ok"},
        {"content": "Yes"},
        {},
    ]


def test_stream_tool_calls_chunked_by_index(raw: httpx.Client) -> None:
    turn = 'go @@tool:get_weather {"city":"Paris"}@@ @@tool:get_weather {"city":"Rome"}@@'
    body = {
        "model": "moonshot-v1-8k",
        "messages": [{"role": "user", "content": turn}],
        "tools": [WEATHER_TOOL],
    }
    deltas = [e["choices"][0]["delta"] for e in post_stream(raw, body)[:-2]]
    calls = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    firsts = [c for c in calls if "id" in c]
    assert firsts == [
        {
            "index": 0,
            "id": "get_weather:0",
            "type": "function",
            "function": {"name": "get_weather", "arguments": ""},
        },
        {
            "index": 1,
            "id": "get_weather:1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": ""},
        },
    ]
    pieces = [c for c in calls if "id" not in c]
    assert all(
        set(c) == {"index", "function"} and set(c["function"]) == {"arguments"} for c in pieces
    )
    joined = {
        i: "".join(c["function"]["arguments"] for c in pieces if c["index"] == i) for i in (0, 1)
    }
    assert joined == {0: '{"city":"Paris"}', 1: '{"city":"Rome"}'}
    assert len(pieces) > 2  # really chunked


def test_sdk_stream_accumulates_tool_call_and_finish(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="kimi-k2.6",
        messages=TOOL_TURN,
        tools=[WEATHER_TOOL],
        stream=True,
        extra_body={"thinking": {"type": "disabled"}},
    )
    arguments, finish = "", None
    for chunk in stream:
        choice = chunk.choices[0]
        for call in choice.delta.tool_calls or []:
            arguments += call.function.arguments or "" if call.function else ""
        finish = choice.finish_reason or finish
    assert (arguments, finish) == ('{"city":"Paris"}', "tool_calls")


@pytest.mark.anyio
async def test_async_sdk_stream_and_json(kimi_emulator: EmulatorServer) -> None:
    async with openai.AsyncOpenAI(
        base_url=kimi_emulator.platform_url, api_key=PLATFORM_KEY, max_retries=0
    ) as client:
        stream = await client.chat.completions.create(
            model="kimi-k3",
            messages=HI,
            stream=True,
            stream_options={"include_usage": True},
        )
        text, usage = "", None
        async for chunk in stream:
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
            else:
                usage = chunk.usage
        assert text == DEFAULT_REPLY
        assert usage is not None
        assert usage.prompt_tokens == 9
        reply = await client.chat.completions.create(model="kimi-k3", messages=HI)
        assert reply.choices[0].message.content == DEFAULT_REPLY


def test_repeated_prefix_reports_cached_tokens(client: openai.OpenAI) -> None:
    system = {"role": "system", "content": "You are a careful assistant. " * 20}
    first = client.chat.completions.create(
        model="moonshot-v1-8k",
        messages=[system, {"role": "user", "content": "one"}],  # type: ignore[list-item]
    )
    second = client.chat.completions.create(
        model="moonshot-v1-8k",
        messages=[system, {"role": "user", "content": "two"}],  # type: ignore[list-item]
    )
    assert first.usage is not None
    assert second.usage is not None
    assert first.usage.model_extra == {"cached_tokens": 0}
    cached = 3 + 4 + count_text_tokens("system") + count_text_tokens(system["content"])
    assert second.usage.model_extra == {"cached_tokens": cached}
    assert second.usage.prompt_tokens_details is not None
    assert second.usage.prompt_tokens_details.cached_tokens == cached
    assert second.usage.prompt_tokens == first.usage.prompt_tokens


def test_n_choices_each_with_final_usage(raw: httpx.Client) -> None:
    body = {"model": "moonshot-v1-8k", "messages": HI, "n": 2, "temperature": 0.5}
    reply = raw.post("/v1/chat/completions", json=body).json()
    assert [c["index"] for c in reply["choices"]] == [0, 1]
    one = count_text_tokens(DEFAULT_REPLY)
    assert reply["usage"]["completion_tokens"] == 2 * one
    finals = [
        e["choices"][0] for e in post_stream(raw, body)[:-1] if e["choices"][0]["finish_reason"]
    ]
    assert [(f["index"], f["usage"]["completion_tokens"]) for f in finals] == [(0, one), (1, one)]


def test_partial_assistant_prefix_is_accepted(client: openai.OpenAI) -> None:
    messages = [
        {"role": "user", "content": "@@text:continued@@"},
        {"role": "assistant", "content": "Once upon", "partial": True},
    ]
    reply = client.chat.completions.create(model="kimi-k2.6", messages=messages)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == "continued"
