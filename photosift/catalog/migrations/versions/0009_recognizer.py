"""Every stored vector records its recogniser: ``recognizer`` on faces, reference photos, rejections and members'
templates. Rows stored before this revision were made by the recogniser of earlier releases, ``facenet+dlib``.

Vectors of two recognisers are never compared; the service re-embeds an album's faces and reference photos with the
recogniser it runs (``photosift.application.reembedding``) and leaves the old vectors unused until then.

Revision ID: 0009_recognizer
Revises: 0008_embedding_pose
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_recognizer"
down_revision = "0008_embedding_pose"
branch_labels = None
depends_on = None

RETIRED = "facenet+dlib"
TABLES = ("faces", "member_references", "rejections", "members")


def upgrade() -> None:
    for table in TABLES:  # ADD COLUMN with a default: no table copy, on SQLite nor PostgreSQL
        op.add_column(table, sa.Column("recognizer", sa.String(length=40), nullable=False, server_default=RETIRED))
    op.create_index("ix_faces_recognizer_album", "faces", ["recognizer", "album_id"])


def downgrade() -> None:
    op.drop_index("ix_faces_recognizer_album", table_name="faces")
    # Not batch mode: on SQLite it would copy the tables, and dropping the old ones cascades to their children.
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} DROP COLUMN recognizer")  # SQLite >= 3.35 and PostgreSQL
