"""Whether work run in another thread lets this one run (a call that holds the GIL stalls every other thread)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def longest_stall(work: Callable[[], object]) -> tuple[float, float]:
    """Run ``work`` in a thread while this one counts how long it was kept from running at a stretch:
    ``(longest stall, whole time)`` in seconds."""
    done = threading.Event()
    worker = threading.Thread(target=lambda: (work(), done.set()))
    longest, start = 0.0, time.perf_counter()
    last = start
    worker.start()
    while not done.is_set():
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    worker.join()
    return longest, last - start
