"""Album events: an append-only log in the catalog (durable, resumable by id) and an in-process wake-up hub.

Event types (``data`` is JSON):
- ``photo.added``    ``{"photo_id", "filename"}`` — stored and queued for analysis;
- ``photo.analyzed`` ``{"photo": <photo view with faces and matches>}``;
- ``photo.failed``   ``{"photo_id", "error"}``;
- ``photo.deleted``  ``{"photo_ids": [...]}`` — photos deleted with their faces (``photosift.application.deletion``);
- ``photo.matched``  ``{"photo_id", "matches": [{"face_id", "member_id", "member_name", "similarity"}]}`` — the
  members matched in a photo changed (references added or removed, a member created or deleted);
- ``member.updated`` ``{"member_id", "name", "references"}`` / ``member.deleted`` ``{"member_id"}``.
- ``album.matched``  ``{"photos_changed"}`` — a re-match of the album (after a member change) is over;
- ``album.updated``  ``{"name"}`` — the album was renamed.
- ``people.changed`` ``{"faces": {face_id: person_id | null}, "removed": [person ids]}`` — people were grouped,
  merged, split, renamed into members, hidden (then also ``"hidden": {person_id: bool}``) or faces moved.
- ``album.reembedding`` ``{"done", "total"}`` — the album's faces and reference photos are being embedded again by
  a new recogniser (``photosift.application.reembedding``): how many so far;
- ``album.reembedded`` ``{"recognizer", "faces", "references", "rejections", "failed_photos", "failed_references"}``
  — that is over (a re-match of the album follows).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from photosift.catalog import events
from photosift.catalog.db import Catalog, Session


def record_event(session: Session, album_id: str, type_: str, data: dict[str, Any]) -> None:
    """Append an event inside the caller's transaction; it becomes visible, in order, when that commits
    (``catalog.events.append``)."""
    events.append(session, album_id=album_id, type_=type_, data=data)


def read_events(catalog: Catalog, album_id: str, after: int, limit: int = 200) -> list[events.Event]:
    """Events of ``album_id`` with id > ``after``, oldest first."""
    with catalog.read() as session:
        return events.after(session, album_id=album_id, after_id=after, limit=limit)


class EventHub:
    """Wakes the SSE streams of an album when events are committed for it: by a thread of this process
    (``publish``), or by any server when the catalog's notifications arrive (PostgreSQL: ``listening`` is then True
    and streams need not re-read the log unless woken; otherwise they re-read it every few seconds)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self.listening = False

    @contextmanager
    def subscribe(self, album_id: str) -> Iterator[asyncio.Event]:
        """An ``asyncio.Event`` set whenever ``publish(album_id)`` is called, for the duration of the block."""
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._subscribers.setdefault(album_id, set()).add(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                subscribers = self._subscribers.get(album_id, set())
                subscribers.discard(entry)
                if not subscribers:
                    self._subscribers.pop(album_id, None)

    def publish(self, album_id: str) -> None:
        """Wake the streams of ``album_id`` (call after committing its events; safe from any thread)."""
        with self._lock:
            entries = list(self._subscribers.get(album_id, ()))
        self._wake(entries)

    def set_listening(self, listening: bool) -> None:
        """Record whether the catalog's notifications arrive; every stream re-reads the log at each change (what
        was committed while they did not arrive)."""
        self.listening = listening
        with self._lock:
            entries = [entry for entries in self._subscribers.values() for entry in entries]
        self._wake(entries)

    @staticmethod
    def _wake(entries: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]) -> None:
        for loop, wake in entries:
            with contextlib.suppress(RuntimeError):  # that stream's loop is closed
                loop.call_soon_threadsafe(wake.set)
