"""Faces record their size in the pixels they were analysed in (``FaceQuality.size``): faces are compared from 16 px
(``photosift.faces.detectors.MIN_RELIABLE_FACE``, 24 px before) and grouped into people from a larger size
(``photosift.application.grouping.GROUP_MIN_SIZE``).

Stored faces get theirs from their box and their photo's size: the analysis has always decoded a photo fitted into
``FACE_MAX_PIXELS`` (``photosift.analysis``), so a box in the original's pixels times that fit is the analysed
size. A face flagged too small that is 16 px or more becomes comparable; an album with such a face, or with faces
under ``GROUP_MIN_SIZE`` that may no longer make people, is re-matched and its people grouped again once (unless
such a job is queued already). The downgrade flags faces under 24 px too small again.

Revision ID: 0017_face_analysed_size
Revises: 0016_centred_vectors
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0017_face_analysed_size"
down_revision = "0016_centred_vectors"
branch_labels = None
depends_on = None

FACE_MAX_PIXELS = 3_000_000  # the analysis's decode budget, as at this revision
MIN_RELIABLE_FACE = 16.0  # px: the comparison bar from this revision
PREVIOUS_MIN_FACE = 24.0  # px: the comparison bar before it
GROUP_MIN_SIZE = 40.0  # px: the grouping bar from this revision
BATCH = 1000


def upgrade() -> None:
    op.add_column("faces", sa.Column("analysed_size", sa.Float(), nullable=True))
    bind = op.get_bind()
    query = sa.text("SELECT f.id, f.album_id, f.width, f.height, f.too_small, p.width, p.height FROM faces f "
                    "JOIN photos p ON p.id = f.photo_id WHERE f.id > :after ORDER BY f.id LIMIT :batch")
    update = sa.text("UPDATE faces SET analysed_size = :size, too_small = :small WHERE id = :id")
    changed: set[str] = set()  # albums whose matches or people the new bars may change
    after = ""
    while rows := bind.execute(query, {"after": after, "batch": BATCH}).all():
        sized = []
        for face_id, album_id, width, height, too_small, photo_width, photo_height in rows:
            if photo_width and photo_height:
                fit = min(1.0, math.sqrt(FACE_MAX_PIXELS / (photo_width * photo_height)))
                size = round(min(width, height) * fit, 1)
                small = bool(too_small) and size < MIN_RELIABLE_FACE
                sized.append({"id": face_id, "size": size, "small": small})
                if small != bool(too_small) or (not small and size < GROUP_MIN_SIZE):
                    changed.add(album_id)
        if sized:
            bind.execute(update, sized)
        after = rows[-1][0]
    waiting = sa.text("SELECT album_id FROM jobs WHERE kind = :kind AND status = 'queued'")
    now = datetime.now(UTC)
    jobs = sa.table("jobs", sa.column("kind", sa.String), sa.column("album_id", sa.String),
                    sa.column("status", sa.String), sa.column("attempts", sa.Integer),
                    sa.column("created_at", sa.DateTime(timezone=True)),
                    sa.column("updated_at", sa.DateTime(timezone=True)))
    queued = [{"kind": kind, "album_id": album, "status": "queued", "attempts": 0, "created_at": now,
               "updated_at": now} for kind in ("match", "regroup")
              for album in sorted(changed - set(bind.execute(waiting, {"kind": kind}).scalars()))]
    if queued:
        op.bulk_insert(jobs, queued)


def downgrade() -> None:
    op.execute(sa.text("UPDATE faces SET too_small = :small WHERE analysed_size < :bar").bindparams(
        small=True, bar=PREVIOUS_MIN_FACE))
    op.execute("ALTER TABLE faces DROP COLUMN analysed_size")  # SQLite >= 3.35 and PostgreSQL
