"""What a client receives, read by the official SDKs: the client-visible bytes are served to an
``openai.OpenAI`` / ``anthropic.Anthropic`` client through an ``httpx.MockTransport`` (no
network), with strict response validation, and the SDK's own objects are turned into canonical
Responses here — a reading independent of our dialect parsers.

Streams are folded by the SDKs' own accumulators (openai ``ChatCompletionStreamState``,
anthropic ``MessageStream``); errors are the exceptions the SDKs raise.
"""

from __future__ import annotations

from typing import Any, cast

import anthropic
import httpx2
import openai
import orjson
from anthropic.types import MessageParam
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletionMessageParam

from kimi_gateway.core.model import (
    Part,
    Response,
    StopReason,
    TextPart,
    ThinkingPart,
    ToolCallPart,
)
from kimi_gateway.core.usage import Usage

_SSE = {"content-type": "text/event-stream"}
_JSON = {"content-type": "application/json"}
_ASK_OPENAI: list[ChatCompletionMessageParam] = [{"role": "user", "content": "x"}]
_ASK_ANTHROPIC: list[MessageParam] = [{"role": "user", "content": "x"}]


def _http2(status: int, content: bytes, headers: dict[str, str]) -> httpx2.Client:
    """Both SDKs run on httpx2 (a fork with httpx's interface)."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, headers=headers, content=content)

    return httpx2.Client(transport=httpx2.MockTransport(answer))


def _openai(status: int, content: bytes, headers: dict[str, str]) -> openai.OpenAI:
    return openai.OpenAI(
        api_key="sk-test",
        base_url="http://127.0.0.1:9/v1",
        http_client=_http2(status, content, headers),
        max_retries=0,
        _strict_response_validation=True,
    )


def _anthropic(status: int, content: bytes, headers: dict[str, str]) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        api_key="sk-test",
        base_url="http://127.0.0.1:9",
        http_client=_http2(status, content, headers),
        max_retries=0,
        _strict_response_validation=True,
    )


def openai_completion(body: dict[str, Any]) -> Response:
    """A JSON reply as ``client.chat.completions.create`` returns it."""
    client = _openai(200, orjson.dumps(body), _JSON)
    completion = client.chat.completions.create(model="m", messages=_ASK_OPENAI)
    return _from_openai(completion)


def openai_stream(sse: bytes) -> Response:
    """An SSE reply folded by the SDK's own stream accumulator (every chunk validated)."""
    client = _openai(200, sse, _SSE)
    state = ChatCompletionStreamState()
    usage = None
    for chunk in client.chat.completions.create(model="m", messages=_ASK_OPENAI, stream=True):
        state.handle_chunk(chunk)
        usage = chunk.usage or usage
    snapshot = state.current_completion_snapshot
    return _from_openai(snapshot, usage)


def anthropic_message(body: dict[str, Any]) -> Response:
    client = _anthropic(200, orjson.dumps(body), _JSON)
    message = client.messages.create(model="m", max_tokens=1, messages=_ASK_ANTHROPIC)
    return _from_anthropic(message)


def anthropic_stream(sse: bytes) -> Response:
    client = _anthropic(200, sse, _SSE)
    with client.messages.stream(model="m", max_tokens=1, messages=_ASK_ANTHROPIC) as stream:
        message = stream.get_final_message()
    return _from_anthropic(message)


def read(client: str, body: dict[str, Any] | None, sse: bytes | None) -> Response:
    """The reply as the ``client`` dialect's SDK reads it."""
    if sse is not None:
        return openai_stream(sse) if client == "openai" else anthropic_stream(sse)
    assert body is not None
    return openai_completion(body) if client == "openai" else anthropic_message(body)


def error(client: str, status: int, body: dict[str, Any] | None, sse: bytes | None) -> Exception:
    """The exception the SDK raises for an error reply or a stream that ends in an error."""
    content = sse if sse is not None else orjson.dumps(body)
    headers = _SSE if sse is not None else _JSON
    try:
        if client == "openai":
            reply = _openai(status, content, headers).chat.completions.create(
                model="m",
                messages=_ASK_OPENAI,
                stream=sse is not None,
            )
            if sse is not None:
                list(reply)
        else:
            sdk = _anthropic(status, content, headers)
            if sse is not None:
                with sdk.messages.stream(
                    model="m", max_tokens=1, messages=_ASK_ANTHROPIC
                ) as stream:
                    stream.get_final_message()
            else:
                sdk.messages.create(model="m", max_tokens=1, messages=_ASK_ANTHROPIC)
    except (openai.APIError, anthropic.APIError) as exc:
        return exc
    raise AssertionError("the SDK raised nothing")


def _from_openai(completion: Any, usage: Any = None) -> Response:
    choice = completion.choices[0]
    message = choice.message
    parts: list[Part] = []
    extra = message.model_extra or {}
    if extra.get("reasoning_content") is not None:
        parts.append(ThinkingPart(extra["reasoning_content"]))
    if message.content:
        parts.append(TextPart(message.content))
    for call in message.tool_calls or ():
        parts.append(ToolCallPart(call.id, call.function.name, call.function.arguments))
    finish: dict[str, StopReason] = {
        "stop": "end_turn",
        "length": "max_tokens",
        "tool_calls": "tool_use",
    }
    return Response(
        id=completion.id,
        model=completion.model,
        parts=tuple(parts),
        stop_reason=finish[choice.finish_reason],
        usage=_openai_usage(usage or completion.usage),
        created=completion.created,
    )


def _openai_usage(usage: Any) -> Usage:
    if usage is None:
        return Usage()
    cached = usage.prompt_tokens_details.cached_tokens if usage.prompt_tokens_details else 0
    details = usage.completion_tokens_details
    return Usage(
        input_uncached=usage.prompt_tokens - (cached or 0),
        input_cache_read=cached or 0,
        output=usage.completion_tokens,
        reasoning=(details.reasoning_tokens or 0) if details else 0,
    )


def _from_anthropic(message: anthropic.types.Message) -> Response:
    parts: list[Part] = []
    for block in message.content:
        if block.type == "thinking":
            parts.append(ThinkingPart(block.thinking, signature=block.signature or None))
        elif block.type == "text":
            parts.append(TextPart(block.text))
        elif block.type == "tool_use":
            arguments = orjson.dumps(block.input).decode()
            parts.append(ToolCallPart(block.id, block.name, arguments))
        else:
            raise AssertionError(f"unexpected block {block.type}")
    usage = message.usage
    details = usage.output_tokens_details
    return Response(
        id=message.id,
        model=message.model,
        parts=tuple(parts),
        # Kimi's wire value as is: the reasons Kimi sends are in both the SDK's Literal and
        # ours (the SDK's also names pause_turn and others that Kimi never sends).
        stop_reason=cast(StopReason | None, message.stop_reason),
        usage=Usage(
            input_uncached=usage.input_tokens,
            input_cache_read=usage.cache_read_input_tokens or 0,
            input_cache_write=usage.cache_creation_input_tokens or 0,
            output=usage.output_tokens,
            reasoning=(details.thinking_tokens or 0) if details else 0,
        ),
        stop_sequence=message.stop_sequence,
    )
