"""Faces record their size in the pixels they were analysed in (``FaceQuality.size``): faces are compared from a
smaller size than people are grouped from (``photosift.application.grouping.GROUP_MIN_SIZE``). Faces stored before
this revision have none (NULL); they were kept from comparison below the larger size of their release, so they are
grouped as before.

Revision ID: 0017_face_analysed_size
Revises: 0016_centred_vectors
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_face_analysed_size"
down_revision = "0016_centred_vectors"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("faces", sa.Column("analysed_size", sa.Float(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE faces DROP COLUMN analysed_size")  # SQLite >= 3.35 and PostgreSQL
