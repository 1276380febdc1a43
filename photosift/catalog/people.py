"""People: groups of unnamed faces of an album.

Repository functions: a session first, then keyword-only arguments; they return ``records`` dataclasses or plain
values, never ORM rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlalchemy import delete as delete_rows
from sqlalchemy import func, select

from photosift.catalog import faces, models, records
from photosift.catalog.db import Session
from photosift.errors import NotFound

_Person = models.Person


def number(session: Session, *, album_id: str, person_id: str) -> int | None:
    """The number of the album's person ``person_id`` ("Person <number>"), ``None`` when it has no such person."""
    return session.scalar(select(models.Person.number).where(models.Person.id == person_id,
                                                             models.Person.album_id == album_id))


def require(session: Session, *, album_id: str, person_id: str) -> records.Person:
    """The album's person ``person_id``; raises ``NotFound``."""
    return records.person_of(_row(session, album_id, person_id))


def listed(session: Session, *, album_id: str, include_hidden: bool = False) -> list[records.Person]:
    """The album's people (the hidden ones too with ``include_hidden``)."""
    query = select(_Person).where(_Person.album_id == album_id)
    if not include_hidden:
        query = query.where(_Person.hidden.is_(False))
    return [records.person_of(p) for p in session.scalars(query)]


def next_number(session: Session, *, album_id: str) -> int:
    """The label number of the album's next person (1, 2, ...; numbers are never reused while a person lives)."""
    return (session.scalar(select(func.max(_Person.number)).where(_Person.album_id == album_id)) or 0) + 1


def create(session: Session, *, album_id: str) -> records.Person:
    """A new person of the album, without faces yet, numbered ``next_number``."""
    person = _Person(album_id=album_id, number=next_number(session, album_id=album_id), hidden=False)
    session.add(person)
    session.flush()
    return records.person_of(person)


def set_hidden(session: Session, *, album_id: str, person_id: str, hidden: bool) -> records.Person:
    """Hide the album's person ``person_id`` from the people list, or show it again; raises ``NotFound``."""
    person = _row(session, album_id, person_id)
    person.hidden = hidden
    session.flush()
    return records.person_of(person)


def delete(session: Session, *, person_ids: Sequence[str]) -> None:
    """Delete the people ``person_ids`` (their faces, if any are left, become unknown)."""
    if person_ids:
        session.execute(delete_rows(_Person).where(_Person.id.in_(list(person_ids))))


def without_faces(session: Session, *, person_ids: Sequence[str]) -> list[str]:
    """Those of ``person_ids`` that hold no face, in the order given."""
    return [p for p in person_ids
            if session.scalar(select(models.Face.id).where(models.Face.person_id == p).limit(1)) is None]


def remove_empty(session: Session, *, album_id: str) -> list[str]:
    """Delete the album's people that have no face left; returns their ids."""
    used = select(models.Face.person_id).where(models.Face.album_id == album_id, models.Face.person_id.is_not(None))
    empty = list(session.scalars(select(_Person.id).where(_Person.album_id == album_id, _Person.id.not_in(used))))
    delete(session, person_ids=empty)
    return empty


def new_member(session: Session, *, album_id: str, name: str, recognizer: str, references: Sequence[faces.Stored],
               template: np.ndarray) -> str:
    """Naming a person: a new member ``name`` whose reference photos are the photos of the faces ``references``
    (their blobs, the faces' boxes and vectors) and whose template is ``template`` (of ``recognizer``); returns its
    id."""
    member = models.Member(album_id=album_id, name=name, recognizer=recognizer)
    session.add(member)
    session.flush()
    photo_ids = [f.photo_id for f in references]
    photos = {p.id: p for p in session.scalars(select(models.Photo).where(models.Photo.id.in_(photo_ids)))}
    for face in references:
        photo = photos[face.photo_id]
        session.add(models.Reference(member_id=member.id, album_id=album_id, blob_key=photo.blob_key,
                                     filename=photo.filename, box=face.box, confidence=face.confidence,
                                     embedding=face.embedding, recognizer=face.recognizer))
    member.template = models.vector_to_bytes(template)
    session.flush()
    return member.id


def _row(session: Session, album_id: str, person_id: str) -> models.Person:
    person = session.get(_Person, person_id)
    if person is None or person.album_id != album_id:
        raise NotFound(f"no person {person_id!r} in album {album_id!r}")
    return person
