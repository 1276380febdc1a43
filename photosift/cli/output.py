"""Shared plumbing of the CLI commands: finding images, JSON lines, human tables, progress, errors."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".bmp", ".tif", ".tiff", ".gif"}
PROGRESS_MIN_ITEMS = 4  # show a progress bar from this many items on
EXIT_CODES = """\
Exit codes: 0 done; 1 some files could not be used (each one reported, the others processed); 2 bad arguments or
the command could not run (one line on stderr); 130 interrupted."""

stderr = Console(stderr=True)


def expand_paths(arguments: Iterable[str]) -> list[str]:
    """Files as given, folders expanded recursively to their image files (sorted); paths keep the caller's form.

    A path that does not exist is kept, so the command reports it as a per-item error.
    """
    found: list[str] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            found.extend(
                str(p) for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            )
        else:
            found.append(argument)
    return found


def epilog(*examples: str) -> str:
    """The end of a command's ``--help``: examples, one per line, and the exit codes."""
    return "examples:\n\n" + "\n".join(f"  {e}" for e in examples) + "\n\n" + EXIT_CODES


def emit_json(record: dict[str, Any]) -> None:
    """Print one JSON object on its own line of stdout."""
    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def print_table(columns: list[str], rows: list[list[Any]]) -> None:
    """Print a human-readable table on stdout."""
    table = Table()
    for column in columns:
        table.add_column(column, overflow="fold")  # never cut a path short, even on a narrow terminal
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    Console().print(table)


def fail(message: str, code: int = 2) -> int:
    """Print a one-line error on stderr and return ``code`` for the process exit."""
    print(f"photosift: {' '.join(message.split())}", file=sys.stderr)  # one line, never wrapped
    return code


def warn(message: str) -> None:
    """Print a one-line warning on stderr (stdout stays machine-readable)."""
    print(f"photosift: warning: {' '.join(message.split())}", file=sys.stderr)


def score(text: str) -> float:
    """argparse type of a 0-100 threshold (``--threshold``): a number from 0 to 100, else a usage error."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 100.0:  # NaN fails too
        raise argparse.ArgumentTypeError(f"must be between 0 and 100, got {text}")
    return value


@contextmanager
def progress(total: int, description: str) -> Iterator[Any]:
    """A progress bar on stderr when it is a terminal and there are at least ``PROGRESS_MIN_ITEMS`` items; yields
    ``advance()``. (Elsewhere rich would leave an empty line on stderr.)"""
    if total < PROGRESS_MIN_ITEMS or not stderr.is_terminal:
        yield lambda: None
        return
    bar = Progress(
        TextColumn(description), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=stderr,
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=total)
        yield lambda: bar.advance(task)
