"""A cluster on loopback: one PostgreSQL, one S3 server (moto), two API-only nodes and two worker
nodes. 200 photos are uploaded across both API nodes; one worker and one API node are killed (SIGKILL) in the middle
of the batch and started again. Every acknowledged photo ends analysed exactly once (no face or event twice), and an
event stream on node A sees the photos only node B received, as they are analysed."""

from __future__ import annotations

import contextlib
import io
import subprocess
import threading
import time
from collections import Counter

import httpx
import numpy as np
import pytest
from pgserver_support import fresh_database, pgserver_url  # noqa: E402, F401 - PostgreSQL 16 (pgserver)
from PIL import Image
from service_support import Server, Worker, jpeg, sse_events, upload, wait_analysed

pytestmark = pytest.mark.integration
PHOTOS, BATCH = 200, 10
TIMEOUT = 600.0


def _photos(astronaut: np.ndarray) -> list[tuple[str, bytes]]:
    """Distinct 480x360 photos; every other one shows the astronaut's face at a place and size of its own."""
    rng = np.random.default_rng(11)
    face = astronaut[0:260, 120:340]
    out = []
    for n in range(PHOTOS):
        base = np.empty((360, 480, 3), np.uint8)
        base[:] = rng.integers(30, 220, 3, dtype=np.uint8)
        base[:, :, 0] = (np.linspace(0, 255, 480)[None, :] * rng.uniform(0.2, 1.0)).astype(np.uint8)
        if n % 2 == 0:
            size = int(rng.integers(150, 220))
            shown = np.asarray(Image.fromarray(face).resize((size * 220 // 260, size)))
            y, x = int(rng.integers(0, 360 - size)), int(rng.integers(0, 480 - shown.shape[1]))
            base[y:y + size, x:x + shown.shape[1]] = shown
        out.append((f"p{n:03d}.jpg", jpeg(base)))
    return out


class Stream(threading.Thread):
    """An album's live event stream from one node, collected until ``close()``."""

    def __init__(self, server: Server, album_id: str) -> None:
        super().__init__(daemon=True)
        self.server, self.album_id, self.events = server, album_id, []
        self.client = httpx.Client(base_url=server.url, timeout=httpx.Timeout(10, read=None))
        self.opened = threading.Event()

    def run(self) -> None:
        try:
            with self.client.stream("GET", f"/v1/albums/{self.album_id}/events") as stream:
                self.opened.set()
                for event in sse_events(stream.iter_lines()):
                    self.events.append(event)
        except httpx.HTTPError:
            pass  # closed by the test

    def analysed(self) -> Counter[str]:
        return Counter(e["data"]["photo"]["id"] for e in self.events if e.get("event") == "photo.analyzed")

    def close(self) -> None:
        self.client.close()


def test_two_api_nodes_and_two_workers_survive_kills(tmp_path, moto_s3, pgserver_url, astronaut) -> None:  # noqa: F811
    import boto3

    boto3.client("s3", endpoint_url=moto_s3["PHOTOSIFT_S3_ENDPOINT_URL"]).create_bucket(Bucket="cluster")
    database = fresh_database(pgserver_url, "cluster")  # its job counts are the cluster's alone
    shared = {"PHOTOSIFT_DATABASE_URL": database, "PHOTOSIFT_STORE_URL": "s3://cluster/photos", **moto_s3}
    node_a = Server(tmp_path / "api-a", {**shared, "PHOTOSIFT_WORKERS": "0"})
    node_b = Server(tmp_path / "api-b", {**shared, "PHOTOSIFT_WORKERS": "0"})
    workers = [Worker(tmp_path / f"worker-{n}", {**shared, "PHOTOSIFT_WORKERS": "1"}) for n in (1, 2)]
    processes = [node_a, node_b, *workers]
    stream = None
    try:
        for process in processes:
            process.start()
        photos = _photos(astronaut)
        batches = [photos[start:start + BATCH] for start in range(0, PHOTOS, BATCH)]
        with node_a.client() as client_a, node_b.client() as client_b:
            album_id = client_a.post("/v1/albums", json={"name": "cluster"}).json()["id"]
            stream = Stream(node_a, album_id)
            stream.start()
            assert stream.opened.wait(30)
            acknowledged: dict[str, str] = {}  # photo id -> the node that acknowledged it

            def send(node: str, batch: list[tuple[str, bytes]]) -> None:
                reply = upload(client_a if node == "a" else client_b, album_id, batch)
                assert reply.status_code == 202, reply.text
                for entry in reply.json()["photos"]:
                    acknowledged.setdefault(entry["id"], node)

            for n, batch in enumerate(batches[:8]):  # 80 photos, alternating between the nodes
                send("ab"[n % 2], batch)
            deadline = time.monotonic() + TIMEOUT
            while not stream.analysed() and time.monotonic() < deadline:  # analysis is under way on both workers
                time.sleep(0.05)
            in_flight = threading.Thread(target=lambda: _upload_ignoring_kill(send, batches[8]))
            in_flight.start()
            time.sleep(0.05)
            node_b.kill()
            workers[0].kill()
            in_flight.join(60)
            analysed_at_kill = len(stream.analysed())
            assert 0 < analysed_at_kill < len(acknowledged), "the kills must land mid-batch"
            if not set(name for name, _ in batches[8]) <= _names(client_a, album_id, acknowledged):
                send("a", batches[8])  # the client retries a request that got no answer (a duplicate is the same id)
            for batch in batches[9:14]:  # node B and worker 1 are down
                send("a", batch)
            node_b.start()
            workers[0].start()
            for n, batch in enumerate(batches[14:]):
                send("ab"[n % 2], batch)

            ids = sorted(acknowledged)
            assert len(ids) == PHOTOS
            done = wait_analysed(client_a, ids, timeout=TIMEOUT)
            assert all(p["status"] == "done" for p in done.values()), [p["error"] for p in done.values()]
            shows_face = {name for n, (name, _) in enumerate(photos) if n % 2 == 0}
            faces_shown = {pid for pid, photo in done.items() if photo["filename"] in shows_face}
            assert all(done[pid]["face_count"] == (1 if pid in faces_shown else 0) for pid in ids)
            faces = client_a.get(f"/v1/albums/{album_id}/faces", params={"limit": 500}).json()["items"]
            assert Counter(f["photo_id"] for f in faces) == Counter({pid: 1 for pid in faces_shown})  # none twice

            deadline = time.monotonic() + TIMEOUT
            while set(stream.analysed()) < set(ids) and time.monotonic() < deadline:
                time.sleep(0.1)
            live = stream.analysed()
            only_b = {pid for pid, node in acknowledged.items() if node == "b"}
            assert only_b and only_b <= set(live)  # node A's stream saw what only node B received
            history = _history(node_a, album_id)
            assert Counter(e["data"]["photo"]["id"] for e in history if e["event"] == "photo.analyzed") == \
                Counter({pid: 1 for pid in ids})  # each photo's results committed exactly once
            assert Counter(e["data"]["photo_id"] for e in history if e["event"] == "photo.added") == \
                Counter({pid: 1 for pid in ids})
            assert live == Counter({pid: 1 for pid in ids})
            jobs = client_a.get("/v1/status").json()["jobs"]
            assert not jobs.get("failed") and not jobs.get("queued") and not jobs.get("running"), jobs
    finally:
        if stream is not None:
            stream.close()
        for process in processes:
            process.stop()


def _upload_ignoring_kill(send, batch) -> None:  # noqa: ANN001
    """Send ``batch`` to node B, which is killed meanwhile: no answer means not acknowledged."""
    with contextlib.suppress(httpx.HTTPError, AssertionError):
        send("b", batch)


def _names(client: httpx.Client, album_id: str, acknowledged: dict[str, str]) -> set[str]:
    """File names of the album's acknowledged photos."""
    items = client.get(f"/v1/albums/{album_id}/photos", params={"limit": 500}).json()["items"]
    return {p["filename"] for p in items if p["id"] in acknowledged}


def _history(server: Server, album_id: str) -> list[dict]:
    """The album's whole event log, read through ``server`` until the stream goes quiet."""
    events: list[dict] = []
    quiet = httpx.Client(base_url=server.url, timeout=httpx.Timeout(10, read=3))
    with pytest.raises(httpx.ReadTimeout), quiet, quiet.stream("GET", f"/v1/albums/{album_id}/events") as stream:
        events.extend(sse_events(stream.iter_lines()))
    return events


def test_the_same_photo_sent_to_two_servers_at_once_is_one_photo(tmp_path, pgserver_url) -> None:  # noqa: F811
    """A client that sends a photo again to another node while the first is still recording it (PostgreSQL, where
    both transactions run at once) gets the same photo back, not an error."""
    import hashlib

    from photosift.application.context import build_services
    from photosift.application.photos import Upload, add_photos
    from photosift.catalog.models import Album, Photo, PhotoStatus
    from photosift.config import Settings

    svc = build_services(Settings(data_dir=tmp_path / "data", database_url=pgserver_url))
    data = jpeg(np.full((64, 64, 3), 120, np.uint8))
    with svc.catalog.session() as session:
        album = Album(name="race")
        session.add(album)
    other_server = svc.catalog.engine.connect()  # records the same bytes first, and commits while we wait for it
    other = other_server.begin()
    other_server.execute(Photo.__table__.insert().values(
        id="r" * 20, album_id=album.id, blob_key="elsewhere", sha256=hashlib.sha256(data).hexdigest(),
        filename="first.jpg", content_type="image/jpeg", size_bytes=len(data), status=PhotoStatus.PENDING))
    threading.Timer(1.0, other.commit).start()
    try:
        [result] = add_photos(svc, album.id, [Upload.from_bytes("again.jpg", data)])
        assert result == {"filename": "again.jpg", "id": "r" * 20, "status": "pending", "duplicate": True}
    finally:
        other_server.close()
        svc.catalog.dispose()


def test_a_worker_stops_on_sigterm_leaving_no_job_running(tmp_path, images) -> None:
    """An API-only node and a worker on one machine's SQLite catalog: SIGTERM stops the worker mid-batch (exit 0)
    with every job done or back in the queue, and a new worker finishes the batch."""
    env = {"PHOTOSIFT_DATABASE_URL": f"sqlite:///{tmp_path / 'catalog.sqlite3'}",
           "PHOTOSIFT_STORE_URL": str(tmp_path / "blobs")}
    api = Server(tmp_path / "api", {**env, "PHOTOSIFT_WORKERS": "0"})
    worker = Worker(tmp_path / "worker", {**env, "PHOTOSIFT_WORKERS": "1"})
    try:
        api.start()
        worker.start()
        with api.client() as client:
            album_id = client.post("/v1/albums", json={"name": "stop"}).json()["id"]
            face = np.asarray(Image.open(io.BytesIO(images["face2"])).convert("RGB"))
            batch = [(f"p{n}.jpg", jpeg(np.roll(face, 40 * n, axis=1))) for n in range(8)]
            ids = [p["id"] for p in upload(client, album_id, batch).json()["photos"]]
            deadline = time.monotonic() + TIMEOUT
            while not client.get("/v1/status").json()["jobs"].get("running") and time.monotonic() < deadline:
                time.sleep(0.02)
            worker.process.terminate()
            try:
                assert worker.process.wait(30) == 0
            except subprocess.TimeoutExpired:
                pytest.fail(f"the worker did not stop in 30 s; its log:\n{worker.log.read_text()[-8000:]}")
            jobs = client.get("/v1/status").json()["jobs"]
            assert not jobs.get("running") and not jobs.get("failed"), jobs
            assert jobs.get("queued"), "the stop must land mid-batch"
            worker.start()
            done = wait_analysed(client, ids, timeout=TIMEOUT)
            assert all(p["status"] == "done" and p["face_count"] == 1 for p in done.values())
    finally:
        worker.stop()
        api.stop()
