"""Members of albums and their reference photos and templates.

Repository functions: a session first, then keyword-only arguments; they return ``records`` dataclasses or plain
values, never ORM rows.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from sqlalchemy import select

from photosift.catalog import models, records, vector_writes
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


def listed(session: Session, *, album_id: str) -> list[records.Member]:
    """The album's members with their references, oldest first."""
    references: dict[str, list[models.Reference]] = defaultdict(list)
    for reference in session.scalars(select(models.Reference).where(models.Reference.album_id == album_id)
                                     .order_by(models.Reference.id)):
        references[reference.member_id].append(reference)
    query = select(models.Member).where(models.Member.album_id == album_id).order_by(models.Member.id)
    return [records.member_of(member, references[member.id]) for member in session.scalars(query)]


def templates(session: Session, *, album_id: str, recognizer: str, excluding: str | None = None
              ) -> list[tuple[str, np.ndarray]]:
    """``(name, template)`` of the album's members (but ``excluding``) whose template ``recognizer`` made."""
    query = select(models.Member.name, models.Member.template).where(
        models.Member.album_id == album_id, models.Member.template.is_not(None),
        models.Member.recognizer == recognizer, models.Member.id != (excluding or ""))
    return [(name, models.bytes_to_vector(blob)) for name, blob in session.execute(query) if blob is not None]


def reference_vectors(session: Session, *, album_id: str, recognizer: str) -> dict[str, list[np.ndarray]]:
    """Member id -> the vectors of its references that ``recognizer`` made, oldest first."""
    found: dict[str, list[np.ndarray]] = defaultdict(list)
    for member_id, blob in session.execute(select(models.Reference.member_id, models.Reference.embedding).where(
            models.Reference.album_id == album_id, models.Reference.recognizer == recognizer)
            .order_by(models.Reference.id)):
        found[member_id].append(models.bytes_to_vector(blob))
    return dict(found)


def member_vectors(session: Session, *, member_id: str) -> list[tuple[str, np.ndarray]]:
    """``(recognizer, vector)`` of each of the member's references, oldest first."""
    query = (select(models.Reference.recognizer, models.Reference.embedding)
             .where(models.Reference.member_id == member_id).order_by(models.Reference.id))
    return [(recognizer, models.bytes_to_vector(blob)) for recognizer, blob in session.execute(query)]


def create(session: Session, *, album_id: str, name: str, recognizer: str) -> str:
    """A new member without references yet; returns its id."""
    member = models.Member(album_id=album_id, name=name, recognizer=recognizer)
    session.add(member)
    session.flush()
    return member.id


def add_reference(session: Session, *, member_id: str, album_id: str, blob_key: str, filename: str | None,
                  box: list[int], confidence: float, embedding: bytes, recognizer: str) -> None:
    """Give the member a reference photo: its blob and the box and vector (stored bytes) of its face."""
    session.add(models.Reference(member_id=member_id, album_id=album_id, blob_key=blob_key, filename=filename,
                                 box=box, confidence=confidence, embedding=embedding, recognizer=recognizer))
    session.flush()


def remove_reference(session: Session, *, member_id: str, reference_id: str) -> str:
    """Delete the member's reference ``reference_id``; returns its blob key. Raises ``NotFound``."""
    reference = session.get(models.Reference, reference_id)
    if reference is None or reference.member_id != member_id:
        raise NotFound(f"member {member_id!r} has no reference {reference_id!r}")
    key = reference.blob_key
    session.delete(reference)
    session.flush()
    return key


def set_template(session: Session, *, member_id: str, template: np.ndarray | None, recognizer: str) -> None:
    """Store the member's template (None: it has none) and the recogniser whose vectors made it."""
    member = _row(session, member_id)
    member.template = None if template is None else models.vector_to_bytes(template)
    member.recognizer = recognizer


def rename(session: Session, *, member_id: str, name: str) -> None:
    """Give the member a new name."""
    _row(session, member_id).name = name


def blob_keys(session: Session, *, member_id: str) -> list[str]:
    """The blob keys of the member's reference photos."""
    return list(session.scalars(select(models.Reference.blob_key).where(models.Reference.member_id == member_id)))


def delete(session: Session, *, member_id: str) -> None:
    """Delete the member; the database cascades to its references."""
    session.delete(_row(session, member_id))
    session.flush()


def _row(session: Session, member_id: str) -> models.Member:
    member = session.get(models.Member, member_id)
    if member is None:
        raise NotFound(f"no member {member_id!r}")
    return member


def references_to_embed(session: Session, *, album_id: str, recognizer: str) -> list[tuple[str, str, list[int]]]:
    """``(reference id, blob key, box)`` of the album's reference photos another recogniser than ``recognizer``
    embedded, oldest first."""
    reference = models.Reference
    query = (select(reference.id, reference.blob_key, reference.box)
             .where(reference.album_id == album_id, reference.recognizer != recognizer).order_by(reference.id))
    return [(reference_id, key, list(box)) for reference_id, key, box in session.execute(query)]


def set_reference_vectors(session: Session, *, album_id: str, vectors: dict[str, bytes], recognizer: str) -> int:
    """Store ``vectors`` (reference id -> stored bytes) of ``recognizer`` on the album's references still of another
    recogniser (references deleted meanwhile are left out); returns how many were written."""
    return vector_writes.replace_old(session, models.Reference, album_id=album_id, vectors=vectors,
                                     recognizer=recognizer)


def template_states(session: Session, *, album_id: str) -> dict[str, tuple[bytes | None, str]]:
    """``{member id: (stored template or None, its recogniser)}`` of the album's members."""
    query = select(models.Member.id, models.Member.template, models.Member.recognizer).where(
        models.Member.album_id == album_id)
    return {member_id: (template, recognizer) for member_id, template, recognizer in session.execute(query)}
