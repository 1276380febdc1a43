"""Member matching over many seeds, in seconds: the albums of ``eval/members.py`` decided by the product's code on
cached embeddings (writes nothing).

    .venv/bin/python eval/members_seeds.py [--seeds 11-110] [--members 16]

``eval/members.py`` measures the whole product path (composites uploaded to a real server, detected and embedded
there) but takes minutes per seed, so its few seeds hold ~1,500 stranger faces: a false-match rate of 1 in 1,000
shows up there as "none" or "one". This script draws the same albums (``members.lfw_scenario``, ``mfr2_scenario``,
``cfp_scenario``) for many seeds and decides them as a re-match of the album does (``application.matching``:
``templates_from`` the selfies, ``with_album_evidence``, ``match_faces`` per photo), on each face photo's
product-path embedding (``_faces.load``: the largest face of the file itself, not of its copy on a composite; the
selfies as references, every other photo as an album photo's face). The
real crowd photos of ``wider/`` and ``facemask/`` are left out (they are not in that cache). Same rows and scores as
``eval/members.py``, pooled over the seeds, with the worst seed's precision and recall.

A fourth row, "LFW, a third of photos blurred or small", draws the LFW album again and replaces a third of its face
photos (members' and strangers' alike, never the selfies) by their blurred or shrunk copy (``_faces.load_degraded``:
Gaussian, defocus or motion blur of a few % of the face's height, or a face of 24-40 px), as a shaken or distant
shot would be; a table below it gives the recall per kind of member photo. The engine's measures of each copy decide
as the product's do: too small to compare, too small to be a member's evidence (``grouping.big_enough``), offered
as a suggestion (``suggestions.offered``).

Two more tables, on the same albums:

- **Suggestions** (``application.suggestions.suggest``): the member photos the album missed that an "Is this
  <member>?" suggestion offers (recovered), and the suggestions that show someone else (wrong). Every unmatched face
  is a lone face here (no people grouping).
- **"Not <member>"** (rule 3 of ``application.matching``): a user says "Not <member>" by mistake on one correct
  match of the member found in most photos of each album: how many of the member's other photos leave with it; and "Not
  <member>" said rightly on each false match: how many other false matches of that stranger leave with it. "before"
  is the rule of the previous release (every look-alike of a rejected face leaves: every face counts as the rejected
  face itself, ``faces.SAME_FACE_COSINE`` -1), "after" the
  current one.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _faces  # noqa: E402
from _data import DATA, available  # noqa: E402
from members import STRANGER, Scenario, Tile, cfp_scenario, lfw_scenario, mfr2_scenario, seeds, with_rates  # noqa: E402
from people import print_table  # noqa: E402

from photosift import faces as face_engine  # noqa: E402
from photosift.application.grouping import big_enough  # noqa: E402
from photosift.application.matching import ALBUM_THRESHOLD, match_faces, templates_from, with_album_evidence  # noqa: E402
from photosift.application.suggestions import Candidate, in_album, offered, suggest  # noqa: E402


@dataclass
class Album:
    """One album decided: its members, photos (face tiles), and the matches of each photo."""

    members: list[str]
    photos: list[list[Tile]]
    matches: list[list[tuple[str, float] | None]]
    threshold: float


DEGRADED_ROW = "LFW, a third of photos blurred or small"
DEGRADED_SHARE = 1 / 3
"""The share of the degraded row's face photos replaced by their blurred or shrunk copy."""
KINDS = ("sharp", *_faces.BLURS, "small")


def decide(scenario: Scenario, embedding: dict[str, np.ndarray], rejected: dict[str, list[str]] | None = None,
           threshold: float = ALBUM_THRESHOLD, copies: dict[str, _faces.DegradedFace] | None = None) -> Album:
    """One album decided as a re-match of the album does (see the module docstring); ``rejected``: member ->
    paths of faces the user said are not them; ``copies``: the degraded faces among them, with what the engine
    measured (too small to compare; too small to be a member's evidence, ``grouping.big_enough``)."""
    members = [m for m in scenario.members if scenario.members[m][0] in embedding]
    templates = templates_from({m: [embedding[scenario.members[m][0]]] for m in members}, threshold,
                               {m: [embedding[p] for p in paths] for m, paths in (rejected or {}).items()})
    photos = [[t for t in p.tiles if t.path in embedding] for p in scenario.photos if p.real is None]
    photo_ids = [str(i) for i, tiles in enumerate(photos) for _ in tiles]
    vectors = [embedding[t.path] for tiles in photos for t in tiles]
    stored = {path: copy.stored() for path, copy in (copies or {}).items()}
    too_small = {path for path, face in stored.items() if face.too_small}
    usable = [t.path not in too_small for tiles in photos for t in tiles]
    evidence = [t.path not in stored or big_enough(stored[t.path]) for tiles in photos for t in tiles]
    templates = with_album_evidence(templates, photo_ids, vectors, usable, evidence=evidence)
    matches = [match_faces([embedding[t.path] for t in tiles], [t.path in too_small for t in tiles], templates, str(i))
               for i, tiles in enumerate(photos)]
    return Album(members, photos, matches, threshold)


def stranger(tile: Tile, members: list[str]) -> bool:
    return tile.identity == STRANGER or tile.identity not in members


def match_counts(album: Album, kinds: dict[str, str] | None = None) -> dict[str, int]:
    """Counts of one decided album, as ``eval/members.py`` scores it, and the member photos and those found per kind
    of the member's face photo (``kinds``: path -> kind of the degraded ones; the rest are sharp)."""
    counts = {"member_photos": 0, "listed": 0, "correct": 0, "stranger_faces": 0, "false_matches": 0}
    counts.update({f"{k} {kind}": 0 for kind in KINDS for k in ("photos", "found")})
    for tiles, matches in zip(album.photos, album.matches, strict=True):
        present = {t.identity for t in tiles}
        counts["member_photos"] += sum(m in present for m in album.members)
        listed = {match[0] for match in matches if match is not None}
        for tile, match in zip(tiles, matches, strict=True):
            if stranger(tile, album.members):
                counts["stranger_faces"] += 1
                counts["false_matches"] += match is not None
            else:
                kind = (kinds or {}).get(tile.path, "sharp")
                counts[f"photos {kind}"] += 1
                counts[f"found {kind}"] += tile.identity in listed
        counts["listed"] += len(listed)
        counts["correct"] += len(listed & present)
    return counts


def suggestion_counts(album: Album, embedding: dict[str, np.ndarray], scenario: Scenario,
                      copies: dict[str, _faces.DegradedFace] | None = None) -> dict[str, int]:
    """Missed member photos, and the suggestions that recover one of them or show someone else. Of the degraded
    ``copies``, only the faces the product would offer are candidates (``suggestions.offered``)."""
    templates = templates_from({m: [embedding[scenario.members[m][0]]] for m in album.members}, album.threshold)
    candidates, listed, truth, matched = [], {}, {}, defaultdict(list)
    missed = 0
    for i, (tiles, matches) in enumerate(zip(album.photos, album.matches, strict=True)):
        listed[str(i)] = {match[0] for match in matches if match is not None}
        missed += len(({t.identity for t in tiles} & set(album.members)) - listed[str(i)])
        for k, (tile, match) in enumerate(zip(tiles, matches, strict=True)):
            copy = (copies or {}).get(tile.path)
            if match is not None:
                matched[match[0]].append(embedding[tile.path])
            elif copy is None or offered(copy.stored()):
                candidates.append(Candidate(f"{i}/{k}", str(i), None, embedding[tile.path]))
                truth[f"{i}/{k}"] = tile.identity
    found = suggest(candidates, in_album(templates, matched), listed)
    right = sum(truth[s.face_ids[0]] == s.member_id for s in found)
    return {"missed": missed, "suggestions": len(found), "recovered": right, "wrong": len(found) - right}


def rejection_counts(scenario: Scenario, embedding: dict[str, np.ndarray], album: Album) -> dict[str, int]:
    """What one "Not <member>" takes away, said by mistake and said rightly (see the module docstring)."""
    photos_of: dict[str, list[int]] = {m: [] for m in album.members}
    false: list[tuple[str, Tile]] = []
    for i, (tiles, matches) in enumerate(zip(album.photos, album.matches, strict=True)):
        for tile, match in zip(tiles, matches, strict=True):
            if match is not None and tile.identity == match[0]:
                photos_of[match[0]].append(i)
            elif match is not None:
                false.append((match[0], tile))
    counts = {"mistakes": 0, "photos_lost": 0, "false_rejected": 0, "lookalikes": 0, "lookalikes_left": 0}
    member = max(photos_of, key=lambda m: len(photos_of[m]), default=None)  # one mistake per album: cost
    if member is not None and len(photos_of[member]) >= 2:
        photos = photos_of[member]
        wrong = next(t for t in album.photos[photos[0]] if t.identity == member)
        after = decide(scenario, embedding, {member: [wrong.path]}, album.threshold)
        kept = {i for i, matches in enumerate(after.matches) if any(m and m[0] == member for m in matches)}
        counts["mistakes"] += 1
        counts["photos_lost"] += sum(i not in kept for i in photos[1:])
    for member, tile in false:
        others = [(m, t) for m, t in false if m == member and t.identity == tile.identity and t is not tile]
        after = decide(scenario, embedding, {member: [tile.path]}, album.threshold)
        still = {(m[0], t.path) for tiles, matches in zip(after.photos, after.matches, strict=True)
                 for t, m in zip(tiles, matches, strict=True) if m is not None}
        counts["false_rejected"] += 1
        counts["lookalikes"] += len(others)
        counts["lookalikes_left"] += sum((m, t.path) not in still for m, t in others)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="11-110", help="a range (11-110) or a comma-separated list")
    parser.add_argument("--members", type=int, default=16, help="LFW members (people with >= 4 photos)")
    parser.add_argument("--threshold", type=float, default=ALBUM_THRESHOLD,
                        help="the albums' threshold (lower: more false matches for the \"Not <member>\" table)")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    if not available():
        print(f"skipped: no evaluation data at {DATA}")
        return 0
    found = {f.path: f for name in _faces.SETS for f in _faces.load(name) if f.embedding is not None}
    degraded = _faces.load_degraded()
    results: dict[str, list[dict[str, int]]] = defaultdict(list)
    suggested: dict[str, list[dict[str, int]]] = defaultdict(list)
    rejections: dict[tuple[str, str], list[dict[str, int]]] = defaultdict(list)
    for seed in seeds(args.seeds):
        rng = random.Random(seed)
        for label, scenario in (("LFW, 1 reference", lfw_scenario(rng, args.members)),
                                ("MFR2, masked members, 1 reference", mfr2_scenario(rng)),
                                ("CFP, side-view members, 1 reference", cfp_scenario(rng))):
            embedding = as_stored(scenario, found)
            album = decide(scenario, embedding, threshold=args.threshold)
            results[label].append(match_counts(album))
            suggested[label].append(suggestion_counts(album, embedding, scenario))
            for rule, same_face in (("before", -1.0), ("after", face_engine.SAME_FACE_COSINE)):
                with patched(face_engine, "SAME_FACE_COSINE", same_face):
                    rejections[label, rule].append(rejection_counts(
                        scenario, embedding, decide(scenario, embedding, threshold=args.threshold)))
        scenario = lfw_scenario(rng, args.members)
        embedding, copies = with_degraded(as_stored(scenario, found), scenario, degraded, rng)
        album = decide(scenario, embedding, threshold=args.threshold, copies=copies)
        results[DEGRADED_ROW].append(match_counts(album, {p: c.kind for p, c in copies.items()}))
        suggested[DEGRADED_ROW].append(suggestion_counts(album, embedding, scenario, copies))
    rows = []
    for label, per_seed in results.items():
        total = with_rates(summed(per_seed))
        worst = [with_rates(c) for c in per_seed]
        rows.append([label, str(len(per_seed)), str(total["stranger_faces"]), str(total["member_photos"]),
                     f"{total['precision']:.3f}", f"{total['recall']:.3f}", f"{total['false_per_100']:.2f}",
                     f"{min(r['precision'] for r in worst):.3f} / {min(r['recall'] for r in worst):.3f}"])
    print_table(["album", "seeds", "stranger faces", "member photos", "precision", "recall",
                 "false matches / 100 strangers", "worst seed: precision / recall"], rows, args.markdown)
    t = summed(results[DEGRADED_ROW])
    print(f"\n{DEGRADED_ROW}: recall per kind of member photo (found / member photos)")
    found_of, photos_of = ([t[f"{key} {k}"] for k in KINDS] for key in ("found", "photos"))
    print_table(list(KINDS), [[f"{f / max(n, 1):.3f} ({f} / {n})" for f, n in zip(found_of, photos_of, strict=True)]],
                args.markdown)
    print("\nSuggestions (\"Is this <member>?\") for the faces the album did not give to anyone:")
    rows = []
    for label, per_seed in suggested.items():
        t = summed(per_seed)
        rows.append([label, str(t["missed"]), str(t["suggestions"]),
                     f"{t['recovered']} ({t['recovered'] / max(t['missed'], 1):.2f})",
                     f"{t['wrong']} ({t['wrong'] / max(t['suggestions'], 1):.3f})"])
    t = summed([c for per_seed in suggested.values() for c in per_seed])
    rows.append(["all", str(t["missed"]), str(t["suggestions"]),
                 f"{t['recovered']} ({t['recovered'] / max(t['missed'], 1):.2f})",
                 f"{t['wrong']} ({t['wrong'] / max(t['suggestions'], 1):.3f})"])
    print_table(["album", "missed member photos", "suggestions", "recovered (share of missed)",
                 "wrong (share of suggestions)"], rows, args.markdown)
    print("\n\"Not <member>\": said by mistake on a correct match, and said rightly on a false match:")
    rows = []
    for (label, rule), per_seed in rejections.items():
        t = summed(per_seed)
        rows.append([label, rule, f"{t['photos_lost']} in {t['mistakes']} mistakes",
                     f"{t['lookalikes_left']} of {t['lookalikes']} (after {t['false_rejected']} rejections)"])
    print_table(["album", "rule", "member photos lost by a mistaken Not",
                 "the stranger's other false matches removed by a right Not"], rows, args.markdown)
    return 0


def with_degraded(embedding: dict[str, np.ndarray], scenario: Scenario, degraded: dict[str, _faces.DegradedFace],
                  rng: random.Random) -> tuple[dict[str, np.ndarray], dict[str, _faces.DegradedFace]]:
    """``embedding`` with :data:`DEGRADED_SHARE` of the album's face photos (not the selfies) replaced by their
    degraded copy (dropped where it shows no face), and those copies by path."""
    selfies = {paths[0] for paths in scenario.members.values()}
    out, copies = dict(embedding), {}
    for photo in scenario.photos:
        for tile in photo.tiles:
            copy = degraded.get(tile.path)
            if tile.path in selfies or copy is None or rng.random() >= DEGRADED_SHARE:
                continue
            copies[tile.path] = copy
            if copy.album is None:
                out.pop(tile.path, None)
            else:
                out[tile.path] = copy.album
    return out, copies


def as_stored(scenario: Scenario, found: dict[str, _faces.LabelledFace]) -> dict[str, np.ndarray]:
    """Each photo's embedding as the album stores it: the members' selfies as references, the rest as album faces."""
    vectors = {path: face.album for path, face in found.items()}
    vectors.update({path: found[path].embedding for path, *_ in scenario.members.values() if path in found})
    return vectors


def summed(counts: list[dict[str, int]]) -> dict[str, int]:
    return {k: sum(c[k] for c in counts) for k in counts[0]}


@contextmanager
def patched(module: object, name: str, value: object) -> Iterator[None]:
    """``module.name`` set to ``value`` for the block (the previous release's rule, measured beside the current)."""
    saved = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, saved)


if __name__ == "__main__":
    sys.exit(main())
