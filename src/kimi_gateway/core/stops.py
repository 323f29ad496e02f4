"""Stop sequences the gateway enforces itself, when the upstream cannot take them all.

Kimi takes at most 5 stop sequences of at most 32 bytes each (docs/kimi.md §5.1). A client's
API promises that output stops at the first of *its* stop sequences, so the ones Kimi was not
sent are watched here: text is held back only as long as it could still be the start of a match
(the longest tail of the text so far that is a prefix of some stop sequence), and at the first
match the stream is cut: the text before it, the part's end, ``Finish("stop_sequence")`` with
the matched sequence, ``Done``. The caller then closes the upstream. Matches are looked for
within one text part (a stop sequence does not span a tool call or thinking).

Pure and incremental: :class:`StopWatch` takes batches, :func:`cut_response` a whole reply.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from kimi_gateway.core.events import (
    Done,
    Finish,
    PartEnd,
    StreamEvent,
    TextDelta,
    UsageReport,
)
from kimi_gateway.core.model import Part, Response, TextPart


def first_match(text: str, stops: Sequence[str]) -> tuple[int, str] | None:
    """The (position, sequence) of the match that completes first as ``text`` arrives: the
    earliest end; at one end, the longer sequence. Streamed in any chunks or read whole, the
    same text gives the same answer."""
    best: tuple[int, int, str] | None = None  # (end, position, stop)
    for stop in stops:
        at = text.find(stop)
        if at < 0:
            continue
        end = at + len(stop)
        if best is None or (end, at) < best[:2]:
            best = (end, at, stop)
    return None if best is None else (best[1], best[2])


def _held(text: str, stops: Sequence[str]) -> int:
    """How many trailing characters of ``text`` could begin a match (and must wait)."""
    longest = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), longest, -1):
            if stop.startswith(text[-size:]):
                longest = size
                break
    return longest


class StopWatch:
    """Feeds batches; :meth:`feed` returns what may go to the client now, and :attr:`done`
    turns true once a stop sequence matched (everything after it is dropped)."""

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = tuple(stops)
        self.done = False
        self._index: int | None = None  # the text part whose tail is held
        self._pending = ""

    def _flush(self, out: list[StreamEvent]) -> None:
        if self._pending and self._index is not None:
            out.append(TextDelta(self._index, self._pending))
        self._pending, self._index = "", None

    def _text(self, event: TextDelta, out: list[StreamEvent]) -> None:
        if self._index is not None and self._index != event.index:
            self._flush(out)
        text = self._pending + event.text
        match = first_match(text, self.stops)
        if match is not None:
            at, stop = match
            if at:
                out.append(TextDelta(event.index, text[:at]))
            out += [PartEnd(event.index), Finish("stop_sequence", stop), Done()]
            self._pending, self._index, self.done = "", None, True
            return
        keep = _held(text, self.stops)
        if len(text) > keep:
            out.append(TextDelta(event.index, text[: len(text) - keep]))
        self._pending, self._index = text[len(text) - keep :], event.index

    def feed(self, batch: Sequence[StreamEvent]) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        for event in batch:
            if self.done:
                if isinstance(event, UsageReport):
                    out.insert(len(out) - 1, event)  # usage still counts, before Done
                continue
            if isinstance(event, TextDelta):
                self._text(event, out)
                continue
            self._flush(out)
            out.append(event)
        return out


def cut_response(response: Response, stops: Sequence[str]) -> Response:
    """A whole reply cut at the first stop sequence in any of its text parts."""
    for position, part in enumerate(response.parts):
        if not isinstance(part, TextPart):
            continue
        match = first_match(part.text, stops)
        if match is None:
            continue
        at, stop = match
        kept: list[Part] = list(response.parts[:position])
        if at:
            kept.append(dataclasses.replace(part, text=part.text[:at]))
        return dataclasses.replace(
            response, parts=tuple(kept), stop_reason="stop_sequence", stop_sequence=stop
        )
    return response
