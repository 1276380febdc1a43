"""Bounded resources and typed infrastructure failures: a full disk answers 507 and an unreachable store or catalog
503 (never 500), a job's failure is recorded even when the catalog refused it at first, cached thumbnails are served
outside the engine pool, analysis workers die with a SIGKILLed server, and upload memory does not grow with the
request."""

from __future__ import annotations

import errno
import io
import os
import pickle
import signal
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from tempfile import SpooledTemporaryFile

import boto3
import numpy as np
import pytest
import sqlalchemy
from botocore.config import Config
from fastapi.testclient import TestClient
from service_support import free_port, jpeg, upload, wait_analysed
from sqlalchemy import select

from photosift.api.app import create_app
from photosift.application.context import Services
from photosift.application.processing import job_handlers
from photosift.catalog.models import Album, Job, JobStatus, Photo, PhotoStatus
from photosift.config import Settings
from photosift.errors import InsufficientStorage, NotFound, StoreUnavailable
from photosift.jobs.pool import BACKGROUND_NICE, AnalysisProcesses
from photosift.jobs.queue import JobQueue
from photosift.jobs.runner import JobRunner
from photosift.store import content_key
from photosift.store.base import BlobStore
from photosift.store.failures import storage_failure
from photosift.store.local import LocalStore
from photosift.store.s3 import S3Store

PHOTO = jpeg(np.random.default_rng(1).integers(0, 255, (240, 320, 3), dtype=np.uint8))


def wait_for(condition: Callable[[], object], timeout: float = 30.0, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.02)
    raise AssertionError(f"{what} not reached within {timeout} s")


@pytest.fixture
def app(tmp_path: Path) -> Iterator[TestClient]:
    """The application in-process (one worker; analysis processes only start if a photo is analysed)."""
    with TestClient(create_app(Settings(data_dir=tmp_path / "data", workers=1)), base_url="http://127.0.0.1") as client:
        yield client


def services(client: TestClient) -> Services:
    return client.app.state.services


def new_album(client: TestClient) -> str:
    return client.post("/v1/albums", json={"name": "resources"}).json()["id"]


def post_photo(client: TestClient, album_id: str, data: bytes = PHOTO):
    return client.post(f"/v1/albums/{album_id}/photos", files=[("files", ("p.jpg", data, "image/jpeg"))])


# --- typed failures through the API --------------------------------------------------------------------------------


def test_a_full_disk_answers_507_and_records_nothing(app: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    album_id = new_album(app)

    def no_space(fd: int) -> None:  # what fsync reports when delayed allocation finds the disk full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    reply = post_photo(app, album_id)
    monkeypatch.undo()
    assert reply.status_code == 507
    assert reply.json()["error"]["type"] == "InsufficientStorage"
    assert "no space left" in reply.json()["error"]["message"]
    assert app.get(f"/v1/albums/{album_id}/photos").json()["items"] == []
    blobs = services(app).settings.data_dir / "blobs"
    assert not [p for p in blobs.rglob("*") if p.is_file()]  # the partial write was removed
    assert post_photo(app, album_id).status_code == 202  # space again: accepted


def test_a_full_disk_while_the_upload_is_spooled_answers_507(app: TestClient, monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    import starlette.formparsers

    class FullSpool(SpooledTemporaryFile):
        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    album_id = new_album(app)
    monkeypatch.setattr(starlette.formparsers, "SpooledTemporaryFile", FullSpool)
    reply = post_photo(app, album_id)
    assert reply.status_code == 507, reply.text
    assert reply.json()["error"]["type"] == "InsufficientStorage"


def test_an_unreachable_s3_store_answers_503(app: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    album_id = new_album(app)
    client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{free_port()}", region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="y",
                          config=Config(retries={"total_max_attempts": 1}, connect_timeout=2))
    monkeypatch.setattr(services(app), "store", S3Store("photos", client=client))
    reply = post_photo(app, album_id)
    assert reply.status_code == 503
    assert reply.json()["error"]["type"] == "StoreUnavailable"
    assert reply.headers["retry-after"]


def test_a_full_catalog_answers_507(app: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from photosift.application import photos

    def full(*args, **kwargs):
        raise _sqlite_full()

    album_id = new_album(app)
    monkeypatch.setattr(photos, "list_photos", full)
    reply = app.get(f"/v1/albums/{album_id}/photos")
    assert reply.status_code == 507
    assert reply.json()["error"]["type"] == "InsufficientStorage"
    assert app.get("/healthz").status_code == 200  # the connection and the server carry on


def _sqlite_full() -> sqlalchemy.exc.OperationalError:
    """A real SQLITE_FULL from SQLite (``max_page_count`` reached), as SQLAlchemy raises it."""
    engine = sqlalchemy.create_engine("sqlite://")
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x)")
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar()
        connection.exec_driver_sql(f"PRAGMA max_page_count = {pages}")
        try:
            connection.exec_driver_sql("INSERT INTO t VALUES (?)", (b"x" * 100_000,))
        except sqlalchemy.exc.OperationalError as exc:
            return exc
    raise AssertionError("SQLite did not report a full database")


def test_storage_failures_are_classified() -> None:
    assert isinstance(storage_failure(OSError(errno.ENOSPC, "full")), InsufficientStorage)
    assert isinstance(storage_failure(OSError(errno.EDQUOT, "quota")), InsufficientStorage)
    assert isinstance(storage_failure(OSError(errno.EIO, "I/O error")), StoreUnavailable)
    assert storage_failure(OSError(errno.ENOENT, "missing")) is None
    assert storage_failure(ValueError("a bug")) is None
    full = storage_failure(_sqlite_full())
    assert isinstance(full, InsufficientStorage) and "catalog" in str(full)
    engine = sqlalchemy.create_engine(f"postgresql+psycopg://u@127.0.0.1:{free_port()}/x")
    with pytest.raises(sqlalchemy.exc.OperationalError) as refused:
        engine.connect()
    assert isinstance(storage_failure(refused.value), StoreUnavailable)
    syntax = pytest.raises(sqlalchemy.exc.OperationalError, sqlalchemy.create_engine("sqlite://").connect()
                           .exec_driver_sql, "SELEC 1")
    assert storage_failure(syntax.value) is None  # a bug stays a 500


# --- thumbnails ----------------------------------------------------------------------------------------------------


def test_cached_thumbnails_are_served_while_the_engine_pool_is_saturated(app: TestClient,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    photo_id = post_photo(app, new_album(app)).json()["photos"][0]["id"]
    made = app.get(f"/v1/photos/{photo_id}/thumbnail", params={"size": 128})
    assert made.status_code == 200 and made.headers["content-type"] == "image/jpeg"
    monkeypatch.setattr(services(app).engine, "max_pending", 0)  # every engine call now answers Busy
    cached = app.get(f"/v1/photos/{photo_id}/thumbnail", params={"size": 128})
    assert cached.status_code == 200 and cached.content == made.content
    busy = app.get(f"/v1/photos/{photo_id}/thumbnail", params={"size": 256})  # not made yet: needs the pool
    assert busy.status_code == 503 and busy.json()["error"]["type"] == "Busy"
    assert app.get(f"/v1/photos/{photo_id}/thumbnail", params={"size": 100}).status_code == 400
    assert app.get("/v1/photos/nope/thumbnail", params={"size": 128}).status_code == 404


# --- job failures are recorded, never left running -----------------------------------------------------------------


class FullCatalogQueue(JobQueue):
    """A queue whose failure records are refused (SQLITE_FULL) while ``full`` is set."""

    full = True
    refused = 0

    def retry_or_fail(self, *args, **kwargs) -> bool:
        self._check()
        return super().retry_or_fail(*args, **kwargs)

    def release(self, *args, **kwargs) -> None:
        self._check()
        super().release(*args, **kwargs)

    def _check(self) -> None:
        if self.full:
            self.refused += 1
            raise _sqlite_full()


class FailingStore(BlobStore):
    """A store that cannot be read (``get``: ``StoreUnavailable``) or returns ``data``."""

    def __init__(self, data: bytes | None = None) -> None:
        self.data = data

    def put(self, key: str, data: bytes) -> None:
        raise AssertionError("not used")

    def get(self, key: str) -> bytes:
        if self.data is None:
            raise StoreUnavailable(f"S3 get of {key!r} failed: Could not connect to the endpoint URL")
        return self.data

    def delete(self, key: str) -> None:
        pass

    def exists(self, key: str) -> bool:
        return True

    def get_object(self, bucket: str, name: str, version: str | None = None) -> bytes:
        raise NotFound(name)


class InThread:
    """Runs the analysis in the calling thread (instead of a worker process)."""

    def run(self, fn, *args, **kwargs):
        return fn(*args, **kwargs)


def _runner_with_one_photo(tmp_path: Path, store: BlobStore) -> tuple[JobRunner, FullCatalogQueue, Services]:
    from photosift.application.context import build_services

    svc = build_services(Settings(data_dir=tmp_path / "data", workers=1))
    queue = FullCatalogQueue(svc.catalog, max_attempts=3, lease_seconds=600)
    svc.queue, svc.store, svc.analysis = queue, store, InThread()
    with svc.catalog.session() as session:
        session.add(Album(id="a" * 20, name="album"))
        session.flush()
        session.add(Photo(id="p" * 20, album_id="a" * 20, blob_key="photos/ab/abc", sha256="abc", filename="x.jpg",
                          content_type="image/jpeg", size_bytes=3, status=PhotoStatus.PENDING))
        session.flush()
        session.add(Job(kind="analyze", album_id="a" * 20, photo_id="p" * 20))
    return JobRunner(queue, job_handlers(svc), workers=1, poll_seconds=0.05), queue, svc


def _job(svc: Services) -> Job:
    with svc.catalog.read() as session:
        return session.scalars(select(Job)).one()


def _photo(svc: Services) -> Photo:
    with svc.catalog.read() as session:
        return session.get(Photo, "p" * 20)


def test_an_unreadable_photo_releases_its_job_once_the_catalog_takes_writes(tmp_path: Path) -> None:
    runner, queue, svc = _runner_with_one_photo(tmp_path, FailingStore())
    runner.start()
    try:
        wait_for(lambda: queue.refused >= 2, what="the failure record refused twice")
        assert _job(svc).status == JobStatus.RUNNING  # nothing could be written yet
        queue.full = False
        job = wait_for(lambda: (j := _job(svc)).status == JobStatus.QUEUED and j, what="the job released")
        assert "StoreUnavailable" in job.error and job.attempts == 0  # the store's failure costs no attempt
        assert job.lease_until is not None  # taken again after a back-off
        assert _photo(svc).status == PhotoStatus.PENDING
    finally:
        runner.stop()
        svc.catalog.dispose()


def test_a_permanent_failure_is_recorded_once_the_catalog_takes_writes(tmp_path: Path) -> None:
    runner, queue, svc = _runner_with_one_photo(tmp_path, FailingStore(b"not an image"))
    runner.start()
    try:
        wait_for(lambda: queue.refused >= 2, what="the failure record refused twice")
        assert _job(svc).status == JobStatus.RUNNING
        queue.full = False
        wait_for(lambda: _job(svc).status == JobStatus.FAILED, what="the job failed")
        photo = wait_for(lambda: (p := _photo(svc)).status == PhotoStatus.FAILED and p, what="the photo failed")
        assert "InvalidImage" in photo.error
    finally:
        runner.stop()
        svc.catalog.dispose()


# --- stores stream ------------------------------------------------------------------------------------------------


def test_local_store_streams_a_file_in_fixed_memory(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "blobs")
    data = np.random.default_rng(2).integers(0, 256, 32 << 20, dtype=np.uint8).tobytes()
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    with open(path, "rb") as file:
        tracemalloc.start()
        key, digest = store.put_content_file(file)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert key == content_key(data) and digest == key.rsplit("/", 1)[1]
    assert peak < 4 << 20, f"{peak / 2**20:.1f} MiB allocated to store a 32 MiB file"
    assert store.get(key) == data


@pytest.mark.integration
def test_s3_store_streams_a_file_and_pickles_as_its_address(moto_s3: dict[str, str]) -> None:
    endpoint = moto_s3["PHOTOSIFT_S3_ENDPOINT_URL"]
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="streamed")
    store = S3Store("streamed", "p", endpoint_url=endpoint)
    data = np.random.default_rng(3).integers(0, 256, 9 << 20, dtype=np.uint8).tobytes()
    key, _ = store.put_content_file(io.BytesIO(data))
    assert key == content_key(data) and store.get(key) == data
    copy = pickle.loads(pickle.dumps(store))  # what an analysis process receives
    assert (copy.bucket, copy.prefix) == ("streamed", "p") and copy.get(key) == data
    assert pickle.loads(pickle.dumps(store)) is copy  # one client per process


# --- real servers --------------------------------------------------------------------------------------------------


def _children(pid: int) -> set[int]:
    """Pids whose parent is ``pid``."""
    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.add(int(entry))
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _is_worker(pid: int) -> bool:
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@pytest.mark.integration
def test_analysis_workers_die_with_a_server_killed_as_they_start(make_server) -> None:
    server = make_server("orphans", env={"PHOTOSIFT_WORKERS": "2"})
    pid = server.process.pid
    with server.client() as client:
        album_id = client.post("/v1/albums", json={"name": "orphans"}).json()["id"]
        assert upload(client, album_id, [("a.jpg", PHOTO)]).status_code == 202  # the job starts the workers
    workers = wait_for(lambda: {c for c in _children(pid) if _is_worker(c)}, timeout=60, what="analysis workers")
    server.kill()  # SIGKILL while the workers are still starting (importing, loading models)
    children = workers | _children(pid)
    deadline = time.monotonic() + 15
    while (survivors := {c for c in children if _alive(c)}) and time.monotonic() < deadline:
        time.sleep(0.05)
    for child in survivors:  # leave no orphans behind, even when failing
        os.kill(child, signal.SIGKILL)
    assert not survivors, f"{len(survivors)} of the server's processes outlived it"


def test_analysis_processes_run_below_the_server_s_priority() -> None:
    """Background analysis yields the cores to request handling: its processes are ``BACKGROUND_NICE`` steps nicer
    than the process that started them."""
    pool = AnalysisProcesses(1)
    try:
        assert pool.run(os.nice, 0) == min(os.nice(0) + BACKGROUND_NICE, 19)
    finally:
        pool.shutdown()


@pytest.mark.integration
def test_upload_memory_does_not_grow_with_the_request(make_server, tmp_path: Path) -> None:
    """10 parts of 20 MB (a small JPEG padded with random bytes, which image readers ignore): the server's resident
    memory, sampled while it receives and stores them, stays within 100 MB of where it started (reading the parts
    into memory, as before, raised it by 200 MB or more)."""
    server = make_server("memory", env={"PHOTOSIFT_WORKERS": "1", "TMPDIR": ""})  # spool in the default place
    rng = np.random.default_rng(4)
    paths = []
    for n in range(10):
        paths.append(tmp_path / f"big-{n}.jpg")
        paths[-1].write_bytes(PHOTO + rng.integers(0, 256, 20_000_000, dtype=np.uint8).tobytes())
    with server.client() as client:
        album_id = client.post("/v1/albums", json={"name": "memory"}).json()["id"]
        assert upload(client, album_id, [("warm.jpg", jpeg(np.zeros((64, 64, 3), np.uint8)))]).status_code == 202
        time.sleep(1)
        before, peak, spooled_in = _rss(server.process.pid), [0.0], set()
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], _rss(server.process.pid))
                spooled_in.update(_deleted_files_folders(server.process.pid))
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            with ExitStack() as stack:  # the parts stream from their files: the client holds none of them whole
                files = [("files", (p.name, stack.enter_context(open(p, "rb")), "image/jpeg")) for p in paths]
                reply = client.post(f"/v1/albums/{album_id}/photos", files=files)
        finally:
            done.set()
            sampler.join()
        assert reply.status_code == 202 and all("id" in p for p in reply.json()["photos"]), reply.text
        assert peak[0] - before < 100, f"RSS rose from {before:.0f} to {peak[0]:.0f} MiB"
        assert str((server.data_dir / "tmp").resolve()) in spooled_in  # on the data disk, not a RAM-backed /tmp
        ids = [p["id"] for p in reply.json()["photos"]]
        photos = wait_analysed(client, ids)
        assert all(p["status"] == "done" and p["width"] == 320 for p in photos.values())
        assert client.get(f"/v1/photos/{ids[0]}/content").content == paths[0].read_bytes()


def _deleted_files_folders(pid: int) -> set[str]:
    """Folders of the unlinked files ``pid`` has open (temporary files: ``/folder/#inode (deleted)``)."""
    out = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.endswith(" (deleted)"):
            out.add(os.path.dirname(target))
    return out


def _rss(pid: int) -> float:
    """Resident memory of ``pid`` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")
