"""Faces record their blur relative to their size (``FaceQuality.relative_blur``): people are grouped only from
faces sharp enough to compare (``photosift.application.grouping.worth_grouping``). Faces stored before this
revision have none (NULL) and are judged by their sharpness alone.

Revision ID: 0010_face_relative_blur
Revises: 0009_recognizer
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_face_relative_blur"
down_revision = "0009_recognizer"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("faces", sa.Column("relative_blur", sa.Float(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE faces DROP COLUMN relative_blur")  # SQLite >= 3.35 and PostgreSQL
