"""Embeddings carry the face's pose: every stored 640-value vector gets a 641st value, 0 (frontal).

The similarity model now reads the pose value appended to each embedding (``photosift.faces.calibration``); vectors
stored before it existed had no pose, and 0 is the value they were effectively compared with.

Revision ID: 0008_embedding_pose
Revises: 0007_capture_date
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0008_embedding_pose"
down_revision = "0007_capture_date"
branch_labels = None
depends_on = None

OLD_BYTES = 640 * 4
COLUMNS = (("faces", "id", "embedding"), ("member_references", "id", "embedding"), ("rejections", "id", "embedding"),
           ("members", "id", "template"), ("rekognition_faces", "face_id", "embedding"))
FRONTAL = b"\x00\x00\x00\x00"  # float32 0.0


def _rewrite(length: int, change: Callable[[bytes], bytes]) -> None:
    bind = op.get_bind()
    for table, key, column in COLUMNS:
        t = sa.table(table, sa.column(key), sa.column(column, sa.LargeBinary))
        rows = bind.execute(sa.select(t.c[key], t.c[column]).where(sa.func.length(t.c[column]) == length)).all()
        for row_id, blob in rows:
            bind.execute(sa.update(t).where(t.c[key] == row_id).values({column: change(bytes(blob))}))


def upgrade() -> None:
    _rewrite(OLD_BYTES, lambda blob: blob + FRONTAL)


def downgrade() -> None:
    _rewrite(OLD_BYTES + 4, lambda blob: blob[:OLD_BYTES])
