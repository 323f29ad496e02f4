"""Shared test configuration. The emulator fixtures (`kimi_emulator`, `kimi_emulator_factory`)
come from the package's pytest plugin, registered as the `kimi_emulator` pytest11 entry point."""

import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL of the machine's PostgreSQL (database ``test``) whose tables live in a
    schema of this test's own, dropped afterwards."""
    schema = "t_" + secrets.token_hex(6)
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
