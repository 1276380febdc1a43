"""Small helpers shared by the benchmark scripts: timing, markdown tables, a server to measure and its memory."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np


def time_per_item(function: Callable[[Any], object], items: Sequence[Any], rounds: int = 3) -> float:
    """Median over ``rounds`` of the mean milliseconds ``function(item)`` takes per item (one warm-up call first)."""
    function(items[0])
    per_round = []
    for _ in range(rounds):
        start = time.perf_counter()
        for item in items:
            function(item)
        per_round.append((time.perf_counter() - start) * 1000.0 / len(items))
    return statistics.median(per_round)


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def own_peak_kib() -> int:
    """This process's peak resident memory (VmHWM), KiB. Not ``ru_maxrss``: in a process started by "spawn" (fork +
    exec) that starts at the parent's peak, since exec folds the forked copy's high-water mark into it."""
    return int(_status(os.getpid())["VmHWM"] * 1024)


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_serve(data_dir: Path, **env: str) -> tuple[subprocess.Popen, str]:
    """``photosift serve`` on a free loopback port with ``PHOTOSIFT_DATA_DIR=data_dir`` and ``env`` added to this
    process's environment (its output in ``data_dir/server.log``): (process, base URL) once ``/healthz`` answers."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen([sys.executable, "-m", "photosift", "serve", "--port", str(port)],
                               env={**os.environ, "PHOTOSIFT_DATA_DIR": str(data_dir), **env},
                               stdout=log, stderr=subprocess.STDOUT)
    return process, wait_healthy(process, f"http://127.0.0.1:{port}", data_dir / "server.log")


def wait_healthy(process: subprocess.Popen, url: str, log: Path | None = None) -> str:
    """``url`` once the server's ``/healthz`` answers; raises when ``process`` exits first (the end of ``log``) or
    after a minute."""
    for _ in range(600):
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log else ""
            raise RuntimeError("the server exited: " + tail)
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def stop_serve(process: subprocess.Popen) -> None:
    """Terminate a server of :func:`start_serve` (its analysis processes exit with it)."""
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def pgserver_database(workdir: Path) -> Iterator[str]:
    """A PostgreSQL 16 server (the ``pgserver`` wheel's) in ``workdir/pg``: the SQLAlchemy URL of an empty
    database on it, for the block."""
    import pgserver

    server = pgserver.get_server(workdir / "pg", cleanup_mode="stop")
    server.psql("CREATE DATABASE bench;")
    try:
        yield f"postgresql+psycopg://postgres@/bench?host={workdir / 'pg'}"
    finally:
        server.cleanup()


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100, linear interpolation) of ``values``."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


@dataclass
class ProcessMemory:
    """Memory of one process of a tree, in MiB: the largest sampled VmRSS and RssAnon, and the kernel's VmHWM."""

    name: str
    peak_rss: float = 0.0
    peak_anon: float = 0.0
    hwm: float = 0.0


@dataclass
class TreeMemory:
    """Resident memory of process ``pid`` and all its descendants, sampled from ``/proc`` in a thread.

    Every ``interval`` seconds (50 ms) each process's ``VmRSS``, ``RssAnon`` and ``VmHWM`` are read from
    ``/proc/<pid>/status`` and summed over the tree; the tree is re-listed (``/proc/*/stat`` parents) every 5th
    sample. ``peaks[phase]`` is the largest sum seen while ``phase`` was current (set it with :meth:`enter`):
    (VmRSS sum, RssAnon sum) in MiB. Summed VmRSS counts pages the processes share (libraries, mapped model files)
    once per process: an upper bound of what the tree needs; RssAnon leaves file-backed pages out. ``processes``
    keeps each process's own peaks, and its last VmHWM (the kernel's peak, which no sampling interval can miss).
    """

    pid: int
    interval: float = 0.05
    phase: str = "idle after start"
    peaks: dict[str, tuple[float, float]] = field(default_factory=dict)
    processes: dict[int, ProcessMemory] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    def __enter__(self) -> TreeMemory:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def enter(self, phase: str) -> None:
        """Attribute the samples from now on to ``phase`` (one more sample is taken first)."""
        self.sample()
        self.phase = phase

    @property
    def peak(self) -> tuple[float, float]:
        """The largest (VmRSS sum, RssAnon sum) of any phase, MiB."""
        return max(r for r, _ in self.peaks.values()), max(a for _, a in self.peaks.values())

    def sum_hwm(self) -> float:
        """Sum of every process's VmHWM, MiB: each at its own peak, an upper bound of the tree's."""
        return sum(p.hwm for p in self.processes.values())

    def _run(self) -> None:
        tree: list[int] = []
        count = 0
        while not self._stop.is_set():
            if count % 5 == 0:
                tree = _descendants(self.pid)
            self.sample(tree)
            count += 1
            self._stop.wait(self.interval)

    def sample(self, tree: list[int] | None = None) -> None:
        """Read the tree's memory once."""
        with self._lock:
            self._sample(tree if tree is not None else _descendants(self.pid))

    def _sample(self, tree: list[int]) -> None:
        total_rss = total_anon = 0.0
        for pid in tree:
            status = _status(pid)
            if not status:
                continue
            process = self.processes.get(pid)
            if process is None:
                process = self.processes[pid] = ProcessMemory(_process_name(pid))
            rss, anon = status.get("VmRSS", 0.0), status.get("RssAnon", 0.0)
            process.peak_rss, process.peak_anon = max(process.peak_rss, rss), max(process.peak_anon, anon)
            process.hwm = max(process.hwm, status.get("VmHWM", 0.0))
            total_rss += rss
            total_anon += anon
        old_rss, old_anon = self.peaks.get(self.phase, (0.0, 0.0))
        self.peaks[self.phase] = (max(old_rss, total_rss), max(old_anon, total_anon))


def _status(pid: int) -> dict[str, float]:
    """The kB fields of ``/proc/<pid>/status`` we use, in MiB ({} once the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def _descendants(root: int) -> list[int]:
    """``root`` and every process below it (from the parent ids in ``/proc/*/stat``)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat[stat.rindex(")") + 2:].split()[1])
            children.setdefault(parent, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _process_name(pid: int) -> str:
    """A short label: the server, an analysis (multiprocessing) worker, the resource tracker, or the command."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return f"pid {pid}"
    line = " ".join(argv)
    if "resource_tracker" in line:
        return "multiprocessing resource tracker"
    if "spawn_main" in line or "forkserver" in line:
        return "analysis worker process"
    if "photosift" in line and "serve" in argv:
        return "photosift serve"
    return line[:60]


def print_memory(memory: TreeMemory) -> None:
    """The per-process and per-phase tables of a :class:`TreeMemory` run."""
    print(markdown_table(["server process", "peak VmRSS (sampled)", "VmHWM", "peak RssAnon"],
                         [[p.name, f"{p.peak_rss:.0f} MiB", f"{p.hwm:.0f} MiB", f"{p.peak_anon:.0f} MiB"]
                          for p in memory.processes.values()]))
    print()
    print(markdown_table(["server tree, phase", "peak VmRSS sum", "peak RssAnon sum"],
                         [[phase, f"{rss:.0f} MiB", f"{anon:.0f} MiB"] for phase, (rss, anon) in memory.peaks.items()]))
