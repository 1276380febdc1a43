"""Exact face-vector search with NumPy: which stored vectors are most similar to a query, and one-to-one matching.

Similarities come from ``photosift.faces.similarity`` (0-100, calibrated so ``faces.DEFAULT_THRESHOLD`` means the
same for every engine). Exact search costs O(n·d) per query: fine up to a few hundred thousand faces on one core;
an ANN library can replace ``VectorIndex`` behind the same methods at larger scale.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Hit:
    """One search result: the stored item's key and its similarity (0-100) to the query."""

    key: Hashable
    similarity: float


def _similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from photosift.faces import similarity  # the engine's calibrated 0-100 similarity

    return np.asarray(similarity(a, b), dtype=np.float64)


class VectorIndex:
    """An in-memory set of ``(key, vector)`` pairs searched exactly. Not thread-safe for concurrent ``add``."""

    def __init__(self, keys: Sequence[Hashable] = (), vectors: np.ndarray | None = None) -> None:
        self._keys: list[Hashable] = list(keys)
        if vectors is None or len(self._keys) == 0:
            self._vectors: np.ndarray | None = None
        else:
            self._vectors = np.asarray(vectors, dtype=np.float32).reshape(len(self._keys), -1)

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: Hashable, vector: np.ndarray) -> None:
        """Add one vector under ``key``."""
        row = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        self._vectors = row if self._vectors is None else np.vstack([self._vectors, row])
        self._keys.append(key)

    def search(self, query: np.ndarray, *, k: int = 10, threshold: float | None = None) -> list[Hit]:
        """The ``k`` most similar items to the 1-d ``query``, best first, at or above ``threshold`` when given."""
        if self._vectors is None or k <= 0:
            return []
        scores = _similarity(np.asarray(query, dtype=np.float32).reshape(1, -1), self._vectors)[0]
        order = np.argsort(-scores, kind="stable")[:k]
        return [Hit(self._keys[i], float(scores[i])) for i in order if threshold is None or scores[i] >= threshold]


def assign_unique(scores: np.ndarray, threshold: float) -> dict[int, tuple[int, float]]:
    """One-to-one matching of rows (faces of one photo) to columns (members) from a similarity matrix.

    Pairs are taken greedily from the highest similarity down, each row and each column at most once, only pairs
    with similarity >= ``threshold``. Returns ``{row: (column, similarity)}``; rows left out are unknown faces.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0:
        return {}
    rows, cols = np.nonzero(scores >= threshold)
    pairs = sorted(zip(rows.tolist(), cols.tolist(), strict=True), key=lambda rc: -scores[rc])
    taken_rows: dict[int, tuple[int, float]] = {}
    taken_cols: set[int] = set()
    for r, c in pairs:
        if r in taken_rows or c in taken_cols:
            continue
        taken_rows[r] = (c, float(scores[r, c]))
        taken_cols.add(c)
    return taken_rows


__all__ = ["Hit", "VectorIndex", "assign_unique"]
