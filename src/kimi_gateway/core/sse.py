"""Incremental Server-Sent Events codec, sans I/O (the shape of httpx ``_decoders.py``).

``SSEDecoder.decode(chunk)`` takes bytes as they arrive, in pieces of any size, and returns the
events completed so far; ``flush()`` returns a last event not followed by a blank line. Lines end
in LF, CRLF or CR (WHATWG HTML "event stream interpretation"); ``:`` lines are comments.
``encode_event`` renders one event.
"""

from __future__ import annotations

from kimi_gateway.core.records import record


@record
class SSEEvent:
    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Stateful decoder of one event stream."""

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None
        self._pending_cr = False

    def decode(self, chunk: bytes) -> list[SSEEvent]:
        if self._pending_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]  # the LF of a CRLF split across chunks
        self._pending_cr = False
        buffer = self._buffer + chunk if self._buffer else chunk
        if buffer.find(b"\r") == -1:  # not ``b"\r" in``: bytes.__contains__ first tries the
            return self._decode_lf(buffer)  # operand as an int, a TypeError built per call
        events: list[SSEEvent] = []
        start = 0
        length = len(buffer)
        while start < length:
            lf = buffer.find(b"\n", start)
            cr = buffer.find(b"\r", start, lf if lf != -1 else length)
            if cr != -1:
                end, step = cr, 2 if buffer[cr + 1 : cr + 2] == b"\n" else 1
                if cr + 1 == length:
                    self._pending_cr = True
            elif lf != -1:
                end, step = lf, 1
            else:
                break
            event = self._line(buffer[start:end].decode("utf-8", errors="replace"))
            if event is not None:
                events.append(event)
            start = end + step
        self._buffer = buffer[start:]
        return events

    def _decode_lf(self, buffer: bytes) -> list[SSEEvent]:
        """The common case, lines ending in LF only: split in C, and ``data: `` lines (nearly
        all of them) appended without the general line parser."""
        lines = buffer.split(b"\n")
        self._buffer = lines.pop()
        events: list[SSEEvent] = []
        data = self._data
        for raw in lines:
            if raw.startswith(b"data: "):
                data.append(raw[6:].decode("utf-8", errors="replace"))
                continue
            if not raw and len(data) == 1 and self._event is None:  # the usual end of an event
                events.append(SSEEvent(data[0], None, self._id, self._retry))
                data = self._data = []
                self._retry = None
                continue
            event = self._line(raw.decode("utf-8", errors="replace"))
            if event is not None:
                events.append(event)
                data = self._data  # _dispatch started a new list
        return events

    def flush(self) -> list[SSEEvent]:
        events: list[SSEEvent] = []
        if self._buffer:
            event = self._line(self._buffer.decode("utf-8", errors="replace"))
            self._buffer = b""
            if event is not None:
                events.append(event)
        event = self._dispatch()
        if event is not None:
            events.append(event)
        return events

    def _line(self, line: str) -> SSEEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> SSEEvent | None:
        if not self._data and self._event is None:
            return None
        event = SSEEvent("\n".join(self._data), self._event, self._id, self._retry)
        self._data = []
        self._event = None
        self._retry = None
        return event


def encode_event(data: str | bytes, event: str | None = None) -> bytes:
    """One event as bytes: optional ``event:`` line, ``data:`` line(s), blank line."""
    payload = data.encode() if isinstance(data, str) else data
    head = b"event: " + event.encode() + b"\n" if event is not None else b""
    if payload.find(b"\n") == -1:  # (not ``in``: see SSEDecoder.decode)
        return head + b"data: " + payload + b"\n\n"
    lines = b"".join(b"data: " + line + b"\n" for line in payload.split(b"\n"))
    return head + lines + b"\n"
