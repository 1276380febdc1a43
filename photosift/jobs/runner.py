"""``JobRunner``: worker threads of the server that claim jobs from the catalog and run their handlers."""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from photosift.catalog.models import Job
from photosift.errors import InvalidInput
from photosift.jobs.queue import JobQueue

log = logging.getLogger("photosift.jobs")


class JobHandler(Protocol):
    """Runs one kind of job. ``run`` must be idempotent and should commit ``queue.mark_done`` with its results."""

    def run(self, job: Job) -> None: ...

    def failed(self, job: Job, error: str) -> None:
        """Called once when the job is given up (out of attempts or a permanent error)."""


class JobRunner:
    """``workers`` threads draining ``queue``. Call ``wake()`` after enqueueing; idle workers also poll every
    ``poll_seconds`` for jobs added by other processes or whose lease expired.

    ``InvalidInput`` errors (an undecodable photo) fail a job at once; any other exception is retried up to the
    queue's ``max_attempts``.
    """

    def __init__(self, queue: JobQueue, handlers: dict[str, JobHandler], *, workers: int = 2,
                 poll_seconds: float = 1.0) -> None:
        self.queue = queue
        self.handlers = handlers
        self.workers = workers
        self.poll_seconds = poll_seconds
        self._wakeup = threading.Condition()
        self._pending_wakeups = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

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
        """Let running jobs finish (up to ``timeout`` seconds each), then return; queued jobs stay queued."""
        self._stop.set()
        self.wake(len(self._threads))
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def wake(self, n: int = 1) -> None:
        """Tell up to ``n`` idle workers that jobs were queued."""
        with self._wakeup:
            self._pending_wakeups += n
            self._wakeup.notify(n)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job = self.queue.claim()
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
        handler = self.handlers.get(job.kind)
        if handler is None:
            self.queue.retry_or_fail(job, f"no handler for job kind {job.kind!r}", permanent=True)
            return
        try:
            handler.run(job)
        except Exception as exc:  # any failure is recorded on the job; the worker lives on
            message = f"{type(exc).__name__}: {exc}"
            permanent = isinstance(exc, InvalidInput)
            if not permanent:
                log.warning("job %s (%s) attempt %d failed: %s", job.id, job.kind, job.attempts, message)
            try:
                if self.queue.retry_or_fail(job, message, permanent=permanent):
                    handler.failed(job, message)
            except Exception:
                log.exception("recording the failure of job %s failed", job.id)
