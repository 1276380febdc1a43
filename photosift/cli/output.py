"""Shared plumbing of the CLI commands: finding images, JSON lines, human tables, progress, errors."""

from __future__ import annotations

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


@contextmanager
def progress(total: int, description: str) -> Iterator[Any]:
    """A progress bar on stderr when there are at least ``PROGRESS_MIN_ITEMS`` items; yields ``advance()``."""
    if total < PROGRESS_MIN_ITEMS:
        yield lambda: None
        return
    bar = Progress(
        TextColumn(description), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=stderr,
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=total)
        yield lambda: bar.advance(task)
