"""Suggestions ("Is this <member>?", photosift.application.suggestions) on synthetic embeddings of known scores."""

from __future__ import annotations

import math

import numpy as np
from synthetic_faces import Synthetic

from photosift.application.matching import ALBUM_THRESHOLD, Templates
from photosift.application.suggestions import (
    SUGGEST_LOG_ODDS,
    Candidate,
    in_album,
    offered,
    suggest,
    suggestion_floor,
)


def scored(syn: Synthetic, score: float, direction: str) -> np.ndarray:
    """A face that scores ``score`` against ``syn.of(d0=1)``, apart from the other faces made with other directions."""
    c = syn.cosine(score)
    return syn.of(d0=c, **{direction: math.sqrt(1 - c**2)})


def test_the_floor_is_a_fixed_step_below_the_threshold_on_the_log_odds_scale() -> None:
    floor = suggestion_floor(ALBUM_THRESHOLD)
    assert 75.0 < floor < ALBUM_THRESHOLD
    assert math.isclose(math.log(80 / 20) - math.log(floor / (100 - floor)), SUGGEST_LOG_ODDS)
    assert suggestion_floor(95.0) > 94.0 and suggestion_floor(0.0) >= 0.0 and suggestion_floor(100.0) <= 100.0


def test_near_misses_are_suggested_strangers_and_shown_photos_are_not() -> None:
    syn = Synthetic(3)
    templates = Templates(["jenny"], np.stack([syn.of(d0=1.0)]), ALBUM_THRESHOLD)
    floor = suggestion_floor(ALBUM_THRESHOLD)
    near = Candidate("near", "p1", None, scored(syn, (floor + ALBUM_THRESHOLD) / 2, "d1"))
    far = Candidate("far", "p2", None, scored(syn, floor - 3.0, "d2"))
    shown = Candidate("shown", "p3", None, scored(syn, ALBUM_THRESHOLD - 1.0, "d3"))  # p3 already shows Jenny
    found = suggest([near, far, shown], templates, {"p3": {"jenny"}})
    assert [(s.member_id, s.face_ids, s.photo_ids) for s in found] == [("jenny", ("near",), ("p1",))]
    assert floor <= found[0].similarity < ALBUM_THRESHOLD


def test_a_person_is_suggested_by_its_faces_together() -> None:
    """A person is judged on its faces together (their mean cosine to the member): one suggestion holding all its
    faces when they reach the floor on average, none when only one of them does."""
    syn = Synthetic(4)
    templates = Templates(["jenny"], np.stack([syn.of(d0=1.0)]), ALBUM_THRESHOLD)
    floor = suggestion_floor(ALBUM_THRESHOLD)
    high, low = scored(syn, ALBUM_THRESHOLD - 0.5, "d1"), scored(syn, floor - 1.0, "d2")
    person = [Candidate("a", "p1", "person-1", high), Candidate("b", "p2", "person-1", scored(syn, floor + 1, "d3"))]
    (found,) = suggest(person, templates, {})
    assert found.person_id == "person-1" and found.face_ids == ("a", "b") and found.photo_ids == ("p1", "p2")
    weak = [Candidate("c", "p3", "person-2", scored(syn, floor - 20, "d4")), Candidate("d", "p4", "person-2", low)]
    assert suggest(weak + [Candidate("e", "p5", "person-2", high)], templates, {}) == []
    assert [s.face_ids for s in suggest([Candidate("e", "p5", None, high)], templates, {})] == [("e",)]


def test_a_rejected_face_is_not_suggested_again() -> None:
    syn = Synthetic(5)
    near = scored(syn, ALBUM_THRESHOLD - 1.0, "d1")
    templates = Templates(["jenny"], np.stack([syn.of(d0=1.0)]), ALBUM_THRESHOLD, {0: np.stack([near])})
    assert suggest([Candidate("near", "p1", None, near)], templates, {}) == []


def test_a_face_is_compared_with_the_member_as_the_album_shows_them() -> None:
    """A side view far from the frontal selfie but close to the member's side view the album matched: suggested once
    the album's faces of the member join the selfie (``in_album``)."""
    syn = Synthetic(6)
    selfie = syn.of(d0=1.0)
    a, c = 0.1, 0.95
    side = syn.of(d0=a, d1=math.sqrt(1 - a**2))  # the album's matched side view of the member
    candidate = syn.of(d0=a * c, d1=math.sqrt(1 - a**2) * c, d2=math.sqrt(1 - c**2))  # another side view
    templates = Templates(["jenny"], np.stack([selfie]), ALBUM_THRESHOLD, evidence={0: np.stack([selfie])})
    assert suggest([Candidate("side", "p2", None, candidate)], templates, {}) == []
    (found,) = suggest([Candidate("side", "p2", None, candidate)], in_album(templates, {"jenny": [side]}), {})
    assert found.member_id == "jenny" and found.face_ids == ("side",)
    assert in_album(Templates([], None, ALBUM_THRESHOLD), {}).vectors is None


def test_small_sharp_faces_are_offered_blurred_and_too_small_ones_are_not() -> None:
    from photosift import faces
    from photosift.application.grouping import GROUP_MAX_BLUR, GROUP_MIN_SIZE
    from photosift.catalog.models import Face

    def face(**kw: object) -> Face:
        return Face(**{"too_small": False, "sharpness": 60.0, "relative_blur": 0.5, "analysed_size": 90.0,
                       "recognizer": faces.EMBEDDER, **kw})

    assert offered(face()) and offered(face(analysed_size=GROUP_MIN_SIZE - 20)) and offered(face(analysed_size=None))
    assert not offered(face(relative_blur=GROUP_MAX_BLUR + 1))
    assert not offered(face(too_small=True, analysed_size=10.0))
    assert not offered(face(recognizer="another"))
