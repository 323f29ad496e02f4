"""StreamParser's shortcut for the commonest chunk (``_next_delta``) gives exactly the events of
its general path, on any sequence of chunks, well-formed or not."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_gateway.core.events import StreamError, StreamEvent, TextDelta
from kimi_gateway.core.sse import SSEEvent
from kimi_gateway.dialects.openai_chat import StreamParser


class GeneralOnly(StreamParser):
    """The parser with its shortcut off: every chunk read by the general path."""

    def _next_delta(self, chunk: dict[str, Any]) -> list[StreamEvent] | None:
        return None


HEAD = {"id": "chatcmpl-X", "object": "chat.completion.chunk", "created": 1, "model": "k"}
USAGE = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}

texts = st.sampled_from(["", "a", "hello", " ", "é"]) | st.none() | st.sampled_from([0, 1.5, []])
indexes = st.sampled_from([0, 0, 0, 1, 0.0, False, None, -1, "0"])
finishes = st.sampled_from([None, None, None, "", "stop", "length", "tool_calls"])


@st.composite
def deltas(draw: st.DrawFn) -> Any:
    delta: dict[str, Any] = {}
    for key in ("content", "reasoning_content", "reasoning", "role"):
        if draw(st.booleans()):
            delta[key] = draw(texts) if key != "role" else "assistant"
    if draw(st.integers(0, 5)) == 0:
        delta["tool_calls"] = draw(
            st.sampled_from(
                [
                    None,
                    [{"index": 0, "id": "c1", "function": {"name": "f", "arguments": "{"}}],
                    [{"index": 0, "function": {"arguments": "}"}}],
                ]
            )
        )
    return draw(st.sampled_from([delta, delta, delta, None, "x"]))


@st.composite
def chunks(draw: st.DrawFn) -> dict[str, Any]:
    choice: dict[str, Any] = {"index": draw(indexes), "delta": draw(deltas())}
    choice["finish_reason"] = draw(finishes)
    if draw(st.integers(0, 6)) == 0:
        choice["usage"] = USAGE
    choices: Any = [choice]
    shape = draw(st.integers(0, 9))
    if shape == 0:
        choices = []
    elif shape == 1:
        choices = [choice, {**choice, "index": 1}]
    elif shape == 2:
        choices = ["not an object"]
    chunk = {**HEAD, "choices": choices}
    if draw(st.integers(0, 8)) == 0:
        chunk["usage"] = USAGE
    return chunk


@st.composite
def plain_chunks(draw: st.DrawFn) -> dict[str, Any]:
    """The chunks the shortcut is for (most chunks of a real reply)."""
    key = draw(st.sampled_from(["content", "reasoning_content", "reasoning"]))
    delta = {key: draw(st.sampled_from(["", "a", "bc"]))}
    return {**HEAD, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}


def _events(parser: StreamParser, sequence: list[dict[str, Any]]) -> list[str]:
    out: list[StreamEvent] = []
    for chunk in sequence:
        out.extend(parser.feed(SSEEvent(orjson.dumps(chunk).decode())))
    out.extend(parser.feed(SSEEvent("[DONE]")))
    # a StreamError holds an exception (equal only to itself): compared by what it says
    return [
        f"StreamError({e.error.kind}, {e.error.message})" if isinstance(e, StreamError) else repr(e)
        for e in out
    ]


@settings(max_examples=400, deadline=None)
@given(st.lists(plain_chunks() | chunks(), min_size=1, max_size=12))
def test_the_shortcut_gives_the_general_paths_events(sequence: list[dict[str, Any]]) -> None:
    assert _events(StreamParser(), sequence) == _events(GeneralOnly(), sequence)


def test_the_shortcut_is_taken_for_a_plain_text_delta() -> None:
    parser = StreamParser()
    first = {**HEAD, "choices": [{"index": 0, "delta": {"content": "a"}, "finish_reason": None}]}
    parser.feed(SSEEvent(orjson.dumps(first).decode()))
    assert parser._next_delta({**first}) == [TextDelta(0, "a")]
