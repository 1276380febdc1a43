"""People: automatic groups of the faces no member matched, and the user's placements of faces.

Revision ID: 0003_people
Revises: 0002_rekognition
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_people"
down_revision = "0002_rekognition"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("album_id", sa.String(length=20), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["album_id"], ["albums.id"], name=op.f("fk_people_album_id_albums"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("album_id", "number", name=op.f("uq_people_album_id")),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_album_id"), ["album_id"], unique=False)

    with op.batch_alter_table("faces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_id", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("person_pinned", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_foreign_key(batch_op.f("fk_faces_person_id_people"), "people", ["person_id"], ["id"],
                                    ondelete="SET NULL")
        batch_op.create_index(batch_op.f("ix_faces_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("faces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faces_person_id"))
        batch_op.drop_constraint(batch_op.f("fk_faces_person_id_people"), type_="foreignkey")
        batch_op.drop_column("person_pinned")
        batch_op.drop_column("person_id")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_album_id"))
    op.drop_table("people")
