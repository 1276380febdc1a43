"""Rekognition collections, faces and users.

Revision ID: 0002_rekognition
Revises: 0001_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_rekognition"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rekognition_collections",
        sa.Column("collection_id", sa.String(255), nullable=False),
        sa.Column("arn", sa.String(512), nullable=False),
        sa.Column("face_model_version", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("collection_id", name=op.f("pk_rekognition_collections")),
    )
    op.create_table(
        "rekognition_users",
        sa.Column("collection_id", sa.String(255), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("client_token", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"], ["rekognition_collections.collection_id"], ondelete="CASCADE",
            name=op.f("fk_rekognition_users_collection_id_rekognition_collections"),
        ),
        sa.PrimaryKeyConstraint("collection_id", "user_id", name=op.f("pk_rekognition_users")),
    )
    op.create_table(
        "rekognition_faces",
        sa.Column("face_id", sa.String(36), nullable=False),
        sa.Column("collection_id", sa.String(255), nullable=False),
        sa.Column("image_id", sa.String(36), nullable=False),
        sa.Column("external_image_id", sa.String(255), nullable=True),
        sa.Column("user_id", sa.String(128), nullable=True),
        sa.Column("box_left", sa.Float(), nullable=False),
        sa.Column("box_top", sa.Float(), nullable=False),
        sa.Column("box_width", sa.Float(), nullable=False),
        sa.Column("box_height", sa.Float(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"], ["rekognition_collections.collection_id"], ondelete="CASCADE",
            name=op.f("fk_rekognition_faces_collection_id_rekognition_collections"),
        ),
        sa.PrimaryKeyConstraint("face_id", name=op.f("pk_rekognition_faces")),
    )
    op.create_index("ix_rekognition_faces_collection_user", "rekognition_faces", ["collection_id", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_rekognition_faces_collection_user", table_name="rekognition_faces")
    op.drop_table("rekognition_faces")
    op.drop_table("rekognition_users")
    op.drop_table("rekognition_collections")
