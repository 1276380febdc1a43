"""Members of albums and their reference photos and templates.

Repository functions: a session first, then keyword-only arguments; they return ``records`` dataclasses or plain
values, never ORM rows.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import select

from photosift.catalog import models, records
from photosift.catalog.db import Session
from photosift.errors import NotFound


def names(session: Session, *, album_id: str) -> dict[str, str]:
    """``{member id: name}`` of the album's members."""
    return dict(session.execute(select(models.Member.id, models.Member.name)
                                .where(models.Member.album_id == album_id)).all())


def in_album(session: Session, *, album_id: str, member_id: str) -> bool:
    """Whether the album has the member ``member_id``."""
    return session.scalar(select(models.Member.id).where(models.Member.id == member_id,
                                                         models.Member.album_id == album_id)) is not None


def require(session: Session, *, album_id: str, member_id: str) -> records.Member:
    """The album's member ``member_id`` with its references; raises ``NotFound``."""
    member = session.get(models.Member, member_id)
    if member is None or member.album_id != album_id:
        raise NotFound(f"no member {member_id!r}")
    return _with_references(session, member)


def named(session: Session, *, album_id: str, name: str) -> records.Member | None:
    """The album's member called ``name`` with its references, ``None`` when there is none."""
    member = session.scalars(select(models.Member).where(models.Member.album_id == album_id,
                                                         models.Member.name == name)).first()
    return None if member is None else _with_references(session, member)


def template(session: Session, *, member_id: str, recognizer: str) -> np.ndarray | None:
    """The member's template when it has one made by ``recognizer``, else ``None``."""
    row = session.execute(select(models.Member.template, models.Member.recognizer)
                          .where(models.Member.id == member_id)).first()
    if row is None or row.template is None or row.recognizer != recognizer:
        return None
    return models.bytes_to_vector(row.template)


def _with_references(session: Session, member: models.Member) -> records.Member:
    references = session.scalars(select(models.Reference).where(models.Reference.member_id == member.id)
                                 .order_by(models.Reference.id))
    return records.member_of(member, references)
