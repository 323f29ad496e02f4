"""The response store: what ``previous_response_id`` and ``GET /v1/responses/{id}`` need.

One row per stored response (``store`` not false on ``POST /v1/responses``): its id, the gateway
key that made it (a response is visible to that key only), the response it continued, its own
input items and the response object as served (output items with reasoning sealed, so a later
turn restores Kimi's reasoning exactly). A conversation is the chain of rows through
``previous_id``, oldest first; each row holds only its own turn, so a long chain stays linear in
size (docs/kimi.md §F2.15: lean rows). Continuing a chain renews the TTL of every row in it, so
an active conversation never loses its start.

SQLite in the data directory by default, PostgreSQL when ``database_url`` says so (SQLAlchemy
Core, JSON as text). Blocking: the server calls it in a worker thread. Only this module touches
the ``responses`` table. What does not belong here: rendering items or responses (the Responses
dialect), who may call (server/auth.py).
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    Column,
    Engine,
    Float,
    Index,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)

from kimi_gateway.ledger.db import open_database

MAX_CHAIN = 10_000  # links followed before a chain is called broken (a cycle cannot be made)

metadata = MetaData()
responses = Table(
    "responses",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("key_id", String(64), nullable=False),
    Column("previous_id", String(64), nullable=True),
    Column("model", String(200), nullable=False),
    Column("status", String(32), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("input_items", Text, nullable=False),  # JSON list: this turn's own input items
    Column("response", Text, nullable=False),  # JSON: the response object as stored
    Index("ix_responses_expires_at", "expires_at"),
)


@dataclass(frozen=True, slots=True)
class StoredResponse:
    id: str
    key_id: str
    previous_id: str | None
    model: str
    status: str
    created_at: float
    expires_at: float
    input_items: list[dict[str, Any]]
    response: dict[str, Any]


class BrokenChain(LookupError):
    """A response of the chain is gone (deleted, expired, or never made by this key)."""

    def __init__(self, missing: str) -> None:
        super().__init__(missing)
        self.missing = missing


def _row(row: Any) -> StoredResponse:
    return StoredResponse(
        id=row.id,
        key_id=row.key_id,
        previous_id=row.previous_id,
        model=row.model,
        status=row.status,
        created_at=row.created_at,
        expires_at=row.expires_at,
        input_items=orjson.loads(row.input_items),
        response=orjson.loads(row.response),
    )


class ResponseStore:
    """Stored responses in a SQL database."""

    def __init__(self, database_url: str) -> None:
        # The table is made and changed by the ledger's migrations (ledger/migrations/).
        self._engine: Engine = open_database(database_url)

    def close(self) -> None:
        self._engine.dispose()

    def save(self, record: StoredResponse) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                insert(responses).values(
                    id=record.id,
                    key_id=record.key_id,
                    previous_id=record.previous_id,
                    model=record.model,
                    status=record.status,
                    created_at=record.created_at,
                    expires_at=record.expires_at,
                    input_items=orjson.dumps(record.input_items).decode(),
                    response=orjson.dumps(record.response).decode(),
                )
            )

    def get(self, response_id: str, key_id: str, now: float) -> StoredResponse | None:
        """The response, if ``key_id`` made it and it has not expired."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(responses).where(
                    responses.c.id == response_id,
                    responses.c.key_id == key_id,
                    responses.c.expires_at > now,
                )
            ).first()
        return None if row is None else _row(row)

    def chain(self, response_id: str, key_id: str, now: float) -> list[StoredResponse]:
        """The conversation ending in ``response_id``, oldest first; BrokenChain names the
        first response of it that cannot be read."""
        out: list[StoredResponse] = []
        query = select(responses).where(responses.c.key_id == key_id, responses.c.expires_at > now)
        with self._engine.connect() as conn:
            next_id: str | None = response_id
            while next_id is not None:
                if len(out) >= MAX_CHAIN:
                    raise BrokenChain(next_id)
                row = conn.execute(query.where(responses.c.id == next_id)).first()
                if row is None:
                    raise BrokenChain(next_id)
                out.append(_row(row))
                next_id = row.previous_id
        out.reverse()
        return out

    def renew(self, ids: Iterable[str], expires_at: float) -> None:
        """Keep these responses (a conversation being continued) until ``expires_at``."""
        chosen = list(ids)
        with self._engine.begin() as conn:
            for start in range(0, len(chosen), 500):
                conn.execute(
                    update(responses)
                    .where(responses.c.id.in_(chosen[start : start + 500]))
                    .where(responses.c.expires_at < expires_at)
                    .values(expires_at=expires_at)
                )

    def delete(self, response_id: str, key_id: str) -> bool:
        with self._engine.begin() as conn:
            result = conn.execute(
                delete(responses).where(responses.c.id == response_id, responses.c.key_id == key_id)
            )
        return bool(result.rowcount)

    def purge(self, now: float) -> int:
        """Delete every expired response; how many went."""
        with self._engine.begin() as conn:
            result = conn.execute(delete(responses).where(responses.c.expires_at <= now))
        return int(result.rowcount)


def sealing_key(path: Path) -> bytes:
    """The key kept at ``path``, made there (mode 0600) on first use: 32 random bytes."""
    try:
        return base64.b64decode(path.read_bytes().strip(), validate=True)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    encoded = base64.b64encode(secrets.token_bytes(32))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return base64.b64decode(path.read_bytes().strip(), validate=True)
    with os.fdopen(fd, "wb") as handle:
        handle.write(encoded + b"\n")
    return base64.b64decode(encoded)
