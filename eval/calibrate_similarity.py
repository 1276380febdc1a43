"""Fit the similarity score (photosift/faces/calibration.json) so that its thresholds mean false-match rates.

    .venv/bin/python eval/calibrate_similarity.py [--fmr 0.002] [--markdown]   # held-out tables, writes nothing
    .venv/bin/python eval/calibrate_similarity.py --write                     # also writes calibration.json
    .venv/bin/python eval/calibrate_similarity.py --fit-centre                # prints the recogniser's centre

The recogniser is the product's (``PHOTOSIFT_RECOGNIZER``, default ``w600k_mbf``); ``--write`` replaces its entry only.

Data: every labelled image of LFW, MFR2 and CFP through the product path (``_faces.py``), and every pair of images
of one set: ~270,000 pairs, 4,000 of them genuine. LFW and CFP faces are also embedded with a synthetic surgical
mask drawn from their landmarks (``_faces.load_masked``): the mask probe is fitted on those (masked or not), never on
MFR2, whose real masks measure it.

Model (``photosift.faces.calibration``): a logistic regression of "same person" on the cosines, the pair's pose and
mask conditions and their products with the cosines, every set weighted equally and both classes within it. The
score is ``100 * sigmoid(scale * z + offset)`` with 80 at the impostor quantile ``1 - fmr`` of the fitted pairs
and 90 at ``1 - fmr / 20``. The shipped fit uses ``--fmr 0.0003``: 80 then calls about 1 in 1,000 different-person
pairs of people not used to fit a match, and 90 about 1 in 10,000 (the README's table).

The recogniser's centre (``photosift/faces/centres.json``, see ``photosift.faces.recognizers``) is the mean unit
vector of every face here as a reference, before centring (recovered from the product's centred vectors). It is part
of what a stored vector means, so it is fitted once per recogniser: ``--fit-centre`` prints it, and changing the
shipped one needs a catalog migration like 0016. The held-out tables centre each fold's vectors on the mean of the
other folds' faces (the shipped centre saw every face).

Held-out numbers: 5 folds by identity. Each fold's model (probe, weights, scale and offset) is fitted on the pairs of
the other folds' people only, and scores the pairs of its own people (all pairs, and the official verification pairs
whose first image is theirs). The "ceiling" is the best accuracy any threshold of the held-out score reaches on all
pairs of a kind within the issue's bound on false matches: what no choice of threshold can beat.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _faces  # noqa: E402
from _data import DATA, PAIR_SETS, available, pairs  # noqa: E402
from people import print_table  # noqa: E402

from photosift.faces import DEFAULT_THRESHOLD, EMBEDDER, PART_DIMS  # noqa: E402
from photosift.faces.calibration import CALIBRATION_FILE, CONDITIONS, Calibration, feature_names  # noqa: E402
from photosift.faces.recognizers import RECOGNIZERS, centre, centred, uncentred  # noqa: E402

FOLDS = 5
COSINE_DIMS = sum(PART_DIMS)  # an embedding's cosine part; the pose value follows it
DEFAULT_FMR = 0.0003
SCORE_POINTS = (70.0, 80.0, 90.0, 95.0, 99.0)
TARGETS = {"LFW": (0.005, 0.985), "MFR2": (0.02, 0.88), "CFP-FF": (0.005, 0.985), "CFP-FP": (0.01, 0.85)}
"""Per kind of pair: the most different-person pairs a threshold may call a match, and the accuracy aimed at."""


@dataclass
class PairData:
    """Features (pairs, features) of every within-set pair, with labels, set names and the people's folds."""

    x: np.ndarray
    same: np.ndarray
    dataset: np.ndarray
    kind: np.ndarray  # "LFW", "MFR2", "CFP-FF", "CFP-FP" or "CFP-PP": the pair list a pair would belong to
    fold_a: np.ndarray
    fold_b: np.ndarray


def pair_kind(name: str, kind_a: str, kind_b: str) -> str:
    """Which kind of verification pair two faces of set ``name`` make (CFP: by their poses)."""
    if name != "cfp":
        return name.upper()
    return "CFP-" + "".join(sorted(k[0].upper() for k in (kind_a, kind_b)))


def folds_of(faces: list[_faces.LabelledFace]) -> dict[str, int]:
    """Each identity's fold (fixed seed)."""
    identities = sorted({f.identity for f in faces})
    order = np.random.default_rng(0).permutation(len(identities))
    return {identities[i]: k % FOLDS for k, i in enumerate(order)}


def fit_mask_probe(plain: np.ndarray, masked: np.ndarray) -> tuple[np.ndarray, float]:
    """Logistic regression "wears a mask" on the cosine parts: ``(weights, bias)``."""
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([plain, masked])[:, :COSINE_DIMS]
    y = np.r_[np.zeros(len(plain)), np.ones(len(masked))]
    model = LogisticRegression(C=1.0, max_iter=3000).fit(x, y)
    return model.coef_[0], float(model.intercept_[0])


def probe_calibration(weights: np.ndarray, bias: float, conditions: tuple[str, ...]) -> Calibration:
    """A calibration that only knows its mask probe (for computing features)."""
    n = len(feature_names(len(PART_DIMS), conditions))
    return Calibration(EMBEDDER, PART_DIMS, (0.0,) * n, 0.0, 1.0, 0.0, tuple(float(w) for w in weights), bias,
                       conditions)


def pair_data(calib: Calibration, by_set: dict[str, list[_faces.LabelledFace]], folds: dict[str, int]) -> PairData:
    xs, same, dataset, kind, fa, fb = [], [], [], [], [], []
    for name, faces in by_set.items():
        faces = [f for f in faces if f.embedding is not None]
        e = np.stack([f.embedding for f in faces])
        feats = calib.features(e, e)
        iu = np.triu_indices(len(faces), 1)
        ids = np.array([f.identity for f in faces])
        xs.append(feats[:, iu[0], iu[1]].T)
        same.append(ids[iu[0]] == ids[iu[1]])
        dataset.append(np.full(len(iu[0]), name))
        kind.append(np.array([pair_kind(name, faces[i].kind, faces[j].kind) for i, j in zip(*iu, strict=True)]))
        fa.append(np.array([folds[i] for i in ids[iu[0]]]))
        fb.append(np.array([folds[i] for i in ids[iu[1]]]))
    return PairData(np.vstack(xs), np.concatenate(same), np.concatenate(dataset), np.concatenate(kind),
                    np.concatenate(fa), np.concatenate(fb))


def fit_score(x: np.ndarray, same: np.ndarray, dataset: np.ndarray, fmr: float) -> tuple[np.ndarray, float, float,
                                                                                          float]:
    """Weights, bias, scale and offset of the score (see the module docstring)."""
    from sklearn.linear_model import LogisticRegression

    w = np.zeros(len(same))
    for name in np.unique(dataset):
        for label in (True, False):
            m = (dataset == name) & (same == label)
            w[m] = 1.0 / max(m.sum(), 1)
    w *= len(w) / w.sum()
    model = LogisticRegression(C=100.0, max_iter=5000).fit(x, same, sample_weight=w)
    weights, bias = model.coef_[0].copy(), float(model.intercept_[0])
    z = x[~same] @ weights + bias
    z80, z90 = np.quantile(z, 1 - fmr), np.quantile(z, 1 - fmr / 20)
    logit = [math.log(s / (100 - s)) for s in (80.0, 90.0)]
    scale = (logit[1] - logit[0]) / (z90 - z80)
    return weights, bias, scale, logit[0] - scale * z80


def fitted(plain_faces: list[_faces.LabelledFace], masked: dict[str, np.ndarray], by_set: dict, folds: dict,
           fmr: float, keep: set[int], conditions: tuple[str, ...]) -> tuple[Calibration, PairData]:
    """The calibration fitted on the people of folds ``keep``, and the pair data under its mask probe."""
    train = [f for f in plain_faces if folds[f.identity] in keep and f.path in masked and f.embedding is not None]
    probe_w, probe_b = fit_mask_probe(np.stack([f.embedding for f in train]),
                                      np.stack([masked[f.path] for f in train]))
    data = pair_data(probe_calibration(probe_w, probe_b, conditions), by_set, folds)
    use = np.isin(data.fold_a, list(keep)) & np.isin(data.fold_b, list(keep))
    weights, bias, scale, offset = fit_score(data.x[use], data.same[use], data.dataset[use], fmr)
    calib = Calibration(EMBEDDER, PART_DIMS, tuple(float(v) for v in weights), bias, scale, offset,
                        tuple(float(v) for v in probe_w), probe_b, conditions)
    return calib, data


def held_out(fmr: float, conditions: tuple[str, ...] = CONDITIONS) -> dict:
    """Scores of every pair and verification pair by the model of the folds that did not see its people (their
    vectors centred on the mean of the other folds' faces, not on the shipped centre, which saw them)."""
    raw_sets = {name: [_with_vectors(f, _uncentred) for f in _faces.load(name)] for name in _faces.SETS}
    raw_masked = {path: _uncentred(v) for path, v in _faces.load_masked().items()}
    folds = folds_of([f for faces in raw_sets.values() for f in faces])
    scores, same, dataset, kind, probe_hits = [], [], [], [], []
    verification: dict[str, list[tuple[float, bool]]] = {name: [] for name in PAIR_SETS}
    for k in range(FOLDS):
        by_set, masked = _centred_on(raw_sets, raw_masked, [f for faces in raw_sets.values() for f in faces
                                                            if f.embedding is not None and folds[f.identity] != k])
        everyone = [f for faces in by_set.values() for f in faces]
        by_path = {f.path: f for f in everyone}
        calib, data = fitted(everyone, masked, by_set, folds, fmr, set(range(FOLDS)) - {k}, conditions)
        test = (data.fold_a == k) & (data.fold_b == k)
        scores.append(calib.to_similarity(calib.logit(data.x[test].T)))
        same.append(data.same[test])
        dataset.append(data.dataset[test])
        kind.append(data.kind[test])
        mfr2 = [f for f in by_set["mfr2"] if folds[f.identity] == k]
        probe = calib.mask_probability(calib.split(np.stack([f.embedding for f in mfr2]))[0])
        probe_hits += [(p >= 0.5) == (f.kind == "mask") for p, f in zip(probe, mfr2, strict=True)]
        for name in PAIR_SETS:
            for pair in pairs(name):
                a, b = by_path[str(pair.img1)], by_path[str(pair.img2)]
                if folds[a.identity] == k:
                    score = 0.0 if a.embedding is None or b.embedding is None else float(  # no face: no match
                        calib.similarity(a.embedding, b.embedding)[0, 0])
                    verification[name].append((score, pair.same))
    return {"scores": np.concatenate(scores), "same": np.concatenate(same), "dataset": np.concatenate(dataset),
            "kind": np.concatenate(kind), "verification": verification,
            "mask_probe_accuracy": float(np.mean(probe_hits))}


def report(result: dict, markdown: bool) -> None:
    s, same, dataset = result["scores"], result["same"], result["dataset"]
    print(f"mask probe (fitted on synthetic masks) on MFR2's real labels: accuracy "
          f"{100 * result['mask_probe_accuracy']:.1f} %\n")
    print("False-match rate per comparison (held-out pairs of people not used to fit) and true-match rate:")
    head = ["pairs", "impostor pairs"] + [f"FMR / TMR at {t:g}" for t in SCORE_POINTS]
    rows = []
    for name in ["all", *_faces.SETS]:
        m = np.ones(len(s), bool) if name == "all" else dataset == name
        imp, gen = s[m & ~same], s[m & same]
        cells = [f"{_rate(imp, t)} / {100 * np.mean(gen >= t):.1f} %" for t in SCORE_POINTS]
        rows.append([name, str(int(m.sum())), str(len(imp))] + cells)
    print_table(["set", *head], rows, markdown)
    gen = s[same]
    print("\nScores of same-person pairs (held-out): percentiles 5 / 10 / 25 / 50 / 75: "
          + " / ".join(f"{v:.1f}" for v in np.percentile(gen, [5, 10, 25, 50, 75])))
    print("Scores of different-person pairs: percentiles 50 / 99 / 99.9: "
          + " / ".join(f"{v:.1f}" for v in np.percentile(s[~same], [50, 99, 99.9])))
    print(f"\nVerification pairs at the default threshold {DEFAULT_THRESHOLD:g} (held-out):")
    rows = []
    for name, items in result["verification"].items():
        v = np.array([x for x, _ in items])
        y = np.array([lab for _, lab in items])
        match = v >= DEFAULT_THRESHOLD
        rows.append([name, str(len(y)), f"{100 * np.mean(match == y):.1f} %",
                     f"{100 * np.mean(match[~y]):.1f} % ({int(match[~y].sum())} of {int((~y).sum())})",
                     f"{100 * np.mean(match[y]):.1f} %"])
    print_table(["set", "pairs", "accuracy", "different people called a match", "true-match rate"], rows, markdown)
    print("\nCeiling: over every held-out pair of each kind, the best accuracy on balanced classes that ANY threshold "
          "reaches within the target's share of different-person pairs called a match (the threshold chosen in "
          "hindsight on these very pairs):")
    rows = []
    for name, (fmr, target) in TARGETS.items():
        m = result["kind"] == name
        accuracy, tmr, threshold = ceiling(s[m & same], s[m & ~same], fmr)
        rows.append([name, str(int((m & same).sum())), str(int((m & ~same).sum())), f"<= {100 * fmr:g} %",
                     f"{100 * accuracy:.1f} %", f"{100 * target:g} %", f"{100 * tmr:.1f} %", f"{threshold:.1f}"])
    print_table(["kind", "same-person pairs", "different-person pairs", "called a match", "best accuracy", "target",
                 "true-match rate there", "at similarity"], rows, markdown)


def ceiling(genuine: np.ndarray, impostor: np.ndarray, fmr: float) -> tuple[float, float, float]:
    """``(balanced accuracy, true-match rate, threshold)`` of the best threshold whose false-match rate is <= ``fmr``.

    The threshold is the lowest score at which at most ``fmr`` of ``impostor`` match; any higher one finds fewer
    genuine pairs and removes at most ``fmr`` of false matches, so it is the best to within ``fmr / 2``."""
    ordered = np.sort(impostor)[::-1]
    allowed = int(np.floor(fmr * len(impostor)))
    threshold = float(np.nextafter(ordered[allowed], np.inf)) if allowed < len(ordered) else float(ordered[-1])
    tmr, false_rate = float(np.mean(genuine >= threshold)), float(np.mean(impostor >= threshold))
    return (tmr + 1 - false_rate) / 2, tmr, threshold


def _rate(impostor: np.ndarray, threshold: float) -> str:
    hits = int((impostor >= threshold).sum())
    return f"{hits / len(impostor):.1e}" if hits else f"0 (< {1 / len(impostor):.0e})"


def write(fmr: float, conditions: tuple[str, ...]) -> Path:
    """Fit on every person and write ``calibration.json``."""
    by_set = {name: _faces.load(name) for name in _faces.SETS}
    everyone = [f for faces in by_set.values() for f in faces]
    folds = folds_of(everyone)
    calib, _ = fitted(everyone, _faces.load_masked(), by_set, folds, fmr, set(range(FOLDS)), conditions)
    entry = {
        "part_dims": list(calib.part_dims), "conditions": list(conditions),
        "features": feature_names(len(calib.part_dims), conditions),
        "weights": [round(w, 6) for w in calib.weights], "bias": round(calib.bias, 6),
        "scale": round(calib.scale, 6), "offset": round(calib.offset, 6),
        "mask_weights": [round(w, 6) for w in calib.mask_weights], "mask_bias": round(calib.mask_bias, 6),
        "false_match_rate_at_80": fmr,
        "fitted_on": "every within-set pair of LFW, MFR2 and CFP (product path); mask probe on synthetic masks",
    }
    table = json.loads(CALIBRATION_FILE.read_text()) if CALIBRATION_FILE.exists() else {}
    table[EMBEDDER] = entry  # other recognisers' entries are kept
    CALIBRATION_FILE.write_text(json.dumps(table, indent=1) + "\n")
    return CALIBRATION_FILE


def fitted_centre() -> np.ndarray:
    """The mean unit vector of every face as a reference, before the shipped centre was taken out."""
    faces = [f for name in _faces.SETS for f in _faces.load(name) if f.embedding is not None]
    return _mean_vector([_uncentred(f.embedding) for f in faces])


def _shipped_centre() -> np.ndarray:
    return centre(EMBEDDER) if RECOGNIZERS[EMBEDDER].centred else np.zeros(COSINE_DIMS, np.float32)


def _uncentred(embedding: np.ndarray | None) -> np.ndarray | None:
    """The product's embedding before the shipped centre was taken out, its pose value kept."""
    return _on_cosine_part(embedding, lambda part: uncentred(part, _shipped_centre()))


def _mean_vector(embeddings: list[np.ndarray]) -> np.ndarray:
    return np.stack([e[:COSINE_DIMS] for e in embeddings]).astype(np.float64).mean(axis=0)


def _recentred(embedding: np.ndarray | None, mean: np.ndarray) -> np.ndarray | None:
    """An uncentred embedding centred on ``mean`` (as the recogniser centres on its shipped centre)."""
    if not RECOGNIZERS[EMBEDDER].centred:
        return embedding
    return _on_cosine_part(embedding, lambda part: centred(part, mean.astype(np.float32)))


def _on_cosine_part(embedding: np.ndarray | None, change) -> np.ndarray | None:  # noqa: ANN001 - part -> part
    """``embedding`` with its cosine part changed by ``change``, its pose value kept (None stays None)."""
    if embedding is None:
        return None
    return np.r_[change(embedding[:COSINE_DIMS]), embedding[COSINE_DIMS:]].astype(np.float32)


def _with_vectors(face: _faces.LabelledFace, change) -> _faces.LabelledFace:  # noqa: ANN001 - vector -> vector
    return replace(face, embedding=change(face.embedding), album=change(face.album))


def _centred_on(raw_sets: dict[str, list[_faces.LabelledFace]], raw_masked: dict[str, np.ndarray],
                fit_on: list[_faces.LabelledFace]) -> tuple[dict[str, list[_faces.LabelledFace]], dict]:
    """Every face and masked face centred on the mean of ``fit_on``'s reference vectors."""
    mean = _mean_vector([f.embedding for f in fit_on])
    by_set = {name: [_with_vectors(f, lambda v: _recentred(v, mean)) for f in faces]
              for name, faces in raw_sets.items()}
    return by_set, {path: _recentred(v, mean) for path, v in raw_masked.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fmr", type=float, default=DEFAULT_FMR, help="false-match rate the threshold 80 is fit to")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--write", action="store_true", help="write photosift/faces/calibration.json")
    parser.add_argument("--fit-centre", action="store_true", help="print the recogniser's centre (JSON) and stop")
    parser.add_argument("--conditions", default="p,m,mm",
                        help="pair conditions the model uses, comma-separated subset of p (pose), m, mm (masks)")
    args = parser.parse_args()
    if not available():
        print(f"skipped: no evaluation data at {DATA}")
        return 0
    if args.fit_centre:
        print(json.dumps([round(float(v), 6) for v in fitted_centre()]))
        return 0
    conditions = tuple(c for c in args.conditions.split(",") if c)
    report(held_out(args.fmr, conditions), args.markdown)
    if args.write:
        print(f"wrote {write(args.fmr, conditions)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
