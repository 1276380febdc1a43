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
    """What the face index holds of embeddings, ``(n, d - 1)``: the recogniser's vector (all values but the final
    pose value) at unit length, ranked by inner product (the cosine; the calibrated score re-ranks the candidates)."""
    vectors = np.stack([np.asarray(e, dtype=np.float32).reshape(-1)[:-1] for e in embeddings])
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def ceiling(embedding: np.ndarray, cosine: float) -> float:
    """The highest similarity to ``embedding`` of any face at most at ``cosine`` from it in the face index
    (``index_vectors``): a neighbour query that reached that cosine holds every face scoring more."""
    return face_engine.similarity_ceiling(embedding, cosine)


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
    "DEFAULT_THRESHOLD", "Prepared", "ceiling", "index_vectors", "mask_probability", "prepare", "same_face", "scores",
    "similarity", "template",
]
