"""The one place that scores face vectors: the calibrated similarity of query vectors against stored ones, and the
template that stands for several vectors of one person (a member, a Rekognition user, a person of an album).

Album matching, people grouping, suggestions, Rekognition search and users and the CLI all score through here, so
a change of recogniser, calibration or index reaches every caller at once. Stored vectors are the engine's
embeddings (``photosift.faces``): the recogniser's vector and a pose value; vectors of another dimension (another
recogniser's, never compared) score 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from photosift import faces as face_engine
from photosift.faces.calibration import Prepared

DEFAULT_THRESHOLD = face_engine.DEFAULT_THRESHOLD


def similarity(queries: np.ndarray, stored: np.ndarray | Prepared) -> np.ndarray:
    """``(n, m)`` calibrated similarity 0-100 of ``queries`` (n, d) against ``stored`` (m, d) (1-D: one row)."""
    return face_engine.similarity(queries, stored)


def scores(probe: np.ndarray, stored: Sequence[np.ndarray]) -> np.ndarray:
    """``(m,)`` similarity of one ``probe`` to each stored vector; a vector of another dimension scores 0."""
    probe = np.asarray(probe, dtype=np.float32).reshape(-1)
    out = np.zeros(len(stored), dtype=np.float64)
    same = [i for i, v in enumerate(stored) if v.shape == probe.shape]
    if same:
        out[same] = similarity(probe, np.stack([stored[i] for i in same]))[0]
    return out


def index_vectors(embeddings: Sequence[np.ndarray]) -> np.ndarray:
    """What the face index holds of embeddings, ``(n, d + 2)``: the recogniser's unit vector and two offsets (the
    face's pose and mask), so that the inner product with :func:`index_query` ranks faces as the calibrated score
    does (``faces.index_vectors``; the calibrated score re-ranks the candidates). Embeddings of another recogniser
    than the running one (never compared with its vectors) get their unit vector and zero offsets."""
    rows = np.stack([np.asarray(e, dtype=np.float32).reshape(-1) for e in embeddings])
    if rows.shape[1] == face_engine.EMBEDDING_DIM:
        return face_engine.index_vectors(rows)
    vectors = rows[:, :-1] / np.maximum(np.linalg.norm(rows[:, :-1], axis=1, keepdims=True), 1e-12)
    return np.column_stack([vectors, np.zeros((len(rows), 2), np.float32)])


def index_query(embedding: np.ndarray) -> np.ndarray:
    """The face index's query for one embedding (a face, or a template) against :func:`index_vectors`."""
    return face_engine.index_query(np.asarray(embedding, dtype=np.float32).reshape(-1))


def ceiling(embedding: np.ndarray, key: float) -> float:
    """The highest similarity to ``embedding`` of any face whose index vector has at most ``key`` as inner product
    with ``index_query(embedding)``: a neighbour query whose farthest answer is at ``key`` holds every face scoring
    more."""
    return face_engine.similarity_ceiling(embedding, key)


def template(vectors: Sequence[np.ndarray]) -> np.ndarray:
    """One vector for several vectors of one person: scores the mean cosine to them (``faces.make_template``)."""
    return np.asarray(face_engine.make_template(list(vectors)), dtype=np.float32)


def prepare(vectors: np.ndarray) -> Prepared:
    """``vectors`` (n, d) made ready to be scored many times (an album's faces)."""
    return face_engine.prepare(vectors)


def mask_probability(vectors: np.ndarray) -> np.ndarray:
    """``(n,)`` probability that each face wears a mask."""
    return face_engine.mask_probability(vectors)


def same_face(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(n, m)`` bool: which vectors of ``a`` and ``b`` show one and the same face (one photo twice)."""
    return face_engine.same_face(a, b)


__all__ = [
    "DEFAULT_THRESHOLD", "Prepared", "ceiling", "index_query", "index_vectors", "mask_probability", "prepare",
    "same_face", "scores", "similarity", "template",
]
