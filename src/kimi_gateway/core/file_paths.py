"""The Files API's paths, parsed strictly: ``/files``, ``/files/{id}``, ``/files/{id}/content``.

The files relay once forwarded the client's raw path with the operator's Kimi key, so
``/v1/files/../users/me/balance`` (or ``%2e%2e/``, ``..%2f``) reached another Kimi endpoint once
a normalising proxy sat in between (issue 10 item 2). Now a path is parsed into a
:class:`FilePath` here, from the raw (undecoded) bytes, and upstream URLs are built from its
parts only. Ids are what Kimi issues (20 lowercase base32 characters, docs/kimi.md §9) or what an
OpenAI-style host does (``file-abc123``): letters, digits, ``-`` and ``_``; no dots, no percent
signs, no slashes. Query strings are rebuilt from the few names the Files API takes. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode

from kimi_gateway.core.errors import GatewayError

FILE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
_SUFFIX = re.compile(r"(?:/(?P<id>[^/]*)(?P<content>/content)?)?")
# GET /files: OpenAI's list parameters, which the openai SDK sends when it pages (``after``
# the last id it saw); Kimi's list has none and ignores them (§9).
_QUERY_NAMES = frozenset({"purpose", "limit", "after", "order"})
_QUERY_VALUE = re.compile(r"[A-Za-z0-9_.-]{1,128}")


@dataclass(frozen=True, slots=True)
class FilePath:
    """One Files API resource: the collection (no id), a file, or a file's content."""

    file_id: str | None = None
    content: bool = False

    def suffix(self) -> str:
        """The path below ``/files``, built from the parsed parts."""
        if self.file_id is None:
            return ""
        tail = "/content" if self.content else ""
        return "/" + quote(self.file_id, safe="") + tail


def parse_file_path(suffix: str) -> FilePath:
    """``suffix`` (what follows ``/files`` in the raw, undecoded path) → FilePath, else a 404
    that does not echo the path back."""
    match = _SUFFIX.fullmatch(suffix)
    if match is None:
        raise _no_such_path()
    file_id, content = match.group("id"), match.group("content") is not None
    if file_id is None:
        return FilePath()
    if FILE_ID.fullmatch(file_id) is None:
        raise _no_such_path()
    return FilePath(file_id, content)


def clean_query(query: str) -> str:
    """The query string rebuilt from the names the Files API takes; anything else is left out.
    A value that is not a plain token is a 400."""
    kept: list[tuple[str, str]] = []
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name not in _QUERY_NAMES:
            continue
        if _QUERY_VALUE.fullmatch(value) is None:
            raise GatewayError("invalid_request", f"{name}: not a valid value", param=name)
        kept.append((name, value))
    return urlencode(kept)


def _no_such_path() -> GatewayError:
    return GatewayError(
        "not_found",
        "no such Files API path: the gateway serves /v1/files, /v1/files/{file_id} and "
        "/v1/files/{file_id}/content, where a file id holds only letters, digits, '-' and '_'",
    )
