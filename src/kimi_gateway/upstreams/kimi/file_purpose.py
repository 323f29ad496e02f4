"""OpenAI file purposes Kimi does not have, sent under Kimi's (issue 9 item 10).

Kimi takes ``file-extract``, ``image``, ``video`` and ``batch`` (docs/kimi.md §9 [O] OAS; older
docs only ``file-extract``); OpenAI clients upload with ``assistants``, ``user_data`` or
``vision`` and got Kimi's 400. ``quirks.file_purposes`` maps each to one of Kimi's, or to
``auto``: by the file's type (``image/*`` → ``image``, ``video/*`` → ``video``, anything else
→ ``file-extract``, whose text Kimi extracts). A purpose with no entry goes as it came.

The upload streams through; only its beginning is read ahead (up to :data:`READ_AHEAD` bytes)
to find the ``purpose`` field (the openai SDK, like most clients, sends it before the file) and,
for ``auto``, the file part's headers. python-multipart parses it; the value is then replaced in
place, byte for byte otherwise, and Content-Length adjusted. When the field is not within the
read-ahead the body goes unchanged and Kimi judges the purpose.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParser, parse_options_header

from kimi_gateway.core.model import Diagnostic

READ_AHEAD = 256 * 1024
_PURPOSE_HEADER = re.compile(  # the purpose part's Content-Disposition line (\s would cross lines)
    rb"(?im)^content-disposition:[^\r\n]*;[ \t]*name[ \t]*="
    rb'[ \t]*"?purpose"?[ \t]*(?:;[^\r\n]*)?\r\n'
)


def kimi_purpose(asked: str, file_type: str | None, purposes: Mapping[str, str]) -> str | None:
    """The purpose to send Kimi for ``asked``; None to send it unchanged."""
    mapped = purposes.get(asked)
    if mapped != "auto":
        return mapped
    major = (file_type or "").split("/", 1)[0].strip().lower()
    return {"image": "image", "video": "video"}.get(major, "file-extract")


@dataclass(slots=True)
class _Seen:
    """What the parser has seen of the upload's beginning."""

    purpose: bytes | None = None  # the purpose field's value, once its part ended
    file_type: str | None = None  # the file part's Content-Type (or a guess from its name)
    file_headers_seen: bool = False
    _part: str = ""
    _field: bytes = b""
    _value: bytes = b""
    _headers: dict[bytes, bytes] = field(default_factory=dict)
    _data: bytearray = field(default_factory=bytearray)

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _begin(self) -> None:
        self._part, self._headers, self._data = "", {}, bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.strip().lower()] = self._value.strip()
        self._field, self._value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._part = options.get(b"name", b"").decode("latin-1")
        filename = options.get(b"filename")
        if self._part == "file" or filename is not None:
            declared = self._headers.get(b"content-type", b"").decode("latin-1")
            guessed = mimetypes.guess_type(filename.decode("latin-1"))[0] if filename else None
            vague = not declared or declared == "application/octet-stream"
            self.file_type = (guessed or declared) if vague else declared
            self.file_headers_seen = True

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part == "purpose" and len(self._data) < 256:
            self._data += data[start:end]

    def _part_end(self) -> None:
        if self._part == "purpose":
            self.purpose = bytes(self._data)


@dataclass(slots=True)
class PurposeMapping:
    """The upload's body with the purpose mapped; read :attr:`diagnostics` and
    :attr:`content_length` after :meth:`prepare`."""

    purposes: Mapping[str, str]
    diagnostics: tuple[Diagnostic, ...] = ()
    content_length: int | None = None  # the new length, when the client gave one
    _prefix: bytes = b""

    async def prepare(
        self, content_type: str | None, length: str | None, body: AsyncIterator[bytes]
    ) -> AsyncIterator[bytes]:
        """Read the upload's beginning, map the purpose in it, and return the whole body."""
        _, options = parse_options_header(content_type or "")
        boundary = options.get(b"boundary")
        if not self.purposes or boundary is None:
            return body
        seen = _Seen()
        parser = MultipartParser(boundary, seen.callbacks())  # type: ignore[arg-type]
        prefix = bytearray()
        async for chunk in body:
            prefix += chunk
            parser.write(chunk)
            if self._decided(seen) or len(prefix) >= READ_AHEAD:
                break
        self._prefix = self._rewrite(bytes(prefix), boundary, seen)
        if length is not None and length.isdigit():
            self.content_length = int(length) + len(self._prefix) - len(prefix)
        return self._rest(body)

    def _decided(self, seen: _Seen) -> bool:
        if seen.purpose is None:
            return False
        auto = self.purposes.get(seen.purpose.decode("latin-1")) == "auto"
        return seen.file_headers_seen or not auto

    def _rewrite(self, prefix: bytes, boundary: bytes, seen: _Seen) -> bytes:
        if seen.purpose is None:
            return prefix
        asked = seen.purpose.decode("latin-1")
        sent = kimi_purpose(asked, seen.file_type, self.purposes)
        header = _PURPOSE_HEADER.search(prefix)
        if sent is None or sent == asked or header is None:
            return prefix
        start = prefix.find(b"\r\n\r\n", header.end() - 2) + 4  # after the part's headers
        old = seen.purpose + b"\r\n--" + boundary
        if start < 4 or prefix[start : start + len(old)] != old:
            return prefix
        self.diagnostics = (
            Diagnostic(
                "file_purpose",
                f"purpose {asked!r} is not one of Kimi's; the file was uploaded to Kimi with"
                f" purpose {sent!r}",
            ),
        )
        new = sent.encode() + b"\r\n--" + boundary
        return prefix[:start] + new + prefix[start + len(old) :]

    async def _rest(self, body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        if self._prefix:
            yield self._prefix
        async for chunk in body:
            yield chunk
