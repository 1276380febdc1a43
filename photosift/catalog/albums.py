"""Albums: read, create, rename, delete, and the counts an album shows.

Repository functions: a session first, then keyword-only arguments; they return ``records`` dataclasses or plain
values, never ORM rows.
"""

from __future__ import annotations

from sqlalchemy import select

from photosift.catalog import models, records
from photosift.catalog.db import Session
from photosift.errors import NotFound


def require(session: Session, *, album_id: str, lock: bool = False) -> records.Album:
    """The album ``album_id`` (row-locked on PostgreSQL when ``lock``: writers of one album take turns); raises
    ``NotFound``."""
    query = select(models.Album).where(models.Album.id == album_id)
    if lock:
        query = query.with_for_update()
    album = session.scalars(query).first()
    if album is None:
        raise NotFound(f"no album {album_id!r}")
    return records.album_of(album)
