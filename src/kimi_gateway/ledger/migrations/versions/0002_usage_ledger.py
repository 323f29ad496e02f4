"""The usage ledger (one row per generation) and USD budgets, with the reports' indexes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _usage_columns() -> list[sa.Column[object]]:
    def count(name: str) -> sa.Column[object]:
        return sa.Column(name, sa.Integer, nullable=False)

    return [
        sa.Column("id", _ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("request_id", sa.String(40)),
        sa.Column("key_id", sa.String(32)),
        sa.Column("route", sa.String(32), nullable=False),
        sa.Column("client", sa.String(24), nullable=False),
        sa.Column("stream", sa.Boolean, nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("upstream", sa.String(64)),
        sa.Column("upstream_model", sa.String(200)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.String(32)),
        sa.Column("midstream", sa.Boolean, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("ttft_ms", sa.Float),
        count("input_uncached"),
        count("input_cache_read"),
        count("input_cache_write"),
        count("output"),
        count("reasoning"),
        sa.Column("usage_seen", sa.Boolean, nullable=False),
        count("tool_calls"),
        count("builtin_calls"),
        sa.Column("builtin_tools", sa.String(200)),
        count("attempts"),
        count("retries"),
        count("fallbacks"),
        sa.Column("priced", sa.Boolean, nullable=False),
        sa.Column("cost_nano_usd", sa.BigInteger),
        sa.Column("upstream_request_id", sa.String(128)),
        sa.Column("diagnostics", sa.String(1000)),
    ]


def upgrade() -> None:
    op.create_table("usage", *_usage_columns())
    op.create_index("ix_usage_ts", "usage", ["ts"])
    op.create_index("ix_usage_key_ts", "usage", ["key_id", "ts"])
    op.create_index("ix_usage_model_ts", "usage", ["upstream_model", "ts"])
    op.create_index("ix_usage_upstream_ts", "usage", ["upstream", "ts"])
    op.create_table(
        "budgets",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("key_id", sa.String(32)),
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("limit_nano_usd", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_budgets_key", "budgets", ["key_id"])


def downgrade() -> None:
    op.drop_table("budgets")
    op.drop_table("usage")
