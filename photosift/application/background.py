"""``Background``: what a server process runs besides answering requests, the same for ``photosift serve`` and
``photosift worker``: the job workers (none when ``PHOTOSIFT_WORKERS=0``: an API-only node) and, on PostgreSQL, the
listener that wakes them and the event streams when another server queued jobs or committed events."""

from __future__ import annotations

import logging

from photosift.application.context import Services
from photosift.application.processing import job_handlers
from photosift.application.reembedding import queue_reembedding
from photosift.catalog.notifications import EVENTS, JOBS, Listener
from photosift.jobs.runner import JobRunner

log = logging.getLogger("photosift.jobs")

STOP_SECONDS = 10.0  # at a stop, running jobs may finish for this long; the others are released to other workers


class Background:
    """Job workers and catalog notifications of one process, started and stopped together."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        workers = svc.settings.workers
        self.runner = JobRunner(svc.queue, job_handlers(svc), workers=workers) if workers else None
        self.listener = None
        if not svc.catalog.is_sqlite:
            handlers = {EVENTS: svc.hub.publish}
            if self.runner is not None:
                handlers[JOBS] = lambda _payload: svc.notify_jobs(workers)
            self.listener = Listener(svc.catalog.url, handlers, on_listening=svc.hub.set_listening)

    def start(self) -> None:
        """Queue the re-embedding a change of recogniser needs, then start the workers and the listener."""
        queue_reembedding(self.svc)
        if self.runner is not None:
            self.svc.wake_workers = self.runner.wake
            self.runner.start()
        if self.listener is not None:
            self.listener.start()

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Stop listening, let running jobs finish for up to ``timeout`` seconds (the others are released), then
        close the engine pools and the catalog."""
        if self.listener is not None:
            self.listener.stop()
        if self.runner is not None:
            self.runner.stop(timeout)
        self.svc.engine.shutdown()
        self.svc.analysis.shutdown()
        self.svc.catalog.dispose()
