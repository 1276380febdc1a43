"""Event ids are signed 64-bit on PostgreSQL too (BIGINT and a BIGINT sequence), as on SQLite, so any position a
client may send (0 to 2^63-1) compares with them.

Revision ID: 0006_event_ids
Revises: 0005_shares
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_event_ids"
down_revision = "0005_shares"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite's INTEGER PRIMARY KEY is 64-bit already
    op.alter_column("events", "id", type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=False)
    op.execute("ALTER SEQUENCE IF EXISTS events_id_seq AS BIGINT")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER SEQUENCE IF EXISTS events_id_seq AS INTEGER")
    op.alter_column("events", "id", type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=False)
