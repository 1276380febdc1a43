"""``photosift blur PATH...``: sharpness 0-100 and a blurry verdict per image, judged on the subject.

Files or folders (recursive). A human table by default; ``--json`` prints one object per image per line:
``{"path", "sharpness", "blurry", "region", "width", "height"}`` (``width``/``height`` of the upright original), or
``{"path", "error", "error_type"}`` for an image that could not be read. Exit code 1 if any image failed, 2 for bad
arguments.
"""

from __future__ import annotations

import argparse
from typing import Any

from photosift import blur
from photosift.cli import output
from photosift.errors import PhotosiftError


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``blur`` sub-command to the ``photosift`` parser."""
    parser = commands.add_parser(
        "blur",
        help="sharpness 0-100 and a blurry verdict per image",
        description="Judge the sharpness of each image on its subject: its faces when there are faces "
                    "(region \"faces\"), otherwise the sharpest salient region (\"salient\"), so a sharp face in "
                    "front of a soft background is not blurry. Sharpness is 0-100; an image is blurry below the "
                    "threshold. JSON records: path, sharpness, blurry, region, width, height (of the upright "
                    "original), or path, error and error_type for an image that could not be read.",
        epilog=output.epilog("photosift blur ~/Pictures/trip", "photosift blur a.jpg b.heic --json --threshold 40"),
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders (searched recursively)")
    parser.add_argument("--json", action="store_true", help="one JSON object per image per line")
    parser.add_argument(
        "--threshold",
        type=output.score,
        default=None,
        metavar="T",
        help=f"blurry when sharpness < T (0-100; default {blur.DEFAULT_THRESHOLD:g})",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Assess every image; returns the exit code."""
    paths = output.expand_paths(args.paths)
    if not paths:
        return output.fail("no images found")
    detector = _face_detector()
    records: list[dict[str, Any]] = []
    failed = False
    with output.progress(len(paths), "blur") as advance:
        for path in paths:
            record = assess_record(path, args.threshold, detector)
            failed = failed or "error" in record
            if args.json:
                output.emit_json(record)
            else:
                records.append(record)
            advance()
    if not args.json:
        _print_table(records)
    return 1 if failed else 0


def assess_record(path: str, threshold: float | None, detector: Any = None) -> dict[str, Any]:
    """The JSON record of one image (the path exactly as given), or ``{"path", "error", "error_type"}``."""
    try:
        found = blur.assess_path(path, threshold=threshold, face_detector=detector)
    except PhotosiftError as exc:
        return {"path": path, "error": str(exc), "error_type": type(exc).__name__}
    width, height = found.original_size
    result = found.result
    return {
        "path": path,
        "sharpness": result.sharpness,
        "blurry": result.blurry,
        "region": result.region,
        "width": width,
        "height": height,
    }


def _face_detector() -> Any:
    """The face detector whose boxes make the faces decide (region "faces"); without faces the sharpest salient
    region decides. Only the detector is loaded (no recognition models)."""
    from photosift.faces.engine import default_detector

    return default_detector()


def _print_table(records: list[dict[str, Any]]) -> None:
    rows = []
    for r in records:
        if "error" in r:
            rows.append([r["path"], "", "", "", "", f"error: {r['error']}"])
        else:
            verdict = "blurry" if r["blurry"] else "sharp"
            rows.append([r["path"], f"{r['sharpness']:.1f}", verdict, r["region"], f"{r['width']}x{r['height']}", ""])
    output.print_table(["path", "sharpness", "verdict", "region", "size", "note"], rows)
