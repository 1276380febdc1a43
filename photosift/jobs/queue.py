"""``JobQueue``: the queue state lives in the catalog's ``jobs`` table, so it survives crashes and restarts.

Life of a job: ``queued`` → claimed (``running``, ``attempts`` + 1, leased to one worker until ``lease_until``) →
``done``; or, on an error, back to ``queued`` until ``max_attempts`` attempts were made, then ``failed`` with the
error; or, when the store or catalog failed (``release``), back to ``queued`` after a back-off, the attempt not
counted. A job whose worker died (crash, SIGKILL, power loss) is ``running`` with nobody working on it: ``recover()``
at start-up queues again every such job of a process of this host that is gone, and any worker reclaims a job whose
lease expired (a machine that died). Handlers must be idempotent: a job may run more than once. Each claim is
recorded with its own token (``Job.worker``: ``host:pid:token``) and a job's results commit only while that claim
holds (``mark_done``): a worker that lost its job (its lease expired and another took it, or it was released at a
stop) rolls its results back instead of committing them twice.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Collection
from datetime import timedelta
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, Result, and_, or_, select, update

from photosift.catalog.db import Catalog, Session
from photosift.catalog.jobs import UNFINISHED
from photosift.catalog.models import Job, JobStatus, utcnow
from photosift.catalog.records import aware


class Claimed(Protocol):
    """A claimed job as its handler reads it (the runner hands over the ``Job`` row it claimed)."""

    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def album_id(self) -> str: ...
    @property
    def photo_id(self) -> str | None: ...
    @property
    def worker(self) -> str | None: ...


class LeaseLost(Exception):
    """The job is no longer this worker's (its lease expired and another worker took it, or it was released):
    its results must not be committed."""


def server_identity() -> str:
    """``host:pid`` of this process; a claim records it with a token of its own (``host:pid:token``)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _process_gone(worker: str | None, host: str) -> bool:
    """Whether the ``host:pid[:token]`` that claimed a job names a process of ``host`` that no longer runs (this
    process counts as gone: at its start, jobs under its pid are a previous process's)."""
    if worker is None:
        return True
    parts = worker.split(":")
    if parts[0] != host or len(parts) < 2 or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


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
        """Queue again every ``running`` job whose process is gone (a process of this host that no longer runs) or
        whose lease expired; returns how many. Jobs of this host's other live workers stay theirs."""
        host = self.worker.split(":", 1)[0]
        with self.catalog.session() as session:
            running = session.execute(
                select(Job.id, Job.worker, Job.lease_until).where(Job.status == JobStatus.RUNNING).with_for_update()
            ).all()
            now = utcnow()
            orphaned = [job_id for job_id, worker, lease_until in running
                        if _process_gone(worker, host) or (lease_until is not None and aware(lease_until) < now)]
            if orphaned:
                session.execute(update(Job).where(Job.id.in_(orphaned))
                                .values(status=JobStatus.QUEUED, worker=None, lease_until=None))
            return len(orphaned)

    def claim(self, kinds: Collection[str] | None = None) -> Job | None:
        """Take the oldest runnable job (queued, or running with an expired lease), of one of ``kinds`` when given
        (a worker takes only the jobs it has handlers for), or ``None``."""
        now = utcnow()
        # a queued job's lease_until, when set, is the earliest time of its next attempt (retry back-off)
        runnable = or_(and_(Job.status == JobStatus.QUEUED, or_(Job.lease_until.is_(None), Job.lease_until < now)),
                       and_(Job.status == JobStatus.RUNNING, Job.lease_until < now))
        wanted = [Job.status.in_(UNFINISHED), runnable]  # the first: the partial index of unfinished jobs
        if kinds is not None:
            wanted.append(Job.kind.in_(kinds))
        oldest = select(Job.id).where(*wanted).order_by(Job.id).limit(1).with_for_update(skip_locked=True)
        claim = (update(Job).where(Job.id == oldest.scalar_subquery())
                 .values(status=JobStatus.RUNNING, attempts=Job.attempts + 1, lease_until=now + self.lease,
                         worker=f"{self.worker}:{secrets.token_hex(4)}")
                 .returning(Job))
        with self.catalog.session() as session:  # one statement: the queue's cost per job stays small
            return session.scalars(claim, execution_options={"synchronize_session": False}).first()

    def retry_or_fail(self, job: Job, error: str, *, permanent: bool = False) -> bool:
        """Record a failed attempt: queue the job again after a back-off (1 s, 2 s, 4 s, ...), or mark it ``failed``
        (returns True) when ``permanent`` or out of attempts. Nothing changes when this claim no longer holds."""
        failed = permanent or job.attempts >= self.max_attempts
        retry_at = None if failed else utcnow() + timedelta(seconds=self.backoff_seconds * 2 ** (job.attempts - 1))
        with self.catalog.session() as session:
            recorded = _rows(session.execute(
                update(Job).where(Job.id == job.id, Job.worker == job.worker).values(
                    status=JobStatus.FAILED if failed else JobStatus.QUEUED, error=error[:2000], worker=None,
                    lease_until=retry_at,
                )
            ))
        return failed and bool(recorded)  # a job another worker holds now is not given up here

    def release(self, job: Job, error: str, delay_seconds: float) -> None:
        """Queue the job again after ``delay_seconds`` without counting the attempt, recording ``error``: for a
        failure of the store or catalog (not of the job), which must not use up its attempts."""
        with self.catalog.session() as session:
            session.execute(
                update(Job).where(Job.id == job.id, Job.worker == job.worker).values(
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


def mark_done(session: Session, job: Claimed) -> None:
    """Mark ``job`` done inside the caller's transaction, so the job's results and its completion commit together
    (a crash either keeps both or neither). Raises ``LeaseLost`` when this claim of the job no longer holds (the
    caller's transaction then rolls back: another worker's results count)."""
    _update_claimed(session, job, status=JobStatus.DONE, error=None, worker=None, lease_until=None)


def renew_lease(session: Session, job: Claimed, lease: timedelta) -> None:
    """Extend a running job's lease by ``lease`` from now, inside the caller's transaction: a job that reports
    progress stays its worker's however long it runs (no other worker takes it over). Raises ``LeaseLost``."""
    _update_claimed(session, job, lease_until=utcnow() + lease)


def _update_claimed(session: Session, job: Claimed, **values: object) -> None:
    claimed = (Job.id == job.id, Job.status == JobStatus.RUNNING, Job.worker == job.worker)
    if not _rows(session.execute(update(Job).where(*claimed).values(**values))):
        raise LeaseLost(f"job {job.id} is no longer this worker's")


def _rows(result: Result[Any]) -> int:
    """Rows an UPDATE changed."""
    return cast(CursorResult[Any], result).rowcount

