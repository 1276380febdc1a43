"""The catalog-backed job queue: claiming, retries with a failure limit, recovery after a crash (only of workers
that are gone), results committed only while the claim holds, and a runner that releases its job at a stop."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from photosift.catalog.db import Catalog
from photosift.catalog.models import Album, Job, JobStatus, utcnow
from photosift.jobs.queue import JobQueue, LeaseLost, mark_done
from photosift.jobs.runner import JobRunner


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
        mark_done(session, first)
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


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_recover_leaves_the_jobs_of_live_workers_of_this_host(tmp_path) -> None:
    catalog = _catalog(tmp_path)
    host = socket.gethostname()
    with catalog.session() as session:  # job 1: a live process of this host (pid 1); job 2: a process that ended
        session.execute(update(Job).where(Job.id == 1).values(status=JobStatus.RUNNING, worker=f"{host}:1:ab",
                                                               lease_until=utcnow() + timedelta(hours=1)))
        session.execute(update(Job).where(Job.id == 2).values(status=JobStatus.RUNNING,
                                                               worker=f"{host}:{_dead_pid()}:cd",
                                                               lease_until=utcnow() + timedelta(hours=1)))
    assert JobQueue(catalog).recover() == 1
    assert (_status(catalog, 1).status, _status(catalog, 2).status) == (JobStatus.RUNNING, JobStatus.QUEUED)
    with catalog.session() as session:  # another machine's job comes back only once its lease expired
        session.execute(update(Job).where(Job.id == 1).values(worker="elsewhere:1:ab",
                                                               lease_until=utcnow() - timedelta(seconds=1)))
    assert JobQueue(catalog).recover() == 1  # job 1, whose lease expired (job 2 is queued already)
    assert _status(catalog, 1).status == JobStatus.QUEUED


def test_results_of_a_lost_claim_are_not_committed(tmp_path) -> None:
    catalog = _catalog(tmp_path)
    slow, other = JobQueue(catalog, lease_seconds=0.001), JobQueue(catalog)
    lost = slow.claim()
    taken = other.claim()
    assert taken.id == lost.id and taken.worker != lost.worker  # the first lease expired: the job was taken over
    with pytest.raises(LeaseLost), catalog.session() as session:
        session.add(Album(id="b" * 20, name="result of the lost claim"))
        mark_done(session, lost)
    with catalog.read() as session:
        assert session.get(Album, "b" * 20) is None  # rolled back with the completion
    assert slow.retry_or_fail(lost, "late failure") is False  # and its failure changes nothing
    assert _status(catalog, lost.id).status == JobStatus.RUNNING
    with catalog.session() as session:
        mark_done(session, taken)
    assert _status(catalog, taken.id).status == JobStatus.DONE


class _Blocking:
    """A handler that runs until told to finish, then commits its completion."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog, self.started, self.finish, self.ended = catalog, threading.Event(), threading.Event(), \
            threading.Event()

    def run(self, job: Job) -> None:
        self.started.set()
        self.finish.wait(10)
        try:
            with self.catalog.session() as session:
                mark_done(session, job)
        finally:
            self.ended.set()

    def failed(self, job: Job, error: str) -> None:
        raise AssertionError(error)


def test_a_stopping_runner_releases_the_job_it_could_not_finish(tmp_path) -> None:
    catalog = _catalog(tmp_path)
    handler = _Blocking(catalog)
    runner = JobRunner(JobQueue(catalog), {"analyze": handler}, workers=1, poll_seconds=0.05)
    runner.start()
    assert handler.started.wait(10)
    runner.stop(timeout=0.2)
    job = _status(catalog, 1)
    assert (job.status, job.attempts, job.worker) == (JobStatus.QUEUED, 0, None)  # queued again, attempt not counted
    handler.finish.set()  # the abandoned run ends later: its completion is refused (LeaseLost), nothing changes
    assert handler.ended.wait(10)
    assert _status(catalog, 1).status == JobStatus.QUEUED
    taken = JobQueue(catalog).claim()
    assert (taken.id, taken.attempts) == (1, 1)


def test_a_worker_claims_only_the_kinds_it_handles(tmp_path) -> None:
    catalog = _catalog(tmp_path)
    with catalog.session() as session:
        session.add(Job(kind="regroup", album_id="a" * 20))
    queue = JobQueue(catalog)
    assert queue.claim({"regroup"}).id == 3  # the older analyze jobs are left to workers that handle them
    assert queue.claim({"regroup"}) is None
    assert queue.claim({"analyze", "regroup"}).id == 1
