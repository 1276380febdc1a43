"""An album's faces around one vector (a face, or a member's template): every face that can reach a similarity
against it, from neighbour queries of the album's face index (``album_index``) instead of a read of the album.

The index ranks faces by the cosine of their recogniser vectors plus offsets for their pose and mask
(``scoring.index_vectors``, ``scoring.index_query``); the calibrated score rises with that key within known bounds
(``scoring.ceiling``). So once the farthest face of an answer is too far for any face to reach the similarity
wanted, no face beyond it can: the query widens (k doubling from :data:`START`) until then, or up to :data:`MOST`.
The index is approximate past ``face_index.CODED_FROM`` faces: its recall of the nearest faces, not this bound, is
what could miss one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

import numpy as np

from photosift import faces as face_engine
from photosift.application import scoring
from photosift.application.grouping import NEIGHBOURS, Nearest
from photosift.catalog import faces
from photosift.catalog.db import Session
from photosift.catalog.models import bytes_to_vector

START = NEIGHBOURS
"""Faces the first query asks for."""
MOST = 3072
"""The most faces one query asks for (48 doubled six times); past it the caller reads the album instead."""


class Neighbour(NamedTuple):
    """A face that can be compared: not too small, not placed by hand, of the running recogniser."""

    id: str
    photo_id: str
    vector: np.ndarray


def around(session: Session, album_id: str, nearest: Nearest, query: np.ndarray, floor: float, *,
           enough: Callable[[list[Neighbour]], bool] | None = None, most: int | None = None
           ) -> list[Neighbour] | None:
    """Every comparable face of the album that can score ``floor`` or more against ``query`` (a superset: the
    caller scores them exactly); sooner when ``enough`` says the faces found so far suffice. None when ``nearest``
    cannot tell (no index) or ``most`` faces (default :data:`MOST`) do not reach that far."""
    k, loaded = START, {}
    direction = scoring.index_query(query)
    while True:
        found = nearest(query, k)
        if found is None:
            return None
        loaded.update(_load(session, album_id, [i for i in found if i not in loaded]))
        usable = [n for n, _ in loaded.values() if n is not None]
        if len(found) < k or (enough is not None and enough(usable)):  # fewer than asked: every face of the album
            return usable
        answer = [loaded[i][1] for i in found if i in loaded]
        farthest = float((scoring.index_vectors(answer) @ direction).min()) if answer else 1.0
        if scoring.ceiling(query, farthest) < floor:
            return usable
        if k >= (MOST if most is None else most):
            return None
        k *= 2


def _load(session: Session, album_id: str, ids: Iterable[str]) -> dict[str, tuple[Neighbour | None, np.ndarray]]:
    """``id -> (the face if comparable, its embedding)`` for the album's faces among ``ids`` (read by key alone)."""
    out = {}
    for face in faces.vectors(session, face_ids=list(ids)):
        if face.album_id == album_id and face.recognizer == face_engine.EMBEDDER:
            vector = bytes_to_vector(face.embedding)
            comparable = not (face.pinned or face.too_small)
            out[face.id] = (Neighbour(face.id, face.photo_id, vector) if comparable else None, vector)
    return out


__all__ = ["MOST", "START", "Neighbour", "around"]
