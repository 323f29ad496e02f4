"""Properties: render → parse keeps a Response (streamed and not), and the parsers raise only
our error types on arbitrary JSON. Few, small examples: the whole file runs in seconds."""

from __future__ import annotations

import itertools
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_gateway.core.errors import GatewayError, TranslationError
from kimi_gateway.core.events import (
    Done,
    Finish,
    MessageStart,
    PartEnd,
    PartStart,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolArgumentsDelta,
    UsageReport,
)
from kimi_gateway.core.fold import fold
from kimi_gateway.core.model import Part, Response, TextPart, ThinkingPart, ToolCallPart
from kimi_gateway.core.sse import SSEDecoder, SSEEvent
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.openai_responses import (
    StreamParser,
    StreamRenderer,
    parse_error,
    parse_request,
    parse_response,
    render_request,
    render_response,
)

FAST = settings(max_examples=40, deadline=None)
words = st.text(max_size=12)
counts = st.integers(0, 10_000)
parts: st.SearchStrategy[Part] = st.one_of(
    st.builds(TextPart, words),
    st.builds(ThinkingPart, words),
    st.builds(
        ToolCallPart,
        st.from_regex(r"call_[a-z0-9]{1,6}", fullmatch=True),
        st.from_regex(r"[a-z_]{1,8}", fullmatch=True),
        words,
    ),
)


@st.composite
def responses(draw: st.DrawFn) -> Response:
    body = tuple(draw(st.lists(parts, max_size=4)))
    calls = any(isinstance(p, ToolCallPart) for p in body)
    stop = draw(
        st.sampled_from(["tool_use" if calls else "end_turn", "max_tokens", "content_filter"])
    )
    usage = Usage(*(draw(counts) for _ in range(5)))
    return Response(
        id="resp_" + draw(st.from_regex(r"[A-Za-z0-9]{1,10}", fullmatch=True)),
        model=draw(words),
        parts=body,
        stop_reason=stop,  # type: ignore[arg-type]
        usage=usage,
        created=draw(st.integers(0, 2**31)),
    )


def chunks(draw: st.DrawFn, text: str) -> list[str]:
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=3)))
    edges = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(edges) if b > a]


@st.composite
def streams(draw: st.DrawFn) -> tuple[Response, list[StreamEvent]]:
    response = draw(responses())
    events: list[StreamEvent] = [MessageStart(response.id, response.model, response.created)]
    for i, part in enumerate(response.parts):
        if isinstance(part, ToolCallPart):
            events.append(PartStart(i, "tool_call", tool_call_id=part.id, tool_name=part.name))
            events.extend(ToolArgumentsDelta(i, c) for c in chunks(draw, part.arguments))
        elif isinstance(part, ThinkingPart):
            events.append(PartStart(i, "thinking"))
            events.extend(ThinkingDelta(i, c) for c in chunks(draw, part.text))
        else:
            assert isinstance(part, TextPart)
            events.append(PartStart(i, "text"))
            events.extend(TextDelta(i, c) for c in chunks(draw, part.text))
        events.append(PartEnd(i))
    events += [Finish(response.stop_reason), UsageReport(response.usage), Done()]
    return response, events


@FAST
@given(responses())
def test_render_then_parse_response_is_identity(response: Response) -> None:
    assert parse_response(orjson.loads(orjson.dumps(render_response(response)))) == response


@FAST
@given(streams(), st.integers(1, 64))
def test_stream_render_parse_fold_is_the_response(
    case: tuple[Response, list[StreamEvent]], size: int
) -> None:
    response, events = case
    renderer = StreamRenderer()
    data = b"".join(renderer.render(event) for event in events)
    decoder = SSEDecoder()
    parser = StreamParser()
    out: list[StreamEvent] = []
    for start in range(0, len(data), size):  # bytes arrive in pieces of any size
        for sse in decoder.decode(data[start : start + size]):
            out.extend(parser.feed(sse))
    for sse in decoder.flush():
        out.extend(parser.feed(sse))
    out.extend(parser.close())
    assert fold(out) == response


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False) | words,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(words, inner, max_size=3),
    max_leaves=10,
)
ITEM_TYPES = [
    "message",
    "function_call",
    "function_call_output",
    "reasoning",
    "input_text",
    "input_image",
    "output_text",
    "function",
    "summary_text",
    "x",
]
items = st.fixed_dictionaries(
    {"type": st.sampled_from(ITEM_TYPES)},
    optional={
        k: json_values | st.sampled_from(ITEM_TYPES)
        for k in (
            "role",
            "content",
            "call_id",
            "name",
            "arguments",
            "output",
            "summary",
            "text",
            "image_url",
            "file_id",
        )
    },
)
request_bodies = st.fixed_dictionaries(
    {
        "model": st.text(max_size=3) | json_values,
        "input": st.lists(items, max_size=3) | json_values,
    },
    optional={
        k: json_values
        for k in (
            "instructions",
            "tools",
            "tool_choice",
            "reasoning",
            "text",
            "max_output_tokens",
            "parallel_tool_calls",
            "stream",
        )
    },
)
response_bodies = st.fixed_dictionaries(
    {"output": st.lists(items, max_size=3) | json_values},
    optional={k: json_values for k in ("status", "usage", "id", "created_at", "error")},
)


@FAST
@given(request_bodies | json_values)
def test_parse_request_raises_only_translation_errors(body: Any) -> None:
    try:
        request = parse_request(body)
    except TranslationError as error:
        param = error.param
    else:
        param = "parsed"
        render_request(request)  # whatever parses, renders
    assert param


@FAST
@given(response_bodies | json_values)
def test_parse_response_raises_only_gateway_errors(body: Any) -> None:
    kind: str
    try:
        response = parse_response(body)
    except GatewayError as error:
        kind = error.kind
    else:
        kind = "parsed"
        render_response(response)  # whatever parses, renders
    assert kind


@FAST
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "response.created",
                    "response.output_item.added",
                    "response.output_text.delta",
                    "response.reasoning_summary_text.delta",
                    "response.function_call_arguments.delta",
                    "response.output_item.done",
                    "response.completed",
                    "response.failed",
                    "error",
                ]
            ),
            st.dictionaries(
                st.sampled_from(
                    ["response", "item", "delta", "output_index", "content_index", "summary_index"]
                ),
                json_values | items,
                max_size=4,
            ),
        ),
        max_size=6,
    )
)
def test_stream_parser_never_raises(feed: list[tuple[str, dict[str, Any]]]) -> None:
    parser = StreamParser()
    for kind, payload in feed:
        parser.feed(SSEEvent(orjson.dumps({**payload, "type": kind}).decode(), kind))
    parser.feed(SSEEvent("not json"))
    parser.close()


@pytest.mark.parametrize("body", [b"", b"[]", b'{"error": 3}', b"\xff", b'"x"'])
def test_parse_error_never_raises(body: bytes) -> None:
    assert isinstance(parse_error(500, body, {}), GatewayError)
