"""``JobRunner``: worker threads of the server that claim jobs from the catalog and run their handlers."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from photosift.catalog.models import Job
from photosift.errors import InvalidInput
from photosift.jobs.queue import JobQueue, LeaseLost
from photosift.store.failures import storage_failure

log = logging.getLogger("photosift.jobs")


class JobHandler(Protocol):
    """Runs one kind of job. ``run`` must be idempotent and should commit ``queue.mark_done`` with its results."""

    def run(self, job: Job) -> None: ...

    def failed(self, job: Job, error: str) -> None:
        """Called once when the job is given up (out of attempts or a permanent error)."""


@dataclass
class _Failure:
    """A job's failure still to be recorded: the queue's record first, then (when given up) the handler's."""

    job: Job
    handler: JobHandler
    message: str
    permanent: bool
    release_after: float | None  # seconds: a store/catalog failure, released without using up an attempt
    recorded: bool = False

    def settle(self, queue: JobQueue) -> None:
        """Record it (idempotent: a step that succeeded is not repeated); raises when the catalog still fails."""
        if not self.recorded:
            if self.release_after is not None:
                queue.release(self.job, self.message, self.release_after)
                given_up = False
            else:
                given_up = queue.retry_or_fail(self.job, self.message, permanent=self.permanent)
            self.recorded = True
            if not given_up:
                return
        self.handler.failed(self.job, self.message)


class JobRunner:
    """``workers`` threads draining ``queue``. Call ``wake()`` after enqueueing; idle workers also poll every
    ``poll_seconds`` for jobs added by other processes or whose lease expired.

    ``InvalidInput`` errors (an undecodable photo) fail a job at once; a failing store or catalog (a full disk, an
    unreachable S3 server or database: ``photosift.store.failures``) releases the job to be taken again after a
    back-off (2 s doubling to 5 min) without using up an attempt; any other exception is retried up to the queue's
    ``max_attempts``. When even recording a failure fails (the catalog is full or down), the runner keeps it and
    records it as soon as the catalog accepts writes again, before it claims another job: a job is never left
    ``running`` for its lease. A handler whose job another worker took over (``LeaseLost``) has committed nothing;
    the job is left to that worker. ``stop`` lets running jobs finish for a while, then releases the others.
    """

    MAX_RELEASE_SECONDS = 300.0

    def __init__(self, queue: JobQueue, handlers: dict[str, JobHandler], *, workers: int = 2,
                 poll_seconds: float = 1.0) -> None:
        self.queue = queue
        self.handlers = handlers
        self.kinds = tuple(handlers)  # a worker claims only the jobs it has handlers for
        self.workers = workers
        self.poll_seconds = poll_seconds
        self._wakeup = threading.Condition()
        self._pending_wakeups = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._unrecorded: deque[_Failure] = deque()  # failures the catalog did not take yet
        self._lock = threading.Lock()
        self._storage_failures = 0  # in a row, for the release back-off
        self._running: dict[int, Job] = {}  # by thread id: the job each worker thread is running

    def start(self) -> None:
        """Queue again the jobs a previous run left unfinished, then start the worker threads."""
        recovered = self.queue.recover()
        if recovered:
            log.info("re-queued %d interrupted jobs", recovered)
        for n in range(self.workers):
            thread = threading.Thread(target=self._loop, name=f"photosift-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        """Let running jobs finish for up to ``timeout`` seconds, then release those still running (queued again at
        once, the attempt not counted: another worker takes them); queued jobs stay queued."""
        self._stop.set()
        self.wake(len(self._threads))
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()
        with self._lock:
            unfinished = list(self._running.values())
            self._running.clear()
        for job in unfinished:
            try:
                self.queue.release(job, "released: its worker stopped before it finished", 0.0)
            except Exception:  # the catalog is down: the job's lease brings it back
                log.exception("releasing job %s at stop failed", job.id)
            else:
                log.info("released job %s (%s) unfinished at stop", job.id, job.kind)

    def has_idle_worker(self) -> bool:
        """Whether a worker thread has no job to run (started and not stopping)."""
        with self._lock:
            return not self._stop.is_set() and len(self._running) < len(self._threads)

    def wake(self, n: int = 1) -> None:
        """Tell up to ``n`` idle workers that jobs were queued."""
        with self._wakeup:
            self._pending_wakeups += n
            self._wakeup.notify(n)

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self._record_pending():
                self._stop.wait(self.poll_seconds)
                continue
            try:
                job = self.queue.claim(self.kinds)
            except Exception:  # the catalog may be briefly unavailable; keep the worker alive
                log.exception("claiming a job failed")
                job = None
            if job is None:
                self._idle()
                continue
            self._run(job)

    def _idle(self) -> None:
        with self._wakeup:
            if self._pending_wakeups == 0:
                self._wakeup.wait(self.poll_seconds)
            self._pending_wakeups = max(0, self._pending_wakeups - 1)

    def _run(self, job: Job) -> None:
        handler = self.handlers[job.kind]  # claimed for one of its kinds
        with self._lock:
            self._running[threading.get_ident()] = job
        try:
            handler.run(job)
        except LeaseLost as exc:
            log.info("job %s (%s): %s; its results were not committed", job.id, job.kind, exc)
        except Exception as exc:  # any failure is recorded on the job; the worker lives on
            typed = storage_failure(exc)
            failure = _Failure(job, handler, f"{type(typed or exc).__name__}: {typed or exc}",
                               permanent=isinstance(exc, InvalidInput), release_after=self._back_off(typed))
            if not failure.permanent:
                log.warning("job %s (%s) attempt %d failed: %s", job.id, job.kind, job.attempts, failure.message)
            self._record(failure)
        else:
            with self._lock:
                self._storage_failures = 0
        finally:
            with self._lock:
                self._running.pop(threading.get_ident(), None)

    def _back_off(self, typed: Exception | None) -> float | None:
        if typed is None:
            return None
        with self._lock:
            self._storage_failures += 1
            return min(self.MAX_RELEASE_SECONDS, 2.0 ** self._storage_failures)

    def _record(self, failure: _Failure) -> None:
        try:
            failure.settle(self.queue)
        except Exception:
            log.exception("recording the failure of job %s failed; retrying when the catalog accepts writes",
                          failure.job.id)
            with self._lock:
                self._unrecorded.append(failure)

    def _record_pending(self) -> bool:
        """Record the failures the catalog refused before; whether none is left."""
        while True:
            with self._lock:
                if not self._unrecorded:
                    return True
                failure = self._unrecorded.popleft()
            try:
                failure.settle(self.queue)
            except Exception as exc:
                log.warning("recording the failure of job %s still fails: %s", failure.job.id, exc)
                with self._lock:
                    self._unrecorded.appendleft(failure)
                return False

