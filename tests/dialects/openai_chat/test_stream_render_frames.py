"""StreamRenderer writes a text delta from a cached frame around the text: the bytes must be
those of the whole chunk encoded, for any text, head and choice."""

from __future__ import annotations

from typing import Literal

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_gateway.core.events import (
    Done,
    MessageStart,
    PartEnd,
    PartStart,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
)
from kimi_gateway.dialects.openai_chat import StreamRenderer


class Unframed(StreamRenderer):
    """The renderer encoding every text chunk whole."""

    def _text(self, key: str, text: str, choice: int) -> bytes:
        return self._chunk({key: text}, choice) if text else b""


names = st.text(max_size=12)  # ids and model names with quotes, escapes, "delta" look-alikes
texts = st.text(max_size=20) | st.sampled_from(['"delta":{"content":""}', "\n", "\\", "é"])


@st.composite
def streams(draw: st.DrawFn) -> list[StreamEvent]:
    start = MessageStart(draw(names), draw(names), draw(st.none() | st.integers(0, 2**40)))
    events: list[StreamEvent] = [start]
    for index in range(draw(st.integers(1, 4))):
        kind: Literal["text", "thinking"] = draw(st.sampled_from(["text", "thinking"]))
        choice = draw(st.integers(0, 2))
        events.append(PartStart(index, kind, choice=choice))
        delta = TextDelta if kind == "text" else ThinkingDelta
        events.extend(delta(index, draw(texts)) for _ in range(draw(st.integers(0, 4))))
        events.append(PartEnd(index))
        if draw(st.integers(0, 5)) == 0:  # a later head (the frames follow it)
            events.append(MessageStart(draw(names), draw(names), None))
    return [*events, Done()]


@settings(max_examples=300, deadline=None)
@given(streams(), st.booleans())
def test_framed_text_chunks_are_the_whole_chunks_bytes(
    events: list[StreamEvent], include_usage: bool
) -> None:
    framed = StreamRenderer(include_usage=include_usage)
    whole = Unframed(include_usage=include_usage)
    got = b"".join(framed.render(e) for e in events)
    assert got == b"".join(whole.render(e) for e in events)
    for line in got.split(b"\n\n"):  # and each chunk is still one JSON object
        if line.startswith(b"data: {"):
            assert isinstance(orjson.loads(line[6:]), dict)
