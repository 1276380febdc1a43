"""Service benchmark: upload acknowledgement latency and end-to-end throughput against engine-only throughput.

100 generated 12 MP JPEGs (4000x3000; every third shows a real face, scikit-image's astronaut, at 500-900 px; some
are blurred) are uploaded in batches of 10 by 4 concurrent clients to a real ``photosift serve`` on loopback.
Measured: the acknowledgement time of each upload request (and per photo: request time / photos in it), the time
from the first upload until every photo is analysed, and photos/s against the engine alone (``analyze`` over the
same bytes in the same kind of pool as the server: analysis processes, as many) in the same run.

    .venv/bin/python benchmarks/service.py [--photos 100] [--batch 10] [--clients 4] [--workdir DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import percentile, start_serve  # noqa: E402

WIDTH, HEIGHT = 4000, 3000


def generate(n: int, folder: Path) -> list[Path]:
    """``n`` distinct 12 MP JPEGs in ``folder`` (cached: existing files are reused)."""
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    face = Image.fromarray(data.astronaut())
    paths = []
    for i in range(n):
        path = folder / f"photo-{i:03d}.jpg"
        paths.append(path)
        if path.exists():
            continue
        rng = np.random.default_rng(i)
        small = np.zeros((HEIGHT // 8, WIDTH // 8, 3), np.float32)  # smooth scene, upsampled: realistic JPEG size
        yy, xx = np.mgrid[0:HEIGHT // 8, 0:WIDTH // 8]
        for c in range(3):
            fx, fy, phase = rng.uniform(0.005, 0.05, 2).tolist() + [rng.uniform(0, 6)]
            small[..., c] = 128 + 90 * np.sin(xx * fx + phase) * np.cos(yy * fy)
        image = Image.fromarray(np.clip(small, 0, 255).astype(np.uint8)).resize((WIDTH, HEIGHT))
        texture = rng.integers(0, 40, (HEIGHT, WIDTH, 1), dtype=np.uint8)
        pixels = np.clip(np.asarray(image, np.int16) + texture - 20, 0, 255).astype(np.uint8)
        image = Image.fromarray(pixels)
        for _ in range(12):  # sharp-edged objects
            x, y = int(rng.integers(0, WIDTH - 600)), int(rng.integers(0, HEIGHT - 600))
            box = Image.new("RGB", (int(rng.integers(100, 600)),) * 2, tuple(rng.integers(0, 255, 3).tolist()))
            image.paste(box, (x, y))
        if i % 3 == 0:
            side = int(rng.integers(500, 900))
            image.paste(face.resize((side, side)), (int(rng.integers(0, WIDTH - side)),
                                                    int(rng.integers(0, HEIGHT - side))))
        if i % 5 == 4:
            image = image.filter(ImageFilter.GaussianBlur(6))
        image.save(path, "JPEG", quality=88)
    return paths


def engine_only(photos: list[bytes], workers: int) -> float:
    """Seconds to analyse every photo with ``photosift.analysis.analyze`` in the server's kind of pool: ``workers``
    analysis processes (``photosift.jobs.pool.AnalysisProcesses``) fed by as many threads."""
    from photosift.analysis import analyze
    from photosift.jobs.pool import AnalysisProcesses

    pool = AnalysisProcesses(workers)
    with ThreadPoolExecutor(workers) as feeders:
        list(feeders.map(lambda data: pool.run(analyze, data), photos[:workers]))  # start and load the models
        start = time.perf_counter()
        list(feeders.map(lambda data: pool.run(analyze, data), photos))
        seconds = time.perf_counter() - start
    pool.shutdown()
    return seconds


def start_server(data_dir: Path, workers: int) -> tuple[subprocess.Popen, str]:
    return start_serve(data_dir, PHOTOSIFT_WORKERS=str(workers))


def wait_done(client: httpx.Client, album_id: str, total: int, timeout: float = 3600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"/v1/albums/{album_id}").json()["status"]
        if status.get("done", 0) + status.get("failed", 0) >= total:
            if status.get("failed"):
                raise RuntimeError(f"{status['failed']} photos failed")
            return
        time.sleep(0.05)
    raise TimeoutError("photos were not analysed in time")


def service_run(photos: list[tuple[str, bytes]], url: str, batch: int, clients: int) -> dict:
    with httpx.Client(base_url=url, timeout=300) as client:
        warm = client.post("/v1/albums", json={"name": "warm-up"}).json()["id"]
        client.post(f"/v1/albums/{warm}/photos", files=[("files", photos[0])])
        wait_done(client, warm, 1)  # models loaded in the server before timing
        album_id = client.post("/v1/albums", json={"name": "benchmark"}).json()["id"]
    batches: queue.Queue = queue.Queue()
    for i in range(0, len(photos), batch):
        batches.put(photos[i:i + batch])
    latencies: list[tuple[float, int]] = []
    lock = threading.Lock()

    def client_loop() -> None:
        with httpx.Client(base_url=url, timeout=300) as client:
            while True:
                try:
                    files = batches.get_nowait()
                except queue.Empty:
                    return
                t0 = time.perf_counter()
                reply = client.post(f"/v1/albums/{album_id}/photos", files=[("files", f) for f in files])
                elapsed = time.perf_counter() - t0
                if reply.status_code != 202 or any("error" in p for p in reply.json()["photos"]):
                    raise RuntimeError(f"upload failed: {reply.status_code} {reply.text[:300]}")
                with lock:
                    latencies.append((elapsed, len(files)))

    start = time.perf_counter()
    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    uploaded = time.perf_counter() - start
    with httpx.Client(base_url=url, timeout=60) as client:
        wait_done(client, album_id, len(photos))
    total = time.perf_counter() - start
    return {"latencies": latencies, "upload_seconds": uploaded, "total_seconds": total}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("PHOTOSIFT_WORKERS", "2")))
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "photosift-bench")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    paths = generate(args.photos, args.workdir / f"photos-{WIDTH}x{HEIGHT}")
    photos = [(p.name, p.read_bytes()) for p in paths]
    megabytes = sum(len(d) for _, d in photos) / len(photos) / 1e6
    engine_seconds = engine_only([d for _, d in photos], args.workers)

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        process, url = start_server(Path(tmp) / "data", args.workers)
        try:
            run = service_run(photos, url, args.batch, args.clients)
        finally:
            process.terminate()
            process.wait(30)

    request_ms = [s * 1000 for s, _ in run["latencies"]]
    per_photo_ms = [s * 1000 / n for s, n in run["latencies"]]
    engine_rate = args.photos / engine_seconds
    service_rate = args.photos / run["total_seconds"]
    result = {
        "photos": args.photos, "mean_jpeg_mb": round(megabytes, 2), "batch": args.batch, "clients": args.clients,
        "workers": args.workers,
        "ack_request_ms_p50": round(percentile(request_ms, 50), 1),
        "ack_request_ms_p95": round(percentile(request_ms, 95), 1),
        "ack_per_photo_ms_p50": round(percentile(per_photo_ms, 50), 1),
        "ack_per_photo_ms_p95": round(percentile(per_photo_ms, 95), 1),
        "upload_seconds": round(run["upload_seconds"], 2), "all_analysed_seconds": round(run["total_seconds"], 2),
        "service_photos_per_s": round(service_rate, 3), "engine_only_photos_per_s": round(engine_rate, 3),
        "service_vs_engine": round(service_rate / engine_rate, 3),
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print("| measure | value |\n|---|---|")
    for key, value in result.items():
        print(f"| {key} | {value} |")
    print(f"(median request: {statistics.median(request_ms):.0f} ms for {args.batch} photos)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
