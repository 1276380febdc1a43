"""Small helpers shared by the benchmark scripts: timing and markdown tables."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any


def time_per_item(function: Callable[[Any], object], items: Sequence[Any], rounds: int = 3) -> float:
    """Median over ``rounds`` of the mean milliseconds ``function(item)`` takes per item (one warm-up call first)."""
    function(items[0])
    per_round = []
    for _ in range(rounds):
        start = time.perf_counter()
        for item in items:
            function(item)
        per_round.append((time.perf_counter() - start) * 1000.0 / len(items))
    return statistics.median(per_round)


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
