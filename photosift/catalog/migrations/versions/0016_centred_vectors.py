"""``w600k_mbf``'s vectors are centred (``photosift.faces.recognizers``: ``unit(v - m)``, ``m`` the recogniser's
shipped centre in ``photosift/faces/centres.json``). Every vector stored by earlier releases is converted exactly, its
pose value kept: album faces, reference photos, rejections and the faces of Rekognition collections of that
recogniser (``FaceModelVersion`` 2.0). Members' templates are made again from their converted references, the face
index's entries go (each space is filled again from the converted vectors when first searched), and every album with
such faces is re-matched and its people grouped again once, on the new scores. Nothing is embedded again.

A later change of the shipped centre needs a migration of its own, from this centre to the new one.

Revision ID: 0016_centred_vectors
Revises: 0015_face_index_entries
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from alembic import op

revision = "0016_centred_vectors"
down_revision = "0015_face_index_entries"
branch_labels = None
depends_on = None

RECOGNIZER = "w600k_mbf"
FACE_MODEL_VERSION = "2.0"  # a collection's vectors are its version's
DIM = 512  # the cosine part; the pose value follows it
DTYPE = np.dtype("<f4")
CENTRES = Path(__file__).resolve().parents[3] / "faces" / "centres.json"
BATCH = 1000
Change = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (a vector's cosine part, the centre) -> the new part


def upgrade() -> None:
    _change(lambda part, centre: _unit(part - centre))


def downgrade() -> None:
    """Back to the vectors of before: ``c = unit(v - m)`` of a unit ``v`` is ``v = m + t c``, ``t`` the positive root
    of ``|m + t c| = 1``."""

    def uncentred(part: np.ndarray, centre: np.ndarray) -> np.ndarray:
        along = float(part @ centre)
        return np.asarray(centre + (-along + np.sqrt(along**2 + 1.0 - float(centre @ centre))) * part)

    _change(uncentred)


def _change(change: Change) -> None:
    """Every stored vector of the recogniser changed by ``change(part, centre)``, then templates, the face index and
    the albums' matches made anew."""
    bind = op.get_bind()
    centre = np.asarray(json.loads(CENTRES.read_text())[RECOGNIZER]["centre"], np.float64)
    for table, key, where in (
        ("faces", "id", "recognizer = :recognizer"),
        ("member_references", "id", "recognizer = :recognizer"),
        ("rejections", "id", "recognizer = :recognizer"),
        ("rekognition_faces", "face_id", "collection_id IN (SELECT collection_id FROM rekognition_collections "
                                         "WHERE face_model_version = :version)"),
    ):
        _convert(bind, table, key, where, lambda part: change(part, centre))
    _remake_templates(bind)
    op.execute("DELETE FROM face_index_entries")
    op.execute("DELETE FROM face_index_spaces")
    albums = bind.execute(sa.text("SELECT DISTINCT album_id FROM faces WHERE recognizer = :recognizer"),
                          {"recognizer": RECOGNIZER}).scalars().all()
    now = datetime.now(UTC)
    jobs = sa.table("jobs", sa.column("kind", sa.String), sa.column("album_id", sa.String),
                    sa.column("status", sa.String), sa.column("attempts", sa.Integer),
                    sa.column("created_at", sa.DateTime(timezone=True)),
                    sa.column("updated_at", sa.DateTime(timezone=True)))
    rows = [{"kind": kind, "album_id": album, "status": "queued", "attempts": 0, "created_at": now, "updated_at": now}
            for album in albums for kind in ("match", "regroup")]
    if rows:
        op.bulk_insert(jobs, rows)


def _convert(bind: sa.Connection, table: str, key: str, where: str,
             change: Callable[[np.ndarray], np.ndarray]) -> None:
    """Every vector of ``table`` that ``where`` selects, its cosine part changed, in batches of the whole table in
    ``key`` order (walking the primary key: a filter in the WHERE clause could make the database sort every selected
    row again for each batch)."""
    query = sa.text(f"SELECT {key}, CASE WHEN {where} THEN embedding END FROM {table} WHERE {key} > :after "
                    f"ORDER BY {key} LIMIT {BATCH}")
    update = sa.text(f"UPDATE {table} SET embedding = :embedding WHERE {key} = :key").bindparams(
        sa.bindparam("embedding", type_=sa.LargeBinary))
    after = ""
    while rows := bind.execute(query, {"recognizer": RECOGNIZER, "version": FACE_MODEL_VERSION,
                                       "after": after}).all():
        vectors = [(row[0], np.frombuffer(bytes(row[1]), dtype=DTYPE)) for row in rows if row[1] is not None]
        changed = [{"key": key_value, "embedding": _encoded(change(v[:DIM].astype(np.float64)), v[DIM:])}
                   for key_value, v in vectors if len(v) == DIM + 1]  # other lengths: not this recogniser's
        if changed:
            bind.execute(update, changed)
        after = rows[-1][0]


def _encoded(part: np.ndarray, pose: np.ndarray) -> bytes:
    return bytes(np.r_[part, pose].astype(DTYPE).tobytes())


def _unit(part: np.ndarray) -> np.ndarray:
    return part / max(float(np.linalg.norm(part)), 1e-12)


def _remake_templates(bind: sa.Connection) -> None:
    """Each template of this recogniser: the mean of its member's (converted) unit reference vectors and their mean
    pose value (``photosift.faces.make_template``, as it was at this revision); none without such references."""
    members = bind.execute(sa.text("SELECT id FROM members WHERE recognizer = :recognizer AND template IS NOT NULL"),
                           {"recognizer": RECOGNIZER}).scalars().all()
    references: dict[str, list[np.ndarray]] = {}
    for member, blob in bind.execute(sa.text("SELECT member_id, embedding FROM member_references "
                                             "WHERE recognizer = :recognizer"), {"recognizer": RECOGNIZER}):
        references.setdefault(member, []).append(np.frombuffer(bytes(blob), dtype=DTYPE))
    update = sa.text("UPDATE members SET template = :template WHERE id = :id").bindparams(
        sa.bindparam("template", type_=sa.LargeBinary))
    templates = []
    for member in members:
        vectors = np.stack(references[member]) if member in references else None
        template = None
        if vectors is not None and vectors.shape[1] == DIM + 1:
            parts = vectors[:, :DIM] / np.maximum(np.linalg.norm(vectors[:, :DIM], axis=1, keepdims=True), 1e-12)
            template = _encoded(parts.mean(axis=0), vectors[:, DIM:].mean(axis=0))
        templates.append({"template": template, "id": member})
    if templates:
        bind.execute(update, templates)
