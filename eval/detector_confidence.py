"""What a detection network's scores mean: the share of its detections at a score that are faces.

    nice -n 10 .venv/bin/python eval/detector_confidence.py [--network scrfd|yunet]

Every detection the detector's first pass gives (scores down to its cue level, before any confidence bar) on the
photos of wider/ and facemask/ is labelled a face when it overlaps an annotated face (IoU >= 0.3) or its centre lies
inside one (invalid annotations included), as ``eval/faces.py`` counts phantoms; a logistic fit of the label on the
score gives ``(a, b)`` of ``photosift.faces.detectors.NetworkSpec.score_to_logit``. The table shows, per score bin,
the share of faces measured and the fitted confidence, and the confidence the network's spec gives today.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import DATA, available, detection_set  # noqa: E402
from faces import _all_boxes, near_annotated  # noqa: E402

BINS = (0.05, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)


def labelled_scores(network: str) -> tuple[np.ndarray, np.ndarray]:
    """Scores of every first-pass detection of ``network`` on wider/ and facemask/, and whether each is a face."""
    from photosift import imaging
    from photosift.faces.detectors import CUE_SCORE, NETWORKS, canvas_for

    net = NETWORKS[network].load()
    scores, faces = [], []
    for name in ("wider", "facemask"):
        for (path, _), every in zip(detection_set(name), _all_boxes(name), strict=True):
            rgb = imaging.decode(str(path)).pixels
            boxes, found, _ = net.detect(rgb, canvas_for(rgb.shape[:2]), CUE_SCORE)
            truth = np.array(every, dtype=np.float64).reshape(-1, 4)
            faces += [near_annotated(box, truth) for box in boxes]
            scores += [float(s) for s in found]
    return np.array(scores), np.array(faces)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default="scrfd", help="a network of photosift.faces.detectors.NETWORKS")
    args = parser.parse_args()
    if not available():
        print(f"no evaluation data at {DATA}", file=sys.stderr)
        return 2
    from sklearn.linear_model import LogisticRegression

    from photosift.faces.detectors import NETWORKS

    spec = NETWORKS[args.network]
    scores, faces = labelled_scores(args.network)
    fit = LogisticRegression(C=1e6).fit(scores[:, None], faces)
    a, b = float(fit.coef_[0, 0]), float(fit.intercept_[0])
    print(f"{args.network}: {len(scores)} detections, {int(faces.sum())} faces; score_to_logit = ({a:.2f}, {b:.2f})")
    print("| score | detections | faces | fitted confidence | shipped confidence |\n|---|---|---|---|---|")
    for lo, hi in zip(BINS, BINS[1:], strict=False):
        inside = (scores >= lo) & (scores < hi)
        if inside.any():
            mid = float(np.median(scores[inside]))
            print(f"| {lo:.2f}-{min(hi, 1.0):.2f} | {int(inside.sum())} | {faces[inside].mean():.2f} | "
                  f"{100 / (1 + np.exp(-(a * mid + b))):.1f} | {float(spec.confidence(np.array([mid]))[0]):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
