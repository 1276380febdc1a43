"""The analysis processes stop when told: a call still running is abandoned, not waited for (a worker's SIGTERM
promises to stop within its grace period; the interpreter's exit would otherwise wait for the call), and no call
after the stop starts them again."""

from __future__ import annotations

import threading
import time

import pytest
from processes import all_ended

from photosift.jobs.pool import AnalysisProcesses, PoolClosed


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

