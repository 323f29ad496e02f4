"""Signatures for the thinking blocks of the emulator's Anthropic faces.

Kimi Code's Anthropic face returns *signed* ``thinking`` blocks that must be replayed intact
(docs/kimi.md §13.3, [3M] HERMES PR #18898, HALRO). The real signature is opaque; ours is a
deterministic HMAC-SHA256 over the thinking text, base64-encoded, so a test can tell a block we
issued from a forged or edited one. Only signing and checking live here; the rule for *when* a
signature is checked belongs to the face.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

# A fixed prefix keeps the signature recognisably "ours" in logs; the MAC carries the proof.
_PREFIX = "kimi-emu-sig-v1."


def signing_key(seed: object) -> bytes:
    """Derive the per-emulator signing key from its configured seed (deterministic per config)."""
    return hashlib.sha256(f"kimi-emulator/thinking-signature/{seed!r}".encode()).digest()


def sign_thinking(key: bytes, thinking: str) -> str:
    """Return the opaque signature for a thinking text."""
    mac = hmac.new(key, thinking.encode("utf-8"), hashlib.sha256).digest()
    return _PREFIX + base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def signature_matches(key: bytes, thinking: str, signature: str) -> bool:
    """True when ``signature`` is exactly what :func:`sign_thinking` gives for ``thinking``."""
    return hmac.compare_digest(sign_thinking(key, thinking), signature)
