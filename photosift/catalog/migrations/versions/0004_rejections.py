"""Rejections: the user's "this face is not <member>" corrections, kept as evidence for matching.

Revision ID: 0004_rejections
Revises: 0003_people
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_rejections"
down_revision = "0003_people"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rejections",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("album_id", sa.String(length=20), nullable=False),
        sa.Column("member_id", sa.String(length=20), nullable=False),
        sa.Column("face_id", sa.String(length=20), nullable=True),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["album_id"], ["albums.id"], name=op.f("fk_rejections_album_id_albums"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_rejections_member_id_members"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["face_id"], ["faces.id"], name=op.f("fk_rejections_face_id_faces"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejections")),
    )
    with op.batch_alter_table("rejections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rejections_album_id"), ["album_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rejections_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rejections_face_id"), ["face_id"], unique=False)


def downgrade() -> None:
    op.drop_table("rejections")
