"""``Services``: the parts one server process wires together from ``Settings``."""

from __future__ import annotations

from dataclasses import dataclass, field

from photosift.application.events import EventHub
from photosift.catalog.db import Catalog
from photosift.config import Settings
from photosift.imaging import DecodeLimits
from photosift.jobs.engine_pool import EnginePool
from photosift.jobs.pool import AnalysisProcesses
from photosift.jobs.queue import JobQueue
from photosift.store.base import BlobStore
from photosift.store.factory import store_from_settings


@dataclass
class Services:
    """Store, catalog, job queue, engine pools (interactive threads, analysis processes) and event hub."""

    settings: Settings
    store: BlobStore
    catalog: Catalog
    queue: JobQueue
    engine: EnginePool
    analysis: AnalysisProcesses
    hub: EventHub = field(default_factory=EventHub)
    wake_workers: object = None  # callable(n) set by the job runner once started

    @property
    def limits(self) -> DecodeLimits:
        return DecodeLimits(max_bytes=self.settings.max_upload_bytes, max_pixels=self.settings.max_pixels)

    def notify_jobs(self, n: int = 1) -> None:
        """Tell idle workers of this process that ``n`` jobs were queued (other processes learn it from the
        catalog: PostgreSQL's notifications, or their polling)."""
        if callable(self.wake_workers):
            self.wake_workers(n)


def verify_engine() -> None:
    """Check the face models this server will load against their pinned SHA-256 (``ModelUnavailable`` otherwise):
    a server calls it at start-up, before it accepts work."""
    from photosift import faces

    faces.verify_models()


def build_services(settings: Settings, *, migrate: bool = True) -> Services:
    """Open the store and catalog ``settings`` name (running migrations unless ``migrate`` is False)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    catalog = Catalog(settings.resolved_database_url)
    if migrate:
        catalog.migrate()
    return Services(
        settings=settings,
        store=store_from_settings(settings),
        catalog=catalog,
        queue=JobQueue(catalog, max_attempts=settings.job_max_attempts, lease_seconds=settings.job_lease_seconds),
        engine=EnginePool(max(1, settings.workers), max_pending=settings.engine_max_pending),
        analysis=AnalysisProcesses(settings.workers),
    )
