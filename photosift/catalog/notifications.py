"""``Listener``: a thread that receives PostgreSQL notifications (``LISTEN``), so a server learns at once of events
and jobs another server committed (the channels: migration ``0014_notifications``).

It keeps one connection of its own (outside the catalog's pool), reconnects after a failure with a back-off, and
reports whether it is listening: while it is not, notifications may be missed and callers poll as on SQLite.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.engine import make_url

log = logging.getLogger("photosift.catalog")

EVENTS = "photosift_events"  # payload: an album id (an event was added to its log, or it was deleted)
JOBS = "photosift_jobs"  # a job was queued
MAX_BACKOFF_SECONDS = 30.0


def libpq_url(url: str) -> str:
    """The libpq connection URI of a SQLAlchemy PostgreSQL URL (``postgresql+psycopg://`` → ``postgresql://``)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Listener:
    """Calls ``handlers[channel](payload)`` for each notification on those channels; ``on_listening(bool)`` when
    the connection comes up (True: calls missed while it was down should be made up for) or goes down."""

    def __init__(self, url: str, handlers: dict[str, Callable[[str], None]],
                 on_listening: Callable[[bool], None] = lambda _: None) -> None:
        self.conninfo = libpq_url(url)
        self.handlers = handlers
        self.on_listening = on_listening
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="photosift-listener", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                self._listen()
                backoff = 0.5
            except Exception as exc:  # the database restarted or is unreachable: reconnect after a while
                log.warning("listening for catalog notifications failed (%s); retrying in %.1f s", exc, backoff)
            self.on_listening(False)
            self._stop.wait(backoff)
            backoff = min(MAX_BACKOFF_SECONDS, backoff * 2)

    def _listen(self) -> None:
        import psycopg

        with psycopg.connect(self.conninfo, autocommit=True) as connection:
            for channel in self.handlers:
                connection.execute(f"LISTEN {channel}")
            self.on_listening(True)
            while not self._stop.is_set():
                for notification in connection.notifies(timeout=1.0):
                    handler = self.handlers.get(notification.channel)
                    if handler is not None:
                        handler(notification.payload)
