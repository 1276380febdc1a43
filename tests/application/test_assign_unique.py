"""One-to-one matching of a photo's faces to members (``matching.assign_unique``)."""

from __future__ import annotations

import numpy as np

from photosift.application.matching import assign_unique


def test_assign_unique_takes_best_pairs_once() -> None:
    scores = np.array([
        [95.0, 85.0],  # face 0: member 0 best
        [90.0, 10.0],  # face 1: also member 0, but face 0 has it with a higher score
        [20.0, 30.0],  # face 2: below threshold
    ])
    result = assign_unique(scores, threshold=80)
    assert result == {0: (0, 95.0)}  # face 0 took member 0 (95); member 1's only candidate (face 0) is taken


def test_assign_unique_gives_each_member_its_best_face() -> None:
    scores = np.array([[81.0, 99.0], [97.0, 90.0]])
    assert assign_unique(scores, threshold=80) == {0: (1, 99.0), 1: (0, 97.0)}
    assert assign_unique(np.zeros((0, 3)), threshold=80) == {}
