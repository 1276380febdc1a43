"""The face index holds two more values per vector (offsets for the face's pose and mask, ``scoring.index_vectors``):
every index is rebuilt from the catalog. SQLite: the spaces' stamps go, so graph files no longer match and are
rebuilt at first use; PostgreSQL: the spaces' tables go (recreated and filled at first use).

Revision ID: 0013_face_index_offsets
Revises: 0012_confirmed_faces
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_face_index_offsets"
down_revision = "0012_confirmed_faces"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _forget_indexes()


def downgrade() -> None:
    _forget_indexes()  # the earlier vectors: rebuilt the same way


def _forget_indexes() -> None:
    bind = op.get_bind()
    op.execute("DELETE FROM face_index_spaces")
    if bind.dialect.name == "postgresql":
        tables = bind.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                                      "AND tablename LIKE 'face\\_index\\_%' AND tablename <> 'face_index_spaces'"))
        for (table,) in tables.fetchall():
            op.execute(f'DROP TABLE IF EXISTS "{table}"')

