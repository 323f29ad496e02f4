"""Who is calling: gateway keys checked against an in-memory index of their hashes.

Clients send a gateway key as ``Authorization: Bearer`` or ``x-api-key`` (Claude Code uses the
first with ``ANTHROPIC_AUTH_TOKEN``, the second with ``ANTHROPIC_API_KEY``: docs/kimi.md §F1).
The presented key is hashed and looked up by hash, then compared with ``hmac.compare_digest``, so
the time taken says nothing about stored keys. The index holds config-file keys and active DB
keys; it is reloaded off the request path every ``keys_refresh_seconds`` and at once after an
admin API change. With no key configured at all, auth is optional (the runner only allows that
on a loopback address).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from kimi_gateway.core.principal import ANONYMOUS, MASTER, Principal
from kimi_gateway.ledger.keys import KeyRecord, hash_key
from kimi_gateway.server.asgi import Scope, header
from kimi_gateway.settings import Settings


def presented_key(scope: Scope) -> str | None:
    authorization = header(scope, b"authorization")
    if authorization is not None:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    api_key = header(scope, b"x-api-key")
    return api_key.strip() or None if api_key is not None else None


class KeyIndex:
    """Hash → principal, for config-file keys, DB keys and the master key."""

    def __init__(self, settings: Settings) -> None:
        self._master = (
            hash_key(settings.master_key.get_secret_value()) if settings.master_key else None
        )
        self._config: dict[str, Principal] = {}
        for entry in settings.keys:
            digest = hash_key(entry.key.get_secret_value()) if entry.key else str(entry.key_sha256)
            self._config[digest] = Principal(key_id=f"config:{entry.name}", models=entry.models)
        self._by_hash: dict[str, Principal] = dict(self._config)

    def load(self, records: Iterable[KeyRecord]) -> None:
        """Replace the DB part of the index (one dict swap: readers never see half a load)."""
        index = dict(self._config)
        for record in records:
            if record.active:
                index[record.key_sha256] = Principal(key_id=record.id, models=record.models)
        self._by_hash = index

    @property
    def required(self) -> bool:
        return self._master is not None or bool(self._by_hash)

    def authenticate(self, key: str | None) -> Principal | None:
        """The principal for a presented key; ANONYMOUS when auth is optional; None: refused."""
        if key is None:
            return None if self.required else ANONYMOUS
        digest = hash_key(key)
        if self._master is not None and hmac.compare_digest(digest, self._master):
            return MASTER
        found = self._by_hash.get(digest)
        if found is not None:
            return found
        return None if self.required else ANONYMOUS

    def is_master(self, key: str | None) -> bool:
        if key is None or self._master is None:
            return False
        return hmac.compare_digest(hash_key(key), self._master)


__all__ = ["ANONYMOUS", "MASTER", "KeyIndex", "Principal", "presented_key"]
