"""Where batch engine work runs: ``AnalysisProcesses``, the server's background photo analysis in worker processes;
``spawn_pool``, the process pool every batch (server, CLI, evaluations, benchmarks) runs the engine in. Interactive
calls run in threads: ``photosift.jobs.engine_pool``.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")


class PoolClosed(RuntimeError):
    """A call to analysis processes that were shut down (the server or worker is stopping)."""


BACKGROUND_NICE = 10  # scheduling priority of background analysis: requests of the server's own process go first


class AnalysisProcesses:
    """``workers`` processes for background analysis (one per core, each single-threaded, at ``BACKGROUND_NICE``).

    Batch analysis is mostly engine work; in threads of the server it would compete with request handling for the
    GIL (uploads were acknowledged at p95 407 ms per photo that way, when the detector still held the GIL); in
    processes, uploads are acknowledged at once while photos are analysed. Processes start on first use ("spawn":
    no fork of a threaded server) and load the models once. A worker that dies (e.g. killed for memory) breaks the
    pool: it is rebuilt and the call raises, so the job is retried.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._closed = False

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in a worker process (``fn`` and its arguments must pickle); blocks until done.
        Raises ``PoolClosed`` after ``shutdown`` (no process is started again)."""
        with self._lock:  # submitted under the lock: ``shutdown`` sees every process a call started
            if self._closed:
                raise PoolClosed("the analysis processes were stopped")
            if self._executor is None:
                self._executor = spawn_pool(self.workers, nice=BACKGROUND_NICE)
            executor = self._executor
            future = executor.submit(fn, *args, **kwargs)
        try:
            return future.result()
        except BrokenProcessPool:
            with self._lock:
                if self._executor is executor:
                    self._executor = None
            raise

    def shutdown(self) -> None:
        """Stop the worker processes (running calls are abandoned; their jobs are taken again at the next start).
        The processes are terminated: left running, the interpreter's exit would wait for their calls to finish."""
        with self._lock:
            executor, self._executor, self._closed = self._executor, None, True
        if executor is not None:
            terminate(executor)


def spawn_pool(
    workers: int, initializer: Callable[..., object] | None = None, initargs: tuple = (), *, nice: int = 0,
    fork: bool = False,
) -> ProcessPoolExecutor:
    """``workers`` engine processes, one per core: started with "spawn" (a forked child of a process that already
    loaded the models can deadlock in their thread pools), single-threaded, reusing freed memory
    (``keep_freed_memory``), exiting when their parent dies, ``nice`` steps below this process's scheduling
    priority, then ``initializer(*initargs)`` (a module-level function, e.g. to load models).

    ``fork``: forked from this process instead where that is safe (``can_fork``): the workers share the imports
    this process has made rather than making them again (~0.25 s of a command's start-up on two cores).

    Exiting with the parent, however early it dies (even SIGKILL while a worker is still starting): each worker
    inherits the reading end of a pipe ("lifeline") whose only writing end the parent holds and never writes to; a
    thread of the worker waits on it and ends the worker when it reads end-of-file, which the kernel delivers as soon
    as the parent is gone (also if it died before the worker got there). ``prctl(PR_SET_PDEATHSIG)`` alone would not
    do: it fires when the *thread* that started the worker ends, and workers start from whichever thread submits.
    """
    forked = fork and can_fork()
    context = multiprocessing.get_context("fork" if forked else "spawn")
    lifeline, keep = context.Pipe(duplex=False)  # (read end for the workers, write end kept by this process)
    executor = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_process,
                                   initargs=(lifeline, keep if forked else None, nice, initializer, initargs))
    executor._photosift_lifeline = keep  # type: ignore[attr-defined]  # lives (open) as long as the executor
    return executor


def can_fork() -> bool:
    """Whether worker processes may be forked from this one: no thread runs but the main one (a lock another
    thread held at the fork would stay held in the child) and no model was loaded here (a child would inherit the
    engine, and OpenVINO's thread pool does not survive a fork; OpenVINO is imported only to compile a model). What
    a command's imports start is fork-safe: OpenBLAS's and OpenCV's thread pools start again in a forked child, and
    onnxruntime starts no thread before a session runs (with its telemetry off, ``photosift/__init__.py``)."""
    engine = sys.modules.get("photosift.faces.engine")
    models = "openvino" in sys.modules or (engine is not None and engine.loaded())
    return threading.active_count() == 1 and not models


def terminate(executor: ProcessPoolExecutor) -> None:
    """Stop ``executor`` and its processes at once: queued calls are cancelled, running ones abandoned. A graceful
    shutdown would wait for each process to finish its call, then to tear its interpreter and models down (~0.1 s
    of every batch command's exit)."""
    processes = list(executor._processes.values())  # (Python 3.14: executor.terminate_workers())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()


def one_blas_thread() -> None:
    """One BLAS thread per thread of this process: the service's vector arithmetic is small (a search ranks some
    thousands of vectors), and OpenBLAS's own threads, woken for it beside the server's, made a tenth of the
    SearchFaces requests at 100,000 faces 10 ms slower (p95 18.3 -> 11.2 ms, ``benchmarks/search.py --boto3``)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


LARGEST_FROM_HEAP = 32 << 20
"""Bytes: larger arrays are mapped on their own by glibc's malloc (32 MiB, the most it accepts); smaller ones,
such as a 12 MP photo's decoded pixels and the detector's input (9 MiB each), come from the heap."""
HEAP_KEPT = 64 << 20
"""Bytes freed at the top of the heap that glibc's malloc keeps for the next photo rather than returning them."""
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters


def keep_freed_memory() -> None:
    """Let this process reuse one photo's memory for the next (``LARGEST_FROM_HEAP``, ``HEAP_KEPT``). By default
    glibc adapts both thresholds to the largest array freed so far, and an engine process's arrays of a 12 MP photo
    were mapped, faulted in page by page (~3,200 faults, 12 MiB, per photo in ``photosift find``) and returned
    again: half of its kernel time. Nothing happens under another C library (no ``mallopt``)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, LARGEST_FROM_HEAP)
    mallopt(_M_TRIM_THRESHOLD, HEAP_KEPT)


def _init_process(lifeline: Connection, inherited_keep: Connection | None, nice: int,
                  initializer: Callable[..., object] | None, initargs: tuple) -> None:
    if inherited_keep is not None:  # forked: the parent's end of the lifeline came along; only the parent may hold it
        inherited_keep.close()
    threading.Thread(target=_exit_with_parent, args=(lifeline,), daemon=True, name="exit-with-parent").start()
    if nice:
        os.nice(nice)  # lowering one's own priority needs no privilege
    os.environ["OMP_NUM_THREADS"] = "1"  # before the detector's OpenMP runtime loads
    import cv2

    cv2.setNumThreads(1)
    one_blas_thread()
    keep_freed_memory()
    if initializer is not None:
        initializer(*initargs)


def _exit_with_parent(lifeline: Connection) -> None:
    """Block until the parent's end of ``lifeline`` closes (the parent died or dropped the pool), then exit."""
    with contextlib.suppress(EOFError, OSError):
        lifeline.recv_bytes()  # the parent never sends: this returns or raises only at end-of-file
    os._exit(0)
