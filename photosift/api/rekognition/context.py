"""What an operation handler gets: the app's parts, the caller's region, and helpers to run blocking work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

T = TypeVar("T")
ACCOUNT_ID = "000000000000"  # photosift has no AWS accounts; ARNs carry this placeholder


@dataclass(frozen=True)
class Context:
    """One request's view of the app. ``engine.run`` is the compute pool (raises ``Busy``); ``catalog`` is SQL."""

    operation: str
    region: str
    settings: Any
    store: Any
    catalog: Any
    engine: Any

    async def compute(self, fn: Callable[..., T], *args: Any) -> T:
        """Run CPU-heavy ``fn(*args)`` (decode, detect, embed) in the engine's worker pool."""
        return await self.engine.run(fn, *args)

    async def io(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking I/O ``fn(*args)`` (catalog, store) off the event loop."""
        return await run_in_threadpool(fn, *args)

    def arn(self, collection_id: str) -> str:
        """The collection's ARN in AWS's format."""
        return f"aws:rekognition:{self.region}:{ACCOUNT_ID}:collection/{collection_id}"
