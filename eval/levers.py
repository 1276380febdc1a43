"""The accuracy levers calibrate_similarity.py does not cover: templates, synthetic-mask references, quality weights.

    nice -n 10 .venv/bin/python eval/levers.py

Every image of the pair sets (LFW, MFR2, CFP) and of the LFW / MFR2 identities with at least four photos goes
through the product path: ``imaging.decode``, the engine's largest face, the shipped embedding. Each face is also
embedded once more with a synthetic surgical mask drawn from its landmarks (the nose bridge down to the chin).
Cached in ``~/.cache/photosift-eval/levers-v1-*.npz``.

1. Templates (``photosift.faces.make_template``): a probe photo against the template of k = 1, 2 or 3 other photos
   of a person (genuine) and against the templates of every other person (impostors); shipped calibration at 80.
   The shipped template (mean of unit vectors: scores the mean cosine) against a re-normalised mean.
2. Synthetic-mask references: in each pair, the first image is the reference, scored either as the template of the
   face and its masked copy or by the better cosine of the two. Held-out accuracy (calibration refitted leaving the
   evaluated set out).
3. Quality-weighted scores: the calibration also sees each cosine multiplied by the pair's lower face quality
   (sharpness 0-1, and face size relative to 112 px, capped at 1). Held-out accuracy.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import embedding_variants as cal  # noqa: E402
from _data import CACHE, DATA, PAIR_SETS, available, pairs  # noqa: E402
from _faces import draw_mask  # noqa: E402

from photosift.jobs.pool import spawn_pool  # noqa: E402

TEMPLATE_SIZES = (1, 2, 3)


def _features(path: str) -> dict | None:
    """Shipped embedding, masked-reference embedding and quality of the largest face of one image."""
    from photosift import imaging
    from photosift.faces.engine import get_engine

    engine = get_engine()
    image = imaging.decode(path)
    face = engine.largest(image)
    if face is None:
        return None
    local = engine.embed(image, [face], reference=True)[0]
    masked = draw_mask(image.pixels, np.array(face.landmarks) * image.scale)
    masked_image = imaging.DecodedImage(masked, image.original_size, image.format)
    return {
        "embedding": local.embedding,
        "masked": engine.embed(masked_image, [face], reference=True)[0].embedding,
        "sharpness": face.quality.sharpness / 100.0,
        "size": min(face.box[2:]) * image.scale,
    }


def identity_photos() -> dict[str, list[str]]:
    """LFW and MFR2 identities with at least four photos: name -> image paths."""
    photos: dict[str, list[str]] = defaultdict(list)
    with open(DATA / "lfw" / "labels.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            photos["lfw:" + row["identity"]].append(str(DATA / "lfw" / row["path"]))
    for folder in sorted(p for p in (DATA / "mfr2").iterdir() if p.is_dir()):
        photos["mfr2:" + folder.name] = sorted(str(p) for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".png"})
    return {k: v for k, v in photos.items() if len(v) >= 4}


def load(paths: list[str]) -> dict[str, dict | None]:
    cache = CACHE / "levers-v1.npz"
    stored: dict[str, dict | None] = np.load(cache, allow_pickle=True)["f"].item() if cache.exists() else {}
    missing = sorted(set(paths) - set(stored))
    if missing:
        print(f"embedding {len(missing)} images (cached in {cache}) ...", file=sys.stderr)
        with spawn_pool(2) as pool:
            stored.update(zip(missing, pool.map(_features, missing, chunksize=4), strict=True))
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(cache, f=np.array(stored, dtype=object))
    return stored


def template_rows(feats: dict, people: dict[str, list[str]], draws: int = 20) -> list[dict]:
    """Per k and way of averaging: TAR / FAR at 80, AUC, TAR at FAR 1 %, averaged over random draws."""
    from photosift import faces

    rng = np.random.default_rng(7)
    names = list(people)
    usable = {n: [feats[p]["embedding"] for p in people[n] if feats[p] is not None] for n in names}
    rows = []
    for k in TEMPLATE_SIZES:
        sums: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(4))
        for _ in range(draws):
            probes, references = [], []
            for n in names:
                order = rng.permutation(len(usable[n]))
                probes.append(usable[n][order[0]])
                references.append([usable[n][i] for i in order[1 : 1 + k]])
            for how in ("mean of unit vectors (shipped)", "re-normalised mean"):
                templates = [faces.make_template(r) for r in references]
                if how == "re-normalised mean":  # a template of one vector is that vector at unit length per part
                    templates = [faces.make_template([t]) for t in templates]
                scores = faces.similarity(np.stack(probes), np.stack(templates))
                genuine, impostor = np.diag(scores), scores[~np.eye(len(names), dtype=bool)]
                m = cal.metrics(np.r_[genuine, impostor], np.r_[np.ones(len(genuine)), np.zeros(len(impostor))] > 0)
                sums[how] += [(genuine >= 80).mean(), (impostor >= 80).mean(), m["auc"], m["tar_far1"]]
        for how, total in sums.items():
            tar, far, auc, tar_far1 = total / draws
            rows.append({"k": k, "how": how, "tar80": tar, "far80": far, "auc": auc, "tar_far1": tar_far1})
    return rows


def pair_features(feats: dict, name: str, lever: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-pair calibration features (cosines of both parts, and for ``quality`` their quality-weighted copies)."""
    from photosift import faces

    rows, labels, found = [], [], []
    for pair in pairs(name):
        a, b = feats[str(pair.img1)], feats[str(pair.img2)]
        labels.append(pair.same)
        found.append(a is not None and b is not None)
        width = 4 if lever == "quality" else 2
        if not found[-1]:
            rows.append([np.nan] * width)
            continue
        probe = b["embedding"]
        cos = _cosines(a["embedding"], probe)
        if lever == "mask":
            cos = _cosines(faces.make_template([a["embedding"], a["masked"]]), probe)
        elif lever == "mask-max":
            cos = [max(c, m) for c, m in zip(cos, _cosines(a["masked"], probe), strict=True)]
        elif lever == "quality":
            q = min(a["sharpness"], b["sharpness"]) * min(1.0, min(a["size"], b["size"]) / 112)
            cos += [c * q for c in cos]
        rows.append(cos)
    return np.array(rows), np.array(labels), np.array(found)


def _cosines(x: np.ndarray, y: np.ndarray) -> list[float]:
    """Per-part cosines of two embeddings or templates, as the shipped calibration computes them."""
    from photosift.faces import EMBEDDER, calibration

    calib = calibration.load(EMBEDDER)
    return [float(c) for c in calib.features(x, y)[: len(calib.part_dims), 0, 0]]


def main() -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    if not available():
        print(f"no evaluation data at {DATA}", file=sys.stderr)
        return 2
    people = identity_photos()
    pair_paths = {str(p) for n in PAIR_SETS for pr in pairs(n) for p in (pr.img1, pr.img2)}
    feats = load(sorted(pair_paths | {p for v in people.values() for p in v}))

    print(f"Templates: {len(people)} people (LFW and MFR2 identities with >= 4 photos), 20 random draws")
    print("| references | template | TAR @80 | FAR @80 | ROC AUC | TAR @ FAR 1 % |")
    print("|---|---|---|---|---|---|")
    for r in template_rows(feats, people):
        print(f"| {r['k']} | {r['how']} | {100 * r['tar80']:.1f} % | {100 * r['far80']:.2f} % | {r['auc']:.4f} "
              f"| {100 * r['tar_far1']:.1f} % |")
    print()
    print("| lever (held-out accuracy @80) | " + " | ".join(PAIR_SETS) + " |")
    print("|---" * (len(PAIR_SETS) + 1) + "|")
    for lever, label in (("none", "shipped"), ("mask", "+ synthetic-mask reference (template of both)"),
                         ("mask-max", "+ synthetic-mask reference (better of both)"),
                         ("quality", "+ quality-weighted cosines")):
        res = cal.held_out_cosines({n: pair_features(feats, n, lever) for n in PAIR_SETS})
        print(f"| {label} | " + " | ".join(f"{100 * res[n]['accuracy']:.1f} ({res[n]['auc']:.4f})"
                                           for n in PAIR_SETS) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
