"""Member matching over many seeds, in seconds: the albums of ``eval/members.py`` decided by the product's code on
cached embeddings (writes nothing).

    .venv/bin/python eval/members_seeds.py [--seeds 11-110] [--members 16]

``eval/members.py`` measures the whole product path (composites uploaded to a real server, detected and embedded
there) but takes minutes per seed, so its few seeds hold ~1,500 stranger faces: a false-match rate of 1 in 1,000
shows up there as "none" or "one". This script draws the same albums (``members.lfw_scenario``, ``mfr2_scenario``,
``cfp_scenario``) for many seeds and decides them as a re-match of the album does (``application.matching``:
``templates_from`` the selfies, ``with_album_evidence``, ``match_faces`` per photo), on each face photo's
product-path embedding (``_faces.load``: the largest face of the file itself, not of its copy on a composite). The
real crowd photos of ``wider/`` and ``facemask/`` are left out (they are not in that cache). Same rows and scores as
``eval/members.py``, pooled over the seeds, with the worst seed's precision and recall.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _faces  # noqa: E402
from _data import DATA, available  # noqa: E402
from members import STRANGER, Scenario, cfp_scenario, lfw_scenario, mfr2_scenario, seeds, with_rates  # noqa: E402
from people import print_table  # noqa: E402

from photosift.application.matching import ALBUM_THRESHOLD, match_faces, templates_from, with_album_evidence  # noqa: E402


def decide(scenario: Scenario, embedding: dict[str, np.ndarray]) -> dict[str, int]:
    """Counts of one album decided by the product's matching (see the module docstring)."""
    members = [m for m in scenario.members if scenario.members[m][0] in embedding]
    templates = templates_from({m: [embedding[scenario.members[m][0]]] for m in members}, ALBUM_THRESHOLD)
    photos = [[t for t in p.tiles if t.path in embedding] for p in scenario.photos if p.real is None]
    photo_ids = [str(i) for i, tiles in enumerate(photos) for _ in tiles]
    vectors = [embedding[t.path] for tiles in photos for t in tiles]
    templates = with_album_evidence(templates, photo_ids, vectors, [True] * len(vectors))
    counts = {"member_photos": 0, "listed": 0, "correct": 0, "stranger_faces": 0, "false_matches": 0}
    for i, tiles in enumerate(photos):
        matches = match_faces([embedding[t.path] for t in tiles], [False] * len(tiles), templates, str(i))
        present = {t.identity for t in tiles}
        counts["member_photos"] += sum(m in present for m in members)
        for tile, match in zip(tiles, matches, strict=True):
            if tile.identity == STRANGER or tile.identity not in members:
                counts["stranger_faces"] += 1
                counts["false_matches"] += match is not None
        listed = {match[0] for match in matches if match is not None}
        counts["listed"] += len(listed)
        counts["correct"] += len(listed & present)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="11-110", help="a range (11-110) or a comma-separated list")
    parser.add_argument("--members", type=int, default=16, help="LFW members (people with >= 4 photos)")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    if not available():
        print(f"skipped: no evaluation data at {DATA}")
        return 0
    embedding = {f.path: f.embedding for name in _faces.SETS for f in _faces.load(name) if f.embedding is not None}
    results: dict[str, list[dict[str, int]]] = {}
    for seed in seeds(args.seeds):
        rng = random.Random(seed)
        for label, scenario in (("LFW, 1 reference", lfw_scenario(rng, args.members)),
                                ("MFR2, masked members, 1 reference", mfr2_scenario(rng)),
                                ("CFP, side-view members, 1 reference", cfp_scenario(rng))):
            results.setdefault(label, []).append(decide(scenario, embedding))
    rows = []
    for label, per_seed in results.items():
        total = with_rates({k: sum(c[k] for c in per_seed) for k in per_seed[0]})
        worst = [with_rates(c) for c in per_seed]
        rows.append([label, str(len(per_seed)), str(total["stranger_faces"]), str(total["member_photos"]),
                     f"{total['precision']:.3f}", f"{total['recall']:.3f}", f"{total['false_per_100']:.2f}",
                     f"{min(r['precision'] for r in worst):.3f} / {min(r['recall'] for r in worst):.3f}"])
    print_table(["album", "seeds", "stranger faces", "member photos", "precision", "recall",
                 "false matches / 100 strangers", "worst seed: precision / recall"], rows, args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
