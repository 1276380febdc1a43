"""The face index keeps its vectors in the catalog (``face_index_entries``: one float16 vector per id of a space, and
the space's version that wrote it) and every process searches a copy it brings up to date from them
(``photosift.catalog.face_index``). The indexes of before go: SQLite's HNSW graph files beside the catalog and
PostgreSQL's pgvector tables; each space's entries are filled from the catalog's faces when first searched.

Revision ID: 0015_face_index_entries
Revises: 0014_notifications
"""

from __future__ import annotations

import shutil
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0015_face_index_entries"
down_revision = "0014_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    op.execute("DELETE FROM face_index_spaces")
    op.add_column("face_index_spaces", sa.Column("dim", sa.Integer(), nullable=True))
    op.create_table(
        "face_index_entries",
        sa.Column("space", sa.String(300), nullable=False),
        sa.Column("item", sa.String(300), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("space", "item", name=op.f("pk_face_index_entries")),
    )
    op.create_index("ix_face_index_entries_version", "face_index_entries", ["space", "version"])
    if bind.dialect.name == "postgresql":
        tables = bind.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                                      "AND tablename LIKE 'face\\_index\\_%' "
                                      "AND tablename NOT IN ('face_index_spaces', 'face_index_entries')"))
        for (table,) in tables.fetchall():
            op.execute(f'DROP TABLE IF EXISTS "{table}"')
    elif bind.engine.url.database and bind.engine.url.database != ":memory:":
        shutil.rmtree(Path(f"{bind.engine.url.database}.face-index"), ignore_errors=True)


def downgrade() -> None:
    op.drop_index("ix_face_index_entries_version", table_name="face_index_entries")
    op.drop_table("face_index_entries")
    with op.batch_alter_table("face_index_spaces") as batch:
        batch.drop_column("dim")
    op.execute("DELETE FROM face_index_spaces")
