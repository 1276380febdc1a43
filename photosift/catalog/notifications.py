"""PostgreSQL notifications (``LISTEN``; the channels: migration ``0014_notifications``), so a server learns at once
of what another server committed.

``Listener``: a thread that hears an album's new events (event streams wake on them). ``QueueWatch``: a thread that
hears queued jobs, in one idle worker process of the whole catalog at a time, so a job wakes one worker, not every
idle one (16 idle workers each claiming at every new job cost 21 ms per job instead of 3: ``benchmarks/cluster.py``);
the others find jobs at their next poll, or once they hold the watch. Each keeps one connection of its own (outside
the catalog's pool) and reconnects after a failure with a back-off.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import make_url

log = logging.getLogger("photosift.catalog")

EVENTS = "photosift_events"  # payload: an album id (an event was added to its log, or it was deleted)
JOBS = "photosift_jobs"  # a job was queued
WATCH_LOCK = 0x71776174  # PostgreSQL advisory lock held by the process that watches the queue ("qwat")
MAX_BACKOFF_SECONDS = 30.0


def libpq_url(url: str) -> str:
    """The libpq connection URI of a SQLAlchemy PostgreSQL URL (``postgresql+psycopg://`` → ``postgresql://``)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class _Connected:
    """A thread that runs ``session(connection)`` on a connection of its own, again after a failure (with a
    back-off), until ``stop()``; ``down()`` is called whenever a session ended."""

    name = "photosift-notifications"

    def __init__(self, url: str) -> None:
        self.conninfo = libpq_url(url)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def session(self, connection: Any) -> None:  # a psycopg.Connection
        raise NotImplementedError

    def down(self) -> None:
        """Called after each session, once its connection is gone."""

    def _run(self) -> None:
        import psycopg

        backoff = 0.5
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as connection:
                    self.session(connection)
                backoff = 0.5
            except Exception as exc:  # the database restarted or is unreachable: reconnect after a while
                log.warning("catalog notifications (%s) failed: %s; retrying in %.1f s", self.name, exc, backoff)
            self.down()
            self._stop.wait(backoff)
            backoff = min(MAX_BACKOFF_SECONDS, backoff * 2)


class Listener(_Connected):
    """Calls ``handlers[channel](payload)`` for each notification on those channels; ``on_listening(bool)`` when
    the connection comes up (True: what was missed while it was down should be made up for) or goes down (False:
    notifications may be missed, callers poll as on SQLite)."""

    name = "photosift-listener"

    def __init__(self, url: str, handlers: dict[str, Callable[[str], None]],
                 on_listening: Callable[[bool], None] = lambda _: None) -> None:
        super().__init__(url)
        self.handlers = handlers
        self.on_listening = on_listening

    def session(self, connection: Any) -> None:  # a psycopg.Connection
        for channel in self.handlers:
            connection.execute(f"LISTEN {channel}")
        self.on_listening(True)
        while not self.stopping:
            for notification in connection.notifies(timeout=1.0):
                handler = self.handlers.get(notification.channel)
                if handler is not None:
                    handler(notification.payload)

    def down(self) -> None:
        self.on_listening(False)


class QueueWatch(_Connected):
    """While ``idle()`` (this process has a worker with nothing to do), try to become the catalog's one watcher of
    the queue (an advisory lock); the watcher calls ``wake()`` when it takes the watch (jobs may have been queued
    since the last watcher left) and at each queued job, and gives the watch up as soon as it is not idle."""

    name = "photosift-queue-watch"
    RETRY_SECONDS = 0.5  # how often an idle process tries to take the watch

    def __init__(self, url: str, wake: Callable[[], None], idle: Callable[[], bool]) -> None:
        super().__init__(url)
        self.wake = wake
        self.idle = idle

    def session(self, connection: Any) -> None:  # a psycopg.Connection
        while not self.stopping:
            if not self.idle() or not connection.execute("SELECT pg_try_advisory_lock(%s)",
                                                         (WATCH_LOCK,)).fetchone()[0]:
                self._stop.wait(self.RETRY_SECONDS)
                continue
            connection.execute(f"LISTEN {JOBS}")
            self.wake()
            while not self.stopping and self.idle():
                for _ in connection.notifies(timeout=0.2, stop_after=1):
                    self.wake()
            connection.execute(f"UNLISTEN {JOBS}")
            connection.execute("SELECT pg_advisory_unlock(%s)", (WATCH_LOCK,))
