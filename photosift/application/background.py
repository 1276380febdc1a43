"""``Background``: what a server process runs besides answering requests, the same for ``photosift serve`` and
``photosift worker``: the job workers (none when ``PHOTOSIFT_WORKERS=0``: an API-only node) and, on PostgreSQL, the
notifications that wake them when another server queued jobs (``QueueWatch``) and the event streams when another
server committed events (``Listener``)."""

from __future__ import annotations

import logging

from photosift.application.context import Services
from photosift.application.processing import job_handlers
from photosift.application.reembedding import queue_reembedding
from photosift.catalog.notifications import EVENTS, Listener, QueueWatch
from photosift.jobs.runner import JobRunner

log = logging.getLogger("photosift.jobs")

STOP_SECONDS = 10.0  # at a stop, running jobs may finish for this long; the others are released to other workers


class Background:
    """Job workers and catalog notifications of one process, started and stopped together."""

    def __init__(self, svc: Services, *, streams: bool = True) -> None:
        """``streams``: this process serves event streams (``photosift serve``; a worker does not)."""
        self.svc = svc
        workers = svc.settings.workers
        self.runner = JobRunner(svc.queue, job_handlers(svc), workers=workers) if workers else None
        self.notifications: list[Listener | QueueWatch] = []
        if not svc.catalog.is_sqlite:
            if streams:
                self.notifications.append(Listener(svc.catalog.url, {EVENTS: svc.hub.publish},
                                                   on_listening=svc.hub.set_listening))
            if self.runner is not None:
                self.notifications.append(QueueWatch(svc.catalog.url, self.runner.wake, self.runner.has_idle_worker))

    def start(self) -> None:
        """Queue the re-embedding a change of recogniser needs, then start the workers and the notifications."""
        queue_reembedding(self.svc)
        if self.runner is not None:
            self.svc.wake_workers = self.runner.wake
            self.runner.start()
        for notifications in self.notifications:
            notifications.start()

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Stop the notifications, let running jobs finish for up to ``timeout`` seconds (the others are released),
        then close the engine pools and the catalog."""
        for notifications in self.notifications:
            notifications.stop()
        if self.runner is not None:
            self.runner.stop(timeout)
        self.svc.engine.shutdown()
        self.svc.analysis.shutdown()
        self.svc.catalog.dispose()
