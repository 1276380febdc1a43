"""The face index's stamp per space (``photosift.catalog.face_index``): a generation and a version, bumped in the
transaction that changes the space, so an index kept beside the catalog (then: SQLite's graph files) knows whether it
is current. Existing collections have no row: their index is built from the catalog when first searched.

Revision ID: 0011_face_index
Revises: 0010_face_relative_blur
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_face_index"
down_revision = "0010_face_relative_blur"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "face_index_spaces",
        sa.Column("space", sa.String(300), nullable=False),
        sa.Column("generation", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("space", name=op.f("pk_face_index_spaces")),
    )


def downgrade() -> None:
    op.drop_table("face_index_spaces")
