"""Finding a person in a folder, whole processes: ``photosift find`` against a face_recognition-style script.

    nice -n 10 .venv/bin/python benchmarks/find.py [--photos 48] [--rounds 3] [--baseline-side 1000]

What a user waits for, start-up included: each command is started as its own process over a folder of generated
12 MP JPEGs with 4 faces each (``benchmarks/faces.py``: ``generated_photo``, ``FACE_SETS[4]``) and one reference
photo of the person (the 700 px head of ``FACE_SETS[1]``); wall clock from start to exit. Rounds alternate the two,
and each figure is the median over ``--rounds``.

  * photosift: ``python -m photosift find REFERENCE --in FOLDER --json`` (its own pool of one process per core).
  * baseline: this file with ``--run-baseline``, what a face_recognition user writes to do it fast: the reference
    and every photo decoded as a copy at most ``--baseline-side`` px on its longer side (Pillow's reduced-scale JPEG
    decode, then a resize), dlib HOG (upsample 1), the dlib ResNet descriptor of every face, a photo matching when
    one face is within face_recognition's tolerance 0.6 of the reference; the photos in 2 worker processes (one per
    core), as ``face_recognition --cpus 2`` runs them, terminated when the last photo is done (as photosift's are,
    and as ``multiprocessing.Pool`` is at exit).

The ratio depends on the folder's size: photosift starts in about 0.8 s against the baseline's 1.6 (imports, two
compilations of the recogniser) and then adds photos more than four times as fast; ``--photos 150`` shows a
trip-sized folder.

Memory: the peak of the summed VmRSS of each command's process tree (``_common.TreeMemory``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import faces  # noqa: E402
from _common import TreeMemory, markdown_table  # noqa: E402

TOLERANCE = 0.6  # face_recognition.compare_faces' default distance
WORKERS = 2


def make_folder(folder: Path, photos: int) -> Path:
    """``photos`` 12 MP JPEGs with 4 faces in ``folder/photos`` and the reference photo; the reference's path."""
    from skimage import data

    face = np.ascontiguousarray(data.astronaut()[20:230, 140:310])
    (folder / "photos").mkdir()
    for k in range(photos):
        image = faces.generated_photo(face, faces.FACE_SETS[4], seed=400 + k)
        Image.fromarray(image).save(folder / "photos" / f"IMG_{k:04d}.jpg", quality=90)
    reference = folder / "reference.jpg"
    Image.fromarray(faces.generated_photo(face, faces.FACE_SETS[1], seed=7)).save(reference, quality=90)
    return reference


def timed(command: list[str]) -> tuple[float, int, float]:
    """(wall seconds, lines printed, peak summed VmRSS of the process tree in MiB) of ``command``."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    with TreeMemory(process.pid) as memory:
        out, _ = process.communicate()
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(f"{command[2:4]} exited with {process.returncode}")
    return seconds, len(out.splitlines()), memory.peak[0]


def _encodings(path: str) -> list[np.ndarray]:
    """The baseline's descriptors of every face of one photo."""
    return faces.baseline_faces(path)[2]


def run_baseline(reference: str, folder: str, side: int) -> int:
    """The baseline command: a JSON line per photo with a face within ``TOLERANCE`` of the reference's largest."""
    from photosift.jobs.pool import spawn_pool, terminate

    faces._init("baseline", 1, side)
    known = _encodings(reference)
    if not known:
        print("no face in the reference", file=sys.stderr)
        return 2
    paths = sorted(str(p) for p in Path(folder).rglob("*.jpg"))
    pool = spawn_pool(WORKERS, faces._init, ("baseline", 1, side))
    try:
        for path, found in zip(paths, pool.map(_encodings, paths, chunksize=1), strict=True):
            distances = [float(np.linalg.norm(e - known[0])) for e in found]
            if distances and min(distances) <= TOLERANCE:
                print(json.dumps({"path": path, "distance": round(min(distances), 3)}))
    finally:
        terminate(pool)  # as photosift's; face_recognition's multiprocessing.Pool is terminated at exit too
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="photosift find against a face_recognition-style script")
    parser.add_argument("--photos", type=int, default=48, help="photos in the folder (default 48)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each command, alternating (default 3)")
    parser.add_argument("--baseline-side", type=int, default=1000, help="longer side of the baseline's copies, px")
    parser.add_argument("--run-baseline", nargs=2, metavar=("REFERENCE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_baseline:
        return run_baseline(*args.run_baseline, args.baseline_side)
    with tempfile.TemporaryDirectory() as tmp:
        reference = make_folder(Path(tmp), args.photos)
        folder = str(Path(tmp) / "photos")
        commands = {
            "photosift find": [sys.executable, "-m", "photosift", "find", str(reference), "--in", folder, "--json"],
            "baseline": [sys.executable, __file__, "--run-baseline", str(reference), folder,
                         "--baseline-side", str(args.baseline_side)],
        }
        runs: dict[str, list[tuple[float, int, float]]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, command in commands.items():
                runs[name].append(timed(command))
    seconds = {name: statistics.median(r[0] for r in rs) for name, rs in runs.items()}
    rows = [[name, f"{seconds[name]:.2f}", f"{args.photos / seconds[name]:.2f}",
             f"{seconds['baseline'] / seconds[name]:.2f}x", f"{min(r[1] for r in rs)} of {args.photos}",
             f"{max(r[2] for r in rs):.0f} MiB"] for name, rs in runs.items()]
    print(f"{args.photos} generated 12 MP JPEGs with 4 faces; whole processes, median of {args.rounds} alternating "
          f"runs; baseline copies at most {args.baseline_side} px")
    print(markdown_table(["command", "wall s", "photos/s", "speed-up", "photos matched", "peak RSS (process tree)"],
                         rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
