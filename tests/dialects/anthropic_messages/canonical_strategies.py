"""hypothesis strategies for canonical responses, and the events a stream of one would carry."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import orjson
from hypothesis import strategies as st

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
from kimi_gateway.core.model import Part, Response, TextPart, ThinkingPart, ToolCallPart
from kimi_gateway.core.usage import Usage

_SCALARS = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8)
JSON_OBJECTS = st.dictionaries(
    st.text(max_size=6),
    st.recursive(
        _SCALARS,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
        ),
        max_leaves=8,
    ),
    max_size=4,
)
# Tool ids that are not themselves "kx" + hex (tool_ids.py's one documented ambiguity).
TOOL_IDS = st.text(min_size=1, max_size=20).filter(lambda s: not s.startswith("kx"))
COUNTS = st.integers(0, 10**7)


def tool_calls() -> st.SearchStrategy[ToolCallPart]:
    arguments = JSON_OBJECTS.map(lambda value: orjson.dumps(value).decode())
    return st.builds(ToolCallPart, TOOL_IDS, st.text(min_size=1, max_size=12), arguments)


def parts(*, redacted: bool) -> st.SearchStrategy[Part]:
    signatures = st.none() | st.text(min_size=1, max_size=30)
    thinking = st.builds(ThinkingPart, st.text(max_size=40), signatures)
    choices = [st.builds(TextPart, st.text(max_size=40)), thinking, tool_calls()]
    if redacted:
        data = st.text(max_size=20).map(
            lambda d: ThinkingPart("", redacted=True, provider_data={"data": d})
        )
        choices.append(data)
    return st.one_of(*choices)


def usages() -> st.SearchStrategy[Usage]:
    return st.builds(Usage, COUNTS, COUNTS, COUNTS, COUNTS, COUNTS)


def responses(*, redacted: bool = False) -> st.SearchStrategy[Response]:
    """Responses an Anthropic client can receive unchanged (ids start with msg_, no
    content_filter stop reason, function tools only)."""
    return st.builds(
        Response,
        id=st.text(max_size=20).map(lambda s: "msg_" + s),
        model=st.text(max_size=20),
        parts=st.lists(parts(redacted=redacted), max_size=5).map(tuple),
        stop_reason=st.sampled_from(
            [None, "end_turn", "max_tokens", "tool_use", "stop_sequence", "refusal"]
        ),
        usage=usages(),
        stop_sequence=st.none() | st.text(max_size=10),
    )


def _chunks(text: str, cuts: Sequence[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    return [text[a:b] for a, b in itertools.pairwise(points)]


def events_of(response: Response, cuts: Sequence[int] = ()) -> list[StreamEvent]:
    """A well-formed stream whose fold is ``response``; deltas split at ``cuts``; input usage
    reported first, the rest at the end (as Kimi's Anthropic route does)."""
    usage = response.usage
    events: list[StreamEvent] = [
        MessageStart(response.id, response.model),
        UsageReport(Usage(usage.input_uncached, usage.input_cache_read, usage.input_cache_write)),
    ]
    for index, part in enumerate(response.parts):
        events.extend(_part_events(index, part, cuts))
    events += [Finish(response.stop_reason, response.stop_sequence), UsageReport(usage), Done()]
    return events


def _part_events(index: int, part: Part, cuts: Sequence[int]) -> list[StreamEvent]:
    if isinstance(part, TextPart):
        deltas: list[StreamEvent] = [TextDelta(index, c) for c in _chunks(part.text, cuts)]
        return [PartStart(index, "text"), *deltas, PartEnd(index)]
    if isinstance(part, ThinkingPart):
        deltas = [ThinkingDelta(index, c) for c in _chunks(part.text, cuts)]
        if part.signature:
            deltas += [SignatureDelta(index, c) for c in _chunks(part.signature, cuts)]
        return [PartStart(index, "thinking"), *deltas, PartEnd(index)]
    assert isinstance(part, ToolCallPart)
    start = PartStart(index, "tool_call", tool_call_id=part.id, tool_name=part.name)
    deltas = [ToolArgumentsDelta(index, c) for c in _chunks(part.arguments, cuts)]
    return [start, *deltas, PartEnd(index)]
