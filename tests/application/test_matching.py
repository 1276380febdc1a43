"""Open-set decisions of album matching (photosift.application.matching) on synthetic embeddings."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from synthetic_faces import Synthetic

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
    # faces too small to be evidence (under grouping.GROUP_MIN_SIZE) are still matched but not evidence
    assert with_album_evidence(alone, ids, in_album, [True] * 3, evidence=[True, False, False]).confident[0][0][0] \
        == "p1"
    assert with_album_evidence(alone, ids, in_album, [True] * 3, evidence=[False] * 3).confident == {}


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


def test_a_mistaken_not_takes_only_that_face_from_a_confident_member() -> None:
    """Rule 3 reaches doubtful faces only: "Not Hugo" said on one of Hugo's own faces leaves his confident faces with
    him (they look like the rejected face because they are Hugo); the rejected face itself, and a copy of it, leave."""
    syn = Synthetic(7)
    c = syn.cosine(95.0)
    hugo = syn.of(d0=1.0)
    wrong = syn.of(d0=c, d1=np.sqrt(1 - c**2))  # Hugo, said "not Hugo" by mistake
    other = syn.of(d0=c, d1=0.9 * np.sqrt(1 - c**2), d2=np.sqrt(0.19) * np.sqrt(1 - c**2))  # Hugo elsewhere
    corrected = Templates(["hugo"], np.stack([hugo]), ALBUM_THRESHOLD, {0: np.stack([wrong])})
    assert faces.similarity(other, hugo)[0, 0] >= CONFIDENT
    assert faces.similarity(other, wrong)[0, 0] > faces.similarity(other, hugo)[0, 0]  # more like the rejected face
    assert match_faces([other], [False], corrected)[0][0] == "hugo"
    assert match_faces([wrong, wrong * 0.999], [False, False], corrected) == [None, None]
