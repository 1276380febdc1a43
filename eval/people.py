"""People grouping evaluation on LFW "trip" albums: one command, one table.

    nice -n 10 .venv/bin/python eval/people.py [--threshold T] [--min-faces N] [--batch B] [--sweep] [--markdown]

Albums (fixed seed) are built from ../shared/data/lfw/labels.csv: the identities with several photos are split
into four trips (plus one album holding all of them), each with single-photo identities mixed in as distractors
(they should stay unknown or at least join nobody else). Some photos are "group photos": two LFW photos of
different people in the album composed side by side into one image, so two faces share a photo (cannot-link).
Each photo is decoded and its faces found by the product facade (``imaging.decode`` + ``faces.find_faces``); a
plain photo contributes its largest face, a group photo the largest face of each half. Embeddings are cached in
``~/.cache/photosift-eval/people-*.npz`` keyed by file and by the face engine's source code.

Real albums also hold faces too blurred to compare (a shaken shot, a head in the soft background): in each trip,
``BLURRED_PER_TRIP`` photos of its repeated identities and ``BLURRED_DISTRACTORS`` extra single-photo identities are
blurred (Gaussian sigma 5 % of the face's height), and ``SMALL_PER_TRIP`` photos are shrunk, sharp, to a 40 px face
on a larger canvas (a small face compared with members, too small to form people). The first table groups faces as
the product does (``application.grouping.worth_grouping``: small or blurred faces never form or link people; those
not too small to compare, ``may_join``, join a person through its large sharp faces alone); a line below it groups
the same four trips as taken (``as_taken``: no photo blurred or shrunk, no stranger's blurred photo added), the
albums the recogniser issue set its people target on, before the suggestions issue added those photos. The last
table compares the product's rule with the earlier releases' rules (every face not ``too_small`` grouped; faces not
worth grouping kept out): people, people made mostly of faces not worth grouping, such faces grouped, and pairwise
precision / recall.

Another table groups WIDER's crowd photos as one album, every face a stranger (but for one woman seen in two
photos): the people it makes are strangers put together, by the product's rules with ``grouping.GROUP_MIN_SIZE``
and other sizes.

Photos then arrive in random order, ``--batch`` at a time; after each batch ``photosift.clustering.group_faces``
runs over every face so far, with the people found until then kept (new groups get a person id), as the service
does. The table scores the final state: pairwise precision and recall of "same person" over face pairs (recall
also over the pairs of faces worth grouping alone: the faces the product is meant to group; a line below the table
says which faces it judged not worth grouping, by how they were made), the share of faces of repeated identities left
unknown, distractor faces grouped with anyone, and faces of one photo put in one person (must be 0).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _faces  # noqa: E402
from _data import CACHE, DATA, available, engine_key  # noqa: E402

from photosift.application import scoring  # noqa: E402
from photosift.clustering import FaceRecord, GroupingParams, group_faces, iter_pairs  # noqa: E402

SEED = 20240601
TRIPS = 4
DISTRACTORS_PER_TRIP = 12
GROUP_PHOTOS_PER_TRIP = 8
BLURRED_PER_TRIP = 12
BLURRED_DISTRACTORS = 12
SMALL_PER_TRIP = 12
BLUR_SHARE = 0.05  # Gaussian sigma of a blurred photo, as a share of its face's height
SMALL_FACE = 40  # px: the face height of a shrunk photo


@dataclass(frozen=True)
class Photo:
    """One album photo: one LFW file, or two composed side by side (a group photo)."""

    photo_id: str
    paths: tuple[Path, ...]
    identities: tuple[str, ...]
    degrade: str = ""  # "", "blurred" or "small" (single photos only)
    added: bool = False  # a blurred photo of a stranger added to the trip (``degraded``)


@dataclass(frozen=True)
class Album:
    name: str
    photos: list[Photo]


def load_labels() -> dict[str, list[Path]]:
    root = DATA / "lfw"
    by_identity: dict[str, list[Path]] = defaultdict(list)
    with open(root / "labels.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            by_identity[row["identity"]].append(root / row["path"])
    return dict(sorted(by_identity.items()))


def make_album(name: str, rng: np.random.Generator, identities: dict[str, list[Path]], group_photos: int) -> Album:
    """Single photos of ``identities``, of which ``group_photos`` pairs (different people) are composed."""
    singles = [(ident, path) for ident, paths in identities.items() for path in paths]
    order = rng.permutation(len(singles))
    singles = [singles[i] for i in order]
    photos: list[Photo] = []
    used: set[int] = set()
    for _ in range(group_photos):
        a = next(i for i in range(len(singles)) if i not in used)
        b = next((i for i in range(a + 1, len(singles)) if i not in used and singles[i][0] != singles[a][0]), None)
        if b is None:
            break
        used.update((a, b))
        photos.append(Photo(f"{name}/group{len(photos)}", (singles[a][1], singles[b][1]),
                            (singles[a][0], singles[b][0])))
    for i, (ident, path) in enumerate(singles):
        if i not in used:
            photos.append(Photo(f"{name}/{path.name}", (path,), (ident,)))
    return Album(name, photos)


def degraded(album: Album, rng: np.random.Generator, blurred_distractors: dict[str, list[Path]]) -> Album:
    """``album`` with some single photos of repeated identities blurred or shrunk, and blurred photos of
    ``blurred_distractors`` added (see the module docstring)."""
    counts: dict[str, int] = defaultdict(int)
    for photo in album.photos:
        for ident in photo.identities:
            counts[ident] += 1
    singles = [i for i, p in enumerate(album.photos) if len(p.paths) == 1 and counts[p.identities[0]] >= 2]
    chosen = rng.permutation(singles)[: BLURRED_PER_TRIP + SMALL_PER_TRIP]
    kinds = {int(i): ("blurred" if k < BLURRED_PER_TRIP else "small") for k, i in enumerate(chosen)}
    photos = [Photo(f"{p.photo_id}~{kinds[i]}", p.paths, p.identities, kinds[i]) if i in kinds else p
              for i, p in enumerate(album.photos)]
    photos += [Photo(f"{album.name}/{paths[0].name}~blurred", (paths[0],), (ident,), "blurred", added=True)
               for ident, paths in blurred_distractors.items()]
    return Album(album.name, photos)


def as_taken(album: Album) -> Album:
    """``album`` without what ``degraded`` did: its photos as taken, no stranger's blurred photo added."""
    return Album(album.name, [Photo(p.photo_id.removesuffix(f"~{p.degrade}"), p.paths, p.identities)
                              for p in album.photos if not p.added])


def make_albums(labels: dict[str, list[Path]]) -> list[Album]:
    rng = np.random.default_rng(SEED)
    repeated = [k for k, v in labels.items() if len(v) >= 2]
    single = [k for k, v in labels.items() if len(v) == 1]
    repeated = [repeated[i] for i in rng.permutation(len(repeated))]
    single = [single[i] for i in rng.permutation(len(single))]
    albums = []
    spare = single[TRIPS * DISTRACTORS_PER_TRIP + 40 :]
    for t in range(TRIPS):
        idents = repeated[t::TRIPS] + single[t * DISTRACTORS_PER_TRIP : (t + 1) * DISTRACTORS_PER_TRIP]
        album = make_album(f"trip-{t + 1}", rng, {k: labels[k] for k in idents}, GROUP_PHOTOS_PER_TRIP)
        heads = spare[t * BLURRED_DISTRACTORS : (t + 1) * BLURRED_DISTRACTORS]
        albums.append(degraded(album, rng, {k: labels[k] for k in heads}))
    everyone = repeated + single[TRIPS * DISTRACTORS_PER_TRIP : TRIPS * DISTRACTORS_PER_TRIP + 40]
    albums.append(make_album("all-in-one", rng, {k: labels[k] for k in everyone}, 3 * GROUP_PHOTOS_PER_TRIP))
    return albums


# ---------------------------------------------------------------- embedding (cached)

def compose(paths: tuple[Path, ...]) -> bytes:
    """The photos side by side (same height), as JPEG bytes: a group photo with one face per part."""
    from PIL import Image

    parts = [Image.open(p).convert("RGB") for p in paths]
    height = max(p.height for p in parts)
    canvas = Image.new("RGB", (sum(p.width for p in parts), height), (128, 128, 128))
    x = 0
    for part in parts:
        canvas.paste(part, (x, (height - part.height) // 2))
        x += part.width
    buf = io.BytesIO()
    canvas.save(buf, "JPEG", quality=95)
    return buf.getvalue()


def render(photo: Photo) -> bytes | Path:
    """What is uploaded for ``photo``: the file, a composed group photo, or a degraded copy on a larger canvas."""
    if len(photo.paths) > 1:
        return compose(photo.paths)
    if not photo.degrade:
        return photo.paths[0]
    import cv2

    image = cv2.imread(str(photo.paths[0]))
    face = 0.46 * image.shape[0]  # an LFW face's height in its frame
    if photo.degrade == "small":
        scale = SMALL_FACE / face
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    else:
        image = cv2.GaussianBlur(image, (0, 0), BLUR_SHARE * face)
    canvas = np.full((max(600, image.shape[0]), max(800, image.shape[1]), 3), 120, np.uint8)
    top, left = (canvas.shape[0] - image.shape[0]) // 2, (canvas.shape[1] - image.shape[1]) // 2
    canvas[top : top + image.shape[0], left : left + image.shape[1]] = image
    return cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()


Embedded = tuple[np.ndarray, bool, float, float, float | None]
"""A face's embedding and what grouping reads of it (``_faces.measures``: ``too_small``, sharpness, relative blur,
size)."""


def embed_photo(photo: Photo) -> list[Embedded | None]:
    """One embedded face per part of ``photo`` (None where no face was found in that part)."""
    from photosift import faces, imaging

    image = imaging.decode(render(photo))
    found = faces.find_faces(image)  # largest first
    part_width = image.original_size[0] / len(photo.paths)
    out: list[Embedded | None] = [None] * len(photo.paths)
    for f in found:
        part = int(min(len(photo.paths) - 1, (f.face.box[0] + f.face.box[2] / 2) // part_width))
        if out[part] is None:
            out[part] = (f.embedding, *_faces.measures(f.face))
    return out


def cache_key(photo: Photo) -> str:
    return "|".join(f"{p.relative_to(DATA)}:{p.stat().st_size}" for p in photo.paths) + f"~{photo.degrade}"


def embeddings(albums: list[Album]) -> dict[str, list[Embedded | None]]:
    """Embeddings of every photo of ``albums`` by cache key, computing the missing ones."""
    cache_file = CACHE / f"people-{engine_key()}.npz"
    cached: dict[str, list[Embedded | None]] = {}
    if cache_file.exists():
        with np.load(cache_file, allow_pickle=True) as z:
            cached = z["table"].item()
    todo = {cache_key(p): p for a in albums for p in a.photos if cache_key(p) not in cached}
    if todo:
        print(f"embedding {len(todo)} photos (cached in {cache_file}) ...", file=sys.stderr)
        start = time.monotonic()
        for k, (key, photo) in enumerate(todo.items(), 1):
            cached[key] = embed_photo(photo)
            if k % 50 == 0:
                print(f"  {k}/{len(todo)} {time.monotonic() - start:.0f} s", file=sys.stderr)
        CACHE.mkdir(parents=True, exist_ok=True)
        table = np.empty((), dtype=object)
        table[()] = cached
        np.savez(cache_file, table=table)
    return cached


# ---------------------------------------------------------------- incremental grouping and scoring

def worth_grouping(face: Embedded) -> bool:
    """The product's rule (``application.grouping.worth_grouping``) on a cached face."""
    from photosift.application import grouping

    return grouping.worth_grouping(_faces.stored_face(*face[1:]))


def may_join(face: Embedded) -> bool:
    """The product's rule (``application.grouping.may_join``) on a cached face."""
    from photosift.application import grouping

    return grouping.may_join(_faces.stored_face(*face[1:]))


def crowd_people(crowd: dict[str, list[Embedded]], params: GroupingParams,
                 smallest: float) -> tuple[int, int, int, int]:
    """Faces worth grouping, faces that may only join, people made and their faces when WIDER's crowd photos
    (``_faces.load_crowd``) are one album (every face a stranger but for one woman seen in two), by the product's
    rules with ``smallest`` as the size a face needs to be worth grouping (``grouping.GROUP_MIN_SIZE``)."""
    from photosift.application import grouping

    records = []
    with mock.patch.object(grouping, "GROUP_MIN_SIZE", smallest):
        for photo, found in crowd.items():
            records.extend(FaceRecord(f"{photo}#{k}", photo, face[0], usable=worth_grouping(face),
                                      may_join=may_join(face)) for k, face in enumerate(found))
    result = group_faces(records, {}, params=params, similarity=scoring.similarity)
    return (sum(r.usable for r in records), sum(r.may_join for r in records), len(result.new_people),
            sum(len(p) for p in result.new_people))


def previous_rule(face: Embedded) -> bool:
    """The previous release's rule: every face not too small is grouped."""
    return not face[1]


def run_album(album: Album, vectors: dict[str, list[Embedded | None]], params: GroupingParams, batch: int,
              rng: np.random.Generator, usable: Callable[[Embedded], bool] = worth_grouping,
              joins: Callable[[Embedded], bool] = may_join) -> dict:
    records: list[FaceRecord] = []
    truth: dict[str, str] = {}
    photo_of: dict[str, str] = {}
    unworthy: set[str] = set()
    missed = 0
    people: dict[str, frozenset[str]] = {}
    order = rng.permutation(len(album.photos))
    for start in range(0, len(order), batch):
        for idx in order[start : start + batch]:
            photo = album.photos[idx]
            for part, (ident, face) in enumerate(zip(photo.identities, vectors[cache_key(photo)], strict=True)):
                if face is None:
                    missed += 1
                    continue
                fid = f"{photo.photo_id}#{part}"
                records.append(FaceRecord(fid, photo.photo_id, face[0], usable=usable(face),
                                          may_join=joins(face)))
                truth[fid], photo_of[fid] = ident, photo.photo_id
                if not worth_grouping(face):
                    unworthy.add(fid)
        result = group_faces(records, people, params=params, similarity=scoring.similarity)
        people = dict(result.people)
        for group in result.new_people:
            people[f"person-{len(people) + 1}"] = group
    return score(truth, photo_of, people, missed, unworthy)


def run_album_in_catalog(album: Album, vectors: dict[str, list[Embedded | None]], rng: np.random.Generator,
                         folder: Path) -> dict:
    """``album`` grouped as the service groups it: photos stored one at a time in a catalog, each photo's faces
    grouped with their nearest faces from the album's face index (``grouping.regroup_faces``)."""
    from sqlalchemy import select

    from photosift import faces as face_engine
    from photosift.application import album_index, face_spaces
    from photosift.application.grouping import regroup_faces
    from photosift.catalog.db import Catalog
    from photosift.catalog.models import Album as AlbumRow
    from photosift.catalog.models import Face, vector_to_bytes
    from photosift.catalog.models import Photo as PhotoRow

    catalog = Catalog(f"sqlite:///{folder / f'{album.name}.sqlite3'}")
    catalog.migrate()
    index = face_spaces.index_of(catalog)
    truth: dict[str, str] = {}
    photo_of: dict[str, str] = {}
    unworthy: set[str] = set()
    missed = 0
    with catalog.session() as session:
        row = AlbumRow(name=album.name)
        session.add(row)
        session.flush()
        album_id = row.id
    for idx in rng.permutation(len(album.photos)):
        photo = album.photos[idx]
        with catalog.session() as session:
            stored = PhotoRow(album_id=album_id, blob_key=photo.photo_id, sha256=hashlib.sha256(
                photo.photo_id.encode()).hexdigest(), content_type="image/jpeg", size_bytes=1, status="done")
            session.add(stored)
            session.flush()
            found = []
            for part, (ident, face) in enumerate(zip(photo.identities, vectors[cache_key(photo)], strict=True)):
                if face is None:
                    missed += 1
                    continue
                embedding, too_small, sharpness, relative_blur, size = face
                found.append((ident, worth_grouping(face), Face(
                    photo_id=stored.id, album_id=album_id, position=part, left=0, top=0, width=90, height=90,
                    confidence=99.0, landmarks=[], pose={}, sharpness=sharpness, brightness=50.0,
                    relative_blur=relative_blur, analysed_size=size, too_small=too_small,
                    embedding=vector_to_bytes(embedding),
                    recognizer=face_engine.EMBEDDER)))
            faces = [face for _, _, face in found]
            session.add_all(faces)
            session.flush()
            for ident, worth, face in found:
                truth[face.id], photo_of[face.id] = ident, photo.photo_id
                if not worth:
                    unworthy.add(face.id)
            album_index.add_faces(index, session, album_id, faces)
            regroup_faces(session, album_id, faces, album_index.nearest(index, session, album_id))
    with catalog.read() as session:
        people: dict[str, set[str]] = defaultdict(set)
        for face_id, person_id in session.execute(select(Face.id, Face.person_id).where(Face.person_id.is_not(None))):
            people[person_id].add(face_id)
    catalog.dispose()
    return score(truth, photo_of, {p: frozenset(f) for p, f in people.items()}, missed, unworthy)


def score(truth: dict[str, str], photo_of: dict[str, str], people: dict[str, frozenset[str]], missed: int,
          unworthy: set[str]) -> dict:
    counts: dict[str, int] = defaultdict(int)
    worthy: dict[str, int] = defaultdict(int)
    for face, ident in truth.items():
        counts[ident] += 1
        worthy[ident] += face not in unworthy
    true_pairs = sum(c * (c - 1) // 2 for c in counts.values())
    found_pairs = correct = correct_worthy = violations = 0
    for a, b in iter_pairs(people.values()):
        found_pairs += 1
        correct += truth[a] == truth[b]
        correct_worthy += truth[a] == truth[b] and a not in unworthy and b not in unworthy
        violations += photo_of[a] == photo_of[b]
    grouped = {f for g in people.values() for f in g}
    repeated = [f for f, ident in truth.items() if counts[ident] >= 2]
    distractors = [f for f, ident in truth.items() if counts[ident] == 1]
    return {
        "faces": len(truth), "missed": missed, "people": len(people),
        "true_people": sum(c >= 2 for c in counts.values()),
        "found_pairs": found_pairs, "correct_pairs": correct, "true_pairs": true_pairs,
        "worthy_true_pairs": sum(c * (c - 1) // 2 for c in worthy.values()),
        "worthy_correct_pairs": correct_worthy,
        "unknown": sum(f not in grouped for f in repeated), "repeated": len(repeated),
        "distractors_grouped": sum(f in grouped for f in distractors), "distractors": len(distractors),
        "violations": violations, "unworthy": len(unworthy), "unworthy_grouped": len(grouped & unworthy),
        "junk_people": sum(2 * len(g & unworthy) >= len(g) for g in people.values()),
    }


def judged_unworthy(albums: list[Album], vectors: dict[str, list[Embedded | None]]) -> str:
    """How many faces of each kind (plain, group photo, blurred, small) the product judged not worth grouping."""
    judged: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for photo in (photo for album in albums for photo in album.photos):
        kind = photo.degrade or ("group" if len(photo.paths) > 1 else "plain")
        for face in filter(None, vectors[cache_key(photo)]):
            judged[kind][0] += not worth_grouping(face)
            judged[kind][1] += 1
    return ", ".join(f"{kind} {n} of {t}" for kind, (n, t) in sorted(judged.items()))


def total(rows: list[dict]) -> dict:
    return {k: sum(r[k] for r in rows) for k in rows[0]}


def ratio(a: int, b: int) -> float:
    return a / b if b else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threshold", type=float, default=None, help="average-linkage threshold (0-100)")
    parser.add_argument("--min-faces", type=int, default=None, help="faces a new person needs")
    parser.add_argument("--batch", type=int, default=10, help="photos per incremental step")
    parser.add_argument("--sweep", action="store_true", help="also print totals for a range of thresholds")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = parser.parse_args()
    if not available():
        print(f"no evaluation data at {DATA}", file=sys.stderr)
        return 1
    defaults = GroupingParams()
    params = GroupingParams(
        link_threshold=defaults.link_threshold if args.threshold is None else args.threshold,
        min_faces=defaults.min_faces if args.min_faces is None else args.min_faces,
    )
    albums = make_albums(load_labels())
    taken = [as_taken(a) for a in albums[:TRIPS]]  # the trips without the blurred and shrunk photos
    vectors = embeddings([*albums, *taken])

    def evaluate(p: GroupingParams, usable: Callable[[Embedded], bool] = worth_grouping,
                 joins: Callable[[Embedded], bool] = may_join) -> list[tuple[str, dict]]:
        rng = np.random.default_rng(SEED + 1)
        return [(a.name, run_album(a, vectors, p, args.batch, rng, usable, joins)) for a in albums]

    rows = evaluate(params)
    from photosift.faces import DEFAULT_THRESHOLD

    print(f"link threshold {params.link_threshold:g} (average linkage; match threshold {DEFAULT_THRESHOLD:g}), "
          f"min faces {params.min_faces}, photos arrive {args.batch} at a time in random order (seed {SEED})")
    head = ["album", "faces", "people found (true)", "pairwise precision", "pairwise recall",
            "recall, faces worth grouping", "unknown rate", "distractors grouped", "same-photo violations"]
    lines = []
    for name, r in rows + [("total", total([r for _, r in rows[:TRIPS]]))]:
        lines.append([
            name, f"{r['faces']}" + (f" (+{r['missed']} no face)" if r["missed"] else ""),
            f"{r['people']} ({r['true_people']})",
            f"{ratio(r['correct_pairs'], r['found_pairs']):.3f}", f"{ratio(r['correct_pairs'], r['true_pairs']):.3f}",
            f"{ratio(r['worthy_correct_pairs'], r['worthy_true_pairs']):.3f}",
            f"{ratio(r['unknown'], r['repeated']):.3f}", f"{r['distractors_grouped']}/{r['distractors']}",
            f"{r['violations']}",
        ])
    print_table(head, lines, args.markdown)
    print("(total = the four trips; all-in-one is every repeated identity in one album)")
    print(f"judged not worth grouping in the trips: {judged_unworthy(albums[:TRIPS], vectors)}")
    rng = np.random.default_rng(SEED + 1)
    r = total([run_album(a, vectors, params, args.batch, rng) for a in taken])
    print(f"the four trips as taken (no photo blurred or shrunk, no stranger's blurred photo added): {r['faces']} "
          f"faces, pairwise precision {ratio(r['correct_pairs'], r['found_pairs']):.3f}, recall "
          f"{ratio(r['correct_pairs'], r['true_pairs']):.3f}, distractors grouped "
          f"{r['distractors_grouped']}/{r['distractors']}")
    print("\nThe same albums grouped as the service groups them (photos stored one at a time, each photo's faces "
          "grouped with their nearest faces from the album's face index):")
    with tempfile.TemporaryDirectory(prefix="photosift-people-") as tmp:
        rng = np.random.default_rng(SEED + 1)
        served = [(a.name, run_album_in_catalog(a, vectors, rng, Path(tmp))) for a in albums]
    lines = []
    for name, r in served + [("total", total([r for _, r in served[:TRIPS]]))]:
        lines.append([name, f"{r['people']} ({r['true_people']})",
                      f"{ratio(r['correct_pairs'], r['found_pairs']):.3f}",
                      f"{ratio(r['correct_pairs'], r['true_pairs']):.3f}",
                      f"{ratio(r['worthy_correct_pairs'], r['worthy_true_pairs']):.3f}",
                      f"{r['distractors_grouped']}/{r['distractors']}", f"{r['violations']}", f"{r['junk_people']}"])
    print_table(["album", "people found (true)", "pairwise precision", "pairwise recall",
                 "recall, faces worth grouping", "distractors grouped",
                 "same-photo violations", "people mostly of faces not worth grouping"], lines, args.markdown)
    print("\nFaces not worth grouping (too small or blurred), the four trips: the earlier rules against this one")
    lines = []
    never: Callable[[Embedded], bool] = lambda face: False  # noqa: E731
    for label, usable, joins in (("every face not too small (before issue 22)", previous_rule, never),
                                 ("worth grouping, the others kept out (issue 22)", worth_grouping, never),
                                 ("worth grouping, blurred and small faces join", worth_grouping, may_join)):
        r = total([row for _, row in evaluate(params, usable, joins)[:TRIPS]])
        lines.append([label, f"{r['people']} ({r['true_people']})", f"{r['junk_people']}",
                      f"{r['unworthy_grouped']}/{r['unworthy']}",
                      f"{ratio(r['correct_pairs'], r['found_pairs']):.3f}",
                      f"{ratio(r['correct_pairs'], r['true_pairs']):.3f}"])
    print_table(["grouped", "people (true)", "people mostly of such faces", "such faces grouped",
                 "pairwise precision", "pairwise recall"], lines, args.markdown)
    crowd = _faces.load_crowd()
    photos = sum(bool(found) for found in crowd.values())
    print(f"\nWIDER's crowd photos as one album ({sum(map(len, crowd.values()))} faces in {photos} photos, every one a "
          "stranger but for one woman seen in two): the people grouping makes")
    from photosift.application.grouping import GROUP_MIN_SIZE

    lines = []
    for smallest in sorted({GROUP_MIN_SIZE, 16.0, 24.0, 32.0, 40.0, 48.0}):
        grouped, joining, made, held = crowd_people(crowd, params, smallest)
        label = f"{smallest:g} px" + (" (the product)" if smallest == GROUP_MIN_SIZE else "")
        lines.append([label, str(grouped), str(joining), str(made), str(held)])
    print_table(["faces worth grouping from", "faces worth grouping", "smaller or blurred faces that may join",
                 "people made", "their faces"], lines, args.markdown)
    if args.sweep:
        print()
        sweep = []
        for t in (85.0, 88.0, 90.0, 91.0, 92.0, 93.0, 94.0, 95.0, 97.0):
            r = total([row for _, row in evaluate(GroupingParams(link_threshold=t, min_faces=params.min_faces))])
            sweep.append([f"{t:g}", f"{ratio(r['correct_pairs'], r['found_pairs']):.3f}",
                          f"{ratio(r['correct_pairs'], r['true_pairs']):.3f}",
                          f"{ratio(r['unknown'], r['repeated']):.3f}", f"{r['distractors_grouped']}"])
        print_table(["threshold", "precision (all albums)", "recall", "unknown rate", "distractors grouped"],
                    sweep, args.markdown)
    return 0


def print_table(head: list[str], rows: list[list[str]], markdown: bool) -> None:
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(h), *(len(r[k]) for r in rows)) for k, h in enumerate(head)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    sys.exit(main())
