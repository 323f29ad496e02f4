"""The files relay's ``file_owners`` table (ledger/file_owners.py): which gateway key uploaded
which file.

A database where the relay already made it (create_all) keeps it as it is.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("file_owners"):
        return
    op.create_table(
        "file_owners",
        sa.Column("file_id", sa.String(128), primary_key=True),
        sa.Column("key_id", sa.String(200), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_file_owners_key_id", "file_owners", ["key_id"])


def downgrade() -> None:
    op.drop_table("file_owners")
