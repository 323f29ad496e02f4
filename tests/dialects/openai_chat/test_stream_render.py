"""StreamRenderer: canonical events → OpenAI chunks shaped like Kimi's (docs/kimi.md §7.4),
checked byte for byte against golden transcripts (golden/*.sse).

To regenerate a golden file after a deliberate change, render ``GOLDEN[name]`` with
``StreamRenderer(include_usage=...)`` and review the diff by eye against docs/kimi.md §7.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from kimi_gateway.core.events import (
    Done,
    Finish,
    MessageStart,
    PartEnd,
    PartStart,
    SignatureDelta,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolArgumentsDelta,
    UsageReport,
)
from kimi_gateway.core.fold import fold
from kimi_gateway.core.sse import SSEDecoder
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.openai_chat import StreamParser, StreamRenderer, render_response

from .stream_cases import GOLDEN

GOLDEN_DIR = Path(__file__).parent / "golden"


def render(events: list[StreamEvent], include_usage: bool) -> bytes:
    renderer = StreamRenderer(include_usage=include_usage)
    return b"".join(renderer.render(event) for event in events)


def chunks(raw: bytes) -> list[Any]:
    """The SSE body's events: each chunk as decoded JSON (a wire dict), or "[DONE]"."""
    decoder = SSEDecoder()
    return [
        event.data if event.data == "[DONE]" else orjson.loads(event.data)
        for event in decoder.decode(raw) + decoder.flush()
    ]


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_transcripts_byte_for_byte(name: str) -> None:
    events, include_usage = GOLDEN[name]
    assert render(events, include_usage) == (GOLDEN_DIR / f"{name}.sse").read_bytes()


@pytest.mark.parametrize("name", sorted(n for n in GOLDEN if n != "mid_stream_error"))
def test_golden_transcripts_parse_back_to_the_same_reply(name: str) -> None:
    events, _ = GOLDEN[name]
    parser = StreamParser()
    decoder = SSEDecoder()
    parsed = [
        e
        for sse in decoder.decode((GOLDEN_DIR / f"{name}.sse").read_bytes())
        for e in parser.feed(sse)
    ]
    assert fold(parsed + parser.close()) == fold(events)


def test_the_stream_says_what_the_folded_response_says() -> None:
    """Clients joining the chunks get what render_response gives for the same events."""
    events, _ = GOLDEN["parallel_tool_calls_include_usage"]
    body = chunks(render(events, True))
    message = render_response(fold(events))["choices"][0]["message"]
    streamed_text = "".join(c["choices"][0]["delta"].get("content", "") for c in body[1:-3])
    assert streamed_text == message["content"]
    assert (
        body[-3]["choices"][0]["usage"]
        == body[-2]["usage"]
        == render_response(fold(events))["usage"]
    )


def test_several_thinking_parts_are_separated_like_render_response() -> None:
    events: list[StreamEvent] = [
        MessageStart("c", "m", 1),
        PartStart(0, "thinking"),
        ThinkingDelta(0, "one"),
        SignatureDelta(0, "sig"),
        PartEnd(0),
        PartStart(1, "tool_call", tool_call_id="a:0", tool_name="a", tool_kind="builtin_function"),
        PartEnd(1),
        PartStart(2, "thinking"),
        ThinkingDelta(2, "two"),
        PartEnd(2),
        PartStart(3, "tool_call", tool_call_id="b:1", tool_name="b"),
        ToolArgumentsDelta(3, "{}"),
        PartEnd(3),
        Finish("tool_use"),
        Done(),
    ]
    deltas = [c["choices"][0]["delta"] for c in chunks(render(events, False))[:-1]]
    assert deltas == [
        {"role": "assistant", "content": ""},
        {"reasoning_content": "one"},
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "a:0",
                    "type": "builtin_function",
                    "function": {"name": "a", "arguments": ""},
                }
            ]
        },
        {"reasoning_content": "\n\n"},
        {"reasoning_content": "two"},
        {
            "tool_calls": [
                {
                    "index": 1,
                    "id": "b:1",
                    "type": "function",
                    "function": {"name": "b", "arguments": ""},
                }
            ]
        },
        {"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]},
        {},
    ]
    reasoning = "".join(d.get("reasoning_content", "") for d in deltas)
    assert reasoning == render_response(fold(events))["choices"][0]["message"]["reasoning_content"]


def test_usage_reports_merge_and_arrive_after_finish() -> None:
    """Anthropic upstreams report input at the start and output with the stop reason."""
    events: list[StreamEvent] = [
        MessageStart("c", "m", 1),
        UsageReport(Usage(input_uncached=7, input_cache_read=3, input_cache_write=2)),
        Finish("max_tokens"),
        UsageReport(Usage(output=5)),
        Done(),
    ]
    body = chunks(render(events, True))
    usage = {
        "prompt_tokens": 12,
        "completion_tokens": 5,
        "total_tokens": 17,
        "cached_tokens": 3,
        "prompt_tokens_details": {"cached_tokens": 3},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }
    assert body[1:] == [
        {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "length", "usage": usage}],
            "usage": None,
        },
        {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [],
            "usage": usage,
        },
        "[DONE]",
    ]


def test_no_finish_and_no_usage() -> None:
    events: list[StreamEvent] = [MessageStart("c", "m"), Done()]
    assert chunks(render(events, True))[1:] == [
        {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "m",
            "choices": [],
            "usage": {
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "total_tokens": 0,
                "cached_tokens": 0,
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0},
            },
        },
        "[DONE]",
    ]
    finish_only: list[StreamEvent] = [MessageStart("c", "m"), Finish("end_turn"), Done()]
    assert chunks(render(finish_only, False))[1] == {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "m",
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
    }


def test_nothing_is_rendered_after_the_end_or_for_empty_deltas() -> None:
    renderer = StreamRenderer()
    renderer.render(MessageStart("c", "m"))
    renderer.render(PartStart(0, "text"))
    assert renderer.render(TextDelta(0, "")) == b""
    assert renderer.render(PartEnd(0)) == b""
    assert renderer.render(Done()).endswith(b"data: [DONE]\n\n")
    assert renderer.render(TextDelta(0, "late")) == b""
    assert renderer.render(Done()) == b""
