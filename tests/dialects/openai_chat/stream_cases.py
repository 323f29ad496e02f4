"""Canonical event sequences behind the golden SSE transcripts in golden/ (name → events,
include_usage). Shared by the golden tests and the regeneration snippet in test_stream_render."""

from __future__ import annotations

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.events import (
    Done,
    Finish,
    MessageStart,
    PartEnd,
    PartStart,
    StreamError,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolArgumentsDelta,
    UsageReport,
)
from kimi_gateway.core.usage import Usage

START = MessageStart("chatcmpl-6747a4e3c1f2a8b9d0e1f2a3", "kimi-k2.6", 1764000000)

TEXT: list[StreamEvent] = [
    START,
    PartStart(0, "text"),
    TextDelta(0, "Hello"),
    TextDelta(0, ", world."),
    PartEnd(0),
    Finish("end_turn"),
    UsageReport(Usage(input_uncached=12, input_cache_read=0, output=4)),
    Done(),
]

THINKING_TEXT: list[StreamEvent] = [
    START,
    PartStart(0, "thinking"),
    ThinkingDelta(0, "The user"),
    ThinkingDelta(0, " greets me."),
    PartEnd(0),
    PartStart(1, "text"),
    TextDelta(1, "Hi!"),
    PartEnd(1),
    Finish("end_turn"),
    UsageReport(Usage(input_uncached=20, input_cache_read=100, output=9, reasoning=6)),
    Done(),
]

PARALLEL_TOOLS: list[StreamEvent] = [
    START,
    PartStart(0, "text"),
    TextDelta(0, "Checking both."),
    PartEnd(0),
    PartStart(1, "tool_call", tool_call_id="get_weather:0", tool_name="get_weather"),
    ToolArgumentsDelta(1, '{"city":'),
    ToolArgumentsDelta(1, '"Paris"}'),
    PartEnd(1),
    PartStart(2, "tool_call", tool_call_id="get_weather:1", tool_name="get_weather"),
    ToolArgumentsDelta(2, '{"city":"Rome"}'),
    PartEnd(2),
    Finish("tool_use"),
    UsageReport(Usage(input_uncached=50, input_cache_read=30, output=25)),
    Done(),
]

MID_STREAM_ERROR: list[StreamEvent] = [
    START,
    PartStart(0, "text"),
    TextDelta(0, "Partial"),
    StreamError(
        GatewayError(
            "content_filter",
            "The request was rejected because it was considered high risk",
            upstream_type="content_filter",
        )
    ),
]

GOLDEN: dict[str, tuple[list[StreamEvent], bool]] = {
    "text_no_usage": (TEXT, False),
    "text_include_usage": (TEXT, True),
    "thinking_text_include_usage": (THINKING_TEXT, True),
    "parallel_tool_calls_include_usage": (PARALLEL_TOOLS, True),
    "parallel_tool_calls_no_usage": (PARALLEL_TOOLS, False),
    "mid_stream_error": (MID_STREAM_ERROR, True),
}
