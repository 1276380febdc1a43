"""``EnginePool``: the server's interactive engine calls (request handlers await them) in a bounded thread pool,
refusing work when saturated."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from photosift.errors import Busy

T = TypeVar("T")


class EnginePool:
    """A bounded thread pool for interactive engine calls (request handlers await ``run``).

    ``workers`` threads run at once (the face detector, OpenCV and Pillow release the GIL while they compute, so the
    event loop keeps serving: ``benchmarks/event_loop.py``); at most ``max_pending`` calls may be running or
    waiting, beyond that ``run`` raises ``Busy`` at once so a saturated server answers 503 instead of queueing
    requests without bound.
    """

    def __init__(self, workers: int, max_pending: int | None = None, name: str = "engine") -> None:
        self.workers = workers
        self.max_pending = max_pending if max_pending is not None else workers * 8
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._pending = 0
        self._lock = threading.Lock()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in the pool; raises ``photosift.errors.Busy`` when ``max_pending`` calls are in flight."""
        with self._lock:
            if self._pending >= self.max_pending:
                raise Busy(f"the server is analysing {self._pending} images; try again shortly")
            self._pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        finally:
            with self._lock:
                self._pending -= 1

    def shutdown(self) -> None:
        """Stop accepting work; running calls finish in the background."""
        self._executor.shutdown(wait=False, cancel_futures=True)
