"""Capture date of photos: ``taken_at`` (UTC), ``taken_at_offset`` (minutes, when EXIF records it) and
``taken_at_source`` (``exif`` or ``upload``). Photos stored before this revision get their upload time.

Revision ID: 0007_capture_date
Revises: 0006_event_ids
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_capture_date"
down_revision = "0006_event_ids"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("photos", sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("photos", sa.Column("taken_at_offset", sa.Integer(), nullable=True))
    op.add_column("photos", sa.Column("taken_at_source", sa.String(length=10), nullable=True))
    op.execute("UPDATE photos SET taken_at = created_at, taken_at_source = 'upload' WHERE taken_at IS NULL")


def downgrade() -> None:
    # Not batch mode: on SQLite it would copy the table, and dropping the old one cascades to every face and job.
    for column in ("taken_at_source", "taken_at_offset", "taken_at"):
        op.execute(f"ALTER TABLE photos DROP COLUMN {column}")  # SQLite >= 3.35 and PostgreSQL
