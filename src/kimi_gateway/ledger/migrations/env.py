"""Alembic's entry point for the ledger's migrations: always run from ledger/db.py with a
connection it already holds (``config.attributes["connection"]``), never with a URL of its own."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run the ledger's migrations through kimi_gateway.ledger.db.migrate")
context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
