"""Loaders for the shared evaluation data (``../shared/data`` beside the checkout; see its README.md)."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

DATA = Path(os.environ.get("PHOTOSIFT_EVAL_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))
CACHE = Path(os.environ.get("PHOTOSIFT_EVAL_CACHE", Path.home() / ".cache" / "photosift-eval"))

ENGINE_SOURCES = ("detectors.py", "recognizers.py", "landmarks.py", "alignment.py", "engine.py", "geometry.py")
"""The face engine's modules (``photosift/faces``): caches of what it finds are keyed by their source."""


def engine_key() -> str:
    """A digest of the face engine's source (:data:`ENGINE_SOURCES` and ``blur.py``, which measures face quality)."""
    package = Path(__file__).resolve().parents[1] / "photosift"
    digest = hashlib.sha256()
    for path in [package / "faces" / name for name in ENGINE_SOURCES] + [package / "blur.py"]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


# name -> (folder, pairs csv)
PAIR_SETS = {
    "LFW": ("lfw", "pairs.csv"),
    "MFR2": ("mfr2", "pairs.csv"),
    "CFP-FF": ("cfp", "pairs_FF.csv"),
    "CFP-FP": ("cfp", "pairs_FP.csv"),
}


@dataclass(frozen=True)
class Pair:
    """One verification pair: absolute image paths and whether both show the same person."""

    img1: Path
    img2: Path
    same: bool


def pairs(name: str) -> list[Pair]:
    """The pairs of one of ``PAIR_SETS``."""
    folder, filename = PAIR_SETS[name]
    root = DATA / folder
    with open(root / filename, newline="") as fh:
        return [Pair(root / r["img1"], root / r["img2"], r["same_identity"] == "1") for r in csv.DictReader(fh)]


def detection_set(name: str) -> list[tuple[Path, list[tuple[float, float, float, float]]]]:
    """``wider`` or ``facemask``: (image path, ground-truth boxes ``(l, t, w, h)`` in the file's pixels)."""
    root = DATA / name
    out = []
    for item in json.loads((root / "annotations.json").read_text()):
        if name == "wider":
            boxes = [tuple(f["bbox_xywh_416"]) for f in item["faces"] if not f.get("invalid")]
        else:
            boxes = [(x1, y1, x2 - x1, y2 - y1) for x1, y1, x2, y2 in (f["bbox_xyxy"] for f in item["faces"])]
        out.append((root / item["image"], boxes))
    return out


def available() -> bool:
    return DATA.is_dir()
