"""Synthetic embeddings whose scores are known: for the matching and suggestion tests."""

from __future__ import annotations

import numpy as np

from photosift import faces
from photosift.faces import calibration


class Synthetic:
    """Synthetic unit embeddings built from orthonormal directions the mask probe does not see, so a pair's score
    depends on its cosine alone; ``cosine(score)`` inverts the shipped calibration (robust to a refit)."""

    def __init__(self, seed: int, directions: int = 12) -> None:
        rng = np.random.default_rng(seed)
        probe = np.asarray(calibration.load(faces.EMBEDDER).mask_weights, np.float64)
        span = np.column_stack([probe, rng.normal(size=(len(probe), directions))])
        self.basis = np.linalg.qr(span)[0][:, 1:].T  # orthonormal rows, orthogonal to the probe

    def of(self, **weights: float) -> np.ndarray:
        """``sum(weight * direction)`` with directions named by index (``d0=...``), plus a frontal pose value."""
        v = sum(w * self.basis[int(name[1:])] for name, w in weights.items())
        return np.append(v, 0.0).astype(np.float32)

    def cosine(self, score: float) -> float:
        """The cosine at which two frontal faces score ``score``."""
        lo, hi = -1.0, 1.0
        for _ in range(60):
            mid = (lo + hi) / 2
            got = faces.similarity(self.of(d0=1.0), self.of(d0=mid, d1=np.sqrt(1 - mid**2)))[0, 0]
            lo, hi = (mid, hi) if got < score else (lo, mid)
        return hi
