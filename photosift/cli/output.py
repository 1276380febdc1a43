"""Shared plumbing of the CLI commands: finding images, JSON lines, human tables, progress, errors."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.padding import Padding
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".bmp", ".tif", ".tiff", ".gif"}
PROGRESS_MIN_ITEMS = 4  # show a progress bar from this many items on
_MIN_VALUE_WIDTH = 20  # a record's values narrower than this go below their headers
_FOLD_FROM = 10  # a table cell's word longer than this (a path) may be folded across lines; shorter ones stay whole
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
    """Print a human-readable table on stdout, as wide as the terminal at most.

    A header is wrapped at its spaces only, never inside a word; a long cell word (a path) is folded rather than cut.
    When the columns cannot fit so, each row is printed as a record instead: one ``header  value`` line per column.
    """
    console = Console()
    cells = [["" if cell is None else str(cell) for cell in row] for row in rows]
    widths = column_widths(columns, cells, console.width)
    if widths is None:
        _print_records(console, columns, cells)
        return
    table = Table()
    for column, width in zip(columns, widths, strict=True):
        table.add_column(Text(column), width=width, overflow="fold")
    for row in cells:
        table.add_row(*map(Text, row))  # Text: a cell such as "[1, 2]" or a path is not read as rich markup
    console.print(table)


def column_widths(columns: list[str], rows: list[list[str]], total: int) -> list[int] | None:
    """Widths of the columns (without padding) of a table at most ``total`` cells wide, or ``None`` when it would
    have to break a header word or fold a cell word of up to ``_FOLD_FROM`` cells. The widest columns give way
    first: wrapping text at its spaces, then folding long words (paths)."""
    by_column = [[column, *(row[i] for row in rows)] for i, column in enumerate(columns)]
    widths = [max(map(cell_len, texts)) for texts in by_column]
    unfolded = [max(_longest_word(texts[:1]), _longest_word(texts[1:])) for texts in by_column]
    floors = [max(_longest_word(texts[:1]), min(_longest_word(texts[1:]), _FOLD_FROM)) for texts in by_column]
    room = total - (3 * len(columns) + 1)  # rich's default box: a border, and a space each side of every cell
    if sum(floors) > room:
        return None
    for limits in (unfolded, floors):
        while sum(widths) > room and (shrinkable := [i for i, w in enumerate(widths) if w > limits[i]]):
            widths[max(shrinkable, key=lambda i: widths[i])] -= 1
    return widths


def _print_records(console: Console, columns: list[str], rows: list[list[str]]) -> None:
    """Each row as ``header  value`` lines (empty values left out; on a very narrow terminal the value goes below
    its header, indented), a blank line between rows."""
    label = min(max(map(cell_len, columns)), max(_longest_word(columns), console.width // 3))
    stacked = console.width - label - 2 < _MIN_VALUE_WIDTH
    grid = Table.grid(padding=(0, 2))
    grid.add_column(width=None if stacked else label, overflow="fold")
    if not stacked:
        grid.add_column(overflow="fold")
    for n, row in enumerate(rows):
        if n:
            grid.add_row(*[""] * len(grid.columns))
        for column, cell in zip(columns, row, strict=True):
            if not cell and column != columns[0]:
                continue
            if stacked:
                grid.add_row(Text(column))
                grid.add_row(Padding(Text(cell), (0, 0, 0, 2)))
            else:
                grid.add_row(Text(column), Text(cell))
    with console.capture() as captured:
        console.print(grid)
    sys.stdout.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))  # no padding at the ends


def _longest_word(texts: Iterable[str]) -> int:
    return max((cell_len(word) for text in texts for word in text.split()), default=0)


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
