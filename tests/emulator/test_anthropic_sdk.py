"""Both Anthropic faces driven by the official `anthropic` SDK over 127.0.0.1: sync and async,
`messages.create` and `messages.stream`, tools, thinking, usage (docs/kimi.md §13, §14)."""

from __future__ import annotations

import re
from typing import Any

import anthropic
import pytest
from anthropic.types import Message, MessageParam

from kimi_gateway.emulator.anthropic_signing import sign_thinking, signing_key
from kimi_gateway.emulator.script import DEFAULT_REASONING, DEFAULT_REPLY, TOOL_RESULT_PREFIX
from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.emulator.tokens import (
    MESSAGE_OVERHEAD,
    REQUEST_OVERHEAD,
    count_text_tokens,
    tool_call_tokens,
    tools_tokens,
)

from .test_anthropic_support import (
    BASH_ARGS,
    BASH_TOOL,
    BASH_TURN,
    HI,
    KIMI_CODE_KEY,
    PLATFORM_KEY,
    coding_sdk,
    platform_sdk,
)

SIGNATURE = sign_thinking(signing_key(0), DEFAULT_REASONING)
HI_PROMPT = REQUEST_OVERHEAD + MESSAGE_OVERHEAD + count_text_tokens("user") + 1
REASONING_TOKENS = count_text_tokens(DEFAULT_REASONING)
REPLY_TOKENS = count_text_tokens(DEFAULT_REPLY)


def _usage(message: Message) -> dict[str, Any]:
    return message.usage.model_dump(exclude_none=True)


def _content(message: Message) -> list[dict[str, Any]]:
    return [block.model_dump(exclude_none=True) for block in message.content]


def test_platform_create_thinks_and_reports_kimi_usage(kimi_emulator: EmulatorServer) -> None:
    message = platform_sdk(kimi_emulator).messages.create(
        model="kimi-k3", max_tokens=1000, messages=HI
    )
    assert re.fullmatch(r"msg_[0-9a-f]{24}", message.id)
    assert (message.type, message.role, message.model) == ("message", "assistant", "kimi-k3")
    assert _content(message) == [
        {"type": "thinking", "thinking": DEFAULT_REASONING, "signature": SIGNATURE},
        {"type": "text", "text": DEFAULT_REPLY},
    ]
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)
    assert _usage(message) == {
        "input_tokens": HI_PROMPT,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": REASONING_TOKENS + REPLY_TOKENS,
        "output_tokens_details": {"thinking_tokens": REASONING_TOKENS},
    }


def test_repeated_prefix_moves_input_into_cache_read(kimi_emulator: EmulatorServer) -> None:
    """§14: input_tokens excludes cached tokens; cache_read_input_tokens carries them."""
    sdk = platform_sdk(kimi_emulator)
    sdk.messages.create(model="kimi-k3", max_tokens=1000, messages=HI)
    again = sdk.messages.create(model="kimi-k3", max_tokens=1000, messages=HI)
    assert (again.usage.input_tokens, again.usage.cache_read_input_tokens) == (0, HI_PROMPT)


def test_claude_code_model_alias_is_served_as_kimi_k3(kimi_emulator: EmulatorServer) -> None:
    message = platform_sdk(kimi_emulator).messages.create(
        model="kimi-k3[1m]", max_tokens=1000, messages=HI
    )
    assert message.model == "kimi-k3"


def test_platform_k2_5_without_thinking_answers_text_only(kimi_emulator: EmulatorServer) -> None:
    message = platform_sdk(kimi_emulator).messages.create(
        model="kimi-k2.5", max_tokens=1000, messages=HI, thinking={"type": "disabled"}
    )
    assert _content(message) == [{"type": "text", "text": DEFAULT_REPLY}]
    assert _usage(message)["output_tokens"] == REPLY_TOKENS
    assert "output_tokens_details" not in _usage(message)


def test_max_tokens_truncates_with_max_tokens_stop_reason(kimi_emulator: EmulatorServer) -> None:
    message = coding_sdk(kimi_emulator).messages.create(
        model="kimi-for-coding", max_tokens=5, messages=HI
    )
    assert message.stop_reason == "max_tokens"
    assert [block.type for block in message.content] == ["thinking"]
    assert message.usage.output_tokens == 5


def test_coding_tool_round_trip_with_signed_thinking(kimi_emulator: EmulatorServer) -> None:
    sdk = coding_sdk(kimi_emulator)
    first = sdk.messages.create(
        model="kimi-for-coding",
        max_tokens=1000,
        tools=[BASH_TOOL],
        thinking={"type": "enabled", "budget_tokens": 2000},
        messages=BASH_TURN,
    )
    assert first.model == "kimi-for-coding"
    assert first.stop_reason == "tool_use"
    thinking, call = first.content
    assert thinking.type == "thinking"
    assert thinking.signature == SIGNATURE
    assert call.type == "tool_use"
    assert (call.id, call.name, call.input) == ("Bash_0", "Bash", {"command": "echo hi"})
    assert first.usage.output_tokens == REASONING_TOKENS + tool_call_tokens("Bash", BASH_ARGS)
    history: list[MessageParam] = [
        *BASH_TURN,
        first.to_param(),  # the assistant turn as the SDK sends a reply back
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "hi"}],
        },
    ]
    second = sdk.messages.create(
        model="kimi-for-coding", max_tokens=1000, tools=[BASH_TOOL], messages=history
    )
    assert second.content[-1].model_dump(exclude_none=True) == {
        "type": "text",
        "text": TOOL_RESULT_PREFIX + "hi",
    }
    # The whole first exchange is a cached prefix of the second request.
    assert (second.usage.cache_read_input_tokens or 0) > tools_tokens(["Bash"])


def test_sync_stream_builds_the_same_message_as_create(kimi_emulator: EmulatorServer) -> None:
    sdk = platform_sdk(kimi_emulator)
    kwargs: dict[str, Any] = {
        "model": "kimi-k3",
        "max_tokens": 1000,
        "tools": [BASH_TOOL],
        "messages": [{"role": "user", "content": f"go @@text:ok@@ @@tool:Bash {BASH_ARGS}@@"}],
    }
    with sdk.messages.stream(**kwargs) as stream:
        texts = list(stream.text_stream)
        streamed = stream.get_final_message()
    created = sdk.messages.create(**kwargs)
    assert "".join(texts) == "ok"
    assert _content(streamed)[:2] == _content(created)[:2]
    assert [b.type for b in streamed.content] == ["thinking", "text", "tool_use"]
    streamed_call, created_call = streamed.content[2], created.content[2]
    assert streamed_call.type == created_call.type == "tool_use"
    assert streamed_call.input == created_call.input == {"command": "echo hi"}
    assert streamed.stop_reason == created.stop_reason == "tool_use"
    assert streamed.usage.output_tokens == created.usage.output_tokens
    assert streamed.usage.output_tokens_details is not None
    assert streamed.usage.output_tokens_details.thinking_tokens == REASONING_TOKENS


@pytest.mark.anyio
async def test_async_create_and_stream_on_kimi_code(kimi_emulator: EmulatorServer) -> None:
    sdk = anthropic.AsyncAnthropic(
        base_url=kimi_emulator.url + "/coding", api_key=KIMI_CODE_KEY, max_retries=0
    )
    created = await sdk.messages.create(model="k3", max_tokens=1000, messages=HI)
    async with sdk.messages.stream(model="k3", max_tokens=1000, messages=HI) as stream:
        thinking = [e.thinking async for e in stream if e.type == "thinking"]
        streamed = await stream.get_final_message()
    assert "".join(thinking) == DEFAULT_REASONING
    assert _content(streamed) == _content(created)
    assert streamed.model == created.model == "kimi-for-coding"
    assert streamed.usage.input_tokens + (streamed.usage.cache_read_input_tokens or 0) == HI_PROMPT
    await sdk.close()


@pytest.mark.anyio
async def test_async_platform_bearer_auth(kimi_emulator: EmulatorServer) -> None:
    """Claude Code's ANTHROPIC_AUTH_TOKEN sends `Authorization: Bearer` (docs/kimi.md §F1)."""
    sdk = anthropic.AsyncAnthropic(
        base_url=kimi_emulator.url + "/anthropic", auth_token=PLATFORM_KEY, max_retries=0
    )
    message = await sdk.messages.create(model="kimi-k2.6", max_tokens=1000, messages=HI)
    assert message.content[-1].model_dump(exclude_none=True) == {
        "type": "text",
        "text": DEFAULT_REPLY,
    }
    await sdk.close()


def test_sdk_errors_carry_each_face_shape(kimi_emulator: EmulatorServer) -> None:
    bad_platform = anthropic.Anthropic(
        base_url=kimi_emulator.url + "/anthropic", api_key="sk-kimi-wrong", max_retries=0
    )
    with pytest.raises(anthropic.AuthenticationError) as platform_401:
        bad_platform.messages.create(model="kimi-k3", max_tokens=10, messages=HI)
    assert platform_401.value.body == {
        "error": {"type": "invalid_authentication_error", "message": "Invalid Authentication"}
    }
    with pytest.raises(anthropic.BadRequestError) as coding_400:
        coding_sdk(kimi_emulator).messages.create(
            model="kimi-for-coding",
            max_tokens=10,
            messages=[{"role": "user", "content": [{"type": "text", "text": ""}]}],
        )
    assert coding_400.value.body == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "text content is empty"},
    }
