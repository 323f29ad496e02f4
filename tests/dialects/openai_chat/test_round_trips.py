"""Canonical requests, responses and streams survive render → parse (hypothesis); a rendered
stream says what render_response says."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kimi_gateway.core.events import (
    StreamEvent,
)
from kimi_gateway.core.fold import fold
from kimi_gateway.core.model import (
    Request,
    Response,
    TextPart,
    ThinkingPart,
)
from kimi_gateway.core.sse import SSEDecoder
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.openai_chat import (
    StreamParser,
    StreamRenderer,
    parse_request,
    parse_response,
    render_request,
    render_response,
)

from .strategies import requests, responses, streams


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_canonical_requests_survive_render_then_parse(request: Request) -> None:
    body = render_request(request)
    assert parse_request(orjson.loads(orjson.dumps(body))) == request


@given(responses())
def test_canonical_responses_survive_render_then_parse(response: Response) -> None:
    assert parse_response(orjson.loads(orjson.dumps(render_response(response)))) == response


def render_stream(events: list[StreamEvent], include_usage: bool) -> bytes:
    renderer = StreamRenderer(include_usage=include_usage)
    return b"".join(renderer.render(event) for event in events)


def client_view(response: Response) -> Response:
    """What survives OpenAI chunks of a Kimi-ordered reply: empty text/thinking parts vanish;
    cache writes count as plain input (OpenAI has no field for them)."""
    parts = tuple(p for p in response.parts if not isinstance(p, TextPart | ThinkingPart) or p.text)
    usage = response.usage
    return Response(
        response.id,
        response.model,
        parts,
        response.stop_reason,
        Usage(
            usage.input_uncached + usage.input_cache_write,
            usage.input_cache_read,
            0,
            usage.output,
            usage.reasoning,
        ),
        created=response.created,
    )


@settings(max_examples=150)
@given(streams(kimi_order=True), st.booleans())
def test_rendered_streams_parse_back_to_the_same_reply(
    events: list[StreamEvent], include_usage: bool
) -> None:
    raw = render_stream(events, include_usage)
    decoder, parser = SSEDecoder(), StreamParser()
    parsed = [e for sse in decoder.decode(raw) for e in parser.feed(sse)] + parser.close()
    assert fold(parsed) == client_view(fold(events))


def accumulate(raw: bytes) -> dict[str, Any]:
    """Join chunks the way OpenAI's SDK stream helpers do (by field, tool calls by index)."""
    message: dict[str, Any] = {"role": "assistant", "content": ""}
    calls: dict[int, dict[str, Any]] = {}
    finish, usage = None, None
    for sse in SSEDecoder().decode(raw):
        if sse.data == "[DONE]":
            break
        chunk = orjson.loads(sse.data)
        for choice in chunk["choices"]:
            delta = choice["delta"]
            message["content"] += delta.get("content", "")
            if "reasoning_content" in delta:
                message["reasoning_content"] = (
                    message.get("reasoning_content", "") + delta["reasoning_content"]
                )
            for call in delta.get("tool_calls", []):
                slot = calls.setdefault(
                    call["index"], {"index": call["index"], "function": {"arguments": ""}}
                )
                slot.update({k: v for k, v in call.items() if k in ("id", "type")})
                slot["function"].setdefault("name", call["function"].get("name"))
                slot["function"]["arguments"] += call["function"]["arguments"]
            finish = choice["finish_reason"] or finish
            usage = choice.get("usage", usage)
    if calls:
        message["tool_calls"] = [
            {"index": i, "id": c["id"], "type": c["type"], "function": c["function"]}
            for i, c in sorted(calls.items())
        ]
    return {"message": message, "finish_reason": finish, "usage": usage}


@settings(max_examples=150)
@given(streams(kimi_order=False))
def test_the_stream_says_what_render_response_says(events: list[StreamEvent]) -> None:
    body = render_response(fold(events))
    expected_message = {**body["choices"][0]["message"]}
    expected_message["content"] = expected_message["content"] or ""
    assert accumulate(render_stream(events, False)) == {
        "message": expected_message,
        "finish_reason": body["choices"][0]["finish_reason"],
        "usage": body["usage"],
    }
