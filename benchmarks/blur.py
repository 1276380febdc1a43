"""Benchmark: ms per photo for decode + blur on 12 MP JPEGs, against the naive baseline in the same run.

Baseline: full decode (``cv2.imread``) + ``cv2.Laplacian(gray).var()``. photosift: ``photosift.blur.assess_path``
(gray JPEG decode at a reduced DCT scale, at least twice ``ANALYSIS_LONG_SIDE``, + the default measure). The JPEGs
(4000x3000, q 92) are made here from scikit-image's sample photos, upscaled, with sensor-like noise, in a temporary
folder.

``--against REV`` also times ``photosift.blur`` as of git revision REV (e.g. the release an issue was filed
against): each version in its own fresh process on the same JPEGs, the two alternating ``--alternations`` times, so
that a slow spell of a shared machine falls on both; the table then gives the median of each version's runs and
the change from REV.

Run: ``nice -n 10 .venv/bin/python benchmarks/blur.py [--photos N] [--rounds R] [--against REV]``.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import markdown_table, time_per_item  # noqa: E402

from photosift import blur  # noqa: E402

SIZE = (4000, 3000)  # 12 MP
ROOT = Path(__file__).resolve().parent.parent


def make_photos(folder: Path, count: int, seed: int = 3) -> list[Path]:
    """``count`` 12 MP JPEGs with photo-like content (upscaled sample photos + noise)."""
    from skimage import data

    sources = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(count):
        rgb = cv2.resize(sources[index % len(sources)], SIZE, interpolation=cv2.INTER_CUBIC)
        noisy = np.clip(rgb + rng.normal(0, 3.0, rgb.shape), 0, 255).astype(np.uint8)
        path = folder / f"photo{index}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(noisy, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
        paths.append(path)
    return paths


def naive(path: Path) -> float:
    """The baseline: full decode, then the variance of the Laplacian of the gray image."""
    gray = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def photosift_blur(path: Path) -> float:
    return blur.assess_path(path).result.sharpness


def export_release(revision: str, folder: Path) -> Path:
    """The ``photosift`` package as of git ``revision`` of this checkout, written under ``folder`` (returned: the
    folder to put first on ``PYTHONPATH``)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", revision, "photosift"],
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def time_in_process(source_root: Path, photos_dir: Path, rounds: int) -> float:
    """ms per photo of ``assess_path`` over the JPEGs in ``photos_dir``, in a fresh process importing ``photosift``
    from ``source_root``."""
    env = {**os.environ, "PYTHONPATH": str(source_root)}
    output = subprocess.run([sys.executable, __file__, "--time-only", str(photos_dir), "--rounds", str(rounds)],
                            env=env, capture_output=True, text=True, check=True).stdout
    return float(output.split()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", metavar="REV", help="also time photosift.blur as of this git revision")
    parser.add_argument("--alternations", type=int, default=5, help="with --against: runs of each version")
    parser.add_argument("--time-only", type=Path, help=argparse.SUPPRESS)  # one version's run (--against)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)  # one thread, as the engine runs per worker; same for both methods
    if args.time_only:
        print(time_per_item(photosift_blur, sorted(args.time_only.glob("*.jpg")), args.rounds))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        photos = make_photos(Path(tmp), args.photos)
        baseline = time_per_item(naive, photos, args.rounds)
        if args.against:
            release = export_release(args.against, Path(tmp) / "release")
            runs: dict[Path, list[float]] = {ROOT: [], release: []}
            for _ in range(args.alternations):
                for source in runs:
                    runs[source].append(time_in_process(source, Path(tmp), args.rounds))
            ours, before = (statistics.median(runs[source]) for source in (ROOT, release))
        else:
            ours = time_per_item(photosift_blur, photos, args.rounds)
    print(f"{args.photos} JPEGs of {SIZE[0]}x{SIZE[1]}, median of {args.rounds} rounds, 1 OpenCV thread")
    rows = [
        ["naive: full decode + cv2.Laplacian(...).var()", f"{baseline:.1f}", "1.00x"],
        ["photosift.blur.assess_path (default measure)", f"{ours:.1f}", f"{baseline / ours:.2f}x faster"],
    ]
    if args.against:
        rows.append([f"photosift.blur.assess_path as of {args.against}", f"{before:.1f}",
                     f"{baseline / before:.2f}x faster"])
    print(markdown_table(["method", "ms/photo", "ratio vs baseline"], rows))
    if args.against:
        print(f"this checkout against {args.against}: {100 * (ours / before - 1):+.1f} % time per photo "
              f"(medians of {args.alternations} alternating runs each: "
              f"{', '.join(f'{v:.1f}' for v in runs[ROOT])} / {', '.join(f'{v:.1f}' for v in runs[release])} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
