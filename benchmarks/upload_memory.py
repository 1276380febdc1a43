"""Benchmark: memory of the server process while it receives large multipart uploads.

A real server (``create_app`` under uvicorn, on loopback, one analysis worker) receives ``--requests`` requests of
``--parts`` distinct photos of ``--mb`` MB each (noise PNGs: incompressible, so the bytes are as large as a camera's
RAW-sized export). Measured from ``/proc/<pid>/status``: the server's resident memory (RSS) before, its peak while a
request is received and acknowledged, and after each acknowledgement (once analysis took over), and the time to the
acknowledgement. Baseline in the same run, on a second server running at the same time and taking the same requests
in turn: the previous in-memory way, each part read whole into ``bytes`` before it is hashed and stored (photosift's
``read_uploads`` as it was, reproduced below and patched into the route).

    .venv/bin/python benchmarks/upload_memory.py [--parts 10] [--mb 45] [--requests 2] [--workdir DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import free_port, markdown_table, wait_healthy  # noqa: E402

WAYS = ("in-memory", "streamed")


def generate(parts: int, megabytes: float, folder: Path) -> list[Path]:
    """``parts`` distinct noise PNGs of about ``megabytes`` MB each in ``folder`` (cached)."""
    folder.mkdir(parents=True, exist_ok=True)
    side = int((megabytes * 1e6 / 3) ** 0.5)
    paths = []
    for i in range(parts):
        path = folder / f"noise-{side}-{i:02d}.png"
        paths.append(path)
        if not path.exists():
            pixels = np.random.default_rng(i).integers(0, 256, (side, side, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(path, compress_level=1)
    return paths


async def read_uploads_in_memory(files: list, max_bytes: int) -> list:
    """The previous way (reproduced as it was): every part read whole into ``bytes``."""
    from photosift.application.photos import Upload
    from photosift.errors import ImageTooLarge

    out = []
    for file in files:
        chunks, total = [], 0
        while chunk := await file.read(1 << 20):
            total += len(chunk)
            if total > max_bytes:
                break
            chunks.append(chunk)
        if total > max_bytes:
            out.append(Upload.refused(file.filename, ImageTooLarge(f"over the limit of {max_bytes} bytes")))
        else:
            out.append(Upload.from_bytes(file.filename, b"".join(chunks)))
        await file.close()
    return out


def serve(way: str, port: int) -> None:
    """Run the server of ``way`` in this process (the settings come from ``PHOTOSIFT_*``)."""
    import uvicorn

    from photosift.api import app as app_module
    from photosift.api.routes import photos as photos_routes

    if way == "in-memory":
        photos_routes.read_uploads = read_uploads_in_memory
    uvicorn.run(app_module.create_app(), host="127.0.0.1", port=port, log_level="warning")


def rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def start(way: str, data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PHOTOSIFT_DATA_DIR": str(data_dir), "PHOTOSIFT_WORKERS": "1"}
    process = subprocess.Popen([sys.executable, __file__, "--serve", way, "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, wait_healthy(process, f"http://127.0.0.1:{port}")


def upload(url: str, album_id: str, paths: list[Path]) -> httpx.Response:
    with ExitStack() as stack:  # the parts stream from their files: the client holds none of them whole
        files = [("files", (p.name, stack.enter_context(open(p, "rb")), "image/png")) for p in paths]
        return httpx.post(f"{url}/v1/albums/{album_id}/photos", files=files, timeout=600)


def sampled_upload(pid: int, url: str, album_id: str, paths: list[Path]) -> tuple[float, float]:
    """Upload ``paths`` in one request: (seconds to the acknowledgement, peak RSS of ``pid`` meanwhile)."""
    sampling, samples = threading.Event(), [rss_mib(pid)]

    def sample() -> None:
        while not sampling.is_set():
            samples.append(rss_mib(pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    t0 = time.perf_counter()
    try:
        reply = upload(url, album_id, paths)
    finally:
        seconds = time.perf_counter() - t0
        sampling.set()
        sampler.join()
    if reply.status_code != 202 or any("error" in p for p in reply.json()["photos"]):
        raise RuntimeError(f"upload failed: {reply.status_code} {reply.text[:300]}")
    return seconds, max(samples)


def measure(batches: list[list[Path]], warm: Path, workdir: Path) -> dict[str, dict]:
    """Per way, RSS (MiB) of its server: before, peak while receiving, after each acknowledged request. Both servers
    run at once and take the same requests in turn (alternating which goes first), so they share the machine's load."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        servers: dict[str, tuple[subprocess.Popen, str]] = {}
        try:
            for way in WAYS:
                servers[way] = start(way, Path(tmp) / way)
            albums, results = {}, {}
            for way, (_, url) in servers.items():
                albums[way] = httpx.post(f"{url}/v1/albums", json={"name": way}).json()["id"]
                assert upload(url, albums[way], [warm]).status_code == 202  # code paths and thread pools warmed up
            time.sleep(2)
            for way, (process, _) in servers.items():
                results[way] = {"before": rss_mib(process.pid), "peak": 0.0, "after": [], "ack_seconds": []}
            for n, paths in enumerate(batches):
                for way in (WAYS if n % 2 == 0 else WAYS[::-1]):
                    process, url = servers[way]
                    seconds, peak = sampled_upload(process.pid, url, albums[way], paths)
                    time.sleep(1)
                    result = results[way]
                    result["ack_seconds"].append(seconds)
                    result["peak"] = max(result["peak"], peak)
                    result["after"].append(rss_mib(process.pid))
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.wait(30)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", type=int, default=10)
    parser.add_argument("--mb", type=float, default=45.0, help="size of each part in MB")
    parser.add_argument("--requests", type=int, default=2, help="requests of --parts photos each, one after another")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "photosift-bench")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve", choices=WAYS, help=argparse.SUPPRESS)  # internal: run one server
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return 0

    paths = generate(args.parts * args.requests + 1, args.mb, args.workdir / "upload-memory")
    mean_mb = sum(p.stat().st_size for p in paths) / len(paths) / 1e6
    batches = [paths[1 + r * args.parts:1 + (r + 1) * args.parts] for r in range(args.requests)]
    results = measure(batches, paths[0], args.workdir)
    peak = {way: r["peak"] - r["before"] for way, r in results.items()}
    after = {way: r["after"][-1] - r["before"] for way, r in results.items()}
    ratio = peak["in-memory"] / max(peak["streamed"], 1.0)
    summary = {"parts": args.parts, "part_mb": round(mean_mb, 1), "requests": args.requests,
               **{f"{way}_{k}": v for way, r in results.items() for k, v in r.items()},
               "peak_growth_mib": peak, "after_growth_mib": after, "peak_growth_ratio_in_memory_vs_streamed": ratio}
    if args.json:
        print(json.dumps(summary))
        return 0
    rows = [[way, f"{r['before']:.0f}", f"{r['peak']:.0f} ({peak[way]:+.0f})",
             " / ".join(f"{a:.0f}" for a in r["after"]) + f" ({after[way]:+.0f})",
             " / ".join(f"{s:.2f}" for s in r["ack_seconds"])] for way, r in results.items()]
    print(f"{args.requests} requests of {args.parts} x {mean_mb:.1f} MB photos; server RSS in MiB")
    print(markdown_table(["way", "before", "peak while receiving", "after each request", "acknowledged in (s)"],
                         rows))
    print(f"peak growth, in-memory vs streamed: {peak['in-memory']:.0f} vs {peak['streamed']:.0f} MiB (x{ratio:.0f}); "
          "median acknowledgement: " + ", ".join(f"{way} {statistics.median(r['ack_seconds']):.2f} s"
                                                 for way, r in results.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
