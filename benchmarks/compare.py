"""CompareFaces latency of a real ``photosift serve`` through boto3, against a face_recognition-style comparison.

    .venv/bin/python benchmarks/compare.py [--calls 20] [--warmup 2] [--baseline-side 1000] [--workers 1] [--json]

Photos: two generated 4000x3000 JPEGs (quality 90) with 4 faces each (``benchmarks/faces.py``: ``generated_photo``,
``FACE_SETS[4]``, two seeds). They are ~0.7 MB each, under the 5 MiB that photosift (like AWS) allows for
``Image.Bytes``, so both go inline as ``Bytes`` (not ``S3Object``), at full size and quality.

  * photosift: ``photosift serve`` on loopback (a temporary data folder, ``PHOTOSIFT_AWS_CREDENTIALS`` set, so every
    call is SigV4-signed and checked; ``PHOTOSIFT_WORKERS=1`` (``--workers``): one interactive engine thread, so
    the source and the target image are analysed one after the other), and a boto3 Rekognition client calling
    ``CompareFaces(SourceImage, TargetImage)`` ``--warmup`` times, then ``--calls`` times one after another on the
    otherwise idle server. Latency: wall clock around each boto3 call (signing, HTTP, JSON
    and base64 included).
  * baseline, in the same run once the server is stopped: what a face_recognition user does to compare two photos
    fast, in one process (``benchmarks/faces.py``'s baseline): both photos decoded as copies at most
    ``--baseline-side`` px on the longer side, dlib HOG (upsample 1) on each, the dlib ResNet descriptor of the
    source's largest face and of every target face, Euclidean distances (a match at <= 0.6, face_recognition's
    tolerance). Timed inside its worker process, models loaded first.

Memory: photosift's is the server's process tree (the server and every process below it: the analysis worker, if
started, and multiprocessing's resource tracker), VmRSS of each read from ``/proc/<pid>/status`` every 50 ms and
summed (``_common.TreeMemory``; also the sum of each process's VmHWM, an upper bound); the baseline's is its
process's VmHWM.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path

import boto3
import numpy as np
from botocore.config import Config
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import faces  # noqa: E402
from _common import (  # noqa: E402
    TreeMemory,
    markdown_table,
    own_peak_kib,
    percentile,
    print_memory,
    start_serve,
    stop_serve,
)

from photosift.jobs.pool import spawn_pool  # noqa: E402

KEY, SECRET = "AKIDPHOTOSIFTBENCH01", "bench-secret"
TOLERANCE = 0.6  # face_recognition.compare_faces' default distance


def make_pair(folder: Path) -> tuple[Path, Path]:
    """The source and target JPEGs: 12 MP, quality 90, 4 faces each (different scenes and places)."""
    from skimage import data

    face = np.ascontiguousarray(data.astronaut()[20:230, 140:310])
    paths = []
    for seed in (400, 401):
        buffer = io.BytesIO()
        Image.fromarray(faces.generated_photo(face, faces.FACE_SETS[4], seed=seed)).save(buffer, "JPEG", quality=90)
        paths.append(folder / f"compare-{seed}.jpg")
        paths[-1].write_bytes(buffer.getvalue())
    return paths[0], paths[1]


def photosift_calls(pair: tuple[Path, Path], calls: int, warmup: int, workdir: Path, workers: int = 1) -> dict:
    """Latencies (s) of ``calls`` CompareFaces on a fresh server, the last reply's face counts, the tree's memory."""
    source, target = (p.read_bytes() for p in pair)
    process, url = start_serve(workdir / "data", PHOTOSIFT_WORKERS=str(workers),
                               PHOTOSIFT_AWS_CREDENTIALS=f"{KEY}:{SECRET}")
    try:
        with TreeMemory(process.pid) as memory:
            client = boto3.client("rekognition", endpoint_url=url, region_name="us-east-1", aws_access_key_id=KEY,
                                  aws_secret_access_key=SECRET,
                                  config=Config(retries={"total_max_attempts": 1}, read_timeout=300))
            memory.enter("warm-up (models load)")
            for _ in range(warmup):
                client.compare_faces(SourceImage={"Bytes": source}, TargetImage={"Bytes": target})
            memory.enter("timed calls")
            seconds = []
            for _ in range(calls):
                start = time.perf_counter()
                reply = client.compare_faces(SourceImage={"Bytes": source}, TargetImage={"Bytes": target})
                seconds.append(time.perf_counter() - start)
    finally:
        stop_serve(process)
    return {"seconds": seconds, "target_faces": len(reply["FaceMatches"]) + len(reply["UnmatchedFaces"]),
            "matches": len(reply["FaceMatches"]), "memory": memory}


def baseline_compare(pair: tuple[str, str]) -> tuple[float, int, int, int]:
    """One comparison, face_recognition's way, in a worker set up by ``faces._init``: (seconds, target faces
    found, matches within ``TOLERANCE``, peak RSS of the process in KiB)."""
    detector, shape, net, upsample, side = faces._baseline
    start = time.perf_counter()
    source, target = faces.baseline_decode(pair[0], side), faces.baseline_decode(pair[1], side)
    source_boxes, target_boxes = detector(source, upsample), detector(target, upsample)
    matches = 0
    if len(source_boxes) and len(target_boxes):
        largest = max(source_boxes, key=lambda box: box.area())
        probe = np.array(net.compute_face_descriptor(source, shape(source, largest), 1))
        others = np.array([net.compute_face_descriptor(target, shape(target, box), 1) for box in target_boxes])
        matches = int((np.linalg.norm(others - probe, axis=1) <= TOLERANCE).sum())
    seconds = time.perf_counter() - start
    return seconds, len(target_boxes), matches, own_peak_kib()


def baseline_calls(pair: tuple[Path, Path], calls: int, warmup: int, side: int) -> dict:
    """``calls`` timed baseline comparisons in one worker process (after ``warmup`` untimed ones)."""
    args = (str(pair[0]), str(pair[1]))
    with spawn_pool(1, faces._init, ("baseline", 1, side)) as pool:
        for _ in range(max(1, warmup)):
            pool.submit(baseline_compare, args).result()
        results = [pool.submit(baseline_compare, args).result() for _ in range(calls)]
    return {"seconds": [r[0] for r in results], "target_faces": results[-1][1], "matches": results[-1][2],
            "peak_mib": max(r[3] for r in results) / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20, help="timed calls of each (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls first (default 2)")
    parser.add_argument("--baseline-side", type=int, default=1000, help="longer side of the baseline's copies, px "
                        "(0: full size)")
    parser.add_argument("--workers", type=int, default=1, help="the server's PHOTOSIFT_WORKERS (default 1)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="photosift-compare-") as tmp:
        pair = make_pair(Path(tmp))
        sizes = [p.stat().st_size / 1e6 for p in pair]
        ours = photosift_calls(pair, args.calls, args.warmup, Path(tmp), args.workers)
        base = baseline_calls(pair, args.calls, args.warmup, args.baseline_side)

    memory: TreeMemory = ours.pop("memory")
    tree_rss, tree_anon = memory.peak
    p50 = {name: percentile(r["seconds"], 50) for name, r in (("photosift", ours), ("baseline", base))}
    p95 = {name: percentile(r["seconds"], 95) for name, r in (("photosift", ours), ("baseline", base))}
    speedup = p50["baseline"] / p50["photosift"]
    if args.json:
        print(json.dumps({"calls": args.calls, "workers": args.workers, "jpeg_mb": sizes, "p50_s": p50, "p95_s": p95,
                          "speedup_p50": speedup,
                          "photosift": ours, "baseline": base, "tree_peak_rss_mib": tree_rss,
                          "tree_peak_anon_mib": tree_anon, "tree_sum_vmhwm_mib": memory.sum_hwm(),
                          "processes": {pid: vars(p) for pid, p in memory.processes.items()}}))
        return 0
    side = f"{args.baseline_side} px copies" if args.baseline_side else "full size"
    print(f"CompareFaces, two 12 MP JPEGs ({sizes[0]:.2f} / {sizes[1]:.2f} MB, 4 faces each) as Bytes; "
          f"{args.calls} sequential calls after {args.warmup} warm-up calls")
    rows = [
        [f"baseline: face_recognition-style ({side}, dlib HOG + ResNet), one process",
         f"{p50['baseline'] * 1000:.0f} ms", f"{p95['baseline'] * 1000:.0f} ms", "1.00x",
         f"{base['target_faces']} of 4", f"{base['matches']} (distance <= {TOLERANCE})",
         f"{base['peak_mib']:.0f} MiB (VmHWM)"],
        [f"photosift serve (PHOTOSIFT_WORKERS={args.workers}), boto3 CompareFaces",
         f"{p50['photosift'] * 1000:.0f} ms", f"{p95['photosift'] * 1000:.0f} ms", f"**{speedup:.1f}x faster**",
         f"{ours['target_faces']} of 4", f"{ours['matches']} (Similarity >= 80)",
         f"{tree_rss:.0f} MiB (tree, sampled; RssAnon {tree_anon:.0f}; sum of VmHWM {memory.sum_hwm():.0f})"],
    ]
    print(markdown_table(["comparison", "p50", "p95", "speed-up (p50)", "target faces found", "matches", "peak RSS"],
                         rows))
    print()
    print_memory(memory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
