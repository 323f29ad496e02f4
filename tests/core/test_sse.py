"""SSEDecoder / encode_event: line endings, fields, comments, and arbitrary chunk splits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kimi_gateway.core.sse import SSEDecoder, SSEEvent, encode_event


def decode_all(chunks: list[bytes]) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events: list[SSEEvent] = []
    for chunk in chunks:
        events.extend(decoder.decode(chunk))
    return events + decoder.flush()


STREAM = (
    b": a comment\n"
    b"event: message_start\n"
    b'data: {"a": 1}\n'
    b"\n"
    b"data: line one\r\n"
    b"data: line two\r\n"
    b"id: 7\r\n"
    b"retry: 1500\r\n"
    b"\r\n"
    b"data:no-space\r"
    b"\r"
    b"data: [DONE]\n\n"
)
EXPECTED = [
    SSEEvent('{"a": 1}', "message_start"),
    SSEEvent("line one\nline two", None, "7", 1500),
    SSEEvent("no-space", None, "7"),
    SSEEvent("[DONE]", None, "7"),
]


def test_decodes_every_line_ending_field_and_comment() -> None:
    assert decode_all([STREAM]) == EXPECTED


def test_flush_returns_an_event_without_trailing_blank_line() -> None:
    decoder = SSEDecoder()
    assert decoder.decode(b"data: tail") == []
    assert decoder.flush() == [SSEEvent("tail")]
    assert decoder.flush() == []


def test_ignores_bad_retry_and_id_with_nul_and_unknown_fields() -> None:
    raw = b"retry: soon\nid: a\x00b\nfoo: bar\ndata: x\n\n"
    assert decode_all([raw]) == [SSEEvent("x")]


def test_blank_lines_alone_dispatch_nothing() -> None:
    assert decode_all([b"\n\n\r\n: ping\n\n"]) == []


def test_crlf_split_between_chunks_is_one_line_end() -> None:
    assert decode_all([b"data: a\r", b"\ndata: b\r\n\r\n"]) == [SSEEvent("a\nb")]


def test_encode_event_one_and_many_lines() -> None:
    assert encode_event('{"x":1}') == b'data: {"x":1}\n\n'
    assert encode_event(b"a\nb", "ping") == b"event: ping\ndata: a\ndata: b\n\n"


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_chunk_split_gives_the_same_events(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    chunks = [STREAM[a:b] for a, b in zip([0, *points], [*points, len(STREAM)], strict=True)]
    assert decode_all(chunks) == EXPECTED


_text = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\r"), max_size=40)


@given(
    st.lists(st.tuples(_text, st.none() | st.from_regex(r"[a-z_]{1,12}", fullmatch=True))),
    st.data(),
)
def test_encode_then_decode_in_any_split_round_trips(
    events: list[tuple[str, str | None]], data: st.DataObject
) -> None:
    raw = b"".join(encode_event(text, name) for text, name in events)
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(raw)), max_size=8))
    points = sorted(set(cuts))
    chunks = [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]
    # A chunk boundary may fall inside a multi-byte UTF-8 character; the decoder buffers bytes.
    assert decode_all(chunks) == [SSEEvent(text, name) for text, name in events]
