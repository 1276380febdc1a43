"""``photosift detect``, ``photosift compare`` and ``photosift find``: the face commands.

Images are decoded at most at ``analysis.FACE_MAX_PIXELS``; boxes are reported in pixels of the upright original.
Batches (``compare --pairs``, ``find``) run in a pool of worker processes (one per core, models loaded once per
worker, every image decoded and embedded once). Per-item failures are JSON lines with ``error`` / ``error_type``
(exit code 1 at the end); a failure of the whole command is one line on stderr and exit code 2.
A reference photo (``compare``'s SOURCE, ``find``'s REFERENCE) must show a face that is neither too small nor too
blurred to compare (else exit code 2); when it shows several, a warning on stderr names the largest, which is used.
"""

from __future__ import annotations

import argparse
import csv
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from photosift import faces, imaging
from photosift.analysis import FACE_MAX_PIXELS
from photosift.application import scoring
from photosift.cli.output import emit_json, epilog, expand_paths, fail, print_table, progress, score, warn
from photosift.errors import FaceTooBlurred, InvalidInput, NoFaceFound, PhotosiftError
from photosift.jobs.pool import spawn_pool, terminate

WORKERS = max(1, min(2, os.cpu_count() or 1))
_POOL_MIN_ITEMS = 3  # below this, loading the models in worker processes costs more than it saves



def register(commands: argparse._SubParsersAction) -> None:
    detect = commands.add_parser(
        "detect", help="faces in images: box, confidence, landmarks, pose, quality",
        description="Find the faces in each image: box [left, top, width, height] in pixels of the upright "
                    "original, confidence 0-100, five landmarks (eyes, nose tip, mouth corners), pose (yaw, pitch, "
                    "roll in degrees), quality (sharpness and brightness 0-100) and too_small (below the size at "
                    "which comparisons are reliable). Faces come largest first.",
        epilog=epilog("photosift detect group.jpg", "photosift detect ~/Pictures --json"),
    )
    detect.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders (searched recursively)")
    detect.add_argument("--json", action="store_true", help="one JSON object per image")
    detect.set_defaults(run=run_detect)

    compare = commands.add_parser(
        "compare", help="compare the face of SOURCE with the faces of TARGET",
        description="Compare the largest face of SOURCE with every face of TARGET (AWS CompareFaces semantics): "
                    "each target face gets a calibrated similarity 0-100 and is a match at or above the threshold. "
                    "A SOURCE with several faces uses the largest one (a warning on stderr says which); a SOURCE "
                    "without a usable face (none, too small, too blurred) is an error (exit 2); a TARGET without "
                    "a face is reported (exit 1). With --pairs FILE.csv: one result per CSV row (columns img1, "
                    "img2), the paths echoed as written.",
        epilog=epilog("photosift compare me.jpg party.jpg", "photosift compare --pairs pairs.csv --root photos --json"),
    )
    compare.add_argument("source", nargs="?", metavar="SOURCE", help="photo of the person (its largest face)")
    compare.add_argument("target", nargs="?", metavar="TARGET", help="photo whose faces are compared")
    compare.add_argument("--pairs", metavar="FILE.csv", help="CSV with columns img1,img2: one result per row")
    compare.add_argument("--root", metavar="DIR", help="folder the CSV paths are relative to (default: the CSV's)")
    compare.add_argument("--threshold", type=score, default=faces.DEFAULT_THRESHOLD, metavar="T",
                         help=f"similarity 0-100 for a match (default {faces.DEFAULT_THRESHOLD:g})")
    compare.add_argument("--json", action="store_true", help="JSON output")
    compare.set_defaults(run=run_compare)

    find = commands.add_parser(
        "find", help="photos under DIR that show the person of the reference photo(s)",
        description="List the photos under DIR (searched recursively) that show the person of the REFERENCE "
                    "photo(s), best first, with the similarity 0-100 and the box of the matching face (faces too "
                    "small to compare, as detect's too_small, are not compared). Each "
                    "reference photo gives its largest face (a warning on stderr when it shows several); a "
                    "reference without a usable face (none, too small, too blurred) is an error (exit 2).",
        epilog=epilog("photosift find me.jpg --in ~/Pictures",
                      "photosift find me1.jpg me2.jpg --in album --threshold 90 --json"),
    )
    find.add_argument("references", nargs="+", metavar="REFERENCE", help="photos of the person (largest face)")
    find.add_argument("--in", dest="folder", required=True, metavar="DIR", help="folder to search (recursively)")
    find.add_argument("--threshold", type=score, default=faces.DEFAULT_THRESHOLD, metavar="T",
                      help=f"similarity 0-100 for a match (default {faces.DEFAULT_THRESHOLD:g})")
    find.add_argument("--json", action="store_true", help="one JSON object per matching photo")
    find.set_defaults(run=run_find)


# ---------------------------------------------------------------- work done per image (also in worker processes)


def _decode(path: str) -> imaging.DecodedImage:
    return imaging.decode(path, max_pixels=FACE_MAX_PIXELS)


def _error(exc: Exception) -> dict[str, str]:
    return {"error": str(exc), "error_type": type(exc).__name__}


def detect_one(path: str) -> dict[str, Any]:
    """``{"path", "width", "height", "faces"}`` or ``{"path", "error", "error_type"}``."""
    try:
        image = _decode(path)
        found = faces.detect_faces(image)
    except PhotosiftError as exc:
        return {"path": path, **_error(exc)}
    width, height = image.original_size
    return {"path": path, "width": width, "height": height, "faces": [f.to_dict() for f in found]}


def reference_one(path: str) -> tuple[np.ndarray | None, dict[str, str] | None]:
    """(embedding of the largest face, None) or (None, error)."""
    try:
        return faces.reference_face(_decode(path)).embedding, None
    except PhotosiftError as exc:
        return None, _error(exc)


def checked_reference(image: imaging.DecodedImage) -> tuple[faces.EmbeddedFace, int]:
    """The face a comparison is made with (``faces.reference_face``: the largest) and how many faces the photo shows
    that could be taken for the person meant (``faces.reference_among``: the larger ones, so a tiny face in the
    background is not counted).

    Raises ``NoFaceFound`` / ``FaceTooSmall`` as ``reference_face`` does, and ``FaceTooBlurred`` when the face's
    sharpness is below ``faces.REFERENCE_MIN_SHARPNESS``.
    """
    reference, count = faces.reference_among(image)
    sharpness = reference.face.quality.sharpness
    if sharpness < faces.REFERENCE_MIN_SHARPNESS:
        raise FaceTooBlurred(f"the largest face is too blurred to compare (face sharpness {sharpness:g}, "
                             f"needs {faces.REFERENCE_MIN_SHARPNESS:g} of 100)")
    return reference, count


def warn_if_several(path: str, reference: faces.EmbeddedFace, count: int) -> None:
    """A one-line warning on stderr naming the face used when a reference photo shows several."""
    if count > 1:
        warn(f"{path} shows {count} faces; using the largest, box {list(reference.face.box)}")


def all_faces_one(path: str) -> tuple[list[tuple[list[int], np.ndarray]], dict[str, str] | None]:
    """([(box, embedding), ...], None) for every face of one image large enough to compare, or ([], error): as in
    an album, a face flagged ``too_small`` is never matched (its embedding is unreliable), nor embedded
    (``faces.comparable_faces``)."""
    try:
        found = faces.comparable_faces(_decode(path))
    except PhotosiftError as exc:
        return [], _error(exc)
    return [(list(box), embedding) for box, embedding in found], None


def usable_reference_one(path: str) -> tuple[faces.EmbeddedFace | None, int, str | None]:
    """(the reference face, how many faces it could be, None) of one reference photo (``checked_reference``), or
    (None, 0, why it cannot be used)."""
    try:
        reference, count = checked_reference(_decode(path))
    except PhotosiftError as exc:
        return None, 0, str(exc)
    return reference, count, None


class _InThisProcess(Executor):
    """Runs each call at once, in this process: a batch too small to be worth worker processes."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, as a pool's future would
            future.set_exception(exc)
        return future


@contextmanager
def image_workers(images: int) -> Iterator[Executor]:
    """Where a batch of ``images`` is analysed: a pool of worker processes (one per core, models loaded once per
    worker) when worth it, else this process. Work still queued when the batch ends early is dropped."""
    if images < _POOL_MIN_ITEMS or WORKERS == 1:
        yield _InThisProcess()
        return
    pool = spawn_pool(WORKERS, fork=True)  # a command's process has only made its imports: the workers share them
    try:
        yield pool
    finally:
        terminate(pool)  # its work is done or no longer wanted


def advancing(results: Iterable[Any], total: int, description: str) -> Iterator[Any]:
    """``results`` as they come, with a progress bar of ``total`` items."""
    with progress(total, description) as advance:
        for result in results:
            yield result
            advance()


def map_images(func: Callable[[str], Any], paths: list[str], description: str) -> Iterator[Any]:
    """``func`` over ``paths`` in order (``image_workers``), with a progress bar."""
    with image_workers(len(paths)) as workers:
        yield from advancing(workers.map(func, paths, chunksize=1), len(paths), description)


# ---------------------------------------------------------------- detect


def run_detect(args: argparse.Namespace) -> int:
    paths = expand_paths(args.paths)
    if not paths:
        return fail("no images given")
    failures = 0
    rows: list[list[Any]] = []
    for record in map_images(detect_one, paths, "detecting"):
        failures += "error" in record
        if args.json:
            emit_json(record)
        elif "error" in record:
            rows.append([record["path"], "-", record["error"], "", "", "", ""])
        elif not record["faces"]:
            rows.append([record["path"], 0, "no face", "", "", "", ""])
        for i, face in enumerate(record.get("faces", [])):
            pose, quality = face["pose"], face["quality"]
            rows.append([
                record["path"], i + 1, face["box"], face["confidence"],
                f"{pose['yaw']:+.0f}/{pose['pitch']:+.0f}/{pose['roll']:+.0f}",
                quality["sharpness"], quality["brightness"],
            ])
    if not args.json:
        print_table(["path", "face", "box [l, t, w, h]", "confidence", "yaw/pitch/roll", "sharpness", "brightness"],
                    rows)
    return 1 if failures else 0


# ---------------------------------------------------------------- compare


def run_compare(args: argparse.Namespace) -> int:
    if args.pairs:
        if args.source or args.target:
            return fail("give either SOURCE TARGET or --pairs FILE.csv, not both")
        return _compare_pairs(args)
    if not (args.source and args.target):
        return fail("compare needs SOURCE and TARGET (or --pairs FILE.csv)")
    try:
        source = _decode(args.source)
    except PhotosiftError as exc:
        return fail(f"{args.source}: {exc}")
    target_error: PhotosiftError | None = None
    targets: list[faces.EmbeddedFace] = []
    with ThreadPoolExecutor(1, thread_name_prefix="reference") as helper:  # both sides at once (GIL released)
        checked = helper.submit(checked_reference, source)
        try:
            targets = faces.find_faces(_decode(args.target))
        except PhotosiftError as exc:
            target_error = exc
        try:
            reference, count = checked.result()
        except PhotosiftError as exc:
            return fail(f"{args.source}: {exc}")
    warn_if_several(args.source, reference, count)
    if target_error is None and not targets:
        target_error = NoFaceFound("no face found in the image")
    record = _compare_record(reference, targets, args.threshold)
    if target_error is not None:
        record.update({"error": f"{args.target}: {target_error}", "error_type": type(target_error).__name__})
    if args.json:
        emit_json(record)
    elif target_error is not None:
        fail(record["error"])
    else:
        print_table(
            ["target face box", "similarity", "match"],
            [[m["face"]["box"], m["similarity"], "yes"] for m in record["matches"]]
            + [[u["face"]["box"], u["similarity"], "no"] for u in record["unmatched"]],
        )
    return 1 if target_error is not None else 0


def _compare_record(reference: faces.EmbeddedFace, targets: list[faces.EmbeddedFace], threshold: float) -> dict:
    """``{"source_face", "matches", "unmatched"}``: target faces by similarity, best first, split at ``threshold``."""
    scores = scoring.similarity(reference.embedding, np.array([t.embedding for t in targets]))[0] if targets else []
    ranked = sorted(zip(scores, targets, strict=True), key=lambda st: -st[0])
    matches = [{"similarity": round(float(s), 2), "face": t.face.to_dict()} for s, t in ranked if s >= threshold]
    unmatched = [{"similarity": round(float(s), 2), "face": t.face.to_dict()} for s, t in ranked if s < threshold]
    return {"source_face": reference.face.to_dict(), "matches": matches, "unmatched": unmatched}


def read_pairs(csv_path: Path) -> list[tuple[str, str]]:
    """(img1, img2) of each row of a CSV with an ``img1,img2`` header (or the first two columns when it has none)."""
    try:
        with open(csv_path, newline="") as fh:
            rows = [r for r in csv.reader(fh) if r and any(c.strip() for c in r)]
    except OSError as exc:
        raise InvalidInput(f"cannot read {csv_path}: {exc.strerror or exc}") from exc
    if not rows:
        raise InvalidInput(f"{csv_path} has no rows")
    header = [c.strip().lower() for c in rows[0]]
    if "img1" in header and "img2" in header:
        i, j = header.index("img1"), header.index("img2")
        rows = rows[1:]
    else:
        i, j = 0, 1
    for number, row in enumerate(rows, start=2):
        if len(row) <= max(i, j):
            raise InvalidInput(f"{csv_path}: row {number} has fewer than two image columns")
    return [(row[i], row[j]) for row in rows]


def _compare_pairs(args: argparse.Namespace) -> int:
    csv_path = Path(args.pairs)
    try:
        pairs = read_pairs(csv_path)
    except InvalidInput as exc:
        return fail(str(exc))
    root = Path(args.root) if args.root else csv_path.parent
    unique = list(dict.fromkeys(name for pair in pairs for name in pair))
    results = dict(zip(unique, map_images(reference_one, [str(root / u) for u in unique], "embedding"), strict=True))
    failures = 0
    rows = []
    for img1, img2 in pairs:
        (e1, err1), (e2, err2) = results[img1], results[img2]
        record: dict[str, Any] = {"img1": img1, "img2": img2, "similarity": None, "match": None}
        if err1 or err2:
            failures += 1
            side, err = (img1, err1) if err1 else (img2, err2)
            record.update({"error": f"{side}: {err['error']}", "error_type": err["error_type"]})
        else:
            score = float(scoring.similarity(e1, e2)[0, 0])
            record.update({"similarity": round(score, 2), "match": score >= args.threshold})
        if args.json:
            emit_json(record)
        else:
            verdict = {True: "yes", False: "no", None: ""}[record["match"]]
            rows.append([img1, img2, record["similarity"], verdict, record.get("error", "")])
    if not args.json:
        print_table(["img1", "img2", "similarity", "match", "error"], rows)
    return 1 if failures else 0


# ---------------------------------------------------------------- find


def run_find(args: argparse.Namespace) -> int:
    folder = Path(args.folder)
    if not folder.is_dir():
        return fail(f"{folder} is not a folder")
    photos = expand_paths([str(folder)])
    with image_workers(len(args.references) + len(photos)) as workers:
        # the references first in the workers' queue and the photos right behind them: this process loads no model
        checked = [workers.submit(usable_reference_one, path) for path in args.references]
        found = workers.map(all_faces_one, photos, chunksize=1)
        references = []
        for path, future in zip(args.references, checked, strict=True):
            reference, count, error = future.result()
            if reference is None:
                return fail(f"{path}: {error}")
            warn_if_several(path, reference, count)
            references.append(reference.embedding)
        hits, errors = _search(scoring.template(references), photos, advancing(found, len(photos), "searching"))
    hits.sort(key=lambda h: -h["similarity"])
    hits = [h for h in hits if h["similarity"] >= args.threshold]
    if args.json:
        for record in hits + errors:
            emit_json(record)
    else:
        print_table(["path", "similarity", "box [l, t, w, h]"], [[h["path"], h["similarity"], h["box"]] for h in hits])
        for err in errors:
            fail(f"{err['path']}: {err['error']}")
    return 1 if errors else 0


def _search(template: np.ndarray, photos: list[str], found: Iterable[tuple[list, dict[str, str] | None]]
            ) -> tuple[list[dict], list[dict]]:
    """Best-matching face of every photo, given what ``all_faces_one`` found in each:
    ([{"path", "similarity", "box"}], [{"path", "error", ...}])."""
    hits, errors = [], []
    for path, (faces_found, err) in zip(photos, found, strict=True):
        if err:
            errors.append({"path": path, **err})
        elif faces_found:
            scores = scoring.similarity(template, np.array([e for _, e in faces_found]))[0]
            best = int(np.argmax(scores))
            hits.append({"path": path, "similarity": round(float(scores[best]), 2), "box": faces_found[best][0]})
    return hits, errors
