"""``photosift analyze DIR...``: everything photosift knows about every photo, resumable.

One record per image: size, blur (sharpness, verdict, region) and faces (box, confidence, landmarks, pose, quality).
With ``--output FILE.jsonl`` records are appended to FILE as they are made and images already in FILE are skipped,
so an interrupted run continues where it stopped.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from photosift.cli.faces import map_images
from photosift.cli.output import emit_json, expand_paths, fail, print_table
from photosift.errors import PhotosiftError


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("analyze", help="size, blur and faces of every photo (resumable with --output)")
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


def run(args: argparse.Namespace) -> int:
    paths = expand_paths(args.paths)
    if not paths:
        return fail("no images found")
    recorded = args.output.read_text() if args.output and args.output.exists() else ""
    done = done_paths(recorded)
    todo = [p for p in paths if p not in done]
    failures = 0
    rows: list[list[Any]] = []
    sink = open(args.output, "a") if args.output else None  # noqa: SIM115 - closed below
    if sink and recorded and not recorded.endswith("\n"):
        sink.write("\n")  # a line cut short by a crash stays alone on its line
    try:
        for record in map_images(analyze_one, todo, "analysing"):
            failures += "error" in record
            if sink:
                sink.write(json.dumps(record, ensure_ascii=False) + "\n")
                sink.flush()
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
            sink.close()
    if not args.json:
        print_table(["path", "size", "sharpness", "verdict", "faces", "note"], rows)
        if done:
            print(f"{len(paths) - len(todo)} images were already in {args.output}; skipped")
    return 1 if failures else 0
