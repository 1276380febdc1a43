"""``photosift worker``: an analysis-only node (no HTTP) that works through the catalog's job queue."""

from __future__ import annotations

import argparse
import faulthandler
import logging
import signal
import threading
import time

from photosift.cli.output import fail


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "worker", help="run background analysis only (no HTTP), for more machines",
        description="Analyse the photos queued in the catalog, with no HTTP service: a worker node beside "
                    "'photosift serve' nodes sharing one catalog (PHOTOSIFT_DATABASE_URL, PostgreSQL for several "
                    "machines) and one store (PHOTOSIFT_STORE_URL). PHOTOSIFT_WORKERS analysis processes (default "
                    "2, one per core). SIGTERM or Ctrl-C stops it: running jobs may finish for 10 seconds, the "
                    "others go back to the queue.",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from photosift.application.background import STOP_SECONDS, Background
    from photosift.application.context import build_services
    from photosift.config import load_settings
    from photosift.errors import PhotosiftError
    from photosift.jobs.pool import one_blas_thread

    settings = load_settings()
    if settings.workers < 1:
        return fail("a worker needs PHOTOSIFT_WORKERS of 1 or more")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    one_blas_thread()
    try:
        background = Background(build_services(settings), streams=False)
    except PhotosiftError as exc:
        return fail(str(exc))
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    background.start()
    log = logging.getLogger("photosift.jobs")
    log.info("worker started: %d analysis processes", settings.workers)
    while not stop.wait(1.0):  # a timeout: the main thread looks again even if another thread took the signal
        pass
    started = time.monotonic()
    log.info("worker stopping: running jobs may finish for %g s", STOP_SECONDS)
    # a stop that takes far longer than its grace writes every thread's stack to the log (where it waits)
    faulthandler.dump_traceback_later(STOP_SECONDS + 10)
    background.stop()
    log.info("worker stopped in %.1f s", time.monotonic() - started)
    return 0
