"""Who is calling: gateway keys checked against an in-memory index of their hashes.

Clients send a gateway key as ``Authorization: Bearer`` or ``x-api-key`` (Claude Code uses the
first with ``ANTHROPIC_AUTH_TOKEN``, the second with ``ANTHROPIC_API_KEY``: docs/kimi.md §F1).
The presented key is hashed and looked up by hash, then compared with ``hmac.compare_digest``, so
the time taken says nothing about stored keys. The index holds config-file keys and active DB
keys; it is reloaded off the request path every ``keys_refresh_seconds`` and at once after an
admin API change.

When a key is required is decided in one place, :func:`auth_required`, and once required it
stays required for the life of the process (a latch): revoking the last key, or a reload that
finds none, never turns a gateway open again (issue 10 item 1: it used to). docs/security.md
says the same for users.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable

from kimi_gateway.core.principal import ANONYMOUS, MASTER, Principal
from kimi_gateway.ledger.keys import KeyRecord, hash_key
from kimi_gateway.server.asgi import Scope, header
from kimi_gateway.settings import Settings


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a listen address) reaches only this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def auth_required(*, host: str, master_key: bool, config_keys: bool, stored_keys: bool) -> bool:
    """THE rule: a gateway key is required unless the gateway listens on a loopback address and
    no key has ever been configured: no master key, no key in the config file, and no row in
    the key store, revoked rows included (a revoked key still says "this gateway uses keys").
    Only a fresh local gateway (``make serve`` on 127.0.0.1) answers without a key."""
    return not is_loopback(host) or master_key or config_keys or stored_keys


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
        self._host = settings.host
        self._required = self._rule(stored_keys=False)

    def _rule(self, *, stored_keys: bool) -> bool:
        return auth_required(
            host=self._host,
            master_key=self._master is not None,
            config_keys=bool(self._config),
            stored_keys=stored_keys,
        )

    def load(self, records: Iterable[KeyRecord]) -> None:
        """Replace the DB part of the index with the store's rows, revoked ones included (one
        dict swap: readers never see half a load). Requiring keys is latched: a load can turn it
        on, never off."""
        index = dict(self._config)
        seen = False
        for record in records:
            seen = True
            if record.active:
                index[record.key_sha256] = Principal(key_id=record.id, models=record.models)
        self._by_hash = index
        self._required = self._required or self._rule(stored_keys=seen)

    @property
    def required(self) -> bool:
        """Whether a request without a valid key is refused (see :func:`auth_required`)."""
        return self._required

    @property
    def usable(self) -> bool:
        """Whether any key could be presented at all (master, config or an active stored key):
        a gateway on a public address with none is refused at start, as no one could use it."""
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


__all__ = [
    "ANONYMOUS",
    "MASTER",
    "KeyIndex",
    "Principal",
    "auth_required",
    "is_loopback",
    "presented_key",
]
