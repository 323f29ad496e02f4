"""render_request output sent to the Kimi emulator (a real server on 127.0.0.1) with httpx; its
replies, streams and errors read back with this dialect's parsers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from kimi_gateway.core.events import StreamError, StreamEvent
from kimi_gateway.core.fold import fold
from kimi_gateway.core.model import (
    Message,
    Request,
    Response,
    TextPart,
    ThinkingConfig,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolResultPart,
)
from kimi_gateway.core.sse import SSEDecoder
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.openai_chat import (
    StreamParser,
    parse_error,
    parse_response,
    render_request,
)
from kimi_gateway.emulator.server import EmulatorServer

WEATHER = Tool(
    "get_weather",
    "Weather of a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


@pytest.fixture
def kimi(kimi_emulator: EmulatorServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": "Bearer sk-test-dialect"}
    with httpx.Client(base_url=kimi_emulator.platform_url, headers=headers, timeout=10) as client:
        yield client


def usage_of(body: dict[str, object]) -> Usage:
    """The emulator's own numbers, read field by field (prompt_tokens includes cached)."""
    usage = body["usage"]
    assert isinstance(usage, dict)
    cached = usage["prompt_tokens_details"]["cached_tokens"]
    assert usage["cached_tokens"] == cached
    return Usage(
        input_uncached=usage["prompt_tokens"] - cached,
        input_cache_read=cached,
        output=usage["completion_tokens"],
        reasoning=usage["completion_tokens_details"]["reasoning_tokens"],
    )


def stream(kimi: httpx.Client, request: Request) -> list[StreamEvent]:
    decoder, parser = SSEDecoder(), StreamParser()
    events: list[StreamEvent] = []
    try:
        with kimi.stream("POST", "/chat/completions", json=render_request(request)) as response:
            assert response.status_code == 200
            for piece in response.iter_bytes():
                events += [e for sse in decoder.decode(piece) for e in parser.feed(sse)]
    except httpx.RemoteProtocolError:
        pass  # the connection dropped: the parser says so at close
    return events + [e for sse in decoder.flush() for e in parser.feed(sse)] + parser.close()


def test_thinking_tool_history_round_trip_non_stream(kimi: httpx.Client) -> None:
    """A thinking tool-call turn in the history must carry reasoning_content (docs/kimi.md §8.3);
    the emulator enforces it, so a 200 proves the rendering."""
    request = Request(
        "kimi-k2.6",
        (
            Message("user", (TextPart("Weather in Paris?"),)),
            Message(
                "assistant",
                (
                    ThinkingPart("I need the tool."),
                    ToolCallPart("get_weather:0", "get_weather", '{"city": "Paris"}'),
                ),
            ),
            Message(
                "user",
                (
                    ToolResultPart(
                        "get_weather:0", (TextPart("sunny @@think:Plan.@@@@text:Sunny.@@"),)
                    ),
                ),
            ),
        ),
        system=(TextPart("Be brief."),),
        tools=(WEATHER,),
        thinking=ThinkingConfig("enabled"),
    )
    raw = kimi.post("/chat/completions", json=render_request(request))
    assert raw.status_code == 200, raw.text
    body = raw.json()
    response = parse_response(body)
    text = "TOOL_RESULT_SEEN: sunny @@think:Plan.@@@@text:Sunny.@@\nSunny."
    assert response == Response(
        id=body["id"],
        model="kimi-k2.6",
        parts=(ThinkingPart("Plan."), TextPart(text)),
        stop_reason="end_turn",
        usage=usage_of(body),
        created=body["created"],
    )
    assert response.usage.output > response.usage.reasoning > 0


def test_streamed_tool_call_with_include_usage(kimi: httpx.Client) -> None:
    request = Request(
        "moonshot-v1-8k",
        (Message("user", (TextPart('Weather? @@tool:get_weather {"city":"Paris"}@@'),)),),
        tools=(WEATHER,),
        stream=True,
        include_usage=True,
    )
    events = stream(kimi, request)
    folded = fold(events)
    assert folded.parts == (ToolCallPart("get_weather:0", "get_weather", '{"city":"Paris"}'),)
    assert (folded.model, folded.stop_reason) == ("moonshot-v1-8k", "tool_use")
    assert folded.id.startswith("chatcmpl-")
    assert folded.usage.input_uncached > 0
    assert folded.usage.output > 0


def test_stream_and_non_stream_agree(kimi: httpx.Client) -> None:
    request = Request(
        "kimi-k2.6",
        (Message("user", (TextPart("@@think:Hmm.@@@@text:Two words.@@"),)),),
        thinking=ThinkingConfig("enabled"),
    )
    body = kimi.post("/chat/completions", json=render_request(request)).json()
    streamed = fold(stream(kimi, replace(request, stream=True)))
    expected = parse_response(body)
    assert expected.parts == (ThinkingPart("Hmm."), TextPart("Two words."))
    # The repeat hits the emulator's prompt cache (§12), and Kimi's stream usage carries no
    # reasoning_tokens (§7.1), so compare totals.
    assert (
        streamed.parts,
        streamed.stop_reason,
        streamed.usage.input_total,
        streamed.usage.output,
    ) == (expected.parts, expected.stop_reason, expected.usage.input_total, expected.usage.output)


def test_a_cut_stream_ends_in_a_stream_error(kimi: httpx.Client) -> None:
    request = Request("kimi-k2.6", (Message("user", (TextPart("hi @@cut@@"),)),), stream=True)
    events = stream(kimi, request)
    last = events[-1]
    assert isinstance(last, StreamError)
    assert (last.error.kind, last.error.status) == ("server", 502)


def test_errors_parse_with_kimi_type_and_request_id(kimi: httpx.Client) -> None:
    request = Request("no-such-model", (Message("user", (TextPart("hi"),)),))
    raw = kimi.post("/chat/completions", json=render_request(request))
    error = parse_error(raw.status_code, raw.content, raw.headers)
    assert (error.kind, error.status, error.upstream_type, error.message) == (
        "not_found",
        404,
        "resource_not_found_error",
        "Not found the model or Permission denied",
    )
    assert error.upstream_request_id == raw.headers["msh-request-id"]
