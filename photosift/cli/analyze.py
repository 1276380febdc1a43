"""``photosift analyze DIR...``: everything photosift knows about every photo, resumable.

One record per image: size, blur (sharpness, verdict, region) and faces (box, confidence, landmarks, pose, quality).
With ``--output FILE.jsonl`` records are appended to FILE as they are made and images already in FILE are skipped,
so an interrupted run continues where it stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path
from typing import Any

from photosift.cli.faces import map_images
from photosift.cli.output import emit_json, epilog, expand_paths, fail, print_table
from photosift.errors import InvalidInput, PhotosiftError


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "analyze", help="size, blur and faces of every photo (resumable with --output)",
        description="Analyse every photo: size, blur (sharpness 0-100, verdict, region judged) and faces (box, "
                    "confidence, landmarks, pose, quality), one record per image. With --output FILE.jsonl the "
                    "records are also appended to FILE as they are made, and the images FILE already holds are "
                    "skipped: rerun the same command to resume an interrupted run. FILE must be new or an output "
                    "of photosift analyze; its folder must exist.",
        epilog=epilog("photosift analyze ~/Pictures", "photosift analyze ~/Pictures --output pictures.jsonl"),
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders (searched recursively)")
    parser.add_argument("--json", action="store_true", help="one JSON object per image on stdout")
    parser.add_argument("--output", type=Path, metavar="FILE.jsonl",
                        help="append records to FILE and skip the images it already holds")
    parser.set_defaults(run=run)


def analyze_one(path: str) -> dict[str, Any]:
    """``{"path", "width", "height", "sharpness", "blurry", "region", "faces"}`` or ``{"path", "error"}``."""
    from photosift.analysis import analyze

    try:
        result = analyze(path)
    except PhotosiftError as exc:
        return {"path": path, "error": str(exc), "error_type": type(exc).__name__}
    return {
        "path": path, "width": result.width, "height": result.height, "sharpness": result.blur.sharpness,
        "blurry": result.blur.blurry, "region": result.blur.region, "faces": [f.face.to_dict() for f in result.faces],
    }


def done_paths(recorded: str) -> set[str]:
    """Paths already in ``recorded``, the text of a JSON-lines output (a line cut short by a crash is ignored)."""
    found = set()
    for line in recorded.splitlines():
        try:
            found.add(json.loads(line)["path"])
        except (ValueError, KeyError, TypeError):
            continue
    return found


def is_analyze_output(recorded: str) -> bool:
    """True when every line of ``recorded`` is a record of ``analyze`` (or one cut short by a crash): the only
    files ``--output`` appends to, besides new or empty ones."""
    for line in recorded.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            if line.startswith('{"path": '):  # records are written with "path" first: a line cut short
                continue
            return False
        if not (isinstance(record, dict) and "path" in record and ("faces" in record or "error" in record)):
            return False
    return True


def previous_output(output: Path) -> str:
    """The text of ``--output`` FILE when it can be resumed ("" when it does not exist yet), else ``InvalidInput``."""
    if output.is_dir():
        raise InvalidInput(f"--output {output} is a folder; give a file, such as {output / 'analysis.jsonl'}")
    if not output.parent.is_dir():
        raise InvalidInput(f"--output {output}: folder {output.parent} does not exist")
    if not output.exists():
        return ""
    try:
        recorded = output.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"--output {output} cannot be read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError:
        recorded = None  # not text
    if recorded is None or not is_analyze_output(recorded):
        raise InvalidInput(f"--output {output} exists and is not an output of photosift analyze; refusing to append "
                           "to it (give a new file, or the file of an earlier analyze run to resume it)")
    return recorded


def run(args: argparse.Namespace) -> int:
    paths = expand_paths(args.paths)
    if not paths:
        return fail("no images found")
    try:
        recorded = previous_output(args.output) if args.output else ""
    except InvalidInput as exc:
        return fail(str(exc))
    done = done_paths(recorded)
    todo = [p for p in paths if p not in done]
    failures = 0
    rows: list[list[Any]] = []
    try:
        sink = open(args.output, "a", encoding="utf-8") if args.output else None  # noqa: SIM115 - closed below
        if sink and recorded and not recorded.endswith("\n"):
            sink.write("\n")  # a line cut short by a crash stays alone on its line
    except OSError as exc:
        return fail(f"--output {args.output} cannot be written: {exc.strerror or exc}")
    try:
        for record in map_images(analyze_one, todo, "analysing"):
            failures += "error" in record
            if sink:
                try:
                    sink.write(json.dumps(record, ensure_ascii=False) + "\n")
                    sink.flush()
                except OSError as exc:  # e.g. the disk filled up: what was written stays resumable
                    return fail(f"--output {args.output}: writing failed: {exc.strerror or exc}")
            if args.json:
                emit_json(record)
            elif "error" in record:
                rows.append([record["path"], "", "", "", "", f"error: {record['error']}"])
            else:
                verdict = "blurry" if record["blurry"] else "sharp"
                rows.append([record["path"], f"{record['width']}x{record['height']}", f"{record['sharpness']:.1f}",
                             verdict, len(record["faces"]), ""])
    finally:
        if sink:
            with contextlib.suppress(OSError):  # every record was flushed; after a failed write there is no more
                sink.close()
    if not args.json:
        print_table(["path", "size", "sharpness", "verdict", "faces", "note"], rows)
        if done:
            skipped = len(paths) - len(todo)
            print(f"{skipped} image{'s were' if skipped != 1 else ' was'} already in {args.output}; skipped")
    return 1 if failures else 0
