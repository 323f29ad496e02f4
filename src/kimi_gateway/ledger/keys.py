"""The gateway key store: keys clients present to the gateway, kept hashed in SQL.

A key is ``kgw-`` + 43 URL-safe characters (256 random bits), so an unsalted sha256 of it is
enough (nothing to brute-force); the plain key is shown once, at creation, and never stored.
Rows hold the hash, a short display prefix, a name, the allowed models and the revocation time.
Only this module touches the ``gateway_keys`` table. Upstream (Kimi) keys never come here.

What does not belong here: checking a presented key on a request (server/auth.py holds the
in-memory index built from :meth:`KeyStore.active`), the spend ledger.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import orjson
from sqlalchemy import (
    Column,
    Engine,
    Float,
    MetaData,
    String,
    Table,
    insert,
    select,
    update,
)

from kimi_gateway.ledger.budgets import Budget, Period, add_budget, stored_budgets
from kimi_gateway.ledger.db import open_database

KEY_PREFIX = "kgw-"

metadata = MetaData()
gateway_keys = Table(
    "gateway_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("key_sha256", String(64), nullable=False, unique=True),
    Column("display", String(16), nullable=False),  # "kgw-AbCd…": enough to recognise, no more
    Column("models", String, nullable=False),  # JSON list of allowed model names; [] = all
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
)


MAX_NAME = 100
# C0 and C1 controls (CR, LF, tab, escape …) and Unicode line and paragraph separators: a name
# holding one could forge lines or columns in `keys list`, terminals and logs (issue 10 item 7).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def check_name(name: str) -> str:
    """``name`` without surrounding spaces, or ValueError saying what is wrong with it."""
    name = name.strip()
    if not name:
        raise ValueError("a key name must not be empty")
    if len(name) > MAX_NAME:
        raise ValueError(f"a key name is at most {MAX_NAME} characters (this one has {len(name)})")
    if _CONTROL.search(name):
        raise ValueError("a key name must not contain control characters (line breaks, tabs …)")
    return name


def shown_name(name: str) -> str:
    """``name`` safe to print on one line (names stored before they were checked)."""
    return _CONTROL.sub(lambda match: f"\\u{ord(match.group()):04x}", name)


def hash_key(key: str) -> str:
    """The stored form of a key: sha256 hex of its UTF-8 bytes."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class KeyRecord:
    id: str
    name: str
    key_sha256: str
    display: str
    models: tuple[str, ...]
    created_at: float
    revoked_at: float | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def public(self) -> dict[str, object]:
        """What the admin API and ``keys list`` show (never the hash)."""
        return {
            "id": self.id,
            "name": self.name,
            "key": self.display,
            "models": list(self.models),
            "created_at": int(self.created_at),
            "revoked_at": int(self.revoked_at) if self.revoked_at is not None else None,
        }


class KeyStore:
    """Gateway keys in a SQL database (SQLite in the data directory by default)."""

    def __init__(self, database_url: str) -> None:
        # The table is made and changed by the ledger's migrations (ledger/migrations/).
        self._engine: Engine = open_database(database_url)

    def close(self) -> None:
        self._engine.dispose()

    def create(self, name: str, models: Iterable[str] = ()) -> tuple[KeyRecord, str]:
        """A new key: its record and the plain key (shown once)."""
        name = check_name(name)
        plain = KEY_PREFIX + secrets.token_urlsafe(32)
        record = KeyRecord(
            id="key_" + secrets.token_hex(6),
            name=name,
            key_sha256=hash_key(plain),
            display=plain[:10] + "…",
            models=tuple(models),
            created_at=time.time(),
        )
        with self._engine.begin() as conn:
            conn.execute(
                insert(gateway_keys).values(
                    id=record.id,
                    name=record.name,
                    key_sha256=record.key_sha256,
                    display=record.display,
                    models=orjson.dumps(list(record.models)).decode(),
                    created_at=record.created_at,
                )
            )
        return record, plain

    def add_budget(self, key_id: str, period: Period, usd: Decimal) -> Budget:
        """A USD budget for the key per period (ledger/budgets.py enforces it)."""
        return add_budget(self._engine, key_id, period, usd)

    def budgets(self) -> list[Budget]:
        """Every stored budget (the keys' and global ones), oldest first."""
        return stored_budgets(self._engine)

    def revoke(self, key_id: str) -> bool:
        """Revoke a key by id; False when there is no active key with that id."""
        with self._engine.begin() as conn:
            result = conn.execute(
                update(gateway_keys)
                .where(gateway_keys.c.id == key_id, gateway_keys.c.revoked_at.is_(None))
                .values(revoked_at=time.time())
            )
        return bool(result.rowcount)

    def all(self) -> list[KeyRecord]:
        """Every key, revoked ones included, oldest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(gateway_keys).order_by(gateway_keys.c.created_at)).all()
        return [
            KeyRecord(
                id=row.id,
                name=row.name,
                key_sha256=row.key_sha256,
                display=row.display,
                models=tuple(orjson.loads(row.models)),
                created_at=row.created_at,
                revoked_at=row.revoked_at,
            )
            for row in rows
        ]

    def active(self) -> list[KeyRecord]:
        return [record for record in self.all() if record.active]
