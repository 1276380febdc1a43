"""``JobQueue``: the queue state lives in the catalog's ``jobs`` table, so it survives crashes and restarts.

Life of a job: ``queued`` → claimed (``running``, ``attempts`` + 1, leased to one worker until ``lease_until``) →
``done``; or, on an error, back to ``queued`` until ``max_attempts`` attempts were made, then ``failed`` with the
error; or, when the store or catalog failed (``release``), back to ``queued`` after a back-off, the attempt not
counted. A job whose worker died (crash, SIGKILL, power loss) is ``running`` with nobody working on it: ``recover()``
at start-up queues every such job of this server again, and any worker reclaims a job whose lease expired (for
several servers sharing one PostgreSQL catalog). Handlers must be idempotent: a job may run more than once.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from sqlalchemy import and_, or_, select, update

from photosift.catalog.db import Catalog
from photosift.catalog.models import Job, JobStatus, utcnow


def server_identity() -> str:
    """``host:pid`` of this process, recorded on the jobs it claims."""
    return f"{socket.gethostname()}:{os.getpid()}"


class JobQueue:
    """Enqueue, claim and settle jobs in the catalog."""

    def __init__(self, catalog: Catalog, *, max_attempts: int = 3, lease_seconds: float = 600.0,
                 backoff_seconds: float = 1.0) -> None:
        self.catalog = catalog
        self.backoff_seconds = backoff_seconds
        self.max_attempts = max_attempts
        self.lease = timedelta(seconds=lease_seconds)
        self.worker = server_identity()

    def recover(self) -> int:
        """Queue again every ``running`` job left by a previous run of this host; returns how many."""
        host = self.worker.rsplit(":", 1)[0]
        with self.catalog.session() as session:
            result = session.execute(
                update(Job)
                .where(Job.status == JobStatus.RUNNING,
                       or_(Job.worker.like(f"{host}:%"), Job.worker.is_(None), Job.lease_until < utcnow()))
                .values(status=JobStatus.QUEUED, worker=None, lease_until=None)
            )
            return result.rowcount or 0

    def claim(self) -> Job | None:
        """Take the oldest runnable job (queued, or running with an expired lease), or ``None``."""
        now = utcnow()
        with self.catalog.session() as session:
            # a queued job's lease_until, when set, is the earliest time of its next attempt (retry back-off)
            runnable = or_(and_(Job.status == JobStatus.QUEUED, or_(Job.lease_until.is_(None), Job.lease_until < now)),
                           and_(Job.status == JobStatus.RUNNING, Job.lease_until < now))
            job = session.scalars(
                select(Job).where(runnable).order_by(Job.id).limit(1).with_for_update(skip_locked=True)
            ).first()
            if job is None:
                return None
            job.status = JobStatus.RUNNING
            job.attempts += 1
            job.worker = self.worker
            job.lease_until = now + self.lease
            session.flush()
            session.refresh(job)
            session.expunge(job)
            return job

    def retry_or_fail(self, job: Job, error: str, *, permanent: bool = False) -> bool:
        """Record a failed attempt: queue the job again after a back-off (1 s, 2 s, 4 s, ...), or mark it ``failed``
        (returns True) when ``permanent`` or out of attempts."""
        failed = permanent or job.attempts >= self.max_attempts
        retry_at = None if failed else utcnow() + timedelta(seconds=self.backoff_seconds * 2 ** (job.attempts - 1))
        with self.catalog.session() as session:
            session.execute(
                update(Job).where(Job.id == job.id).values(
                    status=JobStatus.FAILED if failed else JobStatus.QUEUED, error=error[:2000], worker=None,
                    lease_until=retry_at,
                )
            )
        return failed

    def release(self, job: Job, error: str, delay_seconds: float) -> None:
        """Queue the job again after ``delay_seconds`` without counting the attempt, recording ``error``: for a
        failure of the store or catalog (not of the job), which must not use up its attempts."""
        with self.catalog.session() as session:
            session.execute(
                update(Job).where(Job.id == job.id).values(
                    status=JobStatus.QUEUED, attempts=max(0, job.attempts - 1), error=error[:2000], worker=None,
                    lease_until=utcnow() + timedelta(seconds=delay_seconds),
                )
            )

    def counts(self) -> dict[str, int]:
        """Number of jobs per status."""
        from sqlalchemy import func

        with self.catalog.read() as session:
            rows = session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
        return {status: count for status, count in rows}


def mark_done(session, job_id: int) -> None:  # noqa: ANN001 - SQLAlchemy Session
    """Mark ``job_id`` done inside the caller's transaction, so the job's results and its completion commit together
    (a crash either keeps both or neither)."""
    session.execute(
        update(Job).where(Job.id == job_id).values(status=JobStatus.DONE, error=None, worker=None, lease_until=None)
    )


def renew_lease(session, job_id: int, lease: timedelta) -> None:  # noqa: ANN001 - SQLAlchemy Session
    """Extend a running job's lease by ``lease`` from now, inside the caller's transaction: a job that reports
    progress stays its worker's however long it runs (no other worker takes it over)."""
    session.execute(
        update(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING).values(lease_until=utcnow() + lease)
    )
