"""Open-set decisions of album matching (photosift.application.matching) on synthetic embeddings."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from photosift import faces
from photosift.application.matching import (
    ALBUM_THRESHOLD,
    CONFIDENT,
    RECURRING,
    Templates,
    match_faces,
    open_set_scores,
    with_album_evidence,
)
from photosift.faces import calibration


def person(rng: np.random.Generator) -> np.ndarray:
    e = rng.normal(size=faces.EMBEDDING_DIM).astype(np.float32)
    e[-1] = 0.0  # frontal
    return e


def sighting(rng: np.random.Generator, who: np.ndarray, noise: float = 0.3) -> np.ndarray:
    e = who + noise * rng.normal(size=who.shape).astype(np.float32)
    e[-1] = 0.0
    return e


def test_a_face_goes_to_its_member_and_a_stranger_to_nobody() -> None:
    rng = np.random.default_rng(0)
    alice, bob, stranger = person(rng), person(rng), person(rng)
    templates = Templates(["alice", "bob"], np.stack([alice, bob]), ALBUM_THRESHOLD)
    result = match_faces([sighting(rng, bob), stranger, sighting(rng, alice)], [False, False, False], templates)
    assert result[0] is not None and result[0][0] == "bob" and result[0][1] >= ALBUM_THRESHOLD
    assert result[1] is None
    assert result[2] is not None and result[2][0] == "alice"
    # too small faces are never matched
    assert match_faces([sighting(rng, alice)], [True], templates) == [None]


def test_a_face_that_fits_two_members_equally_is_unknown() -> None:
    rng = np.random.default_rng(1)
    alice = person(rng)
    twin = sighting(rng, alice, noise=0.05)
    templates = Templates(["alice", "twin"], np.stack([alice, twin]), ALBUM_THRESHOLD)
    face = sighting(rng, alice, noise=0.05)
    scores = faces.similarity(face, templates.vectors)
    assert (scores >= ALBUM_THRESHOLD).all()  # both members would take it on the threshold alone
    assert match_faces([face], [False], templates) == [None]


def test_a_rejected_face_and_its_look_alikes_stop_matching_that_member() -> None:
    rng = np.random.default_rng(2)
    alice, lookalike = person(rng), person(rng)
    lookalike = 0.45 * lookalike + alice  # resembles Alice: above the album's threshold for her
    lookalike[-1] = 0.0
    seen = sighting(rng, lookalike, noise=0.05)
    plain = Templates(["alice"], np.stack([alice]), ALBUM_THRESHOLD)
    assert match_faces([seen], [False], plain)[0][0] == "alice"
    corrected = Templates(["alice"], np.stack([alice]), ALBUM_THRESHOLD, {0: np.stack([lookalike])})
    assert match_faces([seen], [False], corrected) == [None]
    # Alice herself still matches: she is closer to her template than to the rejected face
    assert match_faces([sighting(rng, alice, noise=0.05)], [False], corrected)[0][0] == "alice"
    raw = faces.similarity(np.stack([seen]), corrected.vectors)
    assert open_set_scores(raw, np.stack([seen]), corrected)[0, 0] == 0.0


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


def test_a_look_alike_of_the_selfie_needs_the_album_s_confident_faces_to_agree() -> None:
    f = Synthetic(5)
    doubtful, confident = f.cosine((ALBUM_THRESHOLD + CONFIDENT) / 2), f.cosine((CONFIDENT + 100) / 2)
    a = np.sqrt(confident)  # Alice's look in every photo; the rest is each photo's own
    b = np.sqrt(1 - a**2)
    selfie = f.of(d0=a, d1=b)
    in_album = [f.of(d0=a, **{f"d{k}": b}) for k in (2, 3, 4)]  # Alice in three other photos: confident
    look_alike = f.of(d1=doubtful / b, d5=np.sqrt(1 - (doubtful / b) ** 2))  # shares the selfie's look, not Alice's
    doubtful_alice = f.of(d0=doubtful / a, d6=np.sqrt(1 - (doubtful / a) ** 2))
    alone = Templates(["alice"], np.stack([selfie]), ALBUM_THRESHOLD, evidence={0: np.stack([selfie])})
    for face in (look_alike, doubtful_alice):  # both between the threshold and CONFIDENT against the selfie
        assert ALBUM_THRESHOLD <= faces.similarity(face, alone.vectors)[0, 0] < CONFIDENT
        assert match_faces([face], [False], alone)[0][0] == "alice"  # no album evidence yet: the selfie decides
    ids = ["p1", "p2", "p3"]
    album = with_album_evidence(alone, ids, in_album, [True, True, True])
    assert [owner for owner, _ in album.confident[0]] == ids  # each of them is confident evidence
    assert match_faces([look_alike], [False], album, "p9") == [None]
    assert match_faces([doubtful_alice], [False], album, "p9")[0][0] == "alice"
    # a photo's own faces are not evidence for themselves; faces the engine cannot compare are never evidence
    assert match_faces([look_alike], [False], replace(album, confident={0: album.confident[0][:1]}), "p1")[0][0] \
        == "alice"
    assert with_album_evidence(alone, ids, in_album, [False, False, False]).confident == {}


def test_a_recurring_stranger_is_recognised_by_his_other_photos() -> None:
    """Rule 5: a doubtful match whose near-certain look-alikes in other photos all stay below the threshold for the
    member is dropped at the album's re-match; one look-alike is not enough, and a member's own doubtful face, whose
    look-alikes reach the threshold, still matches."""
    f = Synthetic(6)
    doubtful, confident = f.cosine((ALBUM_THRESHOLD + CONFIDENT) / 2), f.cosine((CONFIDENT + 100) / 2)
    selfie = f.of(d0=1.0)
    resembling = f.of(d0=doubtful, d1=np.sqrt(1 - doubtful**2))  # the stranger in one photo, like the selfie
    # the same stranger in other photos: near-certainly him, and less like the selfie
    elsewhere = [confident * resembling + f.of(**{f"d{k}": np.sqrt(1 - confident**2)}) for k in range(2, 2 + RECURRING)]
    alone = Templates(["alice"], np.stack([selfie]), ALBUM_THRESHOLD, evidence={0: np.stack([selfie])})
    assert ALBUM_THRESHOLD <= faces.similarity(resembling, selfie)[0, 0] < CONFIDENT
    assert (faces.similarity(np.stack(elsewhere), resembling)[:, 0] >= CONFIDENT).all()
    assert (faces.similarity(np.stack(elsewhere), selfie)[:, 0] < ALBUM_THRESHOLD).all()
    photos = [f"p{i}" for i in range(len(elsewhere))]
    album = with_album_evidence(alone, ["p9", *photos], [resembling, *elsewhere], [True] * (len(elsewhere) + 1))
    assert album.confident == {}  # rule 4 has no evidence here: rule 5 alone decides
    assert match_faces([resembling], [False], album, "p9") == [None]
    assert match_faces([resembling], [False], replace(album, album=None), "p9")[0][0] == "alice"  # one photo alone
    fewer = with_album_evidence(alone, ["p9", *photos[:-1]], [resembling, *elsewhere[:-1]], [True] * len(elsewhere))
    assert match_faces([resembling], [False], fewer, "p9")[0][0] == "alice"  # seen again fewer than RECURRING times
    # Alice's own doubtful face keeps its match: her other photos reach the threshold
    doubtful_alice = f.of(d0=doubtful, d8=np.sqrt(1 - doubtful**2))
    hers = [0.999 * doubtful_alice + f.of(**{f"d{k}": np.sqrt(1 - 0.999**2)}) for k in range(9, 9 + RECURRING)]
    assert ALBUM_THRESHOLD <= faces.similarity(doubtful_alice, selfie)[0, 0] < CONFIDENT
    assert (faces.similarity(np.stack(hers), doubtful_alice)[:, 0] >= CONFIDENT).all()  # look-alikes: rule 5 applies
    with_hers = with_album_evidence(alone, ["p9", *photos], [doubtful_alice, *hers], [True] * (RECURRING + 1))
    assert match_faces([doubtful_alice], [False], with_hers, "p9")[0][0] == "alice"
