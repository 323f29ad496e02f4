"""core/sse.py fed bytes that are not UTF-8 (issue 9, "Tests that pin the edges": no test did,
so a decoder that raised or silently dropped them survived mutation testing). An upstream that
sends a broken byte gets U+FFFD in its place on every path of the decoder, like a browser's
EventSource (WHATWG "event stream interpretation": decode as UTF-8 with replacement), and a
character split across reads is never broken."""

from __future__ import annotations

import pytest

from kimi_gateway.core.sse import SSEDecoder, SSEEvent

BAD = b"\xff"  # never valid in UTF-8
CUT = "é".encode()[:1]  # the first byte of a two-byte character, alone
R = "\ufffd"


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_a_bad_byte_in_a_data_line_becomes_the_replacement_character(newline: bytes) -> None:
    stream = b"data: a" + BAD + b"b" + newline + newline
    assert SSEDecoder().decode(stream) == [SSEEvent(f"a{R}b")]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_a_bad_byte_in_other_fields(newline: bytes) -> None:
    stream = b"event: x" + BAD + newline + b"id: 7" + CUT + newline + b"data: {}" + newline
    assert SSEDecoder().decode(stream + newline) == [SSEEvent("{}", f"x{R}", f"7{R}")]


def test_a_bad_byte_in_a_data_line_without_the_space() -> None:
    assert SSEDecoder().decode(b"data:" + BAD + b"\n\n") == [SSEEvent(R)]


def test_a_bad_byte_in_the_last_line_at_flush() -> None:
    decoder = SSEDecoder()
    assert decoder.decode(b"data: ok" + CUT) == []
    assert decoder.flush() == [SSEEvent(f"ok{R}")]


def test_a_bad_byte_in_a_comment_is_ignored_with_it() -> None:
    assert SSEDecoder().decode(b": " + BAD + b"\ndata: x\n\n") == [SSEEvent("x")]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_a_character_split_across_reads_arrives_whole(newline: bytes) -> None:
    stream = "data: café ✓".encode() + newline + newline
    decoder = SSEDecoder()
    events = [event for byte in stream for event in decoder.decode(bytes([byte]))]
    assert events + decoder.flush() == [SSEEvent("café ✓")]
