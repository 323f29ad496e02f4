"""Opening the ledger's database: SQLite (WAL) in the data directory by default, or any
SQLAlchemy URL (PostgreSQL in production and in tests), brought to the newest schema by the
Alembic migrations in ledger/migrations/ before anything reads or writes it.

Every process that opens the database (each gateway replica, each CLI command) runs
:func:`open_database`; migrating twice is a no-op, and on PostgreSQL an advisory lock makes
concurrent starts take turns.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).parent / "migrations"
_PG_LOCK = 0x6B67_6C65  # "kgle": the advisory lock id of migrations


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL: readers (reports, the CLI) never block the writer; NORMAL sync is durable at
    every checkpoint and loses no committed transaction on a process crash."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _as_is(value: None) -> None:
    return value


def _bind_directly() -> None:
    """sqlite3 binds only exact ints, floats, strs and bytearrays at once; any other value,
    None and bool included, first goes through its adaptation protocol, which raises and
    formats an AttributeError for each one when no adapter is registered (a ledger row has
    about ten: a thousandth of a millisecond each, in the writer thread). Registered adapters
    that do what sqlite3 then does anyway (None as NULL, a bool as its int) take the registry's
    fast path. The registry is sqlite3's, process-wide; these entries change no stored value."""
    sqlite3.register_adapter(type(None), _as_is)
    sqlite3.register_adapter(bool, int)


def make_engine(database_url: str) -> Engine:
    """An Engine for ``database_url`` (a SQLite file's directory is created)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        _bind_directly()
        if url.database not in (None, "", ":memory:"):
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the database to the newest migration (serialised across processes on
    PostgreSQL)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def open_database(database_url: str) -> Engine:
    """The migrated database at ``database_url``."""
    engine = make_engine(database_url)
    try:
        migrate(engine)
    except Exception:
        engine.dispose()
        raise
    return engine
