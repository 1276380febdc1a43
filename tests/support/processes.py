"""Waiting for processes to end, as seen from /proc (a pool's own thread may reap them first, and then
``Process.is_alive`` and ``join`` cannot tell)."""

from __future__ import annotations

import time
from pathlib import Path


def ended(pid: int | None) -> bool:
    """Whether process ``pid`` has ended (a zombie has)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0] == "Z"
    except (FileNotFoundError, ProcessLookupError):  # gone before, or while, the file was read
        return True


def all_ended(pids: list[int | None], timeout: float = 10) -> bool:
    """Whether every process of ``pids`` ends within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not all(ended(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return all(ended(pid) for pid in pids)
