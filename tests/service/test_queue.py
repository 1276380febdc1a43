"""The catalog-backed job queue: claiming, retries with a failure limit, and recovery after a crash."""

from __future__ import annotations

from photosift.catalog.db import Catalog
from photosift.catalog.models import Album, Job, JobStatus
from photosift.jobs.queue import JobQueue, mark_done


def _catalog(tmp_path) -> Catalog:
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    catalog.migrate()
    with catalog.session() as session:
        session.add(Album(id="a" * 20, name="album"))
        session.add_all([Job(kind="analyze", album_id="a" * 20) for _ in range(2)])
    return catalog


def _status(catalog: Catalog, job_id: int) -> Job:
    with catalog.read() as session:
        return session.get(Job, job_id)


def test_claim_in_order_and_complete(tmp_path) -> None:
    catalog = _catalog(tmp_path)
    queue = JobQueue(catalog)
    first, second = queue.claim(), queue.claim()
    assert (first.id, second.id) == (1, 2)
    assert queue.claim() is None
    assert first.status == JobStatus.RUNNING and first.attempts == 1
    with catalog.session() as session:
        mark_done(session, first.id)
    assert _status(catalog, first.id).status == JobStatus.DONE
    assert queue.counts() == {"done": 1, "running": 1}


def test_three_failures_mark_failed_with_error(tmp_path) -> None:
    catalog = _catalog(tmp_path)
    queue = JobQueue(catalog, max_attempts=3, backoff_seconds=0)
    outcomes = []
    for _ in range(3):
        job = queue.claim()
        assert job.id == 1
        outcomes.append(queue.retry_or_fail(job, "RuntimeError: boom"))
    assert outcomes == [False, False, True]
    job = _status(catalog, 1)
    assert (job.status, job.attempts, job.error) == (JobStatus.FAILED, 3, "RuntimeError: boom")
    assert queue.claim().id == 2


def test_retry_waits_for_back_off(tmp_path) -> None:
    queue = JobQueue(_catalog(tmp_path), backoff_seconds=3600)
    job = queue.claim()
    queue.retry_or_fail(job, "boom")
    assert queue.claim().id == 2  # job 1 is queued but not before its back-off
    assert queue.claim() is None


def test_recover_requeues_jobs_of_a_dead_worker(tmp_path) -> None:
    catalog = _catalog(tmp_path)
    before = JobQueue(catalog)
    assert before.claim().id == 1  # then the process "dies" with job 1 running
    after = JobQueue(catalog)
    assert after.recover() == 1
    job = after.claim()
    assert (job.id, job.attempts) == (1, 2)
