"""Keeping an album's people in step with its faces: ``regroup`` after faces are stored, re-matched or corrected.

The faces no member matched and big and sharp enough to compare (``worth_grouping``) are grouped by
``photosift.clustering.group_faces``: existing people keep their faces
(and their ids), new faces join them or form new people once ``min_faces`` of them agree, the rest stay unknown.
Blurred faces (``may_join``) never form a person or link others, but join one through its sharp faces alone.
Faces the user placed (``Face.person_pinned``) never move: pinned to a person they stay in it, pinned to unknown
they are kept out of every person, pinned to a member they are not grouped at all. Faces whose vectors another
recogniser made are never compared: they stay in the person they are in, or unknown, until re-embedded.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from photosift import faces as face_engine
from photosift.application import scoring
from photosift.application.events import record_event
from photosift.catalog import faces as faces_repo
from photosift.catalog import people as people_repo
from photosift.catalog.db import Session
from photosift.catalog.models import bytes_to_vector
from photosift.clustering import LINK_THRESHOLD, Corrections, FaceRecord, GroupingParams, group_faces

log = logging.getLogger("photosift.people")

PEOPLE_CHANGED = "people.changed"
"""Event type: ``{"faces": {face_id: person_id | null}, "removed": [person ids]}`` (the people list changed)."""


GROUP_MAX_BLUR = 3.0
"""% of a face's height: the most edge blur (``FaceQuality.relative_blur``) of a face grouped into people. Blurred
faces look alike to the recogniser: LFW faces 30-90 px tall blurred by 5 % of their height (sigma) score 88 (the
people linkage) against each other's strangers 100 times as often as sharp ones (1.1-1.7 % of pairs against
4e-5), whatever their size; blurred by 2.5 % of their height, their ``relative_blur`` reads about 2 and they stay
within 2-4 times the sharp rate."""
GROUP_MIN_SIZE = 40.0
"""px (``FaceQuality.size``: the shorter side in the analysed pixels): the smallest face grouped into people. Faces
are compared from ``photosift.faces.detectors.MIN_RELIABLE_FACE`` (16 px): against a member's references small
faces are safe (strangers' faces score 80 against them as rarely at 16 px as at 80), but small real faces look alike
to *each other*: WIDER's crowd photos, nearly every face a stranger, grouped as one album make people of strangers
from faces of 32 px and more (2 people), 24 px (7), 16 px (23); from 40 px none (``eval/people.py``). Smaller faces
join a person through its larger faces, as blurred ones do (``may_join``), and are no member's evidence
(``matching``, rule 4)."""
GROUP_MIN_SHARPNESS = face_engine.REFERENCE_MIN_SHARPNESS
"""The least sharpness (0-100) of a face stored without ``relative_blur`` that is grouped into people."""


class GroupedFace(Protocol):
    """What grouping reads of a face (a ``catalog.faces.Stored``)."""

    @property
    def id(self) -> str: ...
    @property
    def photo_id(self) -> str: ...
    @property
    def embedding(self) -> bytes: ...
    @property
    def recognizer(self) -> str: ...
    @property
    def too_small(self) -> bool: ...
    @property
    def sharpness(self) -> float: ...
    @property
    def relative_blur(self) -> float | None: ...
    @property
    def analysed_size(self) -> float | None: ...


class Identified(Protocol):
    @property
    def id(self) -> str: ...


def comparable(face: GroupedFace) -> bool:
    """Whether ``face``'s vector is of the running recogniser (only those are compared)."""
    return face.recognizer == face_engine.EMBEDDER


def worth_grouping(face: GroupedFace) -> bool:
    """Whether ``face`` is big and sharp enough to be compared with the album's other faces (to join or seed a
    person): :func:`big_enough` and :func:`sharp_enough`. Other faces are kept as faces (found, shown, matched to
    members, suggested, placed by hand) but never grouped automatically."""
    return big_enough(face) and sharp_enough(face)


def sharp_enough(face: GroupedFace) -> bool:
    """Whether ``face`` is blurred by at most :data:`GROUP_MAX_BLUR` % of its height (faces stored before that was
    measured: sharpness :data:`GROUP_MIN_SHARPNESS` or more)."""
    if face.relative_blur is None:
        return face.sharpness >= GROUP_MIN_SHARPNESS
    return face.relative_blur <= GROUP_MAX_BLUR


def big_enough(face: GroupedFace) -> bool:
    """Whether ``face`` is large enough to be compared with the album's other faces: not ``too_small`` and of
    :data:`GROUP_MIN_SIZE` px or more (a face of unknown size: not ``too_small``)."""
    return not face.too_small and (face.analysed_size is None or face.analysed_size >= GROUP_MIN_SIZE)


def may_join(face: GroupedFace) -> bool:
    """Whether ``face``, not worth grouping, may still join a person through that person's faces worth grouping:
    a blurred or small face not too small to compare. Such faces look alike to each other (``GROUP_MAX_BLUR``,
    ``GROUP_MIN_SIZE``), not to large sharp faces: LFW and CFP faces blurred by Gaussian sigma 2-7 % of their
    height, defocus or motion score 80 against sharp strangers as rarely as sharp faces do (0-3 pairs in 43,000
    against 3), faces of 16-40 px as rarely as at 80 px, so the link threshold keeps its meaning when only the
    person's large sharp faces are compared (``clustering.FaceRecord.may_join``)."""
    return not face.too_small and not worth_grouping(face)


def face_record(face: GroupedFace) -> FaceRecord:
    """What ``photosift.clustering`` knows of a stored face; a face of another recogniser, or one not worth grouping,
    is not ``usable`` (it keeps its person and is never compared); a blurred one of the running recogniser
    ``may_join`` a person."""
    same = comparable(face)
    return FaceRecord(face.id, face.photo_id, bytes_to_vector(face.embedding),
                      usable=worth_grouping(face) and same, may_join=may_join(face) and same)


def regroup(session: Session, album_id: str, params: GroupingParams | None = None) -> dict[str, Any]:
    """Re-group the album's unmatched faces inside the caller's transaction (which should hold the album lock).

    Records a ``people.changed`` event when a face changed person or a person was removed, and returns its data
    (``{"faces": {}, "removed": []}`` when nothing changed).
    """
    faces = faces_repo.of_album(session, album_id=album_id)
    person_of = {f.id: f.person_id for f in faces}
    free: list[faces_repo.Stored] = []
    for face in faces:
        if face.member_id is not None:
            person_of[face.id] = None  # matched (or pinned) to a member: not one of the people
            continue
        if not face.person_pinned and comparable(face) and not worth_grouping(face):
            person_of[face.id] = None  # joins again below if its person's faces worth grouping still call for it
        free.append(face)
    people: dict[str, set[str]] = defaultdict(set)
    for face in free:
        if (person_id := person_of[face.id]) is not None:
            people[person_id].add(face.id)
    unknown = [f.id for f in free if f.person_pinned and person_of[f.id] is None]
    records = [face_record(f) for f in free]
    result = group_faces(records, people, Corrections(unknown=unknown), params=params, similarity=scoring.similarity)

    for person_id, joined in result.joined.items():
        person_of.update(dict.fromkeys(joined, person_id))
    for group in result.new_people:
        person_of.update(dict.fromkeys(group, people_repo.create(session, album_id=album_id).id))
    changes = {f.id: person_of[f.id] for f in faces if person_of[f.id] != f.person_id}
    faces_repo.set_people(session, people=changes)
    removed = people_repo.remove_empty(session, album_id=album_id)
    data = {"faces": changes, "removed": removed}
    if changes or removed:
        record_event(session, album_id, PEOPLE_CHANGED, data)
    return data


Nearest = Callable[[np.ndarray, int], "list[str] | None"]
"""``(embedding, k) -> the ids of about the k faces of the album nearest to it``; None when no index can tell."""

NEIGHBOURS = 48
"""Faces of the album each changed face looks up (``regroup_faces``)."""
PERSON_SAMPLE = 32
"""Faces of a neighbouring person that stand for it in ``regroup_faces`` (its newest, and the neighbours)."""


def regroup_faces(session: Session, album_id: str, faces: Sequence[Identified], nearest: Nearest) -> dict[str, Any]:
    """Bring the people up to date after ``faces`` (any objects with the faces' ``id``) changed (stored by an
    analysis, given to a member or freed from one by a re-match or a correction) without reading the whole album.

    A face now matched to a member leaves its person (a person left without faces goes). Each free face worth
    grouping looks up its ``NEIGHBOURS`` nearest faces of the album, of which those at the link threshold or more
    count (average linkage reaches it only through such a pair); the free faces, those free neighbours and the
    neighbours' people (each by at most ``PERSON_SAMPLE`` of its faces: the neighbours among them and its newest) are
    grouped by ``photosift.clustering.group_faces`` as ``regroup`` groups the whole album: a face joins a person,
    starts one with free neighbours, or waits as unknown. Faces no changed face is near cannot change. Falls back to
    ``regroup`` when ``nearest`` cannot tell. Records ``people.changed`` like ``regroup``."""
    stored = {f.id: f for f in faces_repo.stored(session, face_ids=[f.id for f in faces])}
    changed = [stored[f.id] for f in faces]
    leaving = [f for f in changed if f.member_id is not None and f.person_id is not None]  # now a member's
    left = {f.person_id for f in leaving if f.person_id is not None}
    changes: dict[str, str | None] = {f.id: None for f in leaving}
    faces_repo.set_people(session, people=changes)
    free = [f for f in changed
            if f.member_id is None and not f.person_pinned and comparable(f) and (worth_grouping(f) or may_join(f))]
    near: set[str] = set()
    for face in free:
        found = nearest(bytes_to_vector(face.embedding), NEIGHBOURS)
        if found is None:
            return regroup(session, album_id)
        near.update(found)
    near -= {f.id for f in free}
    # read by key alone (an album's index would make the database scan every free face of the album)
    neighbours = [f for f in faces_repo.stored(session, face_ids=sorted(near))
                  if f.album_id == album_id and f.member_id is None and comparable(f)]
    if neighbours:  # a face joins a group only through a pair at the link threshold or more: keep those neighbours
        scores = scoring.similarity(np.stack([bytes_to_vector(f.embedding) for f in neighbours]),
                                    np.stack([bytes_to_vector(f.embedding) for f in free]))
        neighbours = [f for f, best in zip(neighbours, scores.max(axis=1), strict=True) if best >= LINK_THRESHOLD]
    people: dict[str, dict[str, faces_repo.Stored]] = defaultdict(dict)
    for face in neighbours:
        if face.person_id is not None:
            people[face.person_id][face.id] = face
    for person_id, sample in people.items():
        for face in faces_repo.newest_of_person(session, person_id=person_id, limit=PERSON_SAMPLE):
            sample.setdefault(face.id, face)
    local = {f.id: f for f in [*free, *neighbours, *(f for sample in people.values() for f in sample.values())]}
    if free:
        unknown = [f.id for f in local.values() if f.person_pinned and f.person_id is None]
        result = group_faces([face_record(f) for f in local.values()], {p: set(s) for p, s in people.items()},
                             Corrections(unknown=unknown), similarity=scoring.similarity)
        grouped: dict[str, str | None] = {}
        for person_id, joined in result.joined.items():
            for face_id in joined:
                grouped[face_id] = person_id
        for group in result.new_people:
            person = people_repo.create(session, album_id=album_id)
            for face_id in sorted(group):
                grouped[face_id] = person.id
        faces_repo.set_people(session, people=grouped)
        changes.update(grouped)
    removed = people_repo.without_faces(session, person_ids=sorted(left))
    people_repo.delete(session, person_ids=removed)
    data = {"faces": changes, "removed": removed}
    if changes or removed:
        record_event(session, album_id, PEOPLE_CHANGED, data)
    return data


def regroup_faces_guarded(session: Session, album_id: str, faces: Sequence[Identified], nearest: Nearest) -> None:
    """``regroup_faces`` in a savepoint for the jobs: a grouping failure is logged and leaves the people as they were
    (the next regroup catches up) instead of failing the photo's analysis or the album's re-match."""
    try:
        with session.begin_nested():
            regroup_faces(session, album_id, faces, nearest)
    except Exception:
        log.exception("people grouping failed for album %s; people left unchanged", album_id)


def remove_empty_people(session: Session, album_id: str) -> list[str]:
    """Delete the album's people that have no face left; returns their ids."""
    return people_repo.remove_empty(session, album_id=album_id)

__all__ = [
    "GROUP_MAX_BLUR", "GROUP_MIN_SHARPNESS", "NEIGHBOURS", "PEOPLE_CHANGED", "PERSON_SAMPLE", "GroupedFace",
    "Identified", "Nearest", "comparable", "face_record", "may_join", "regroup", "regroup_faces",
    "regroup_faces_guarded", "remove_empty_people", "worth_grouping",
]
