"""hypothesis: the parsers raise only our typed errors on arbitrary JSON, and parse → render →
parse keeps the meaning of whatever parses."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.events import StreamError
from kimi_gateway.core.model import Message, Tool, ToolResultPart
from kimi_gateway.core.sse import SSEEvent
from kimi_gateway.dialects.anthropic_messages import (
    StreamParser,
    StreamRenderer,
    parse_error,
    parse_request,
    parse_response,
    render_request,
    render_response,
)

# Bodies reach the parsers decoded by orjson, which reads integers beyond 64 bits as floats.
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
BLOCK_TYPES = st.sampled_from(
    [
        "text",
        "image",
        "thinking",
        "redacted_thinking",
        "tool_use",
        "tool_result",
        "tool_reference",
        "document",
    ]
)


def mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually a well-typed value, sometimes any JSON: deep enough to reach every branch."""
    return st.integers(0, 19).flatmap(lambda n: JSON if n == 0 else valid)


TEXT = mostly(st.text(max_size=12))
SOURCE = mostly(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["base64", "url", "file", "other"])},
        optional={"data": TEXT, "url": TEXT, "file_id": TEXT, "media_type": TEXT},
    )
)
CACHE = {
    "cache_control": mostly(
        st.fixed_dictionaries({"type": st.just("ephemeral")}, optional={"ttl": TEXT})
    )
}


def block(kind: str, required: dict[str, Any], **optional: Any) -> st.SearchStrategy[Any]:
    fixed = {"type": st.just(kind), **required}
    return st.fixed_dictionaries(fixed, optional={**CACHE, "citations": JSON, **optional})


# Annotated: tool_result content refers back to BLOCK itself.
BLOCK: st.SearchStrategy[Any] = st.one_of(
    block("text", {"text": TEXT}),
    block("image", {"source": SOURCE}),
    block("thinking", {"thinking": TEXT}, signature=TEXT),
    block("redacted_thinking", {"data": TEXT}),
    block(
        "tool_use",
        {
            "id": TEXT,
            "name": TEXT,
            "input": mostly(st.dictionaries(st.text(max_size=4), JSON, max_size=3)),
        },
    ),
    block(
        "tool_result",
        {"tool_use_id": TEXT},
        content=mostly(st.text() | st.lists(st.deferred(lambda: BLOCK), max_size=3)),
        is_error=mostly(st.booleans()),
    ),
    block("tool_reference", {"tool_name": TEXT}),
    st.fixed_dictionaries(
        {"type": BLOCK_TYPES | JSON}, optional={"text": JSON, "source": JSON, "content": JSON}
    ),
)
MESSAGE = st.fixed_dictionaries(
    {
        "role": mostly(st.sampled_from(["user", "assistant", "system"])),
        "content": mostly(st.text() | st.lists(BLOCK, max_size=4)),
    }
)
TOOL = st.fixed_dictionaries(
    {"name": TEXT},
    optional={
        "type": st.sampled_from(["custom", "web_search_20250305"]) | JSON,
        "input_schema": mostly(st.dictionaries(st.text(max_size=4), JSON, max_size=2)),
        "description": TEXT,
        "cache_control": JSON,
        "strict": JSON,
    },
)
REQUEST = st.fixed_dictionaries(
    {
        "model": mostly(st.text(max_size=5)),
        "max_tokens": mostly(st.integers(1, 100)),
        "messages": mostly(st.lists(MESSAGE, max_size=4)),
    },
    optional={
        "system": mostly(st.text() | st.lists(BLOCK, max_size=2)),
        "tools": mostly(st.lists(TOOL, max_size=2)),
        "tool_choice": mostly(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["auto", "any", "tool", "none", "x"])},
                optional={"name": TEXT, "disable_parallel_tool_use": JSON},
            )
        ),
        "thinking": mostly(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["enabled", "adaptive", "disabled"])},
                optional={"budget_tokens": mostly(st.integers(0, 9)), "keep": TEXT},
            )
        ),
        "output_config": mostly(
            st.fixed_dictionaries({}, optional={"effort": TEXT, "format": JSON, "other": JSON})
        ),
        "stream": mostly(st.booleans()),
        "stop_sequences": mostly(st.lists(st.text(max_size=3), max_size=2)),
        "temperature": mostly(st.floats(0, 2)),
        "metadata": mostly(st.dictionaries(st.text(max_size=4), JSON, max_size=2)),
        "top_k": JSON,
        "seed": JSON,
    },
)
RESPONSE = st.fixed_dictionaries(
    {
        "id": st.text(max_size=5) | JSON,
        "model": st.text(max_size=5) | JSON,
        "content": st.lists(BLOCK, max_size=4) | JSON,
    },
    optional={"type": JSON, "stop_reason": JSON, "stop_sequence": JSON, "usage": JSON},
)


def tool_results_first(messages: tuple[Message, ...]) -> tuple[Message, ...]:
    """render_request's one reordering: tool results lead a user message."""

    def order(message: Message) -> Message:
        if message.role != "user":
            return message
        results = [p for p in message.parts if isinstance(p, ToolResultPart)]
        others = [p for p in message.parts if not isinstance(p, ToolResultPart)]
        return Message("user", (*results, *others))

    return tuple(order(message) for message in messages)


def with_schema(tool: Tool) -> Tool:
    """render_request's default for a tool without a schema: ``{"type": "object"}``."""
    return tool if tool.parameters is not None else replace(tool, parameters={"type": "object"})


FUZZ = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)


@FUZZ
@given(REQUEST | JSON)
def test_parse_request_raises_only_typed_errors(body: Any) -> None:
    try:
        request = parse_request(body)
    except GatewayError:
        return
    again = parse_request(render_request(request))
    assert (again.messages, again.system, again.tools, again.tool_choice) == (
        tool_results_first(request.messages),
        request.system,
        tuple(with_schema(tool) for tool in request.tools),
        request.tool_choice,
    )
    assert (again.thinking, again.max_tokens, again.stop, again.stream) == (
        request.thinking,
        request.max_tokens,
        request.stop,
        request.stream,
    )
    orjson.dumps(render_request(request))


@FUZZ
@given(RESPONSE | JSON)
def test_parse_response_raises_only_typed_errors(body: Any) -> None:
    try:
        response = parse_response(body)
    except GatewayError:
        return
    orjson.dumps(render_response(response))


@FUZZ
@given(
    st.integers(100, 599),
    st.binary(max_size=40) | JSON.map(orjson.dumps),
    st.dictionaries(st.text(max_size=12), st.text(max_size=12), max_size=3),
)
def test_parse_error_always_returns_a_gateway_error(
    status: int, body: bytes, headers: dict[str, str]
) -> None:
    assert isinstance(parse_error(status, body, headers), GatewayError)


EVENT = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            [
                "message_start",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop",
                "ping",
                "error",
            ]
        )
    },
    optional={
        "message": JSON,
        "index": st.integers(0, 3) | JSON,
        "content_block": JSON
        | st.fixed_dictionaries(
            {"type": BLOCK_TYPES},
            optional={k: JSON for k in ("text", "thinking", "signature", "id", "name", "input")},
        ),
        "delta": JSON,
        "usage": JSON,
        "error": JSON,
    },
)


@FUZZ
@given(
    st.lists(EVENT.map(orjson.dumps) | JSON.map(orjson.dumps) | st.binary(max_size=20), max_size=12)
)
def test_stream_parser_never_raises_and_its_output_renders(datas: list[bytes]) -> None:
    parser, renderer = StreamParser(), StreamRenderer()
    events = []
    for data in datas:
        events += parser.feed(SSEEvent(data.decode("utf-8", errors="replace")))
    events += parser.close()
    assert isinstance(events[-1], StreamError) or type(events[-1]).__name__ == "Done"
    for event in events:
        renderer.render(event)
