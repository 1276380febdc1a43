"""On PostgreSQL, servers learn of each other's work from the catalog: committed events and queued jobs are
announced (``LISTEN``/``NOTIFY``, nothing for a rolled-back transaction), a queued job wakes one idle worker process
(the one holding the queue's watch), and an album's event ids become visible in order even when transactions commit
concurrently (streams read the log by id)."""

from __future__ import annotations

import queue
import threading
import time

import pytest
from pgserver_support import pgserver_url  # noqa: E402, F401 - PostgreSQL 16 (pgserver)
from sqlalchemy import delete, event

from photosift.application.events import read_events, record_event
from photosift.catalog.db import Catalog
from photosift.catalog.models import Album, Job
from photosift.catalog.notifications import EVENTS, JOBS, Listener, QueueWatch

pytestmark = pytest.mark.integration


@pytest.fixture
def catalog(pgserver_url: str) -> Catalog:  # noqa: F811 - the fixture above
    catalog = Catalog(pgserver_url)
    catalog.migrate()
    yield catalog
    catalog.dispose()


def _album(catalog: Catalog, album_id: str) -> None:
    with catalog.session() as session:
        session.add(Album(id=album_id, name=album_id))


def test_committed_events_and_queued_jobs_are_announced(catalog: Catalog) -> None:
    heard: queue.Queue[tuple[str, str]] = queue.Queue()
    listening = threading.Event()
    listener = Listener(catalog.url, {EVENTS: lambda p: heard.put((EVENTS, p)), JOBS: lambda p: heard.put((JOBS, p))},
                        on_listening=lambda up: up and listening.set())
    listener.start()
    try:
        assert listening.wait(10)
        album_id = "n" * 20
        _album(catalog, album_id)
        with pytest.raises(RuntimeError), catalog.session() as session:  # rolled back: announces nothing
            record_event(session, album_id, "photo.added", {"photo_id": "x"})
            raise RuntimeError
        with catalog.session() as session:
            record_event(session, album_id, "photo.added", {"photo_id": "y"})
            session.add(Job(kind="match", album_id=album_id))
        assert {heard.get(timeout=10), heard.get(timeout=10)} == {(EVENTS, album_id), (JOBS, "")}
        assert [e.data for e in read_events(catalog, album_id, 0)] == [{"photo_id": "y"}]
        with catalog.session() as session:
            session.execute(delete(Album).where(Album.id == album_id))
        assert heard.get(timeout=10) == (EVENTS, album_id)  # open streams learn that the album is gone
        assert heard.empty()
    finally:
        listener.stop()


class _Process:
    """What a ``QueueWatch`` sees of a worker process: whether it is idle, and its wake-ups."""

    def __init__(self) -> None:
        self.idle, self.wakes = True, queue.Queue()

    def wake(self) -> None:
        self.wakes.put(True)


def test_a_queued_job_wakes_one_idle_worker_process(catalog: Catalog) -> None:
    album_id = "q" * 20
    _album(catalog, album_id)
    processes = [_Process(), _Process()]
    watches = [QueueWatch(catalog.url, p.wake, lambda p=p: p.idle) for p in processes]
    for watch in watches:
        watch.start()
    try:
        first = _woken(processes)
        assert len(first) == 1  # the one that took the watch is woken once (jobs may be waiting)
        holder = first[0]
        other = processes[1 - processes.index(holder)]
        with catalog.session() as session:
            session.add_all([Job(kind="match", album_id=album_id), Job(kind="regroup", album_id=album_id)])
        assert _woken(processes) == [holder]  # one transaction: one wake-up, of the watcher only
        holder.idle = False  # it took a job: the watch passes to the other idle process, which looks for jobs
        assert _woken(processes) == [other]
        with catalog.session() as session:
            session.add(Job(kind="match", album_id=album_id))
        assert _woken(processes) == [other]
    finally:
        for watch in watches:
            watch.stop()
        with catalog.session() as session:  # its jobs go with it: no other test's worker sees them
            session.execute(delete(Album).where(Album.id == album_id))


def _woken(processes: list[_Process], settle: float = 3.0) -> list[_Process]:
    """The processes woken within ``settle`` seconds (each wake-up counted)."""
    deadline = time.monotonic() + settle
    woken = []
    while time.monotonic() < deadline:
        for process in processes:
            while not process.wakes.empty():
                process.wakes.get()
                woken.append(process)
        time.sleep(0.02)
    return woken


def test_an_albums_event_ids_become_visible_in_commit_order(catalog: Catalog) -> None:
    album_id = "o" * 20
    _album(catalog, album_id)
    written, release = threading.Event(), threading.Event()

    def slow() -> None:  # its event gets its id at the commit, then the commit is held up
        with catalog.session() as session:
            record_event(session, album_id, "first", {})

            @event.listens_for(session, "after_flush")
            def hold(*_) -> None:  # noqa: ANN002
                written.set()
                release.wait(10)

    def quick() -> None:
        with catalog.session() as session:
            record_event(session, album_id, "second", {})

    first = threading.Thread(target=slow)
    first.start()
    assert written.wait(10)
    second = threading.Thread(target=quick)
    second.start()
    second.join(0.5)
    assert second.is_alive()  # waits for the album's earlier transaction, instead of taking a later id first
    assert read_events(catalog, album_id, 0) == []
    release.set()
    first.join(10)
    second.join(10)
    events = read_events(catalog, album_id, 0)
    assert [e.type for e in events] == ["first", "second"] and events[0].id < events[1].id
