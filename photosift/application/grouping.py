"""Keeping an album's people in step with its faces: ``regroup`` after faces are stored, re-matched or corrected.

The faces no member matched and big and sharp enough to compare (``worth_grouping``) are grouped by
``photosift.clustering.group_faces``: existing people keep their faces
(and their ids), new faces join them or form new people once ``min_faces`` of them agree, the rest stay unknown.
Faces the user placed (``Face.person_pinned``) never move: pinned to a person they stay in it, pinned to unknown
they are kept out of every person, pinned to a member they are not grouped at all. Faces whose vectors another
recogniser made are never compared: they stay in the person they are in, or unknown, until re-embedded.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from photosift import faces as face_engine
from photosift.application import scoring
from photosift.application.events import record_event
from photosift.catalog.models import Face, Person, bytes_to_vector
from photosift.clustering import LINK_THRESHOLD, Corrections, FaceRecord, GroupingParams, group_faces

log = logging.getLogger("photosift.people")

PEOPLE_CHANGED = "people.changed"
"""Event type: ``{"faces": {face_id: person_id | null}, "removed": [person ids]}`` (the people list changed)."""


GROUP_MAX_BLUR = 3.0
"""% of a face's height: the most edge blur (``FaceQuality.relative_blur``) of a face grouped into people. Blurred
faces look alike to the recogniser: LFW faces 30-90 px tall blurred by 5 % of their height (sigma) score 88 (the
people linkage) against each other's strangers 100 times as often as sharp ones (1.1-1.7 % of pairs against
4e-5), whatever their size; blurred by 2.5 % of their height, their ``relative_blur`` reads about 2 and they stay
within 2-4 times the sharp rate. Small sharp faces are as reliable as large ones (4e-5 at 30 px), so size alone is
no bar beyond ``too_small``."""
GROUP_MIN_SHARPNESS = face_engine.REFERENCE_MIN_SHARPNESS
"""The least sharpness (0-100) of a face stored without ``relative_blur`` that is grouped into people."""


def next_number(session: Session, album_id: str) -> int:
    """The label number of the album's next person (1, 2, ...; numbers are never reused while a person lives)."""
    return (session.scalar(select(func.max(Person.number)).where(Person.album_id == album_id)) or 0) + 1


def new_person(session: Session, album_id: str) -> Person:
    person = Person(album_id=album_id, number=next_number(session, album_id), hidden=False)
    session.add(person)
    session.flush()
    return person


def comparable(face: Face) -> bool:
    """Whether ``face``'s vector is of the running recogniser (only those are compared)."""
    return face.recognizer == face_engine.EMBEDDER


def worth_grouping(face: Face) -> bool:
    """Whether ``face`` is big and sharp enough to be compared with the album's other faces (to join or seed a
    person, to be suggested): not ``too_small``, and blurred by at most :data:`GROUP_MAX_BLUR` % of its height
    (faces stored before that was measured: :data:`GROUP_MIN_SHARPNESS`). Other faces are kept as faces (found,
    shown, matched to members, placed by hand) but never grouped automatically."""
    if face.too_small:
        return False
    if face.relative_blur is None:
        return face.sharpness >= GROUP_MIN_SHARPNESS
    return face.relative_blur <= GROUP_MAX_BLUR


def face_record(face: Face) -> FaceRecord:
    """What ``photosift.clustering`` knows of a stored face; a face of another recogniser, or one not worth grouping,
    is not ``usable`` (it keeps its person and is never compared)."""
    return FaceRecord(face.id, face.photo_id, bytes_to_vector(face.embedding),
                      usable=worth_grouping(face) and comparable(face))


def regroup(session: Session, album_id: str, params: GroupingParams | None = None) -> dict[str, Any]:
    """Re-group the album's unmatched faces inside the caller's transaction (which should hold the album lock).

    Records a ``people.changed`` event when a face changed person or a person was removed, and returns its data
    (``{"faces": {}, "removed": []}`` when nothing changed).
    """
    faces = list(session.scalars(select(Face).where(Face.album_id == album_id).order_by(Face.id)))
    changes: dict[str, str | None] = {}

    def place(face: Face, person_id: str | None) -> None:
        if face.person_id != person_id:
            face.person_id = person_id
            changes[face.id] = person_id

    free: list[Face] = []
    for face in faces:
        if face.member_id is not None:
            place(face, None)  # matched (or pinned) to a member: not one of the people
            continue
        if not face.person_pinned and comparable(face) and not worth_grouping(face):
            place(face, None)  # grouped by an earlier release that grouped every face big enough to match
        free.append(face)
    people: dict[str, set[str]] = defaultdict(set)
    for face in free:
        if face.person_id is not None:
            people[face.person_id].add(face.id)
    unknown = [f.id for f in free if f.person_pinned and f.person_id is None]
    records = [face_record(f) for f in free]
    result = group_faces(records, people, Corrections(unknown=unknown), params=params, similarity=scoring.similarity)

    by_id = {f.id: f for f in free}
    for person_id, joined in result.joined.items():
        for face_id in joined:
            place(by_id[face_id], person_id)
    for group in result.new_people:
        person = new_person(session, album_id)
        for face_id in sorted(group):
            place(by_id[face_id], person.id)
    session.flush()
    removed = remove_empty_people(session, album_id)
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


def regroup_faces(session: Session, album_id: str, faces: Sequence[Face], nearest: Nearest) -> dict[str, Any]:
    """Bring the people up to date after ``faces`` changed (stored by an analysis, given to a member or freed from
    one by a re-match or a correction) without reading the whole album.

    A face now matched to a member leaves its person (a person left without faces goes). Each free face worth
    grouping looks up its ``NEIGHBOURS`` nearest faces of the album, of which those at the link threshold or more
    count (average linkage reaches it only through such a pair); the free faces, those free neighbours and the
    neighbours' people (each by at most ``PERSON_SAMPLE`` of its faces: the neighbours among them and its newest) are
    grouped by ``photosift.clustering.group_faces`` as ``regroup`` groups the whole album: a face joins a person,
    starts one with free neighbours, or waits as unknown. Faces no changed face is near cannot change. Falls back to
    ``regroup`` when ``nearest`` cannot tell. Records ``people.changed`` like ``regroup``."""
    changes: dict[str, str | None] = {}
    left: set[str] = set()
    for face in faces:
        if face.member_id is not None and face.person_id is not None:
            left.add(face.person_id)
            face.person_id = changes[face.id] = None
    free = [f for f in faces if f.member_id is None and not f.person_pinned and comparable(f) and worth_grouping(f)]
    near: set[str] = set()
    for face in free:
        found = nearest(bytes_to_vector(face.embedding), NEIGHBOURS)
        if found is None:
            return regroup(session, album_id)
        near.update(found)
    near -= {f.id for f in free}
    # read by key alone (an album's index would make the database scan every free face of the album)
    neighbours = [f for f in session.scalars(select(Face).where(Face.id.in_(sorted(near))))
                  if f.album_id == album_id and f.member_id is None and comparable(f)]
    if neighbours:  # a face joins a group only through a pair at the link threshold or more: keep those neighbours
        scores = scoring.similarity(np.stack([bytes_to_vector(f.embedding) for f in neighbours]),
                                    np.stack([bytes_to_vector(f.embedding) for f in free]))
        neighbours = [f for f, best in zip(neighbours, scores.max(axis=1), strict=True) if best >= LINK_THRESHOLD]
    people: dict[str, dict[str, Face]] = defaultdict(dict)
    for face in neighbours:
        if face.person_id is not None:
            people[face.person_id][face.id] = face
    for person_id, sample in people.items():
        for face in session.scalars(select(Face).where(Face.person_id == person_id).order_by(Face.id.desc())
                                    .limit(PERSON_SAMPLE)):
            sample.setdefault(face.id, face)
    local = {f.id: f for f in [*free, *neighbours, *(f for sample in people.values() for f in sample.values())]}
    if free:
        unknown = [f.id for f in local.values() if f.person_pinned and f.person_id is None]
        result = group_faces([face_record(f) for f in local.values()], {p: set(s) for p, s in people.items()},
                             Corrections(unknown=unknown), similarity=scoring.similarity)
        for person_id, joined in result.joined.items():
            for face_id in joined:
                local[face_id].person_id = changes[face_id] = person_id
        for group in result.new_people:
            person = new_person(session, album_id)
            for face_id in sorted(group):
                local[face_id].person_id = changes[face_id] = person.id
    session.flush()
    removed = [p for p in sorted(left) if session.scalar(select(Face.id).where(Face.person_id == p).limit(1)) is None]
    if removed:
        session.execute(delete(Person).where(Person.id.in_(removed)))
    data = {"faces": changes, "removed": removed}
    if changes or removed:
        record_event(session, album_id, PEOPLE_CHANGED, data)
    return data


def regroup_faces_guarded(session: Session, album_id: str, faces: Sequence[Face], nearest: Nearest) -> None:
    """``regroup_faces`` in a savepoint for the jobs: a grouping failure is logged and leaves the people as they were
    (the next regroup catches up) instead of failing the photo's analysis or the album's re-match."""
    try:
        with session.begin_nested():
            regroup_faces(session, album_id, faces, nearest)
    except Exception:
        log.exception("people grouping failed for album %s; people left unchanged", album_id)


def remove_empty_people(session: Session, album_id: str) -> list[str]:
    """Delete the album's people that have no face left; returns their ids."""
    used = select(Face.person_id).where(Face.album_id == album_id, Face.person_id.is_not(None))
    empty = list(session.scalars(select(Person.id).where(Person.album_id == album_id, Person.id.not_in(used))))
    if empty:
        session.execute(delete(Person).where(Person.id.in_(empty)))
    return empty


__all__ = [
    "GROUP_MAX_BLUR", "GROUP_MIN_SHARPNESS", "NEIGHBOURS", "PEOPLE_CHANGED", "PERSON_SAMPLE", "Nearest", "comparable",
    "face_record", "new_person", "next_number", "regroup", "regroup_faces", "regroup_faces_guarded",
    "remove_empty_people", "worth_grouping",
]
