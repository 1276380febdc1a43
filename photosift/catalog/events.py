"""An album's event log (Server-Sent Events).

Repository functions: a session first, then keyword-only arguments; they return ``records`` dataclasses or plain
values, never ORM rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select, text

from photosift.catalog import models
from photosift.catalog.db import Session

PENDING = "photosift.pending_events"  # Session.info key: PostgreSQL events written at commit
EVENT_LOCKS = 0x65766E74  # first key of the PostgreSQL advisory locks that order an album's events ("evnt")


@dataclass(frozen=True, slots=True)
class Event:
    """One event of an album's log: ``id`` is its SSE id."""

    id: int
    type: str
    data: dict[str, Any]


def append(session: Session, *, album_id: str, type_: str, data: dict[str, Any]) -> None:
    """Append an event inside the session's transaction (it becomes visible when that commits).

    Streams read an album's log by id (``id > after``), so ids must become visible in order. SQLite commits one
    transaction at a time; on PostgreSQL, where transactions commit concurrently, the events are written just before
    the commit under a lock on the album held until the commit: a later id is never visible before an earlier one.
    """
    row = models.Event(album_id=album_id, type=type_, data=data)
    if session.get_bind().dialect.name == "postgresql":
        session.info.setdefault(PENDING, []).append(row)
    else:
        session.add(row)


def after(session: Session, *, album_id: str, after_id: int, limit: int) -> list[Event]:
    """Up to ``limit`` events of the album with id > ``after_id``, oldest first."""
    query = (select(models.Event.id, models.Event.type, models.Event.data)
             .where(models.Event.album_id == album_id, models.Event.id > after_id)
             .order_by(models.Event.id).limit(limit))
    return [Event(id=row.id, type=row.type, data=row.data) for row in session.execute(query)]


def latest_data(session: Session, *, type_: str) -> dict[str, dict[str, Any]]:
    """The data of each album's latest event of type ``type_`` (``{}`` when it has none), by album id."""
    query = (select(models.Event.album_id, models.Event.data).where(models.Event.type == type_)
             .order_by(models.Event.id))
    return {album_id: data or {} for album_id, data in session.execute(query)}


@event.listens_for(Session, "before_commit")
def _write_pending_events(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    for album_id in sorted({row.album_id for row in pending}):  # one order: no deadlock between transactions
        session.execute(text("SELECT pg_advisory_xact_lock(:space, hashtext(:album))"),
                        {"space": EVENT_LOCKS, "album": album_id})
    session.add_all(pending)
    session.flush()


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending_events(session: Session, _previous: object) -> None:  # _previous: a SessionTransaction
    session.info.pop(PENDING, None)
