"""The official ``openai`` SDK reads what this dialect renders: streams through its
``responses.stream`` accumulator, replies through ``responses.create``, errors as its own
exception types. The HTTP layer is an in-process transport of httpx2, the SDK's HTTP library
(no sockets)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx2
import openai
import orjson
import pytest

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.events import StreamError
from kimi_gateway.dialects.openai_responses import (
    StreamRenderer,
    parse_request,
    render_error,
    render_response,
)

from .stream_cases import START
from .test_responses_response import RESPONSE

GOLDEN = Path(__file__).parent / "golden"


def client(reply: Callable[[httpx2.Request], httpx2.Response]) -> openai.OpenAI:
    transport = httpx2.MockTransport(reply)
    return openai.OpenAI(
        api_key="k",
        base_url="http://gateway.test/v1",
        max_retries=0,
        http_client=httpx2.Client(transport=transport),
    )


def sse(data: bytes) -> Callable[[httpx2.Request], httpx2.Response]:
    def reply(request: httpx2.Request) -> httpx2.Response:
        parse_request(orjson.loads(request.content))  # what the SDK sends parses too
        return httpx2.Response(200, content=data, headers={"content-type": "text/event-stream"})

    return reply


def test_sdk_accumulates_the_reasoning_and_text_stream() -> None:
    sdk = client(sse((GOLDEN / "reasoning_text.sse").read_bytes()))
    with sdk.responses.stream(model="kimi-k2.5", input="hi", reasoning={"summary": "auto"}) as s:
        final = s.get_final_response()
    assert final.id == "resp_1"
    assert final.output_text == "Hi"
    assert [item.type for item in final.output] == ["reasoning", "message"]
    assert final.usage is not None
    assert (final.usage.input_tokens, final.usage.input_tokens_details.cached_tokens) == (10, 3)


def test_sdk_accumulates_the_function_call_stream() -> None:
    sdk = client(sse((GOLDEN / "function_call.sse").read_bytes()))
    tools = [{"type": "function", "name": "exec_command", "parameters": {"type": "object"}}]
    with sdk.responses.stream(model="kimi-k2.5", input="ls", tools=tools) as s:  # type: ignore[arg-type]
        final = s.get_final_response()
    (call,) = final.output
    assert call.type == "function_call"
    assert (call.call_id, call.name, call.arguments) == ("call_1", "exec_command", '{"cmd":"ls"}')


def test_sdk_reads_a_reply() -> None:
    body = orjson.dumps(render_response(RESPONSE))
    sdk = client(lambda request: httpx2.Response(200, content=body))
    reply = sdk.responses.create(model="kimi-k2.5", input="hi")
    assert reply.output_text == "Listing."
    assert reply.usage is not None
    assert reply.usage.output_tokens_details.reasoning_tokens == 12


def test_sdk_raises_its_own_error_types() -> None:
    status, body = render_error(GatewayError("rate_limit", "slow down"))
    sdk = client(lambda request: httpx2.Response(status, content=orjson.dumps(body)))
    with pytest.raises(openai.RateLimitError) as info:
        sdk.responses.create(model="kimi-k2.5", input="hi")
    assert info.value.code == "rate_limit_exceeded"


def test_sdk_sees_a_failed_stream() -> None:
    renderer = StreamRenderer()
    data = renderer.render(START) + renderer.render(StreamError(GatewayError("server", "boom")))
    sdk = client(sse(data))
    with sdk.responses.stream(model="kimi-k2.5", input="hi") as s:
        events = [event.type for event in s]
    assert events == ["response.created", "response.in_progress", "error", "response.failed"]
