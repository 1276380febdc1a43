"""Which embedding to ship: the accuracy levers of crops, alignment, flips and fusion (writes nothing).

    .venv/bin/python eval/embedding_variants.py

Features: for every image of the LFW, MFR2 and CFP pair sets, the largest face found by the product detector, and
raw embeddings of several variants (FaceNet on plain / roll-aligned crops at margins 0.2, 0.35 and 0.5, each also
mirrored; dlib on its chip and the mirrored chip), cached in ~/.cache/photosift-eval. A variant averages the unit
vectors of its crops per part; its pair score is the cosine per part.

Each variant is scored by its own logistic regression (balanced classes) from the per-part cosines to "same person",
decided at even odds; held-out numbers are leave-one-dataset-out: fit on two of {LFW, MFR2, CFP}, evaluate on the
third (CFP-FF and CFP-FP share images, so CFP is one group). The shipped score (``eval/calibrate_similarity.py``)
is fitted differently, on every pair and with the pose and mask conditions; this script only compares embeddings.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import CACHE, PAIR_SETS, pairs  # noqa: E402

from photosift.jobs.pool import spawn_pool  # noqa: E402

GROUPS = {"LFW": ["LFW"], "MFR2": ["MFR2"], "CFP": ["CFP-FF", "CFP-FP"]}
THRESHOLD = 80.0

MARGINS = (0.2, 0.35, 0.5)  # FaceNet crop margins measured (fraction of the box side)
_worker = None


def _init_worker() -> None:
    from photosift.faces.detectors import YuFaceDetector
    from photosift.faces.embedders import DlibEmbedder, FaceNetEmbedder
    from photosift.faces.engine import FaceEngine

    global _worker
    _worker = (FaceEngine(YuFaceDetector(), None, None), FaceNetEmbedder(flip=False), DlibEmbedder(flip=False))


def _features(path: str) -> dict | None:
    """Largest face and raw variant embeddings of one image (None when no face is found).

    ``facenet[(margin, aligned, mirrored)]``: one unit vector per crop variant; ``dlib``: chip and mirrored chip.
    """
    from photosift import imaging
    from photosift.faces.geometry import upright_crop

    engine, facenet, dlib_ = _worker
    image = imaging.decode(path)
    face = engine.largest(image)  # as the product picks a reference face
    if face is None:
        return None
    rgb = image.pixels
    keys, crops = [], []
    for margin in MARGINS:
        for aligned in (False, True):
            crop = upright_crop(rgb, face.box, np.array(face.landmarks) if aligned else None, 160, margin)
            keys += [(margin, aligned, False), (margin, aligned, True)]
            crops += [crop, crop[:, ::-1]]
    chip = dlib_.chips(rgb, [face])[0]
    return {
        "facenet": dict(zip(keys, facenet.embed_crops(crops), strict=True)),
        "dlib": dlib_.embed_chips([chip, np.ascontiguousarray(chip[:, ::-1])]),
        "yaw": face.pose.yaw,
    }


def load_features(name: str) -> dict[str, dict | None]:
    """Variant features of every image of pair set ``name`` (cached per data folder)."""
    folder = PAIR_SETS[name][0]
    cache = CACHE / f"variants-v4-{folder}.npz"
    images = sorted({str(p) for pair in pairs(name) for p in (pair.img1, pair.img2)})
    stored: dict[str, dict | None] = {}
    if cache.exists():
        stored = np.load(cache, allow_pickle=True)["features"].item()
    missing = [p for p in images if p not in stored]
    if missing:
        with spawn_pool(2, _init_worker) as pool:
            for path, feats in zip(missing, pool.map(_features, missing, chunksize=4), strict=True):
                stored[path] = feats
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(cache, features=np.array(stored, dtype=object))
    return {p: stored[p] for p in images}


def variant_vectors(feats: dict, variant: dict) -> list[np.ndarray]:
    """Per-part unit vectors of one image for a variant (see ``VARIANTS``): the mean of the chosen crops."""
    flips = (False, True) if variant["flip"] else (False,)
    out = []
    for part in variant["parts"]:
        if part == "facenet":
            v = sum(feats["facenet"][(m, variant["align"], f)] for m in variant["margins"] for f in flips)
        else:
            v = feats["dlib"][: len(flips)].sum(axis=0)
        out.append(v / np.linalg.norm(v))
    return out


def pair_cosines(name: str, variant: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cosines (pairs, parts) with NaN where a side has no face, labels, found mask) of a pair set."""
    feats = load_features(name)
    rows, labels, found = [], [], []
    for pair in pairs(name):
        a, b = feats[str(pair.img1)], feats[str(pair.img2)]
        labels.append(pair.same)
        if a is None or b is None:
            rows.append([np.nan] * len(variant["parts"]))
            found.append(False)
            continue
        va, vb = variant_vectors(a, variant), variant_vectors(b, variant)
        rows.append([float(x @ y) for x, y in zip(va, vb, strict=True)])
        found.append(True)
    return np.array(rows), np.array(labels), np.array(found)


def fit(cosines: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, float]:
    """Logistic regression (balanced classes) of labels on per-part cosines: (weights, bias)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=100.0, class_weight="balanced", max_iter=1000)
    model.fit(cosines, labels)
    return model.coef_[0], float(model.intercept_[0])


def similarity(cosines: np.ndarray, weights: np.ndarray, bias: float) -> np.ndarray:
    """0-100 similarity, NaN where no face (same mapping as photosift.faces.calibration)."""
    z = bias + cosines @ weights + math.log(THRESHOLD / (100 - THRESHOLD))
    return 100.0 / (1.0 + np.exp(-z))


def metrics(scores: np.ndarray, labels: np.ndarray, threshold: float = THRESHOLD) -> dict[str, float]:
    """Accuracy at ``threshold`` (a pair without a face counts as 'no match'), ROC AUC, TAR at FAR 1 %."""
    from sklearn.metrics import roc_auc_score, roc_curve

    filled = np.where(np.isnan(scores), -1.0, scores)
    accuracy = float(((filled >= threshold) == labels).mean())
    auc = float(roc_auc_score(labels, filled))
    fpr, tpr, _ = roc_curve(labels, filled)
    tar = float(np.interp(0.01, fpr, tpr))
    return {"accuracy": accuracy, "auc": auc, "tar_far1": tar}


def held_out(variant: dict) -> dict[str, dict[str, float]]:
    """Leave-one-group-out accuracy of a variant on every pair set."""
    return held_out_cosines({name: pair_cosines(name, variant) for name in PAIR_SETS})


def held_out_cosines(data: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> dict[str, dict[str, float]]:
    """Leave-one-group-out metrics from (cosine features, labels, found mask) per pair set (see ``pair_cosines``)."""
    out = {}
    for members in GROUPS.values():
        train = [n for n in PAIR_SETS if n not in members]
        x = np.concatenate([data[n][0][data[n][2]] for n in train])
        y = np.concatenate([data[n][1][data[n][2]] for n in train])
        weights, bias = fit(x, y)
        for name in members:
            cos, labels, _ = data[name]
            out[name] = metrics(similarity(np.nan_to_num(cos, nan=-9.0), weights, bias), labels)
    return out


def _variant(parts: str, margins: tuple[float, ...] = (0.35,), align: bool = True, flip: bool = False) -> dict:
    return {"parts": parts.split("+"), "margins": margins, "align": align, "flip": flip}


# The accuracy levers: alignment by roll, flip test-time augmentation, several crop margins averaged, fusion.
VARIANTS = {
    "facenet": _variant("facenet", align=False),
    "facenet+flip": _variant("facenet", align=False, flip=True),
    "facenet+align": _variant("facenet"),
    "facenet+align+flip": _variant("facenet", flip=True),
    "facenet+align+2crops": _variant("facenet", (0.2, 0.5)),
    "facenet+align+3crops+flip": _variant("facenet", MARGINS, flip=True),
    "dlib": _variant("dlib"),
    "dlib+flip": _variant("dlib", flip=True),
    "fusion": _variant("facenet+dlib", align=False),
    "fusion+align+flip": _variant("facenet+dlib", flip=True),
    "fusion+align+2crops": _variant("facenet+dlib", (0.2, 0.5)),
    "fusion+align+2crops+flip": _variant("facenet+dlib", (0.2, 0.5), flip=True),
    "fusion+align+3crops+flip": _variant("facenet+dlib", MARGINS, flip=True),
}
SHIPPED = {"facenet+dlib": "fusion+align+2crops", "facenet": "facenet+align+2crops", "dlib": "dlib"}
"""The variant each shipped embedder computes (``photosift.faces.embedders`` defaults)."""


def main() -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    print("held-out (leave-one-dataset-out) accuracy % at even odds  |  AUC")
    print(f"{'variant':28s}" + "".join(f"{n:>16s}" for n in PAIR_SETS))
    for label, variant in VARIANTS.items():
        res = held_out(variant)
        cells = "".join(f"{100 * res[n]['accuracy']:9.1f} {res[n]['auc']:.3f}" for n in PAIR_SETS)
        print(f"{label:28s}{cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
