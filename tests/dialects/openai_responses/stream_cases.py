"""Canonical event sequences for the golden transcripts and the stream round trips."""

from __future__ import annotations

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
from kimi_gateway.core.usage import Usage

START = MessageStart("resp_1", "kimi-k2.5", 1700000000)
USAGE = Usage(input_uncached=7, input_cache_read=3, output=5, reasoning=2)

TEXT: list[StreamEvent] = [
    START,
    PartStart(0, "text"),
    TextDelta(0, "Hel"),
    TextDelta(0, "lo"),
    PartEnd(0),
    Finish("end_turn"),
    UsageReport(USAGE),
    Done(),
]
REASONING_TEXT: list[StreamEvent] = [
    START,
    PartStart(0, "thinking"),
    ThinkingDelta(0, "Think"),
    ThinkingDelta(0, "ing."),
    PartEnd(0),
    PartStart(1, "text"),
    TextDelta(1, "Hi"),
    PartEnd(1),
    Finish("end_turn"),
    UsageReport(USAGE),
    Done(),
]
FUNCTION_CALL: list[StreamEvent] = [
    START,
    PartStart(0, "tool_call", tool_call_id="call_1", tool_name="exec_command"),
    ToolArgumentsDelta(0, '{"cmd":'),
    ToolArgumentsDelta(0, '"ls"}'),
    PartEnd(0),
    Finish("tool_use"),
    UsageReport(USAGE),
    Done(),
]
CASES = {"text": TEXT, "reasoning_text": REASONING_TEXT, "function_call": FUNCTION_CALL}
