"""The Anthropic StreamRenderer writes text and thinking deltas from a prefix without building
their dicts: every frame it writes must be what encoding its own JSON gives (the same bytes as
the dict path), and the deltas must carry the texts in order."""

from __future__ import annotations

from typing import Any, Literal

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
    UsageReport,
)
from kimi_gateway.core.sse import encode_event
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.anthropic_messages import StreamRenderer

texts = st.text(max_size=20) | st.sampled_from(['"}}', "\n\n", "\\", "é", "event: x"])


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[StreamEvent], list[tuple[int, str, str]]]:
    events: list[StreamEvent] = [MessageStart("msg_1", "kimi-k2.6", 1)]
    if draw(st.booleans()):
        events.append(UsageReport(Usage(input_uncached=3)))
    sent: list[tuple[int, str, str]] = []  # (wire index, kind, text) of each non-empty delta
    count = draw(st.integers(1, 4))
    for index in range(count):
        kind: Literal["text", "thinking"] = draw(st.sampled_from(["text", "thinking"]))
        events.append(PartStart(index, kind))
        for _ in range(draw(st.integers(0, 4))):
            text = draw(texts)
            events.append(TextDelta(index, text) if kind == "text" else ThinkingDelta(index, text))
            if text:
                sent.append((index, kind, text))
        if draw(st.booleans()):
            events.append(PartEnd(index))
    return [*events, Done()], sent


@settings(max_examples=300, deadline=None)
@given(streams())
def test_every_frame_is_its_json_encoded(case: tuple[list[StreamEvent], list[Any]]) -> None:
    events, sent = case
    renderer = StreamRenderer()
    out = b"".join(renderer.render(event) for event in events)
    deltas = []
    for frame in out.split(b"\n\n")[:-1]:
        head, data = frame.split(b"\n")
        name = head.removeprefix(b"event: ").decode()
        payload = orjson.loads(data.removeprefix(b"data: "))
        assert encode_event(orjson.dumps(payload), event=name) == frame + b"\n\n"
        if name == "content_block_delta" and payload["delta"]["type"] != "signature_delta":
            kind = payload["delta"]["type"].removesuffix("_delta")
            deltas.append((payload["index"], kind, payload["delta"][kind]))
    assert deltas == sent
