"""Reasoning ``encrypted_content``: Kimi's reasoning sealed for a stateless client's next turn.

Codex sends ``store: false`` with ``include: ["reasoning.encrypted_content"]`` and gives every
reasoning item back on the next turn as it came (docs/kimi.md §F1.3). Kimi needs the reasoning
of an earlier tool-call turn back as ``reasoning_content`` (docs/kimi.md §F2.1) and, on its
Anthropic faces, a thinking signature byte for byte (§F2.6). So the gateway packs the whole
ThinkingPart (text, signature, provider data) into ``encrypted_content``, and restores it from
there rather than from the readable summary, which a client may drop or change.

Format: ``kgw1.<payload>.<tag>``: the payload is the part as compact JSON, zlib-compressed,
base64url; the tag is HMAC-SHA256 over ``kgw1.<payload>`` with the gateway's sealing key,
base64url. It is authenticated, not secret: the same text is already in the item's summary.
A token that does not verify (another server's, a tampered one, one sealed under an older key)
is never trusted: :meth:`Sealer.unseal` returns None and the caller falls back to the summary.
Pure: the key is passed in (the server keeps it; ledger/responses.py, settings.responses).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import zlib
from typing import Any

import orjson

from kimi_gateway.core.model import ThinkingPart

PREFIX = "kgw1."
_TAG_BYTES = 32
_MAX_INFLATED = 16 * 1024 * 1024  # a sealed part never inflates past this (zip-bomb guard)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sealer:
    """Seals and opens ThinkingParts with one key (at least 32 bytes)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("a sealing key needs at least 32 bytes")
        self._key = key

    def _tag(self, signed: str) -> str:
        return _b64(hmac.new(self._key, signed.encode(), hashlib.sha256).digest())

    def seal(self, part: ThinkingPart) -> str:
        body: dict[str, Any] = {"t": part.text}
        if part.signature is not None:
            body["s"] = part.signature
        if part.redacted:
            body["r"] = True
        data = _own_data(part)
        if data:
            body["p"] = data
        signed = PREFIX + _b64(zlib.compress(orjson.dumps(body)))
        return f"{signed}.{self._tag(signed)}"

    def unseal(self, token: str) -> ThinkingPart | None:
        """The part sealed in ``token``, or None when it is not one of ours or does not verify."""
        signed, dot, tag = token.rpartition(".")
        if not dot or not signed.startswith(PREFIX):
            return None
        if not hmac.compare_digest(tag.encode(), self._tag(signed).encode()):
            return None
        try:
            inflater = zlib.decompressobj()
            raw = inflater.decompress(_unb64(signed[len(PREFIX) :]), _MAX_INFLATED)
            body = orjson.loads(raw)
        except (ValueError, zlib.error):
            return None
        if not isinstance(body, dict) or not isinstance(body.get("t"), str):
            return None
        data = body.get("p")
        return ThinkingPart(
            body["t"],
            signature=body.get("s") if isinstance(body.get("s"), str) else None,
            redacted=body.get("r") is True,
            provider_data=data if isinstance(data, dict) and data else None,
        )


# The Responses item's own fields ride in provider_data (items.py); they are not Kimi's.
_ITEM_KEYS = frozenset({"id", "summary", "content", "encrypted_content"})


def _own_data(part: ThinkingPart) -> dict[str, Any]:
    data = part.provider_data or {}
    return {k: v for k, v in data.items() if k not in _ITEM_KEYS}
