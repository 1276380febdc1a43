"""Background work: a catalog-backed job queue, worker threads that drain it, and the engine pool."""

from photosift.jobs.pool import EnginePool
from photosift.jobs.queue import JobQueue
from photosift.jobs.runner import JobRunner

__all__ = ["EnginePool", "JobQueue", "JobRunner"]
