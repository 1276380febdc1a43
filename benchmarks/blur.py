"""Benchmark: ms per photo for decode + blur on 12 MP JPEGs, against the naive baseline in the same run.

Baseline: full decode (``cv2.imread``) + ``cv2.Laplacian(gray).var()``. photosift: ``photosift.blur.assess_path``
(gray JPEG decode at a reduced DCT scale, at least twice ``ANALYSIS_LONG_SIDE``, + the default measure). The JPEGs
(4000x3000, q 92) are made here from scikit-image's sample photos, upscaled, with sensor-like noise, in a temporary
folder.

Run: ``nice -n 10 .venv/bin/python benchmarks/blur.py [--photos N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import markdown_table, time_per_item  # noqa: E402

from photosift import blur  # noqa: E402

SIZE = (4000, 3000)  # 12 MP


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)  # one thread, as the engine runs per worker; same for both methods
    with tempfile.TemporaryDirectory() as tmp:
        photos = make_photos(Path(tmp), args.photos)
        baseline = time_per_item(naive, photos, args.rounds)
        ours = time_per_item(photosift_blur, photos, args.rounds)
    print(f"{args.photos} JPEGs of {SIZE[0]}x{SIZE[1]}, median of {args.rounds} rounds, 1 OpenCV thread")
    print(
        markdown_table(
            ["method", "ms/photo", "ratio vs baseline"],
            [
                ["naive: full decode + cv2.Laplacian(...).var()", f"{baseline:.1f}", "1.00x"],
                ["photosift.blur.assess_path (default measure)", f"{ours:.1f}", f"{baseline / ours:.2f}x faster"],
            ],
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
