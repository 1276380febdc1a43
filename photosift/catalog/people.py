"""People: groups of unnamed faces of an album.

Repository functions: a session first, then keyword-only arguments; they return ``records`` dataclasses or plain
values, never ORM rows.
"""

from __future__ import annotations

from sqlalchemy import select

from photosift.catalog import models
from photosift.catalog.db import Session


def number(session: Session, *, album_id: str, person_id: str) -> int | None:
    """The number of the album's person ``person_id`` ("Person <number>"), ``None`` when it has no such person."""
    return session.scalar(select(models.Person.number).where(models.Person.id == person_id,
                                                             models.Person.album_id == album_id))
