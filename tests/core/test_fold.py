"""fold / afold / Folder: a stream of events becomes one Response; StreamError raises."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.events import (
    Done,
    Finish,
    MessageStart,
    PartEnd,
    PartStart,
    SignatureDelta,
    StreamError,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolArgumentsDelta,
    UsageReport,
)
from kimi_gateway.core.fold import Folder, afold, fold
from kimi_gateway.core.model import Response, TextPart, ThinkingPart, ToolCallPart
from kimi_gateway.core.usage import Usage

EVENTS: list[StreamEvent] = [
    MessageStart("msg-1", "kimi-k2.6", 1700000000),
    UsageReport(Usage(input_uncached=10, input_cache_read=4)),
    PartStart(0, "thinking"),
    ThinkingDelta(0, "Let me "),
    ThinkingDelta(0, "think."),
    SignatureDelta(0, "sig-a"),
    SignatureDelta(0, "sig-b"),
    PartEnd(0),
    PartStart(1, "text"),
    TextDelta(1, "Hello"),
    TextDelta(1, " world"),
    PartEnd(1),
    PartStart(
        2,
        "tool_call",
        tool_call_id="search:0",
        tool_name="$web_search",
        tool_kind="builtin_function",
    ),
    ToolArgumentsDelta(2, '{"q":'),
    ToolArgumentsDelta(2, '"x"}'),
    PartEnd(2),
    PartStart(3, "tool_call", tool_call_id="get:1", tool_name="get"),
    PartEnd(3),
    Finish("tool_use"),
    UsageReport(Usage(output=20, reasoning=5)),
    Done(),
]
EXPECTED = Response(
    id="msg-1",
    model="kimi-k2.6",
    parts=(
        ThinkingPart("Let me think.", signature="sig-asig-b"),
        TextPart("Hello world"),
        ToolCallPart("search:0", "$web_search", '{"q":"x"}', "builtin_function"),
        ToolCallPart("get:1", "get", ""),
    ),
    stop_reason="tool_use",
    usage=Usage(input_uncached=10, input_cache_read=4, output=20, reasoning=5),
    created=1700000000,
)


def test_fold_builds_the_whole_response() -> None:
    assert fold(EVENTS) == EXPECTED


def test_afold_agrees_with_fold() -> None:
    async def events() -> AsyncIterator[StreamEvent]:
        for event in EVENTS:
            yield event

    assert asyncio.run(afold(events())) == EXPECTED


def test_folder_accepts_events_one_at_a_time() -> None:
    folder = Folder()
    for event in EVENTS[:12]:
        folder.feed(event)
    assert folder.response() == Response(
        id="msg-1",
        model="kimi-k2.6",
        parts=(ThinkingPart("Let me think.", signature="sig-asig-b"), TextPart("Hello world")),
        stop_reason=None,
        usage=Usage(input_uncached=10, input_cache_read=4),
        created=1700000000,
    )


def test_unsigned_thinking_has_no_signature_and_stop_sequence_is_kept() -> None:
    events: list[StreamEvent] = [
        MessageStart("m", "k"),
        PartStart(0, "thinking"),
        ThinkingDelta(0, "hm"),
        PartEnd(0),
        Finish("stop_sequence", "END"),
        Done(),
    ]
    assert fold(events) == Response(
        "m", "k", (ThinkingPart("hm"),), "stop_sequence", Usage(), stop_sequence="END"
    )


def test_stream_error_raises_its_gateway_error() -> None:
    error = GatewayError("overloaded", "busy")
    with pytest.raises(GatewayError) as caught:
        fold([MessageStart("m", "k"), StreamError(error)])
    assert caught.value is error
