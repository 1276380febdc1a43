"""The face index's key (``scoring.index_vectors`` against ``scoring.index_query``): it ranks faces nearly as the
calibrated score does whatever their pose and mask, and ``scoring.ceiling`` bounds the score of every face ranked
after a key."""

from __future__ import annotations

import numpy as np
import pytest

from photosift import faces
from photosift.application import scoring
from photosift.faces import calibration

DIM = faces.EMBEDDING_DIM - 1


def _conditions(rng: np.random.Generator, vectors: np.ndarray) -> np.ndarray:
    """``vectors`` as embeddings with poses from frontal to profile, a quarter pushed along the calibration's mask
    probe (masked)."""
    probe = np.asarray(calibration.load(faces.EMBEDDER).mask_weights, np.float64)
    vectors = vectors + np.outer(rng.choice([0.0, 0.0, 0.0, 0.3], len(vectors)), probe / np.linalg.norm(probe))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.column_stack([vectors, rng.choice([0.0, 0.1, 0.2, 0.5, 0.8, 1.0], len(vectors))]).astype(np.float32)


def _around(rng: np.random.Generator, query: np.ndarray, count: int) -> np.ndarray:
    """``count`` faces at cosines about 0.12 +- 0.08 to ``query``'s vector (a crowd of strangers, some of whom
    reach the threshold: the more easily, the more turned or masked they are)."""
    direction = query[:DIM] / np.linalg.norm(query[:DIM])
    others = rng.normal(size=(count, DIM))
    others -= np.outer(others @ direction, direction)
    others /= np.linalg.norm(others, axis=1, keepdims=True)
    cosine = np.clip(rng.normal(0.12, 0.08, count), -1, 1)[:, None]
    return _conditions(rng, cosine * direction + np.sqrt(1 - cosine**2) * others)


def _faces(rng: np.random.Generator, count: int) -> np.ndarray:
    vectors = rng.normal(size=(count, DIM))
    return _conditions(rng, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_key_ranks_the_faces_that_reach_the_threshold_first(seed: int) -> None:
    rng = np.random.default_rng(seed)
    missed, wanted = {"key": 0, "cosine": 0}, 0
    for query in _faces(rng, 20):
        stored = _around(rng, query, 4000)
        scores = scoring.similarity(query, scoring.prepare(stored))[0]
        best = np.argsort(-scores)[:10]
        best = set(best[scores[best] >= scoring.DEFAULT_THRESHOLD].tolist())
        wanted += len(best)
        for name, ranking in (("key", scoring.index_vectors(stored) @ scoring.index_query(query)),
                              ("cosine", stored[:, :DIM] @ query[:DIM])):
            missed[name] += len(best - set(np.argsort(-ranking)[:64].tolist()))
    assert missed["key"] <= 0.05 * wanted  # a masked query among turned faces: the offsets are approximate there
    assert missed["cosine"] >= 4 * max(missed["key"], 1)  # side views and masks reach 80 at lower cosines


def test_no_face_ranked_after_a_key_scores_above_its_ceiling() -> None:
    rng = np.random.default_rng(7)
    queries = _faces(rng, 10)
    for query in [*queries, scoring.template(list(queries[:3]))]:
        stored = _around(rng, query, 3000)
        keys = scoring.index_vectors(stored) @ scoring.index_query(query)
        scores = scoring.similarity(query, scoring.prepare(stored))[0]
        for key in np.quantile(keys, [0.5, 0.9, 0.99]):
            after = keys <= key
            assert scores[after].max() <= scoring.ceiling(query, float(key)) + 1e-3


def test_vectors_of_another_recogniser_keep_their_direction() -> None:
    other = np.append(np.ones(128, np.float32), 0.3)
    vector = scoring.index_vectors([other])[0]
    assert vector.shape == (130,)
    np.testing.assert_allclose(vector[:128], np.full(128, 1 / np.sqrt(128)), rtol=1e-5)
    assert not vector[128:].any()
