"""Peak memory and rate of ``photosift serve`` with one analysis worker analysing an album of 12 MP photos, against
the face_recognition-style pipeline in one process.

    .venv/bin/python benchmarks/serve_memory.py [--photos 12] [--baseline-side 1000] [--target-mib 700] [--json]

Photos: ``--photos`` generated 4000x3000 JPEGs (quality 90, ~0.7 MB) with 4 faces each (``benchmarks/faces.py``:
``generated_photo``, ``FACE_SETS[4]``, one seed each), and one more for the first upload.

A real ``photosift serve`` (loopback, keyless, a temporary data folder, ``PHOTOSIFT_WORKERS=1``: one analysis process
and one interactive engine thread) gets, over the HTTP API: a new album, one photo (the analysis process starts and
loads its models), then, once that is analysed, a second album and all ``--photos`` photos in one multipart upload.
The album's status (``GET /v1/albums/{id}``) is polled every 0.2 s until every photo is done; photos/s is
``--photos`` over the time from the upload's start to the last photo done.

Memory: the server's process tree (the server, its analysis process, multiprocessing's resource tracker), VmRSS of
each read from ``/proc/<pid>/status`` every 50 ms and summed (``_common.TreeMemory``), per phase; the per-process
table adds each process's VmHWM (the kernel's own peak: no sample interval misses it; their sum is an upper bound
of the tree's peak). Summed RSS counts pages the processes share (libraries, mapped model files) once per process.

Baselines, in the same run once the server is stopped, each in one worker process over the same photos (models
loaded and one photo analysed first; ``benchmarks/faces.py``'s ``measure``): the face_recognition-style pipeline on
copies at most ``--baseline-side`` px (decode, dlib HOG with upsample 1, blur, dlib ResNet of every face), and
photosift's engine alone (``photosift.analysis.analyze``); their peak is the worker's VmHWM.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import faces  # noqa: E402
from _common import TreeMemory, markdown_table, print_memory, start_serve, stop_serve  # noqa: E402


def make_photos(folder: Path, n: int) -> list[Path]:
    """``n + 1`` distinct 12 MP JPEGs (quality 90) with 4 faces each; the first is the warm-up photo."""
    from skimage import data

    face = np.ascontiguousarray(data.astronaut()[20:230, 140:310])
    paths = []
    for k in range(n + 1):
        buffer = io.BytesIO()
        Image.fromarray(faces.generated_photo(face, faces.FACE_SETS[4], seed=2000 + k)).save(buffer, "JPEG",
                                                                                              quality=90)
        paths.append(folder / f"album-{k:02d}.jpg")
        paths[-1].write_bytes(buffer.getvalue())
    return paths


def upload(client: httpx.Client, name: str, paths: list[Path]) -> str:
    """A new album ``name`` with ``paths`` uploaded in one request: its id."""
    album_id = client.post("/v1/albums", json={"name": name}).json()["id"]
    with ExitStack() as stack:
        files = [("files", (p.name, stack.enter_context(open(p, "rb")), "image/jpeg")) for p in paths]
        reply = client.post(f"/v1/albums/{album_id}/photos", files=files)
    if reply.status_code != 202 or any("error" in p for p in reply.json()["photos"]):
        raise RuntimeError(f"upload failed: {reply.status_code} {reply.text[:300]}")
    return album_id


def wait_analysed(client: httpx.Client, album_id: str, total: int, timeout: float = 3600) -> None:
    """Poll the album's status every 0.2 s until ``total`` photos are done (raises if one failed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"/v1/albums/{album_id}").json()["status"]
        if status.get("failed"):
            raise RuntimeError(f"{status['failed']} photos failed to be analysed")
        if status.get("done", 0) >= total:
            return
        time.sleep(0.2)
    raise TimeoutError("the photos were not analysed in time")


def faces_per_photo(client: httpx.Client, album_id: str) -> float:
    """Mean faces the server found per photo of the album."""
    photos = client.get(f"/v1/albums/{album_id}/photos", params={"limit": 100}).json()["items"]
    return float(np.mean([len(p.get("faces") or []) for p in photos]))


def serve_run(paths: list[Path], workdir: Path) -> dict:
    """The server's run (see the module docstring): seconds, faces per photo and the tree's ``TreeMemory``."""
    process, url = start_serve(workdir / "data", PHOTOSIFT_WORKERS="1")
    try:
        with TreeMemory(process.pid) as memory, httpx.Client(base_url=url, timeout=600) as client:
            time.sleep(1)
            memory.enter("first photo (analysis process starts, loads models)")
            start = time.perf_counter()
            wait_analysed(client, upload(client, "first", paths[:1]), 1)
            first = time.perf_counter() - start
            memory.enter(f"{len(paths) - 1} photos uploaded and analysed")
            start = time.perf_counter()
            album_id = upload(client, "album", paths[1:])
            acknowledged = time.perf_counter() - start
            wait_analysed(client, album_id, len(paths) - 1)
            seconds = time.perf_counter() - start
            memory.enter("idle, 2 s after")
            time.sleep(2)
            found = faces_per_photo(client, album_id)
    finally:
        stop_serve(process)
    return {"first_seconds": first, "ack_seconds": acknowledged, "seconds": seconds, "faces": found,
            "memory": memory}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=12, help="photos in the album (default 12)")
    parser.add_argument("--baseline-side", type=int, default=1000, help="longer side of the baseline's copies, px")
    parser.add_argument("--target-mib", type=float, default=700, help="issue 21's bound for serve + one worker")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="photosift-serve-memory-") as tmp:
        paths = make_photos(Path(tmp), args.photos)
        run = serve_run(paths, Path(tmp))
        album = {4: [str(p) for p in paths[1:]]}
        (base_rate, base_faces, base_mib), = faces.measure("baseline", album, 1, args.baseline_side, workers=1).values()
        (engine_rate, engine_faces, engine_mib), = faces.measure("photosift", album, 1, workers=1).values()

    memory: TreeMemory = run.pop("memory")
    tree_rss, tree_anon = memory.peak
    rate = args.photos / run["seconds"]
    verdict = "met" if tree_rss < args.target_mib else "NOT met"
    if args.json:
        print(json.dumps({"photos": args.photos, **run, "photos_per_s": rate, "tree_peak_rss_mib": tree_rss,
                          "tree_peak_anon_mib": tree_anon, "tree_sum_vmhwm_mib": memory.sum_hwm(),
                          "phases": memory.peaks, "processes": {pid: vars(p) for pid, p in memory.processes.items()},
                          "baseline": {"photos_per_s": base_rate, "faces": base_faces, "peak_mib": base_mib},
                          "engine_alone": {"photos_per_s": engine_rate, "faces": engine_faces, "peak_mib": engine_mib},
                          "target_mib": args.target_mib, "target": verdict}))
        return 0
    side = f"{args.baseline_side} px copies" if args.baseline_side else "full size"
    print(f"{args.photos} generated 12 MP JPEGs with 4 faces each, one analysis process; first photo analysed in "
          f"{run['first_seconds']:.1f} s (process start + models), the {args.photos} acknowledged in "
          f"{run['ack_seconds']:.2f} s")
    print(markdown_table(["pipeline", "photos/s", "speed-up", "faces found / photo (of 4)", "peak RSS"], [
        [f"baseline: face_recognition-style ({side}, dlib HOG + ResNet), one process", f"{base_rate:.2f}", "1.00x",
         f"{base_faces:.1f}", f"{base_mib} MiB (VmHWM)"],
        ["photosift engine alone (`analyze`), one process", f"{engine_rate:.2f}", f"{engine_rate / base_rate:.1f}x",
         f"{engine_faces:.1f}", f"{engine_mib} MiB (VmHWM)"],
        ["photosift serve + one analysis process: upload to all analysed", f"{rate:.2f}",
         f"**{rate / base_rate:.1f}x**",
         f"{run['faces']:.1f}", f"**{tree_rss:.0f} MiB** (tree, sampled; RssAnon {tree_anon:.0f}; sum of VmHWM "
         f"{memory.sum_hwm():.0f})"],
    ]))
    print()
    print_memory(memory)
    print(f"\nissue 21's target, peak RSS of serve + one worker < {args.target_mib:.0f} MiB: {verdict} "
          f"({tree_rss:.0f} MiB sampled; {memory.sum_hwm():.0f} MiB as the sum of each process's VmHWM)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
