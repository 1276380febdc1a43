"""The analysis processes stop when told: a call still running is abandoned, not waited for (a worker's SIGTERM
promises to stop within its grace period; the interpreter's exit would otherwise wait for the call), and no call
after the stop starts them again. A pool forked from a command's process only where that is safe, and its workers
die with that process."""

from __future__ import annotations

import os
import platform
import resource
import signal
import subprocess
import sys
import threading
import time

import pytest
from processes import all_ended

from photosift.jobs.pool import AnalysisProcesses, PoolClosed, spawn_pool, terminate


def test_shutdown_ends_a_running_call() -> None:
    pool = AnalysisProcesses(1)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            pool.run(time.sleep, 120)
        except BaseException as exc:  # noqa: BLE001 - whatever the abandoned call raises, it must end
            failure.append(exc)

    caller = threading.Thread(target=run, daemon=True)
    caller.start()
    deadline = time.monotonic() + 60
    while not (pool._executor and pool._executor._processes) and time.monotonic() < deadline:
        time.sleep(0.05)
    processes = list(pool._executor._processes.values()) if pool._executor else []
    assert processes, "the pool did not start"
    time.sleep(0.5)  # the call is running in the process
    pool.shutdown()
    caller.join(10)
    assert not caller.is_alive() and failure
    assert all_ended([p.pid for p in processes])
    with pytest.raises(PoolClosed):  # a call that comes after the stop starts no process again
        pool.run(time.sleep, 0)
    assert pool._executor is None


def test_workers_are_forked_only_from_a_process_that_can_fork() -> None:
    """A command's process after its imports may fork; one running another thread or holding a compiled model may
    not (then the pool spawns), in a fresh interpreter each."""
    checks = {
        "imports": "import photosift.cli.faces",
        "a thread": "import photosift.cli.faces, threading, time; "
                    "threading.Thread(target=time.sleep, args=(5,), daemon=True).start()",
        "a model": "import photosift.cli.faces; from photosift.faces import get_engine; get_engine()",
        "a model in onnxruntime only": "import dataclasses, os; os.environ['PHOTOSIFT_RECOGNIZER'] = 'sface'; "
                                       "import photosift.cli.faces; from photosift.faces import get_engine; "
                                       "from photosift.faces.recognizers import RECOGNIZERS as R; "
                                       "R['sface'] = dataclasses.replace(R['sface'], runtime='onnxruntime'); "
                                       "get_engine(); import sys; assert 'openvino' not in sys.modules",
    }
    answers = {}
    for what, setup in checks.items():
        script = (f"{setup}; from photosift.jobs.pool import can_fork, spawn_pool, terminate; "
                  "pool = spawn_pool(1, fork=True); print(can_fork(), pool._mp_context.get_start_method()); "
                  "terminate(pool)")
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        answers[what] = done.stdout.split()
    assert answers == {"imports": ["True", "fork"], "a thread": ["False", "spawn"], "a model": ["False", "spawn"],
                       "a model in onnxruntime only": ["False", "spawn"]}


def test_forked_workers_die_with_the_process_that_started_them() -> None:
    """The parent's end of the lifeline is closed in a forked worker (else the worker would hold the pipe open and
    never see its parent die): SIGKILL the parent while its workers run a call, and they end."""
    script = ("import os, time; from photosift.jobs.pool import spawn_pool; pool = spawn_pool(2, fork=True); "
              "pool.submit(time.sleep, 120); pool.submit(time.sleep, 120); time.sleep(1); "
              "print(pool._mp_context.get_start_method(), *pool._processes, flush=True); time.sleep(120)")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        method, *workers = parent.stdout.readline().split()  # type: ignore[union-attr]
        assert method == "fork" and len(workers) == 2
    finally:
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
    assert all_ended([int(pid) for pid in workers])


def _faults_of_a_photo_s_arrays() -> int:
    """Page faults of allocating (and filling) what the engine allocates for a 12 MP photo, the third time."""
    import numpy as np

    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        arrays = [np.ones((1500, 2000, 3), np.uint8), np.ones((1, 3, 768, 1024), np.float32),
                  np.ones((750, 1000), np.float32)]
        del arrays
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc parameters")
def test_engine_processes_reuse_a_photo_s_memory() -> None:
    """A worker allocates the next photo's arrays in the memory of the last one: no page is faulted in again (by
    default ~1,600 faults for these arrays, every time)."""
    pool = spawn_pool(1)
    try:
        assert pool.submit(_faults_of_a_photo_s_arrays).result() < 100
    finally:
        terminate(pool)
