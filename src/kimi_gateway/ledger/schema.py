"""The ledger's tables as SQLAlchemy Core objects, for the code that reads and writes them.

The database itself is made and changed only by the Alembic migrations (ledger/migrations/):
these objects must describe what the newest migration leaves. ``usage`` holds one row per
generation (written in batches by writer.py, read by reports.py); ``budgets`` the USD budgets
made with ``keys create --budget`` (budgets.py). The key store's table stays in keys.py.

Money is integer nano-USD (``cost_nano_usd``): exact in SQLite and PostgreSQL alike, summed
exactly, turned back into ``Decimal`` at the edge (prices.from_nano). Rows stay small and
indexed for the reports (docs/kimi.md §F2.15).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

metadata = MetaData()

# SQLite makes only an INTEGER PRIMARY KEY an alias of the rowid (autoincrementing).
ROW_ID = BigInteger().with_variant(Integer(), "sqlite")

usage = Table(
    "usage",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("ts", Float, nullable=False),  # unix seconds (UTC) when the generation ended
    Column("day", String(10), nullable=False),  # its UTC date, YYYY-MM-DD (reports by day)
    Column("request_id", String(40)),
    Column("key_id", String(32)),
    Column("route", String(32), nullable=False),
    Column("client", String(24), nullable=False),  # the client's dialect
    Column("stream", Boolean, nullable=False),
    Column("model", String(200), nullable=False),  # as the client asked
    Column("upstream", String(64)),
    Column("upstream_model", String(200)),
    Column("status", String(16), nullable=False),  # ok | error | client_closed | timeout
    Column("error", String(32)),  # the error kind, when not ok
    Column("midstream", Boolean, nullable=False),  # ended badly after the first event
    Column("latency_ms", Float, nullable=False),
    Column("ttft_ms", Float),  # time to the first event; None when none came
    Column("input_uncached", Integer, nullable=False),
    Column("input_cache_read", Integer, nullable=False),
    Column("input_cache_write", Integer, nullable=False),
    Column("output", Integer, nullable=False),  # reasoning included
    Column("reasoning", Integer, nullable=False),
    Column("usage_seen", Boolean, nullable=False),
    Column("tool_calls", Integer, nullable=False),  # built-in ones included
    Column("builtin_calls", Integer, nullable=False),
    Column("builtin_tools", String(200)),  # their names, comma-separated
    Column("attempts", Integer, nullable=False),  # upstream calls made
    Column("retries", Integer, nullable=False),
    Column("fallbacks", Integer, nullable=False),
    Column("priced", Boolean, nullable=False),  # False: the model has no price (cost NULL)
    Column("cost_nano_usd", BigInteger),
    Column("upstream_request_id", String(128)),
    Column("diagnostics", String(1000)),  # diagnostic codes, comma-separated
)
Index("ix_usage_ts", usage.c.ts)
Index("ix_usage_key_ts", usage.c.key_id, usage.c.ts)
Index("ix_usage_model_ts", usage.c.upstream_model, usage.c.ts)
Index("ix_usage_upstream_ts", usage.c.upstream, usage.c.ts)

budgets = Table(
    "budgets",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("key_id", String(32)),  # None: the global budget
    Column("period", String(8), nullable=False),  # day | month | total
    Column("limit_nano_usd", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
)
Index("ix_budgets_key", budgets.c.key_id)
