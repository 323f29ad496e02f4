"""The reversible, stateless tool-call id encoding between Kimi and Anthropic clients.

Kimi's tool-call ids look like ``name:0`` or ``functions.name:0`` (docs/kimi.md §8.1, §17.3);
Anthropic clients require ``^[a-zA-Z0-9_-]+$`` and OpenClaw even strips every non-alphanumeric
character of an id (docs/kimi.md §F1, §F2.5). One-way sanitising breaks Kimi's next turn, so the
encoding must be reversible without per-conversation state:

- an id that is already ``[A-Za-z0-9_-]+`` passes unchanged (it survives OpenClaw's rewrite
  consistently, as ``toolu_01ab`` → ``toolu01ab`` in both ``tool_use`` and ``tool_result``);
- any other non-empty id becomes ``kx`` + the lowercase hex of its UTF-8 bytes: alphanumeric only,
  so OpenClaw leaves it intact;
- decoding turns an id matching ``^kx([0-9a-f]{2})+$`` back into the original only when the hex
  decodes to UTF-8 containing a character outside ``[A-Za-z0-9_-]`` (an encoded id can only look
  like that), so every id we did not encode passes unchanged.

The one ambiguity is a client id that is itself ``kx`` + hex of such a string (``kx2e``); no real
client or Kimi produces those. The empty id stays empty (it is not valid on either side, and
``kx`` with no hex would not decode): the upstream's error names it.
"""

from __future__ import annotations

import re

_SAFE = re.compile(r"[A-Za-z0-9_-]+")
_ENCODED = re.compile(r"kx(?:[0-9a-f]{2})+")
_PREFIX = "kx"


def encode_tool_id(id: str) -> str:
    """The id as an Anthropic client may see it: unchanged if safe, else ``kx`` + hex."""
    if not id or _SAFE.fullmatch(id):
        return id
    return _PREFIX + id.encode("utf-8", errors="surrogatepass").hex()


def decode_tool_id(id: str) -> str:
    """The original id of an id rendered by :func:`encode_tool_id`; any other id unchanged."""
    if not _ENCODED.fullmatch(id):
        return id
    try:
        raw = bytes.fromhex(id[len(_PREFIX) :]).decode("utf-8", errors="surrogatepass")
    except UnicodeDecodeError:
        return id
    return id if _SAFE.fullmatch(raw) else raw
