"""One test per docs/kimi.md §F2 lesson that the quirk layer answers, each against the
emulator (lessons 1, 2, 3, 5, 6, 7, 9, 10, 11; the dialect tests cover the parsing halves)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.dialects.anthropic_messages.tool_ids import encode_tool_id
from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.upstreams.kimi import (
    KIMI_CODE_ANTHROPIC,
    PLATFORM_GLOBAL,
    QuirkPolicy,
    SamplingOverride,
)

from .emulator_calls import Exchange, error_message, key_for, on_emulator

CLIENTS = Path(__file__).parents[1] / "fixtures" / "clients"
QUESTION = {"role": "user", "content": "weather in Paris?"}
CALL = {
    "id": "get_weather:0",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
}
RESULT = {"role": "tool", "tool_call_id": "get_weather:0", "content": "sunny"}
WEATHER = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}},
}


def history(model: str, *, reasoning: str | None = None, **fields: Any) -> dict[str, Any]:
    turn: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [CALL]}
    if reasoning is not None:
        turn["reasoning_content"] = reasoning
    return {"model": model, "messages": [QUESTION, turn, RESULT], "tools": [WEATHER], **fields}


def captured(name: str) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads((CLIENTS / name).read_bytes())["body"]
    return body


def sent(exchange: Exchange) -> dict[str, Any]:
    return exchange.call().body


def test_lesson_1_reasoning_content_missing_on_tool_call_turn(
    kimi_emulator: EmulatorServer,
) -> None:
    plain = Exchange(kimi_emulator, PLATFORM_GLOBAL, "openai_chat", history("kimi-k2.6"))
    assert error_message(plain.post_raw()) == (
        400,
        "thinking is enabled but reasoning_content is missing in assistant tool call message "
        "at index 1",
    )
    # A store of the reasoning the gateway streamed earlier restores it exactly, silently.
    stored = Exchange(
        kimi_emulator,
        PLATFORM_GLOBAL,
        "openai_chat",
        history("kimi-k2.6"),
        lookup={"get_weather:0": "Paris needs a lookup."}.get,
    )
    assert sent(stored)["messages"][1]["reasoning_content"] == "Paris needs a lookup."
    assert stored.call().diagnostics == ()
    assert stored.post_fixed().status_code == 200
    # Without a store: a stated placeholder (never silent), or thinking off, or a clear 400.
    assert sent(plain)["messages"][1]["reasoning_content"] == " "
    assert [d.code for d in plain.call().diagnostics] == ["placeholder_reasoning"]
    assert plain.post_fixed().status_code == 200
    plain.policy = QuirkPolicy(missing_reasoning="disable_thinking")
    assert sent(plain)["thinking"] == {"type": "disabled"}
    assert plain.post_fixed().status_code == 200
    plain.policy = QuirkPolicy(missing_reasoning="reject")
    with pytest.raises(TranslationError) as caught:
        plain.call()
    assert caught.value.param == "messages[1].reasoning_content"
    # Claude Code's own tool-result turn (no thinking block kept) sent to the OpenAI face.
    claude = Exchange(
        kimi_emulator,
        PLATFORM_GLOBAL,
        "anthropic_messages",
        {**captured("claude_code_tool_result_request.json"), "model": "kimi-k2.6"},
    )
    assert "placeholder_reasoning" in [d.code for d in claude.call().diagnostics]
    assert claude.post_fixed().status_code == 200


def test_lesson_2_forced_tool_choice_is_model_and_thinking_aware(
    kimi_emulator: EmulatorServer,
) -> None:
    body = {**history("kimi-k3", reasoning="r"), "tool_choice": "required"}
    k3 = Exchange(kimi_emulator, PLATFORM_GLOBAL, "openai_chat", body)
    assert k3.post_raw().status_code == 200  # accepted on K3: no rewrite
    assert (sent(k3)["tool_choice"], k3.call().diagnostics) == ("required", ())
    k26 = Exchange(kimi_emulator, PLATFORM_GLOBAL, "openai_chat", {**body, "model": "kimi-k2.6"})
    assert error_message(k26.post_raw()) == (
        400,
        "tool_choice 'required' is incompatible with thinking enabled",
    )
    assert (sent(k26)["tool_choice"], sent(k26)["thinking"]) == ("required", {"type": "disabled"})
    assert k26.post_fixed().status_code == 200
    off = {**body, "model": "kimi-k2.6", "thinking": {"type": "disabled"}}
    untouched = Exchange(kimi_emulator, PLATFORM_GLOBAL, "openai_chat", off)
    assert untouched.post_raw().status_code == 200
    assert untouched.call().diagnostics == ()


def test_lesson_3_temperature_rules_differ_by_model(kimi_emulator: EmulatorServer) -> None:
    body = {
        "model": "kimi-k2.6",
        "messages": [QUESTION],
        "temperature": 1.0,
        "thinking": {"type": "disabled"},
    }
    k26 = Exchange(kimi_emulator, PLATFORM_GLOBAL, "openai_chat", body)
    # 1.0 is inside [0, 1]: a clamp alone would send it and fail.
    assert error_message(k26.post_raw()) == (
        400,
        "invalid temperature: only 0.6 is allowed for this model",
    )
    assert "temperature" not in sent(k26)
    assert k26.post_fixed().status_code == 200
    v1 = Exchange(
        kimi_emulator, PLATFORM_GLOBAL, "openai_chat", {**body, "model": "moonshot-v1-8k"}
    )
    assert (sent(v1)["temperature"], v1.call().diagnostics) == (1.0, ())
    assert v1.post_fixed().status_code == 200
    # Kimi's own validation can be wrong (Kimi-K2 #124): an override omits even a valid value.
    valid = {**body, "temperature": 0.6}
    omit = QuirkPolicy(sampling_overrides=(SamplingOverride("kimi-k2.6", "temperature", "omit"),))
    overridden = Exchange(kimi_emulator, PLATFORM_GLOBAL, "openai_chat", valid, omit)
    assert "temperature" not in sent(overridden)
    assert overridden.post_fixed().status_code == 200


def test_lesson_5_tool_call_ids_survive_translation(kimi_emulator: EmulatorServer) -> None:
    encoded = encode_tool_id("get_weather:0")
    body = {
        "model": "kimi-k2.6",
        "max_tokens": 256,
        "thinking": {"type": "disabled"},
        "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}],
        "messages": [
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": encoded, "name": "get_weather", "input": {}}
                ],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": encoded, "content": "sunny"}],
            },
        ],
    }
    exchange = Exchange(kimi_emulator, PLATFORM_GLOBAL, "anthropic_messages", body)
    messages = sent(exchange)["messages"]
    assert messages[1]["tool_calls"][0]["id"] == "get_weather:0"
    assert messages[2] == {"role": "tool", "content": "sunny", "tool_call_id": "get_weather:0"}
    assert exchange.post_fixed().status_code == 200
    # OpenClaw strips non-alphanumerics consistently: whatever the id, the pair still matches.
    stripped = orjson.loads(orjson.dumps(body).replace(encoded.encode(), b"getweather0"))
    assert (
        Exchange(kimi_emulator, PLATFORM_GLOBAL, "anthropic_messages", stripped)
        .post_fixed()
        .status_code
        == 200
    )


def _signed_tool_turn(server: EmulatorServer) -> list[dict[str, Any]]:
    """A real Kimi Code reply with a signed thinking block and a tool call."""
    live = on_emulator(KIMI_CODE_ANTHROPIC, server)
    question = {"role": "user", "content": '@@thinking@@@@tool:get_weather {"city":"Paris"}@@'}
    reply = httpx.post(
        live.url,
        headers={"x-api-key": key_for(live), "anthropic-version": "2023-06-01"},
        json={
            "model": "kimi-for-coding",
            "max_tokens": 512,
            "thinking": {"type": "enabled", "budget_tokens": 256},
            "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}],
            "messages": [question],
        },
        timeout=10,
    ).json()
    call = next(b for b in reply["content"] if b["type"] == "tool_use")
    result = {"type": "tool_result", "tool_use_id": call["id"], "content": "sunny"}
    return [
        question,
        {"role": "assistant", "content": reply["content"]},
        {"role": "user", "content": [result]},
    ]


def test_lesson_6_thinking_history_replays_as_reasoning_and_signatures(
    kimi_emulator: EmulatorServer,
) -> None:
    turns = _signed_tool_turn(kimi_emulator)
    thinking = turns[1]["content"][0]
    assert (thinking["type"], bool(thinking["signature"])) == ("thinking", True)
    body = {
        "model": "kimi-for-coding",
        "max_tokens": 512,
        "thinking": {"type": "enabled", "budget_tokens": 256},
        "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}],
        "messages": turns,
    }
    signed = Exchange(kimi_emulator, KIMI_CODE_ANTHROPIC, "anthropic_messages", body)
    assert sent(signed)["messages"][1]["content"][0] == thinking  # byte-exact replay
    assert signed.post_fixed().status_code == 200
    # The same history to an OpenAI face: the thinking goes back as reasoning_content.
    openai = Exchange(
        kimi_emulator, PLATFORM_GLOBAL, "anthropic_messages", {**body, "model": "kimi-k2.6"}
    )
    assert sent(openai)["messages"][1]["reasoning_content"] == thinking["thinking"]
    assert "placeholder_reasoning" not in [d.code for d in openai.call().diagnostics]
    assert openai.post_fixed().status_code == 200
    # Unsigned blocks (Claude Code replays them with "signature": "") are not given a fake one.
    unsigned = {**thinking, "signature": ""}
    turns[1] = {"role": "assistant", "content": [unsigned, *turns[1]["content"][1:]]}
    replay = Exchange(kimi_emulator, KIMI_CODE_ANTHROPIC, "anthropic_messages", body)
    assert "signature" not in sent(replay)["messages"][1]["content"][0]
    assert replay.post_fixed().status_code == 200


def test_lesson_7_unknown_anthropic_fields_are_dropped_explicitly(
    kimi_emulator: EmulatorServer,
) -> None:
    body = {**captured("claude_code_text_request.json"), "model": "kimi-k2.6", "stream": False}
    exchange = Exchange(kimi_emulator, PLATFORM_GLOBAL, "anthropic_messages", body)
    wire = sent(exchange)
    assert {"output_config", "context_management", "metadata"} & set(wire) == set()
    details = [d.detail for d in exchange.call().diagnostics]
    assert any(d.startswith("'context_management' is not accepted") for d in details)
    assert any(d.startswith("metadata is not accepted") for d in details)
    assert any(d.startswith("effort=high has no Kimi form") for d in details)
    assert exchange.post_fixed().status_code == 200


def test_lesson_9_empty_tool_message_and_empty_text_beside_tool_calls(
    kimi_emulator: EmulatorServer,
) -> None:
    body = history("kimi-k2.6", reasoning="r")
    body["messages"][1]["content"] = ""
    body["messages"][2] = {**RESULT, "content": ""}
    exchange = Exchange(kimi_emulator, PLATFORM_GLOBAL, "openai_chat", body)
    assert error_message(exchange.post_raw()) == (400, "text content is empty")
    body["messages"][1]["content"] = None
    assert error_message(exchange.post_raw()) == (
        400,
        "the message at position 2 with role 'tool' must not be empty",
    )
    body["messages"][1]["content"] = ""
    messages = sent(exchange)["messages"]
    assert "content" not in messages[1]
    assert messages[2]["content"] == "(empty)"
    assert exchange.call().diagnostics == ()
    assert exchange.post_fixed().status_code == 200


def test_lesson_10_kimi_code_caps_tools_at_128(kimi_emulator: EmulatorServer) -> None:
    tools = [{"name": f"t{i}", "input_schema": {"type": "object"}} for i in range(130)]
    body = {
        "model": "kimi-for-coding",
        "max_tokens": 64,
        "tools": tools,
        "messages": [{"role": "user", "content": "hi"}],
    }
    exchange = Exchange(kimi_emulator, KIMI_CODE_ANTHROPIC, "anthropic_messages", body)
    assert error_message(exchange.post_raw()) == (400, "a max of 128 tools can be supported")
    with pytest.raises(TranslationError) as caught:
        exchange.call()
    assert caught.value.param == "tools"
    assert "accepts at most 128" in caught.value.message
    exchange.policy = QuirkPolicy(trim_tools=True)
    assert len(sent(exchange)["tools"]) == 128
    assert [d.detail for d in exchange.call().diagnostics] == [
        "only the first 128 tools were sent (the limit); dropped: t128, t129"
    ]
    assert exchange.post_fixed().status_code == 200


def test_lesson_11_tool_reference_blocks_are_flattened(kimi_emulator: EmulatorServer) -> None:
    body = {
        "model": "kimi-for-coding",
        "max_tokens": 64,
        "tools": [{"name": "ToolSearch", "input_schema": {"type": "object"}}],
        "messages": [
            {"role": "user", "content": "find a tool"},
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "toolu_1", "name": "ToolSearch", "input": {}}
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "content": [{"type": "tool_reference", "tool_name": "Bash"}],
                    },
                    {"type": "tool_reference", "tool_name": "Read"},
                ],
            },
        ],
    }
    exchange = Exchange(kimi_emulator, KIMI_CODE_ANTHROPIC, "anthropic_messages", body)
    assert error_message(exchange.post_raw()) == (400, "Invalid request Error")
    wire = sent(exchange)["messages"][2]["content"]
    assert [block["type"] for block in wire] == ["tool_result", "text"]
    assert wire[1]["text"] == "Read"
    # Thinking is on by default and the tool turn carries none: filled in (docs/kimi.md §18.7).
    assert [d.code for d in exchange.call().diagnostics] == [
        "flattened_block",
        "placeholder_reasoning",
        "flattened_block",
    ]
    assert exchange.post_fixed().status_code == 200
