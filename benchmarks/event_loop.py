"""Benchmark: how long the server's event loop is held up while interactive face detections run in its threads.

Interactive engine calls (Rekognition DetectFaces / CompareFaces, reference photos) run in ``EnginePool`` threads
of the server process. A 10 ms ticker on the asyncio loop records how late it wakes while 2 threads detect faces
in generated 12 MP photos (``faces.detect_faces`` on the reduced decode, as the endpoint does: SCRFD through
onnxruntime, which releases the GIL while it computes). Baseline in the same run: a detector whose C call holds the
GIL (``yuface.c_detect``, libfacedetection's Python binding, at 960 px: the detector of earlier releases called the
way its package offers), where the ``yuface`` wheel installs (CPython 3.11 x86_64; a test dependency).

Run: ``.venv/bin/python benchmarks/event_loop.py [--calls N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import markdown_table  # noqa: E402
from faces import generated_photo  # noqa: E402

from photosift import faces, imaging  # noqa: E402
from photosift.analysis import FACE_MAX_PIXELS  # noqa: E402
from photosift.jobs.engine_pool import EnginePool  # noqa: E402

TICK = 0.010


async def loop_lag(detect: Callable[[], object], calls: int) -> tuple[list[float], float]:
    """Ticker lateness (ms) while ``calls`` runs of ``detect`` go two at a time, and the seconds they took."""
    pool = EnginePool(2)
    lags: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            start = time.perf_counter()
            await asyncio.sleep(TICK)
            lags.append((time.perf_counter() - start - TICK) * 1000)

    ticking = asyncio.create_task(ticker())
    start = time.perf_counter()
    await asyncio.gather(*(pool.run(detect) for _ in range(calls)))
    seconds = time.perf_counter() - start
    done.set()
    await ticking
    pool.shutdown()
    return lags, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=12)
    args = parser.parse_args()
    from skimage import data

    face = np.ascontiguousarray(data.astronaut()[20:230, 140:310])
    rgb = generated_photo(face, [700], seed=1)
    image = imaging.fit_pixels(rgb, FACE_MAX_PIXELS)
    decoded = imaging.DecodedImage(image, (rgb.shape[1], rgb.shape[0]), "JPEG")
    candidates: list[tuple[str, Callable[[], object]]] = []
    try:
        import yuface

        bgr = np.ascontiguousarray(cv2.resize(image, (960, 720))[:, :, ::-1])
        candidates.append(("baseline: yuface.c_detect (holds the GIL)", lambda: yuface.c_detect(bgr)))
    except ImportError:
        print("(no yuface wheel here: the baseline row is left out)")
    candidates.append(("photosift", lambda: faces.detect_faces(decoded)))
    rows, p95 = [], {}
    for label, detect in candidates:
        detect()  # warm-up
        lags, seconds = asyncio.run(loop_lag(detect, args.calls))
        p50, p95[label], worst = np.percentile(lags, [50, 95, 100])
        rows.append([label, f"{p50:.1f}", f"{p95[label]:.1f}", f"{worst:.0f}", f"{args.calls / seconds:.2f}"])
    print(f"{args.calls} detections of a 12 MP photo (decoded at {image.shape[1]}x{image.shape[0]}), 2 threads; "
          f"event-loop lateness of a {TICK * 1000:.0f} ms ticker")
    print(markdown_table(["detector call", "lag p50 ms", "lag p95 ms", "lag max ms", "detections/s"], rows))
    if len(rows) == 2:
        base, ours = p95[rows[0][0]], p95["photosift"]
        print(f"\np95 lag: {base / max(ours, 1e-3):.0f}x lower than the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
