"""Calibrated similarity: two face embeddings -> one 0-100 score whose thresholds mean false-match rates.

An embedding is made of *cosine parts* (the recogniser's unit vector; the model allows several) followed by one
*pose* value (``|yaw| / 90``, see :func:`pose_value`). For a pair of faces the score model sees:

- ``c_i``: the cosine of each part;
- ``p``: the larger pose value of the two faces (a side view on either side lowers genuine cosines);
- ``m``: the larger *mask probability* of the two (a linear probe on the embedding, fitted on faces with and without
  a synthetic mask): a masked face lowers genuine cosines towards unmasked ones and raises them towards other
  masked faces; ``mm`` is the product of both mask probabilities (both masked).

``z = bias + sum_k weight_k * feature_k`` over the features ``c_i``, and the conditions the fit uses (``p``, ``m``
and ``mm`` by default) with their products with each ``c_i``: a logistic model of "same person" fitted on all
genuine/impostor pairs of the evaluation sets (``eval/calibrate_similarity.py``). The reported similarity is
``100 * sigmoid(scale * z + offset)``, with ``scale`` and ``offset`` set so that the default threshold (80) sits at a
false-match rate of 3e-4 per comparison on the fitted pairs and 90 at 1.5e-5 (``w600k_mbf`` and ``sface-yunet``;
``sface``: 5e-4 and 2.5e-5), about 1e-3 and 1e-4 on pairs of people not used to fit (the table in the README). It is
monotone in every cosine under every condition. The fitted parameters live in ``calibration.json`` next to this
module, keyed by embedder name.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
CONDITIONS = ("p", "m", "mm")
"""Pair conditions the model knows: a side view on either face, a mask on either face, masks on both."""


def feature_names(parts: int, conditions: Sequence[str] = CONDITIONS) -> list[str]:
    """Names of the model's features for ``parts`` cosine parts and ``conditions``, in the order of
    :meth:`Calibration.features`."""
    cosines = [f"c{i + 1}" for i in range(parts)]
    return cosines + [name for cond in conditions for name in (cond, *(f"{cond}*{c}" for c in cosines))]


def pose_value(yaw: float) -> float:
    """The pose value stored at the end of an embedding: ``|yaw| / 90``, capped at 1."""
    return min(abs(float(yaw)), 90.0) / 90.0


@dataclass(frozen=True)
class Prepared:
    """Embeddings made ready to score: cosine parts, pose values and mask probabilities. Prepare a set that is
    compared again and again (an album's faces) once, instead of on every comparison."""

    parts: list[np.ndarray]
    pose: np.ndarray
    mask: np.ndarray

    def __len__(self) -> int:
        return len(self.pose)


@dataclass(frozen=True)
class Calibration:
    """Parameters of the score for one embedder (see the module docstring)."""

    embedder: str
    part_dims: tuple[int, ...]
    weights: tuple[float, ...]  # one per feature_names(len(part_dims))
    bias: float
    scale: float
    offset: float
    mask_weights: tuple[float, ...]  # linear probe on the concatenated unit cosine parts
    mask_bias: float
    conditions: tuple[str, ...] = CONDITIONS  # the pair conditions this model uses (a subset of CONDITIONS)

    @property
    def dim(self) -> int:
        """Length of an embedding: the cosine parts and the pose value."""
        return sum(self.part_dims) + 1

    def split(self, rows: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """``(cosine parts scaled to at most unit length, pose values)`` of embeddings ``rows`` (n, dim).

        Parts longer than 1 are scaled to unit length and shorter ones kept, so a template from
        :func:`make_template` (a mean of unit vectors) scores the mean cosine to its references."""
        rows = np.atleast_2d(np.asarray(rows, dtype=np.float32))
        if rows.shape[1] != self.dim:
            raise ValueError(f"embeddings must have {self.dim} values, got {rows.shape[1]}")
        parts = np.split(rows[:, :-1], np.cumsum(self.part_dims)[:-1], axis=1)
        parts = [p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1.0) for p in parts]
        return parts, rows[:, -1]

    def mask_probability(self, parts: Sequence[np.ndarray]) -> np.ndarray:
        """``(n,)`` probability that each face wears a mask, from its cosine parts."""
        z = np.concatenate(parts, axis=1) @ np.asarray(self.mask_weights, np.float32) + self.mask_bias
        return 1.0 / (1.0 + np.exp(-z))

    def prepare(self, rows: np.ndarray | Prepared) -> Prepared:
        """``rows`` (n, dim) ready to score (unchanged when already prepared)."""
        if isinstance(rows, Prepared):
            return rows
        parts, pose = self.split(rows)
        return Prepared(parts, pose, self.mask_probability(parts))

    def features(self, a: np.ndarray | Prepared, b: np.ndarray | Prepared) -> np.ndarray:
        """``(features, n, m)``: the model's features for every pair of ``a`` (n, dim) and ``b`` (m, dim)."""
        pa, pb = self.prepare(a), self.prepare(b)
        cosines = [x @ y.T for x, y in zip(pa.parts, pb.parts, strict=True)]
        return self._features(cosines, {"p": lambda: np.maximum.outer(pa.pose, pb.pose),
                                        "m": lambda: np.maximum.outer(pa.mask, pb.mask),
                                        "mm": lambda: np.outer(pa.mask, pb.mask)})

    def index_vectors(self, rows: np.ndarray, threshold: float) -> np.ndarray:
        """``(n, d + 2)``: what a face index holds of embeddings ``rows`` so that its inner product with
        :meth:`index_query` ranks faces as this score does. The unit recogniser vector, then how much less cosine
        than a frontal unmasked face the face needs to reach ``threshold`` against a frontal unmasked face, for its
        pose and for its mask probability. Against a query ``[q, 1 - pose, 1 - mask]`` the inner product is the
        cosine plus those offsets, each weighted by how much the query's own condition leaves to the face's (the
        pair's condition is the larger of the two: ``max(a, b) ~ a + b (1 - a)``). A model of several cosine parts
        gets zero offsets."""
        prepared = self.prepare(rows)
        vectors = np.concatenate(prepared.parts, axis=1)
        vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        offsets = np.zeros((len(vectors), 2), np.float32)
        if len(self.part_dims) == 1:
            zero = np.zeros(len(vectors))
            frontal = self._needed_cosine(zero, zero, threshold)
            offsets[:, 0] = frontal - self._needed_cosine(prepared.pose, zero, threshold)
            offsets[:, 1] = frontal - self._needed_cosine(zero, prepared.mask, threshold)
        return np.concatenate([vectors, offsets], axis=1).astype(np.float32)

    def index_query(self, row: np.ndarray) -> np.ndarray:
        """``(d + 2,)``: the query for :meth:`index_vectors` of one embedding (a face, or a template: its direction)."""
        prepared = self.prepare(row)
        vector = np.concatenate(prepared.parts, axis=1)[0]
        vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
        return np.concatenate([vector, [1.0 - prepared.pose[0], 1.0 - prepared.mask[0]]]).astype(np.float32)

    def _needed_cosine(self, pose: np.ndarray, mask: np.ndarray, threshold: float) -> np.ndarray:
        """The cosine at which a face of ``pose`` and ``mask`` (per face) reaches ``threshold`` against a frontal
        unmasked face (the score's log-odds are linear in the cosine under each condition)."""
        conditions = {"p": lambda: np.asarray(pose, np.float64), "m": lambda: np.asarray(mask, np.float64),
                      "mm": lambda: np.zeros(len(pose))}
        at_zero = self.logit(self._features([np.zeros(len(pose))], conditions))
        slope = self.logit(self._features([np.ones(len(pose))], conditions)) - at_zero
        wanted = (np.log(threshold / (100.0 - threshold)) - self.offset) / self.scale
        return (wanted - at_zero) / np.maximum(slope, 1e-6)

    def ceiling(self, row: np.ndarray, key: float, threshold: float) -> float:
        """The highest similarity to ``row`` (one embedding, e.g. a template) that any embedding can reach whose
        :meth:`index_vectors` (made for ``threshold``) has at most ``key`` as inner product with ``row``'s
        :meth:`index_query`, whatever its pose and mask: faces ranked after a nearest-neighbour answer cannot score
        above it. The score rises with the cosine; its largest value is sought over a grid of the other face's pose
        and mask probability (the cosine such a face can have at most is ``key`` less its weighted offsets). 100 for
        a model of several cosine parts (a cosine of the whole vector bounds none of them)."""
        if len(self.part_dims) != 1:
            return 100.0
        mine = self.prepare(row)
        pose, mask = float(mine.pose[0]), float(mine.mask[0])
        length = float(np.linalg.norm(mine.parts[0][0]))  # a template's part is shorter than 1: its mean cosine
        grid, zero = np.linspace(0.0, 1.0, 21), np.zeros(21)
        frontal = self._needed_cosine(zero, zero, threshold)
        pose_offsets = frontal - self._needed_cosine(grid, zero, threshold)
        mask_offsets = frontal - self._needed_cosine(zero, grid, threshold)
        at_pose, at_mask = (g.ravel() for g in np.meshgrid(np.arange(21), np.arange(21)))
        other_pose, other_mask = grid[at_pose], grid[at_mask]
        cosine = key - (1 - pose) * pose_offsets[at_pose] - (1 - mask) * mask_offsets[at_mask]
        cosines = [np.clip(cosine, 0.0, 1.0) * length]
        return float(self.to_similarity(self.logit(self._features(cosines, {
            "p": lambda: np.maximum(pose, other_pose), "m": lambda: np.maximum(mask, other_mask),
            "mm": lambda: mask * other_mask}))).max())

    def _features(self, cosines: list[np.ndarray], makers: dict[str, Callable[[], np.ndarray]]) -> np.ndarray:
        out = list(cosines)
        for name in self.conditions:
            cond = makers[name]()
            out += [cond, *(cond * c for c in cosines)]
        return np.stack(out).astype(np.float64)

    def logit(self, features: np.ndarray) -> np.ndarray:
        """Fitted log-odds of "same person" from features of shape ``(features, ...)``."""
        weights = np.asarray(self.weights, dtype=np.float64).reshape((-1,) + (1,) * (features.ndim - 1))
        return self.bias + (weights * features).sum(axis=0)

    def to_similarity(self, logit: np.ndarray) -> np.ndarray:
        """Log-odds -> similarity 0-100 (``100 * sigmoid(scale * logit + offset)``)."""
        z = self.scale * np.asarray(logit, dtype=np.float64) + self.offset
        return (100.0 / (1.0 + np.exp(-z))).astype(np.float32)

    def similarity(self, a: np.ndarray | Prepared, b: np.ndarray | Prepared) -> np.ndarray:
        """``(n, m)`` similarity 0-100 of embeddings ``a`` (n, dim) and ``b`` (m, dim), either prepared or not."""
        return self.to_similarity(self.logit(self.features(a, b)))


@cache
def load(embedder: str) -> Calibration:
    """The shipped calibration of ``embedder`` (e.g. ``"w600k_mbf"``)."""
    table = json.loads(CALIBRATION_FILE.read_text())
    if embedder not in table:
        raise KeyError(f"no calibration for embedder {embedder!r}; run eval/calibrate_similarity.py --write")
    return from_dict(embedder, table[embedder])


def from_dict(embedder: str, entry: dict) -> Calibration:
    """A :class:`Calibration` from its ``calibration.json`` entry."""
    return Calibration(
        embedder=embedder, part_dims=tuple(entry["part_dims"]), weights=tuple(entry["weights"]),
        bias=float(entry["bias"]), scale=float(entry["scale"]), offset=float(entry["offset"]),
        mask_weights=tuple(entry["mask_weights"]), mask_bias=float(entry["mask_bias"]),
        conditions=tuple(entry.get("conditions", CONDITIONS)),
    )


def make_template(embeddings: Sequence[np.ndarray], part_dims: Sequence[int]) -> np.ndarray:
    """One vector for several embeddings of one person: the per-part mean of their unit vectors, and the mean pose.

    It is not re-normalised: compared with :meth:`Calibration.similarity` it scores the mean cosine to the
    references, on the calibrated scale. (A re-normalised mean sits closer to everyone: with three references it
    let 11 % of other people past the old 80 instead of 6 %, ``eval/levers.py``.)
    """
    if len(embeddings) == 0:
        raise ValueError("make_template needs at least one embedding")
    stack = np.atleast_2d(np.asarray(list(embeddings), dtype=np.float32))
    cosine_dim = sum(part_dims)
    parts = np.split(stack[:, :cosine_dim], np.cumsum(part_dims)[:-1], axis=1)
    means = [(p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12)).mean(axis=0) for p in parts]
    return np.concatenate(means + [stack[:, cosine_dim:].mean(axis=0)]).astype(np.float32)
