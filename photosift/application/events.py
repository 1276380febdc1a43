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

from sqlalchemy import select
from sqlalchemy.orm import Session

from photosift.catalog.db import Catalog
from photosift.catalog.models import Event


def record_event(session: Session, album_id: str, type_: str, data: dict[str, Any]) -> None:
    """Append an event inside the caller's transaction (it becomes visible when that commits)."""
    session.add(Event(album_id=album_id, type=type_, data=data))


def read_events(catalog: Catalog, album_id: str, after: int, limit: int = 200) -> list[Event]:
    """Events of ``album_id`` with id > ``after``, oldest first."""
    with catalog.read() as session:
        return list(session.scalars(
            select(Event).where(Event.album_id == album_id, Event.id > after).order_by(Event.id).limit(limit)
        ))


class EventHub:
    """Wakes the SSE streams of an album when a thread of this process commits events for it.

    Streams also re-read the log every few seconds, so events written by other processes arrive too.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

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
        for loop, event in entries:
            with contextlib.suppress(RuntimeError):  # that stream's loop is closed
                loop.call_soon_threadsafe(event.set)
