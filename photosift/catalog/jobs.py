"""Queuing background jobs: the one place job rows are added (``photosift.jobs.queue`` claims and settles them).

Repository functions: a session first, then keyword-only arguments; they return plain values, never ORM rows.
"""

from __future__ import annotations

from sqlalchemy import select

from photosift.catalog import models
from photosift.catalog.db import Session

_Job = models.Job
UNFINISHED = (models.JobStatus.QUEUED, models.JobStatus.RUNNING)


def enqueue(session: Session, *, kind: str, album_id: str, photo_id: str | None = None) -> None:
    """Queue a job inside the caller's transaction (workers see it once that commits)."""
    session.add(_Job(kind=kind, album_id=album_id, photo_id=photo_id))


def enqueue_once(session: Session, *, kind: str, album_id: str) -> bool:
    """Queue a job of ``kind`` for the album unless one is queued already; returns whether a job was added."""
    queued = session.scalar(select(_Job.id).where(_Job.album_id == album_id, _Job.kind == kind,
                                                  _Job.status == models.JobStatus.QUEUED).limit(1))
    if queued is not None:
        return False
    enqueue(session, kind=kind, album_id=album_id)
    return True


def pending_albums(session: Session, *, kind: str) -> set[str]:
    """The albums with a job of ``kind`` queued or running."""
    return set(session.scalars(select(_Job.album_id).where(_Job.kind == kind, _Job.status.in_(UNFINISHED))))
