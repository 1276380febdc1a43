"""Members of albums and their reference photos and templates.

Repository functions: a session first, then keyword-only arguments; they return ``records`` dataclasses or plain
values, never ORM rows.
"""

from __future__ import annotations

from sqlalchemy import select

from photosift.catalog import models
from photosift.catalog.db import Session


def names(session: Session, *, album_id: str) -> dict[str, str]:
    """``{member id: name}`` of the album's members."""
    return dict(session.execute(select(models.Member.id, models.Member.name)
                                .where(models.Member.album_id == album_id)).all())


def in_album(session: Session, *, album_id: str, member_id: str) -> bool:
    """Whether the album has the member ``member_id``."""
    return session.scalar(select(models.Member.id).where(models.Member.id == member_id,
                                                         models.Member.album_id == album_id)) is not None
