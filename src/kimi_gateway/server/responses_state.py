"""What the ``/v1/responses`` routes keep for the life of the gateway: the response store
(ledger/responses.py; None when ``responses.store`` is off) and the reasoning sealer
(dialects/openai_responses/seal.py) with its key, from ``responses.sealing_key_env`` or the
data directory. Built by the runtime at start (blocking I/O: called in a thread), closed with it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from kimi_gateway.core.principal import Principal
from kimi_gateway.dialects.openai_responses.seal import Sealer
from kimi_gateway.ledger.responses import ResponseStore, StoredResponse, sealing_key
from kimi_gateway.settings import Settings
from kimi_gateway.settings_responses import ResponsesSettings

KEY_FILE = "responses-sealing.key"
PURGE_EVERY = 3600.0  # seconds between sweeps of expired responses (each on a save)
ANONYMOUS_OWNER = "anonymous"  # the owner of responses made without a gateway key


@dataclass
class ResponsesState:
    settings: ResponsesSettings
    sealer: Sealer
    store: ResponseStore | None
    next_purge: float = 0.0  # time.time() after which a save also sweeps expired rows

    def close(self) -> None:
        if self.store is not None:
            self.store.close()

    def save(self, record: StoredResponse) -> None:
        """Store ``record`` (blocking: call it in a thread); about once an hour, sweep the
        expired responses first, so the table holds only what can still be read."""
        if self.store is None:
            return
        if record.created_at >= self.next_purge:
            self.next_purge = record.created_at + PURGE_EVERY
            self.store.purge(record.created_at)
        self.store.save(record)

    def expiry(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) + self.settings.ttl_seconds


def open_responses(settings: Settings) -> ResponsesState:
    config = settings.responses
    if config.sealing_key is not None:
        key = config.sealing_key.get_secret_value().encode()
    else:
        key = sealing_key(settings.resolved_data_dir() / KEY_FILE)
    store = ResponseStore(settings.resolved_database_url()) if config.store else None
    return ResponsesState(config, Sealer(key), store)


def owner(principal: Principal) -> str:
    """Whose responses a caller sees: its gateway key's id (all anonymous callers share)."""
    return principal.key_id or ANONYMOUS_OWNER
