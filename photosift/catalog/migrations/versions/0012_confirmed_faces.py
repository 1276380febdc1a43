"""An index of the faces users gave a member (``ix_faces_confirmed``, partial: ``person_pinned`` and a member): they
are read with every analysed photo (``matching.load_templates``), and without it the database walked every matched
face of the album to find them.

Revision ID: 0012_confirmed_faces
Revises: 0011_face_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_confirmed_faces"
down_revision = "0011_face_index"
branch_labels = None
depends_on = None

SQLITE_WHERE = "person_pinned IS 1 AND member_id IS NOT NULL"  # as SQLAlchemy writes ``.is_(True)``: the planner
POSTGRESQL_WHERE = "person_pinned IS true AND member_id IS NOT NULL"  # matches a partial index term by term


def upgrade() -> None:
    op.create_index("ix_faces_confirmed", "faces", ["album_id", "member_id"], sqlite_where=sa.text(SQLITE_WHERE),
                    postgresql_where=sa.text(POSTGRESQL_WHERE))


def downgrade() -> None:
    op.drop_index("ix_faces_confirmed", table_name="faces")
