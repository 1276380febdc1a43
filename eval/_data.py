"""Loaders for the shared evaluation data (``../shared/data`` beside the checkout; see its README.md)."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

DATA = Path(os.environ.get("PHOTOSIFT_EVAL_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))
CACHE = Path(os.environ.get("PHOTOSIFT_EVAL_CACHE", Path.home() / ".cache" / "photosift-eval"))

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
