"""Keeping an album's people in step with its faces: ``regroup`` after faces are stored, re-matched or corrected.

The faces no member matched are grouped by ``photosift.clustering.group_faces``: existing people keep their faces
(and their ids), new faces join them or form new people once ``min_faces`` of them agree, the rest stay unknown.
Faces the user placed (``Face.person_pinned``) never move: pinned to a person they stay in it, pinned to unknown
they are kept out of every person, pinned to a member they are not grouped at all. Faces whose vectors another
recogniser made are never compared: they stay in the person they are in, or unknown, until re-embedded.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from photosift import faces as face_engine
from photosift.application.events import record_event
from photosift.catalog.models import Face, Person, bytes_to_vector
from photosift.clustering import Corrections, FaceRecord, GroupingParams, group_faces

log = logging.getLogger("photosift.people")

PEOPLE_CHANGED = "people.changed"
"""Event type: ``{"faces": {face_id: person_id | null}, "removed": [person ids]}`` (the people list changed)."""


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


def face_record(face: Face) -> FaceRecord:
    """What ``photosift.clustering`` knows of a stored face; a face of another recogniser is not ``usable`` (it
    keeps its person and is never compared)."""
    return FaceRecord(face.id, face.photo_id, bytes_to_vector(face.embedding),
                      usable=not face.too_small and comparable(face))


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
        else:
            free.append(face)
    people: dict[str, set[str]] = defaultdict(set)
    for face in free:
        if face.person_id is not None:
            people[face.person_id].add(face.id)
    unknown = [f.id for f in free if f.person_pinned and f.person_id is None]
    records = [face_record(f) for f in free]
    result = group_faces(records, people, Corrections(unknown=unknown), params=params)

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


def regroup_after_analysis(session: Session, album_id: str) -> None:
    """``regroup`` in a savepoint for the job hooks: a grouping failure is logged and leaves the people as they
    were (the next regroup catches up) instead of failing the photo's analysis or the album's re-match."""
    try:
        with session.begin_nested():
            regroup(session, album_id)
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
    "PEOPLE_CHANGED", "comparable", "face_record", "new_person", "next_number", "regroup", "regroup_after_analysis",
    "remove_empty_people",
]
