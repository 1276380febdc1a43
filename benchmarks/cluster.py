"""Cluster benchmark: analysis throughput with 1 and 2 worker nodes, and the queue's own cost per job beside idle
workers, on one PostgreSQL (from the ``pgserver`` wheel) and one store.

Throughput: an API-only node (``photosift serve``, ``PHOTOSIFT_WORKERS=0``) takes the photos (generated 12 MP JPEGs,
as ``benchmarks/service.py`` makes them); N ``photosift worker`` processes (one analysis process each) analyse them.
Measured: photos/s from the first upload until every photo is analysed, after a warm-up album loaded each worker's
models; the baseline, in the same run, is one worker node. A single ``photosift serve`` with 2 in-process workers
is shown too.

Queue cost: with 0 and with 16 idle ``photosift worker`` processes on the catalog (each polling and listening, as
real idle workers do), a job is queued (which wakes every idle worker through NOTIFY), then claimed and settled
(``JobQueue.claim`` + ``mark_done``) by this process; the claim + settle time per job is the queue's cost, what each
further machine adds to it can be read from the two rows.

    .venv/bin/python benchmarks/cluster.py [--photos 40] [--idle 16] [--jobs 300] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import markdown_table, percentile, pgserver_database, start_serve, stop_serve  # noqa: E402
from service import HEIGHT, WIDTH, generate, wait_done  # noqa: E402

BATCH = 10


@contextmanager
def workers(count: int, env: dict[str, str], logs: Path) -> Iterator[list[subprocess.Popen]]:
    """``count`` ``photosift worker`` processes (one analysis process each), started; terminated after the block."""
    logs.mkdir(parents=True, exist_ok=True)
    processes, paths = [], []
    for n in range(count):
        path = logs / f"worker-{n}.log"
        with open(path, "wb") as log:
            processes.append(subprocess.Popen([sys.executable, "-m", "photosift", "worker"],
                                              env={**os.environ, **env, "PHOTOSIFT_WORKERS": "1"},
                                              stdout=log, stderr=subprocess.STDOUT))
        paths.append(path)
    try:
        deadline = time.monotonic() + 120
        for process, path in zip(processes, paths, strict=True):
            while b"worker started" not in path.read_bytes():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"a worker did not start: {path.read_text()[-2000:]}")
                time.sleep(0.1)
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)


def upload_all(url: str, name: str, photos: list[tuple[str, bytes]]) -> float:
    """Seconds from the first upload of ``photos`` to a new album until every one is analysed."""
    with httpx.Client(base_url=url, timeout=300) as client:
        album = client.post("/v1/albums", json={"name": name}).json()["id"]
        start = time.perf_counter()
        for first in range(0, len(photos), BATCH):
            reply = client.post(f"/v1/albums/{album}/photos",
                                files=[("files", photo) for photo in photos[first:first + BATCH]])
            reply.raise_for_status()
        wait_done(client, album, len(photos))
        return time.perf_counter() - start


def throughput(url: str, photos: list[tuple[str, bytes]], warm: int) -> float:
    """Photos/s of whatever analyses the album's photos, after ``warm`` photos loaded the models."""
    upload_all(url, "warm-up", photos[:warm])
    return len(photos) / upload_all(url, "measured", photos)


def queue_cost(database_url: str, jobs: int) -> list[float]:
    """Milliseconds to claim and settle each of ``jobs`` jobs, each queued just before (its NOTIFY wakes every idle
    worker of the catalog)."""
    from photosift.catalog.db import Catalog
    from photosift.catalog.models import Album, Job
    from photosift.jobs.queue import JobQueue, mark_done

    catalog = Catalog(database_url)
    queue = JobQueue(catalog)
    with catalog.session() as session:
        album = Album(name="queue")
        session.add(album)
    times = []
    for _ in range(jobs):
        with catalog.session() as session:
            session.add(Job(kind="bench", album_id=album.id))
        start = time.perf_counter()
        job = queue.claim({"bench"})
        with catalog.session() as session:
            mark_done(session, job)
        times.append((time.perf_counter() - start) * 1000)
    catalog.dispose()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--idle", type=int, default=16, help="idle workers beside the queue's measurement")
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "photosift-bench")
    args = parser.parse_args()

    paths = generate(args.photos, args.workdir / f"photos-{WIDTH}x{HEIGHT}")
    photos = [(p.name, p.read_bytes()) for p in paths]
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp, pgserver_database(Path(tmp)) as database_url:
        work = Path(tmp)
        env = {"PHOTOSIFT_DATABASE_URL": database_url, "PHOTOSIFT_STORE_URL": str(work / "blobs")}
        api, url = start_serve(work / "api", PHOTOSIFT_WORKERS="0", **env)
        rates: dict[str, float] = {}
        try:
            for count in (1, 2):
                with workers(count, {**env, "PHOTOSIFT_DATA_DIR": str(work / f"w{count}")}, work / f"w{count}"):
                    rates[f"{count} worker node{'s' * (count > 1)}"] = throughput(url, photos, warm=2 * count)
            costs = {}
            for idle in (0, args.idle):
                with ExitStack() as stack:
                    if idle:
                        stack.enter_context(workers(idle, {**env, "PHOTOSIFT_DATA_DIR": str(work / "idle")},
                                                    work / "idle"))
                    costs[idle] = queue_cost(database_url, args.jobs)
        finally:
            stop_serve(api)
        single, single_url = start_serve(work / "single", PHOTOSIFT_WORKERS="2", **env)
        try:
            rates["1 serve node, 2 workers in process (reference)"] = throughput(single_url, photos, warm=4)
        finally:
            stop_serve(single)

    one = rates["1 worker node"]
    print(f"Throughput: {args.photos} photos of {WIDTH}x{HEIGHT}, one analysis process per worker node, "
          f"{os.cpu_count()} cores\n")
    print(markdown_table(["analysed by", "photos/s", "vs 1 worker node"],
                         [[name, f"{rate:.2f}", f"{rate / one:.2f}x"] for name, rate in rates.items()]))
    print(f"\nQueue cost per job (claim + settle), {args.jobs} jobs, each queued just before\n")
    print(markdown_table(["idle workers", "p50 ms", "p95 ms", "mean ms"],
                         [[idle, f"{percentile(ms, 50):.2f}", f"{percentile(ms, 95):.2f}", f"{sum(ms) / len(ms):.2f}"]
                          for idle, ms in costs.items()]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
