"""Matching an album's faces to its members: at most one face per member per photo, best similarity first."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from photosift import faces as face_engine
from photosift.catalog.models import Album, Member, bytes_to_vector
from photosift.index import assign_unique


@dataclass(frozen=True)
class Templates:
    """The members of an album that have a template, and the album's match threshold (0-100)."""

    member_ids: list[str]
    vectors: np.ndarray | None  # (members, d) or None when no member has references
    threshold: float


def load_templates(session: Session, album: Album) -> Templates:
    rows = session.execute(
        select(Member.id, Member.template).where(Member.album_id == album.id, Member.template.is_not(None))
        .order_by(Member.id)
    ).all()
    threshold = album.threshold if album.threshold is not None else face_engine.DEFAULT_THRESHOLD
    if not rows:
        return Templates([], None, threshold)
    return Templates([r[0] for r in rows], np.stack([bytes_to_vector(r[1]) for r in rows]), threshold)


def match_faces(embeddings: list[np.ndarray], too_small: list[bool], templates: Templates
                ) -> list[tuple[str, float] | None]:
    """For each face of ONE photo, ``(member id, similarity)`` or None (unknown).

    Faces the engine flags ``too_small`` are never matched (their embeddings are unreliable).
    """
    result: list[tuple[str, float] | None] = [None] * len(embeddings)
    usable = [i for i, small in enumerate(too_small) if not small]
    if templates.vectors is None or not usable:
        return result
    scores = face_engine.similarity(np.stack([embeddings[i] for i in usable]), templates.vectors)
    for row, (col, sim) in assign_unique(scores, templates.threshold).items():
        result[usable[row]] = (templates.member_ids[col], round(float(sim), 2))
    return result
