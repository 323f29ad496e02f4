"""Parsers raise only our typed errors on any JSON (hypothesis), and name the field."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kimi_gateway.core.errors import GatewayError, TranslationError
from kimi_gateway.core.model import (
    Request,
)
from kimi_gateway.core.sse import SSEEvent
from kimi_gateway.dialects.openai_chat import (
    StreamParser,
    parse_error,
    parse_request,
    parse_response,
    render_request,
    render_response,
)

from .strategies import mutated_bodies
from .wire_strategies import json_values, request_bodies, response_bodies


@settings(max_examples=300)
@given(response_bodies | json_values)
def test_parse_response_raises_only_gateway_error(body: Any) -> None:
    try:
        response = parse_response(body)
    except GatewayError:
        return
    render_response(response)


@settings(max_examples=200)
@given(
    st.lists(
        json_values | response_bodies.map(lambda b: {**b, "choices": [{"delta": b}]}), max_size=6
    )
)
def test_stream_parser_turns_any_chunk_into_events_or_a_stream_error(chunks: list[Any]) -> None:
    parser = StreamParser()
    for data in chunks:
        parser.feed(SSEEvent(orjson.dumps(data).decode()))
    parser.feed(SSEEvent("[DONE]"))
    parser.close()


@given(
    st.integers(100, 599),
    st.binary(max_size=64) | json_values.map(orjson.dumps),
    st.dictionaries(
        st.sampled_from(["Retry-After", "x-retry-after", "retry-after-ms", "x-trace-id"]),
        st.text(max_size=8),
    ),
)
def test_parse_error_never_raises(status: int, body: bytes, headers: dict[str, str]) -> None:
    assert isinstance(parse_error(status, body, headers), GatewayError)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_bodies() | request_bodies | json_values)
def test_parse_request_raises_only_translation_error(body: Any) -> None:
    try:
        request = parse_request(body)
    except TranslationError as error:
        param = error.param
    else:
        param = "parsed"
        assert isinstance(request, Request)
        render_request(request)  # whatever parses, renders
    assert param, "every request error names the field"
