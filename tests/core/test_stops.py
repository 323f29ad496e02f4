"""Stop sequences the gateway enforces: the stream is cut at the first match, text is held
back only while it could still begin one, and a whole reply is cut the same way."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from kimi_gateway.core.events import (
    Done,
    Finish,
    MessageStart,
    PartEnd,
    PartStart,
    StreamEvent,
    TextDelta,
    UsageReport,
)
from kimi_gateway.core.fold import fold
from kimi_gateway.core.model import Response, TextPart, ToolCallPart
from kimi_gateway.core.stops import StopWatch, cut_response, first_match
from kimi_gateway.core.usage import Usage


def _stream(chunks: list[str]) -> list[StreamEvent]:
    return [
        MessageStart("m", "k", 1),
        PartStart(0, "text"),
        *(TextDelta(0, c) for c in chunks),
        PartEnd(0),
        Finish("end_turn"),
        UsageReport(Usage(input_uncached=3, output=4)),
        Done(),
    ]


def _watched(stops: list[str], chunks: list[str], per_batch: int = 1) -> list[StreamEvent]:
    watch = StopWatch(stops)
    events = _stream(chunks)
    out: list[StreamEvent] = []
    for i in range(0, len(events), per_batch):
        if watch.done:
            break
        out += watch.feed(events[i : i + per_batch])
    return out


def test_cut_at_the_first_match_across_chunks() -> None:
    out = _watched(["STOP"], ["Hello S", "T", "OP and more"])
    assert out == [
        MessageStart("m", "k", 1),
        PartStart(0, "text"),
        TextDelta(0, "Hello "),
        PartEnd(0),
        Finish("stop_sequence", "STOP"),
        Done(),
    ]


def test_text_is_held_only_while_it_could_begin_a_match() -> None:
    watch = StopWatch(["abc", "xyz"])
    assert watch.feed([TextDelta(0, "hello a")]) == [TextDelta(0, "hello ")]
    assert watch.feed([TextDelta(0, "b")]) == []  # "ab" may still become "abc"
    assert watch.feed([TextDelta(0, "d")]) == [TextDelta(0, "abd")]
    assert watch.feed([PartEnd(0)]) == [PartEnd(0)]
    assert not watch.done


def test_held_text_is_released_before_the_part_ends() -> None:
    assert _watched(["END!"], ["one E", "N"]) == [
        *_stream([])[:2],
        TextDelta(0, "one "),
        TextDelta(0, "EN"),
        PartEnd(0),
        Finish("end_turn"),
        UsageReport(Usage(input_uncached=3, output=4)),
        Done(),
    ]


def test_usage_in_the_matching_batch_still_counts() -> None:
    out = _watched(["b"], ["a", "bc"], per_batch=100)
    assert out[-3:] == [
        Finish("stop_sequence", "b"),
        UsageReport(Usage(input_uncached=3, output=4)),
        Done(),
    ]


def test_the_match_that_completes_first_wins() -> None:
    assert first_match("xx ab abc", ["abc", "ab"]) == (3, "ab")
    assert first_match("abc", ["ab", "abc"]) == (0, "ab")  # "ab" is complete first
    assert first_match("XXaX", ["a", "XaX"]) == (2, "a")
    assert first_match("zabc", ["abc", "zabc"]) == (0, "zabc")  # same end: the longer
    assert first_match("none", ["z"]) is None


def test_a_whole_reply_is_cut_and_later_parts_dropped() -> None:
    reply = Response(
        "r",
        "k",
        (TextPart("keep this. STOP drop"), ToolCallPart("c", "f", "{}")),
        "tool_use",
        Usage(),
    )
    cut = cut_response(reply, ["STOP"])
    assert cut.parts == (TextPart("keep this. "),)
    assert (cut.stop_reason, cut.stop_sequence) == ("stop_sequence", "STOP")
    assert cut_response(reply, ["absent"]) == reply


@given(
    text=st.text(alphabet="abcXY", max_size=40),
    stops=st.lists(st.text(alphabet="abcXY", min_size=1, max_size=4), min_size=1, max_size=4),
    cuts=st.lists(st.integers(min_value=0, max_value=40), max_size=6),
    per_batch=st.integers(min_value=1, max_value=4),
)
def test_any_chunking_gives_the_text_up_to_the_first_match(
    text: str, stops: list[str], cuts: list[int], per_batch: int
) -> None:
    points = sorted({0, len(text), *(c for c in cuts if c <= len(text))})
    chunks = [text[a:b] for a, b in itertools.pairwise(points) if b > a]
    reply = fold(_watched(stops, chunks, per_batch))
    match = first_match(text, stops)
    if match is None:
        assert reply.parts == (TextPart(text),)
        assert reply.stop_reason == "end_turn"
    else:
        at, stop = match
        assert "".join(p.text for p in reply.parts if isinstance(p, TextPart)) == text[:at]
        assert (reply.stop_reason, reply.stop_sequence) == ("stop_sequence", stop)
