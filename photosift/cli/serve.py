"""``photosift serve [--host H] [--port P]``: the HTTP service (native API, Rekognition endpoint, web UI, docs)."""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
from pathlib import Path

from photosift.cli.output import fail


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "serve", help="run the HTTP service",
        description="Run the HTTP service: native REST under /v1, OpenAPI docs at /docs, events as SSE. Data lives "
                    "under PHOTOSIFT_DATA_DIR (default ./photosift-data); migrations run at start. Without "
                    "PHOTOSIFT_API_KEYS the server listens on loopback only.",
    )
    parser.add_argument("--host", help="address to listen on (default PHOTOSIFT_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default PHOTOSIFT_PORT or 8000)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from photosift.api.deps import api_keys, is_loopback_name
    from photosift.config import load_settings
    from photosift.errors import PhotosiftError

    settings = load_settings()
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    if overrides:
        settings = settings.model_copy(update=overrides)
    if not api_keys(settings) and not is_loopback_name(settings.host):
        return fail(f"refusing to listen on {settings.host}: set PHOTOSIFT_API_KEYS to serve beyond loopback")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    spool_uploads_on_disk(settings.data_dir)
    from photosift.api.app import create_app
    from photosift.jobs.pool import one_blas_thread

    one_blas_thread()
    try:
        app = create_app(settings)
    except PhotosiftError as exc:
        return fail(str(exc))
    uvicorn.run(app, host=settings.host, port=settings.port, timeout_graceful_shutdown=3, access_log=False)
    return 0


def spool_uploads_on_disk(data_dir: Path) -> None:
    """Spool incoming uploads (each part beyond 1 MB goes to a temporary file) under ``<data_dir>/tmp``, on the data
    disk, unless ``TMPDIR`` says otherwise: ``/tmp`` is often a RAM-backed tmpfs, where a large upload would take
    memory after all."""
    if os.environ.get("TMPDIR"):
        return
    spool = (data_dir / "tmp").resolve()
    spool.mkdir(parents=True, exist_ok=True)
    tempfile.tempdir = str(spool)  # temporary files are deleted when closed (or when the process dies)
