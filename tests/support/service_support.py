"""Helpers and fixtures of the service tests: real ``photosift serve`` processes on free loopback ports, a real
moto S3 server, and test images (a real face photo from scikit-image's package data, generated photos, corrupt
files)."""

from __future__ import annotations

import io
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image, ImageFilter

ANALYSIS_TIMEOUT = 180.0  # seconds; the first analysis loads the face models


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A ``photosift serve`` subprocess with its own data folder; ``kill()`` is SIGKILL, ``start()`` restarts it (on
    the same port)."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None, api_key: str | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "PHOTOSIFT_DATA_DIR": str(data_dir), **(env or {})}
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.process: subprocess.Popen | None = None
        self.log = data_dir.parent / f"{data_dir.name}-server.log"

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "photosift", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start:\n{self.log.read_text()[-3000:]}")

    @contextmanager
    def running(self) -> Iterator[Server]:
        """This server, started for a ``with`` block and stopped after it."""
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=60, **kwargs)



class Worker(Server):
    """A ``photosift worker`` subprocess (analysis only, no HTTP); started once it says so in its log."""

    def start(self) -> None:
        offset = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "photosift", "worker"], env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            if b"worker started" in self.log.read_bytes()[offset:]:
                return
            time.sleep(0.1)
        raise RuntimeError(f"worker did not start:\n{self.log.read_text()[-3000:]}")

@pytest.fixture
def make_server(tmp_path: Path) -> Iterator:
    """``make_server(name, env=..., api_key=...)`` -> a started ``Server``; all are stopped at the end."""
    servers: list[Server] = []

    def make(name: str = "data", env: dict[str, str] | None = None, api_key: str | None = None) -> Server:
        server = Server(tmp_path / name, env, api_key)
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[dict[str, str]]:
    """A real S3-compatible server (moto) on loopback; yields the environment that points boto3 at it."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "PHOTOSIFT_S3_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield env
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.stop()


def jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=quality)
    return out.getvalue()


@pytest.fixture(scope="session")
def images() -> dict[str, bytes]:
    return make_images()


def make_images() -> dict[str, bytes]:
    """Named test images: ``face`` (astronaut, the reference), ``face2`` (the same person in a new, larger, mirrored
    shot), ``stranger`` (the cameraman: another person), ``scene`` (a rocket, no face), ``blurry`` (the scene
    heavily blurred), ``corrupt`` (random bytes), ``truncated`` (a JPEG cut after its header)."""
    from skimage import data

    astronaut = data.astronaut()
    scene = data.rocket()
    canvas = np.full((1200, 1600, 3), 90, np.uint8)
    canvas[:, :, 2] = np.linspace(60, 200, 1600, dtype=np.uint8)[None, :]
    bigger = np.asarray(Image.fromarray(astronaut[:, ::-1]).resize((768, 768), Image.Resampling.LANCZOS))
    canvas[200:968, 600:1368] = bigger
    blurry = np.asarray(Image.fromarray(scene).filter(ImageFilter.GaussianBlur(8)))
    rng = np.random.default_rng(7)
    full = jpeg(scene)
    return {
        "face": jpeg(astronaut), "face2": jpeg(canvas), "stranger": jpeg(np.stack([data.camera()] * 3, axis=-1)),
        "scene": full, "blurry": jpeg(blurry), "corrupt": rng.integers(0, 256, 5000, dtype=np.uint8).tobytes(),
        "truncated": full[:700],
    }


def wait_analysed(client: httpx.Client, photo_ids: list[str], timeout: float = ANALYSIS_TIMEOUT) -> dict[str, dict]:
    """Poll until every photo is ``done`` or ``failed``; returns the photos by id."""
    deadline = time.monotonic() + timeout
    results: dict[str, dict] = {}
    while time.monotonic() < deadline:
        for pid in photo_ids:
            if pid not in results:
                photo = client.get(f"/v1/photos/{pid}").json()
                if photo["status"] in ("done", "failed"):
                    results[pid] = photo
        if len(results) == len(photo_ids):
            return results
        time.sleep(0.25)
    raise AssertionError(f"not analysed within {timeout} s: {sorted(set(photo_ids) - set(results))}")


def sse_events(lines: Iterable[str]) -> Iterator[dict]:
    """The events of a Server-Sent Events stream's lines: ``{"event": type, "data": parsed JSON}`` each."""
    event: dict = {}
    for line in lines:
        if line.startswith(("event:", "data:")):
            field, _, value = line.partition(":")
            event[field] = json.loads(value) if field == "data" else value.strip()
        elif not line and event:
            yield event
            event = {}


def events_until(server: Server, album_id: str, done: Callable[[list[dict]], bool], timeout: float = 120) -> list[dict]:
    """The album's events from the start until ``done(events)``; fails after ``timeout`` seconds (keep-alive
    comments do not extend it)."""
    events: list[dict] = []
    deadline = time.monotonic() + timeout
    with server.client() as client, client.stream("GET", f"/v1/albums/{album_id}/events",
                                                  timeout=httpx.Timeout(10, read=timeout)) as stream:
        for event in sse_events(itertools.takewhile(lambda _: time.monotonic() <= deadline, stream.iter_lines())):
            events.append(event)
            if done(events):
                return events
    raise AssertionError(f"the events did not come within {timeout} s: {[e.get('event') for e in events]}")


def wait_idle(client: httpx.Client, timeout: float = ANALYSIS_TIMEOUT) -> None:
    """Poll until the server has no queued or running job (analysis and re-matching)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = client.get("/v1/status").json()["jobs"]
        if not jobs.get("queued") and not jobs.get("running"):
            return
        time.sleep(0.2)
    raise AssertionError(f"jobs did not finish within {timeout} s")


def upload(client: httpx.Client, album_id: str, named: list[tuple[str, bytes]]) -> httpx.Response:
    files = [("files", (name, data, "application/octet-stream")) for name, data in named]
    return client.post(f"/v1/albums/{album_id}/photos", files=files)


POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL 15 server (Debian's binaries) on a free loopback port, in a throw-away cluster; yields a
    SQLAlchemy URL of an empty database. Skips when PostgreSQL is not installed."""
    if not (POSTGRES_BIN / "initdb").exists():
        pytest.skip("PostgreSQL 15 is not installed (/usr/lib/postgresql/15/bin)")
    root = Path(tempfile.mkdtemp(prefix="photosift-pg-"))  # outside pytest's root-only tmp tree
    cluster, port = root / "cluster", free_port()
    # PostgreSQL refuses to run as root: run it as the 'postgres' user Debian's package creates.
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if run_as:
        os.chown(root, *_uid_gid("postgres"))
    subprocess.run([*run_as, str(POSTGRES_BIN / "initdb"), "-D", str(cluster), "-U", "postgres", "-A", "trust"],
                   check=True, capture_output=True)
    subprocess.run([*run_as, str(POSTGRES_BIN / "pg_ctl"), "-D", str(cluster), "-l", str(root / "server.log"), "-w",
                    "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
                   check=True, capture_output=True)
    try:
        subprocess.run([*run_as, str(POSTGRES_BIN / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                        "-c", "CREATE DATABASE photosift"], check=True, capture_output=True)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/photosift"
    finally:
        subprocess.run([*run_as, str(POSTGRES_BIN / "pg_ctl"), "-D", str(cluster), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _uid_gid(user: str) -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid
