"""Calibrated similarity: raw cosine scores of each embedding part -> one 0-100 score.

For an embedder made of parts (e.g. FaceNet + dlib), the per-part cosines ``c_i`` are combined by a logistic model
fitted on genuine/impostor pairs (``eval/calibrate_similarity.py``): ``z = bias + sum_i weight_i * c_i`` is the
log-odds that the two faces are the same person (with balanced classes). The reported similarity is
``100 * sigmoid(z + logit(threshold / 100))``: monotone in every cosine, and exactly ``threshold`` (the documented
default, 80) where the fitted model is undecided, so "similarity >= 80" is the fitted decision rule.
The fitted parameters live in ``calibration.json`` next to this module, keyed by embedder name.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


@dataclass(frozen=True)
class Calibration:
    """Parameters of the score mapping for one embedder (see the module docstring)."""

    embedder: str
    part_dims: tuple[int, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float

    def part_cosines(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``(parts, n, m)`` cosine similarities of each part of ``a`` (n, d) against ``b`` (m, d).

        Parts longer than 1 are scaled to unit length; shorter ones are kept, so a template from
        :func:`make_template` (a mean of unit vectors) scores the mean cosine to its references."""
        a = np.atleast_2d(np.asarray(a, dtype=np.float32))
        b = np.atleast_2d(np.asarray(b, dtype=np.float32))
        expected = sum(self.part_dims)
        if a.shape[1] != expected or b.shape[1] != expected:
            raise ValueError(f"embeddings must have {expected} values, got {a.shape[1]} and {b.shape[1]}")
        out = []
        for pa, pb in zip(_parts(a, self.part_dims), _parts(b, self.part_dims), strict=True):
            pa = pa / np.maximum(np.linalg.norm(pa, axis=1, keepdims=True), 1.0)
            pb = pb / np.maximum(np.linalg.norm(pb, axis=1, keepdims=True), 1.0)
            out.append(pa @ pb.T)
        return np.stack(out)

    def logit(self, cosines: np.ndarray) -> np.ndarray:
        """Fitted log-odds from per-part cosines of shape ``(parts, ...)``."""
        weights = np.asarray(self.weights, dtype=np.float64).reshape((-1,) + (1,) * (cosines.ndim - 1))
        return self.bias + (weights * cosines).sum(axis=0)

    def to_similarity(self, logit: np.ndarray) -> np.ndarray:
        """Log-odds -> similarity 0-100, equal to ``threshold`` at log-odds 0."""
        shift = math.log(self.threshold / (100.0 - self.threshold))
        return (100.0 / (1.0 + np.exp(-(np.asarray(logit, dtype=np.float64) + shift)))).astype(np.float32)

    def similarity(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``(n, m)`` similarity 0-100 of embeddings ``a`` (n, d) and ``b`` (m, d)."""
        return self.to_similarity(self.logit(self.part_cosines(a, b)))


@cache
def load(embedder: str) -> Calibration:
    """The shipped calibration of ``embedder`` (e.g. ``"facenet+dlib"``)."""
    table = json.loads(CALIBRATION_FILE.read_text())
    if embedder not in table:
        raise KeyError(f"no calibration for embedder {embedder!r}; run eval/calibrate_similarity.py")
    entry = table[embedder]
    return Calibration(
        embedder=embedder,
        part_dims=tuple(entry["part_dims"]),
        weights=tuple(entry["weights"]),
        bias=float(entry["bias"]),
        threshold=float(entry["threshold"]),
    )


def make_template(embeddings: Sequence[np.ndarray], part_dims: Sequence[int]) -> np.ndarray:
    """One vector for several embeddings of one person: the per-part mean of their unit vectors.

    It is not re-normalised: compared with :meth:`Calibration.similarity` it scores the mean cosine to the
    references, on the calibrated scale. (A re-normalised mean sits closer to everyone: with three references it
    let 11 % of other people past 80 instead of 6 %, ``eval/levers.py``.)
    """
    if len(embeddings) == 0:
        raise ValueError("make_template needs at least one embedding")
    stack = np.atleast_2d(np.asarray(list(embeddings), dtype=np.float32))
    means = [(p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12)).mean(axis=0)
             for p in _parts(stack, part_dims)]
    return np.concatenate(means).astype(np.float32)


def _parts(rows: np.ndarray, part_dims: Sequence[int]) -> list[np.ndarray]:
    """The column blocks of ``rows`` (n, sum(part_dims)), one per embedding part."""
    return np.split(rows, np.cumsum(part_dims)[:-1], axis=1)
