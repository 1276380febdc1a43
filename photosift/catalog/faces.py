"""Faces of analysed photos: their vectors, matches, people and corrections (rejections).

Repository functions: a session first, then keyword-only arguments; they return ``records`` dataclasses or plain
values, never ORM rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from photosift.catalog import members, models, records
from photosift.catalog.db import Session

_Face = models.Face


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where a face is placed: its person and member, ``pinned`` when a user placed it."""

    id: str
    person_id: str | None
    member_id: str | None
    pinned: bool


def boxes(session: Session, *, photo_id: str) -> list[list[int]]:
    """The boxes ``[left, top, width, height]`` of the photo's faces."""
    query = select(_Face.left, _Face.top, _Face.width, _Face.height).where(_Face.photo_id == photo_id)
    return [list(box) for box in session.execute(query)]


def page(session: Session, *, album_id: str, limit: int, unknown: bool | None = None, member_id: str | None = None,
         after_id: str | None = None) -> list[records.Face]:
    """Up to ``limit`` of the album's faces in id order after ``after_id``, with their matches (``unknown``: faces
    no member matched or the others; ``member_id``: the faces matched to that member)."""
    query = select(_Face).where(_Face.album_id == album_id)
    if unknown is not None:
        query = query.where(_Face.member_id.is_(None) if unknown else _Face.member_id.is_not(None))
    if member_id is not None:
        query = query.where(_Face.member_id == member_id)
    if after_id:
        query = query.where(_Face.id > after_id)
    faces = list(session.scalars(query.order_by(_Face.id).limit(limit)))
    names = members.names(session, album_id=album_id)
    return [records.face_of(f, names) for f in faces]


def assignments(session: Session, *, photo_ids: Sequence[str]) -> list[Assignment]:
    """Where the faces of the photos ``photo_ids`` are placed."""
    query = select(_Face.id, _Face.person_id, _Face.member_id, _Face.person_pinned).where(
        _Face.photo_id.in_(photo_ids))
    return [Assignment(id=face_id, person_id=person_id, member_id=member_id, pinned=pinned)
            for face_id, person_id, member_id, pinned in session.execute(query)]
