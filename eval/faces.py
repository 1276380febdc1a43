"""Face engine evaluation on ../shared/data: one command, one table.

    nice -n 10 .venv/bin/python eval/faces.py [--markdown]

Verification (LFW, MFR2, CFP-FF, CFP-FP; the product detector picks each image's largest face, the product
embedder embeds it): accuracy at the default threshold, the share of different-person pairs called a match and the
true-match rate, with
  * held-out: each pair scored by the calibration fitted without its people (5 folds by identity, see
    eval/calibrate_similarity.py);
  * shipped: the calibration in photosift/faces/calibration.json (fitted on all of them: in-sample), the first image
    as a reference and the second as an album photo's face (as CompareFaces and album matching compare them), and
    both as album photos' faces (as people grouping compares them; ``engine.MIRROR_YAW``).
Detection (wider/, facemask/): recall by face height (px of the file; a face is found when a detection has
IoU >= 0.5 with it), and for faces of geometric size sqrt(w * h) >= 40 px (WIDER's files were stretched to 416x416,
which squeezes some faces to 10 px wide and 50 px tall: their height overstates their size), and phantom detections
per image (no annotated face overlaps it: IoU < 0.3 and its centre is inside no annotated box, invalid ones included).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _faces  # noqa: E402
import calibrate_similarity as cal  # noqa: E402
from _data import DATA, PAIR_SETS, available, detection_set, pairs  # noqa: E402

from photosift.jobs.pool import spawn_pool  # noqa: E402

SIZE_BINS = [(0, 20), (20, 40), (40, 80), (80, 10_000)]


def verification_rows() -> list[dict]:
    """Accuracy at the default threshold of each verification set: held-out (``calibrate_similarity.held_out``) and
    with the shipped calibration, plus the share of different-person pairs called a match."""
    from photosift import faces

    held = cal.held_out(cal.DEFAULT_FMR)["verification"]
    by_path = {f.path: f for name in _faces.SETS for f in _faces.load(name)}
    rows = []
    for name in PAIR_SETS:
        scores, labels = [], []
        for pair in pairs(name):
            a, b = by_path[str(pair.img1)], by_path[str(pair.img2)]
            scores.append([0.0, 0.0] if a.embedding is None or b.embedding is None else
                          [float(faces.similarity(a.embedding, b.album)[0, 0]),
                           float(faces.similarity(a.album, b.album)[0, 0])])
            labels.append(pair.same)
        shipped, y = np.array(scores).reshape(-1, 2), np.array(labels)
        held_scores = np.array([s for s, _ in held[name]])
        held_labels = np.array([lab for _, lab in held[name]])
        rows.append({
            "set": name, "pairs": len(y),
            "heldout_acc": float(np.mean((held_scores >= faces.DEFAULT_THRESHOLD) == held_labels)),
            "heldout_fm": float(np.mean(held_scores[~held_labels] >= faces.DEFAULT_THRESHOLD)),
            "heldout_tmr": float(np.mean(held_scores[held_labels] >= faces.DEFAULT_THRESHOLD)),
            "shipped_acc": float(np.mean((shipped[:, 0] >= faces.DEFAULT_THRESHOLD) == y)),
            "album_acc": float(np.mean((shipped[:, 1] >= faces.DEFAULT_THRESHOLD) == y)),
        })
    return rows


_detector = None


def _init_detector() -> None:
    from photosift.faces.engine import FaceEngine, default_detector

    global _detector
    _detector = FaceEngine(default_detector(), None)  # detection only (the recogniser's detector)


def _detect(path: str) -> list[list[float]]:
    from photosift import imaging

    return [list(f.box) for f in _detector.detect(imaging.decode(path))]


def detection_rows() -> list[dict]:
    from photosift.faces.geometry import iou

    rows = []
    for name in ("wider", "facemask"):
        items = detection_set(name)
        all_boxes = _all_boxes(name)
        start = time.perf_counter()
        with spawn_pool(2, _init_detector) as pool:
            detections = list(pool.map(_detect, [str(p) for p, _ in items], chunksize=2))
        seconds = time.perf_counter() - start
        found_by_bin = {b: [0, 0] for b in SIZE_BINS}
        by_area = [0, 0]  # faces with sqrt(w * h) >= 40 px: found, total
        phantoms = 0
        for (_, truth), dets, every in zip(items, detections, all_boxes, strict=True):
            dets = np.array(dets, dtype=np.float64).reshape(-1, 4)
            truth = np.array(truth, dtype=np.float64).reshape(-1, 4)
            overlaps = iou(truth, dets) if len(dets) else np.zeros((len(truth), 0))
            for k, box in enumerate(truth):
                hit = bool(overlaps.shape[1] and overlaps[k].max() >= 0.5)
                for lo, hi in SIZE_BINS:
                    if lo <= box[3] < hi:
                        found_by_bin[(lo, hi)][1] += 1
                        found_by_bin[(lo, hi)][0] += hit
                if box[2] * box[3] >= 40 * 40:
                    by_area[0] += hit
                    by_area[1] += 1
            every = np.array(every, dtype=np.float64).reshape(-1, 4)
            phantoms += sum(not near_annotated(det, every) for det in dets)
        big = [found_by_bin[b] for b in SIZE_BINS if b[0] >= 40]
        rows.append({
            "set": name, "images": len(items), "faces": sum(v[1] for v in found_by_bin.values()),
            "recall": {f"{lo}-{hi if hi < 10_000 else ''}px": (v[0] / v[1] if v[1] else None, v[1])
                       for (lo, hi), v in found_by_bin.items()},
            "recall_ge40": sum(f for f, _ in big) / max(1, sum(t for _, t in big)),
            "recall_ge40_area": (by_area[0] / by_area[1] if by_area[1] else None, by_area[1]),
            "phantoms_per_image": phantoms / len(items),
            "ms_per_image_2proc": 1000 * seconds / len(items),
        })
    return rows


def near_annotated(det: np.ndarray, every: np.ndarray) -> bool:
    """Whether detection ``det`` (l, t, w, h) is an annotated face of ``every`` (rows): IoU >= 0.3 with one, or its
    centre inside one; else it is a phantom."""
    from photosift.faces.geometry import iou

    if not len(every):
        return False
    cx, cy = det[0] + det[2] / 2, det[1] + det[3] / 2
    inside = ((every[:, 0] <= cx) & (cx <= every[:, 0] + every[:, 2])
              & (every[:, 1] <= cy) & (cy <= every[:, 1] + every[:, 3]))
    return bool(iou(det, every).max() >= 0.3 or inside.any())


def _all_boxes(name: str) -> list[list[tuple[float, ...]]]:
    """Every annotated box (invalid ones too) per image, for the phantom count."""
    items = json.loads((DATA / name / "annotations.json").read_text())
    if name == "wider":
        return [[tuple(f["bbox_xywh_416"]) for f in it["faces"]] for it in items]
    return [[(a, b, c - a, d - b) for a, b, c, d in (f["bbox_xyxy"] for f in it["faces"])] for it in items]


def main() -> int:
    parser = argparse.ArgumentParser(description="Evaluate photosift's face engine on ../shared/data.")
    parser.add_argument("--markdown", action="store_true", help="print markdown tables")
    parser.parse_args()
    if not available():
        print(f"no evaluation data at {DATA}", file=sys.stderr)
        return 2
    ver = verification_rows()
    det = detection_rows()
    print("| set | pairs | accuracy @80 held-out | different people matched (held-out) | true-match rate (held-out) "
          "| accuracy @80 shipped | shipped, album vs album |")
    print("|---|---|---|---|---|---|---|")
    for r in ver:
        print(f"| {r['set']} | {r['pairs']} | {100 * r['heldout_acc']:.1f} % | {100 * r['heldout_fm']:.1f} % "
              f"| {100 * r['heldout_tmr']:.1f} % | {100 * r['shipped_acc']:.1f} % | {100 * r['album_acc']:.1f} % |")
    print()
    bins = list(det[0]["recall"])
    print("| set | images | faces | " + " | ".join(f"recall {b}" for b in bins)
          + " | recall height >= 40 px | recall sqrt(area) >= 40 px | phantoms / image | ms / image (2 proc) |")
    print("|---" * (8 + len(bins) - 1) + "|")
    for r in det:
        cells = " | ".join("-" if v is None else f"{v:.2f} (n={n})" for v, n in r["recall"].values())
        area, n_area = r["recall_ge40_area"]
        print(f"| {r['set']} | {r['images']} | {r['faces']} | {cells} | {r['recall_ge40']:.3f} "
              f"| {'-' if area is None else f'{area:.3f} (n={n_area})'} "
              f"| {r['phantoms_per_image']:.2f} | {r['ms_per_image_2proc']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
