"""Throughput of decode + blur + detect + embed on generated 12 MP JPEGs, against face_recognition-style baselines.

    nice -n 10 .venv/bin/python benchmarks/faces.py [--photos 4] [--baseline-upsample 1] [--baseline-side 1000]

Photos: 4000x3000 JPEGs (quality 90) of a generated scene with 0, 1 or 4 pasted copies of the real face in
scikit-image's astronaut photo (scaled, odd copies mirrored), and a crowd: 16 small copies (120-250 px heads, faces
of ~65-140 px) scattered over the photo. Both pipelines run in a pool of 2 worker processes
(one per core, OpenCV single-threaded in each), models loaded before timing:
  * photosift: ``photosift.analysis.analyze(path)`` (reduced-scale decode, blur judged on faces, SCRFD-500M,
    w600k_mbf embeddings on SCRFD-aligned faces);
  * baseline (what ``face_recognition`` does): full-resolution decode with Pillow, the same blur call on the full
    image, dlib HOG detection (``number_of_times_to_upsample``, face_recognition's default 1), dlib 5-point landmarks
    and the dlib ResNet embedding;
  * the same baseline on a copy at most ``--baseline-side`` px on its longer side (Pillow's reduced-scale JPEG
    decode, then a resize): what a user of face_recognition does to make it fast, at the cost of small faces.
Peak memory: the largest peak resident set size (VmHWM) of a worker process of each pipeline (not ru_maxrss, which in
a spawned worker starts at this process's own peak, that of generating the photos).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import own_peak_kib  # noqa: E402

from photosift.jobs.pool import spawn_pool  # noqa: E402

# pasted head heights (the face is ~55 % of it); 16: a crowd of small faces, 120-250 px heads scattered over the photo
FACE_SETS = {
    0: [],
    1: [700],
    4: [620, 420, 300, 200],
    16: [250, 135, 210, 160, 120, 235, 180, 145, 225, 125, 195, 150, 240, 130, 170, 205],
}
_baseline = None


def generated_photo(
    face: np.ndarray, heights: list[int], seed: int, size: tuple[int, int] = (4000, 3000)
) -> np.ndarray:
    """A 12 MP scene (smooth gradients + texture noise) with ``face`` pasted at ``heights`` px.

    Up to 4 faces stand side by side across the middle; more (a crowd) are scattered, each at a random place in its
    own cell of a grid (in random cell order), so they never overlap.
    """
    width, height = size
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([80 + 90 * xx / width, 110 + 60 * yy / height, 170 - 80 * xx / width], axis=-1)
    small_noise = rng.normal(0, 30, (height // 4, width // 4)).astype(np.float32)
    noise = cv2.resize(cv2.GaussianBlur(small_noise, (0, 0), 2), (width, height))[..., None]
    canvas = np.clip(base + noise, 0, 255).astype(np.uint8)
    columns = math.ceil(math.sqrt(len(heights) * width / height))  # a crowd's grid (5 x 4 cells for 16 faces)
    rows = math.ceil(len(heights) / max(1, columns))
    cells = rng.permutation(columns * rows) if len(heights) > 4 else None
    for i, h in enumerate(heights):
        patch = cv2.resize(face, (round(face.shape[1] * h / face.shape[0]), h), interpolation=cv2.INTER_AREA)
        if i % 2:
            patch = patch[:, ::-1]
        if cells is None:
            x0 = int((i + 0.5) * width / len(heights)) - patch.shape[1] // 2 + int(rng.integers(-100, 100))
            y0 = height // 2 - h // 2 + int(rng.integers(-300, 300))
        else:
            row, column = divmod(int(cells[i]), columns)
            cell_w, cell_h = width // columns, height // rows
            x0 = column * cell_w + int(rng.integers(0, max(1, cell_w - patch.shape[1])))
            y0 = row * cell_h + int(rng.integers(0, max(1, cell_h - h)))
        x0, y0 = max(0, min(width - patch.shape[1], x0)), max(0, min(height - h, y0))
        canvas[y0 : y0 + h, x0 : x0 + patch.shape[1]] = patch
    return canvas


def make_photos(folder: Path, per_set: int) -> dict[int, list[str]]:
    from skimage import data

    face = np.ascontiguousarray(data.astronaut()[20:230, 140:310])
    photos: dict[int, list[str]] = {}
    for n, heights in FACE_SETS.items():
        photos[n] = []
        for k in range(per_set):
            path = folder / f"faces{n}_{k}.jpg"
            Image.fromarray(generated_photo(face, heights, seed=100 * n + k)).save(path, quality=90)
            photos[n].append(str(path))
    return photos


def _init(pipeline: str, upsample: int, side: int = 0, warm: str | None = None) -> None:
    """Load a pipeline's models in this worker, and run it once on ``warm`` (every worker is warm before timing)."""
    global _baseline
    if pipeline == "photosift":
        from photosift.faces.engine import get_engine

        get_engine()
    else:
        import dlib
        import face_recognition_models as models

        _baseline = (
            dlib.get_frontal_face_detector(),
            dlib.shape_predictor(models.pose_predictor_five_point_model_location()),
            dlib.face_recognition_model_v1(models.face_recognition_model_location()),
            upsample,
            side,
        )
    if warm is not None:
        (run_photosift if pipeline == "photosift" else run_baseline)(warm)


def _ready(_: int) -> int:
    """A worker that runs this has finished ``_init``; its process id."""
    time.sleep(0.05)
    return os.getpid()


def run_photosift(path: str) -> tuple[int, int]:
    from photosift.analysis import analyze

    result = analyze(path)
    return len(result.faces), own_peak_kib()


def baseline_decode(path: str, side: int = 0) -> np.ndarray:
    """RGB pixels as ``face_recognition.load_image_file`` gives them (full decode), or (``side``) a copy at most
    ``side`` px on its longer side: decoded at a reduced JPEG scale, then resized."""
    image = Image.open(path)
    if side:
        image.draft("RGB", (side, side))
        image = image.convert("RGB")
        image.thumbnail((side, side))
    return np.asarray(image.convert("RGB"))


def baseline_faces(path: str) -> tuple[np.ndarray, list, list[np.ndarray]]:
    """face_recognition's steps on one photo, with this worker's baseline models: its pixels (``baseline_decode``),
    dlib's face boxes and each face's ResNet descriptor."""
    detector, shape, net, upsample, side = _baseline
    rgb = baseline_decode(path, side)
    boxes = detector(rgb, upsample)
    return rgb, boxes, [np.array(net.compute_face_descriptor(rgb, shape(rgb, box), 1)) for box in boxes]


def run_baseline(path: str) -> tuple[int, int]:
    from photosift import blur

    rgb, boxes, _ = baseline_faces(path)
    blur.assess(rgb, [(b.left(), b.top(), b.width(), b.height()) for b in boxes])
    return len(boxes), own_peak_kib()


def measure(pipeline: str, photos: dict[int, list[str]], upsample: int, side: int = 0, workers: int = 2
            ) -> dict[int, tuple[float, float, int]]:
    """{faces: (photos/s, mean faces found, peak RSS MiB)} with ``workers`` worker processes (``side``: the
    baseline's copy)."""
    func = run_photosift if pipeline == "photosift" else run_baseline
    out = {}
    warm = (photos.get(1) or next(iter(photos.values())))[0]
    with spawn_pool(workers, _init, (pipeline, upsample, side, warm)) as pool:  # photosift's pool, for both pipelines
        ready: set[int] = set()
        while len(ready) < workers:  # the workers start with the first tasks: time nothing until each is warm
            ready.update(pool.map(_ready, range(workers)))
        for n, paths in photos.items():
            start = time.perf_counter()
            results = list(pool.map(func, paths, chunksize=1))
            elapsed = time.perf_counter() - start
            peak = max(r[1] for r in results) // 1024
            out[n] = (len(paths) / elapsed, float(np.mean([r[0] for r in results])), peak)
    return out


def compare_photosift(pair: tuple[str, str]) -> None:
    """What ``photosift compare`` does: the largest face of the first photo against every face of the second."""
    from photosift import faces, imaging
    from photosift.analysis import FACE_MAX_PIXELS

    source, targets = faces.reference_and_targets(
        imaging.decode(pair[0], max_pixels=FACE_MAX_PIXELS), imaging.decode(pair[1], max_pixels=FACE_MAX_PIXELS)
    )
    faces.similarity(source.embedding, np.stack([t.embedding for t in targets]))


def compare_baseline(pair: tuple[str, str]) -> None:
    """face_recognition's way: encode every face of both photos (full decode, HOG, ResNet)."""
    run_baseline(pair[0])
    run_baseline(pair[1])


def compare_seconds(pipeline: str, pairs: list[tuple[str, str]], upsample: int) -> float:
    """Median wall-clock seconds of one two-photo comparison in this process (all its threads), models loaded."""
    if pipeline == "photosift":
        from photosift.faces.engine import get_engine

        get_engine()
        run = compare_photosift
    else:
        _init(pipeline, upsample)
        run = compare_baseline
    run(pairs[0])
    times = []
    for pair in pairs:
        start = time.perf_counter()
        run(pair)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> int:
    parser = argparse.ArgumentParser(description="photosift face pipeline vs a face_recognition-style baseline")
    parser.add_argument("--photos", type=int, default=4, help="photos per face count (default 4)")
    parser.add_argument("--baseline-upsample", type=int, default=1, help="dlib HOG upsampling (face_recognition: 1)")
    parser.add_argument("--baseline-side", type=int, default=1000, help="longer side of the baseline's copy, px")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        photos = make_photos(Path(tmp), args.photos)
        ours = measure("photosift", photos, args.baseline_upsample)
        base = measure("baseline", photos, args.baseline_upsample)
        small = measure("baseline", photos, args.baseline_upsample, args.baseline_side)
        pairs = list(zip(photos[1], photos[1][1:] + photos[1][:1], strict=True))
        compare = {p: compare_seconds(p, pairs, args.baseline_upsample) for p in ("photosift", "baseline")}
    print(f"12 MP JPEGs, {args.photos} per row, 2 worker processes; baseline HOG upsample={args.baseline_upsample}")
    print(f"| faces / photo | photosift photos/s | faces found | baseline photos/s | faces found | speed-up "
          f"| baseline on a {args.baseline_side} px copy | faces found | speed-up "
          "| peak RSS photosift | peak RSS baseline | peak RSS baseline on the copy |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in FACE_SETS:
        (a, fa, ma), (b, fb, mb), (c, fc, mc) = ours[n], base[n], small[n]
        print(f"| {n} | {a:.2f} | {fa:.1f} | {b:.2f} | {fb:.1f} | {a / b:.1f}x | {c:.2f} | {fc:.1f} | {a / c:.1f}x "
              f"| {ma} MiB | {mb} MiB | {mc} MiB |")
    print()
    print("| two-photo compare (12 MP, one face each, one process) | seconds |")
    print("|---|---|")
    print(f"| photosift | {compare['photosift']:.2f} |")
    print(f"| baseline (face_recognition-style, same run) | {compare['baseline']:.2f} |")
    print(f"| ratio baseline / photosift | {compare['baseline'] / compare['photosift']:.1f}x |")
    print("| for reference, not measured here: face-api.js 0.85 (tiny model 0.47); AWS Rekognition 1-1.5 | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
