"""Which gateway key uploaded which file: the ``file_owners`` table, so that the files relay can
show each key only its own files (issue 10 item 3: key B could list, read and delete what key A
uploaded, since all of them share the operator's one Kimi account).

One row per file uploaded through the gateway: the upstream's file id and the uploader's key id
(``anonymous`` when the gateway ran without keys). Files that have no row (uploaded straight to
Kimi, or before this table existed) belong to no key: only the master key sees them. The table
lives beside the key store's in the same database; the ledger's migrations make it.

What does not belong here: deciding who may see a file (server/files.py), the key store.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import (
    Column,
    ColumnElement,
    Engine,
    Float,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
)

from kimi_gateway.ledger.db import open_database

ANONYMOUS_OWNER = "anonymous"  # the owner of files uploaded while no key was required

metadata = MetaData()
file_owners = Table(
    "file_owners",
    metadata,
    Column("file_id", String(128), primary_key=True),
    Column("key_id", String(200), nullable=False, index=True),
    Column("created_at", Float, nullable=False),
)


class FileOwners:
    """The uploader of each file, in SQL (the gateway's database)."""

    def __init__(self, database_url: str) -> None:
        # The table is made and changed by the ledger's migrations (ledger/migrations/).
        self._engine: Engine = open_database(database_url)

    def close(self) -> None:
        self._engine.dispose()

    def record(self, file_id: str, key_id: str) -> None:
        """``key_id`` uploaded ``file_id`` (a second record of the same id keeps the first)."""
        with self._engine.begin() as conn:
            if conn.execute(select(file_owners.c.key_id).where(_id(file_id))).first() is None:
                conn.execute(
                    insert(file_owners).values(
                        file_id=file_id, key_id=key_id, created_at=time.time()
                    )
                )

    def owner(self, file_id: str) -> str | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(file_owners.c.key_id).where(_id(file_id))).first()
        return None if row is None else str(row.key_id)

    def owned(self, key_id: str, file_ids: Iterable[str]) -> set[str]:
        """Which of ``file_ids`` ``key_id`` uploaded (Kimi keeps at most 1000 files per account,
        docs/kimi.md §9, so one key's ids are few enough to read whole)."""
        query = select(file_owners.c.file_id).where(file_owners.c.key_id == key_id)
        with self._engine.connect() as conn:
            mine = {str(row.file_id) for row in conn.execute(query)}
        return mine.intersection(file_ids)

    def forget(self, file_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(file_owners).where(_id(file_id)))


def _id(file_id: str) -> ColumnElement[bool]:
    return file_owners.c.file_id == file_id
