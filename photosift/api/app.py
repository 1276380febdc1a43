"""``create_app``: the FastAPI application of ``photosift serve``.

``app.state`` carries ``settings``, ``store`` (BlobStore), ``catalog`` (Catalog), ``engine`` (EnginePool: ``await
engine.run(fn, *args)`` runs blocking engine work in the pool, raising ``Busy`` when saturated) and ``services``.
Background work (``application.background``: job workers, none when ``PHOTOSIFT_WORKERS=0``, and PostgreSQL's
notifications) starts with the application's lifespan and stops with it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles

import photosift
from photosift.api.deps import OWNER_ONLY, check_path_ids, check_scope, require_access
from photosift.api.docs import install_docs
from photosift.api.errors import install_error_handlers
from photosift.api.middleware import RequestGuard, UploadGate
from photosift.api.routes import (
    albums,
    deletion,
    downloads,
    events,
    members,
    people,
    photos,
    session,
    shares,
    suggestions,
)
from photosift.api.schemas import ERROR_RESPONSES
from photosift.api.throttle import SignInThrottle
from photosift.application.access import OwnerCredentials
from photosift.application.background import Background
from photosift.application.context import build_services, verify_engine
from photosift.application.reembedding import reembedding_status
from photosift.config import Settings, get_settings

log = logging.getLogger("photosift.api")
STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    """The application for ``settings`` (default: from the environment). Runs catalog migrations."""
    settings = settings or get_settings()
    verify_engine()  # a missing or altered model file stops the start (ModelUnavailable)
    owner = OwnerCredentials(settings)  # a malformed key entry stops the start (InvalidInput)
    services = build_services(settings)
    background = Background(services)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        background.start()
        try:
            yield
        finally:
            background.stop()

    app = FastAPI(
        title="photosift", version=photosift.__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
        description="Self-hosted photo analysis: albums, members, blur and face results, events (SSE), and a "
                    "Rekognition-compatible endpoint at POST /. Errors: {\"error\": {\"type\", \"message\"}}.",
    )
    app.state.settings = settings
    app.state.services = services
    app.state.store = services.store
    app.state.catalog = services.catalog
    app.state.engine = services.engine
    app.state.owner_credentials = owner
    app.state.sign_in_throttle = SignInThrottle()
    install_error_handlers(app)
    install_docs(app)  # /docs and /redoc from installed assets (no CDN)
    app.add_middleware(UploadGate, settings=settings)  # credentials before an upload's body is read
    app.add_middleware(RequestGuard, settings=settings)  # outermost: Host and Origin rules for every route

    @app.get("/healthz", tags=["service"])
    def health() -> dict[str, str]:
        """Liveness: the process answers (no authentication)."""
        return {"status": "ok"}

    # Who may do what is decided here, once for every route (photosift.api.deps: credentials, ids, share scope).
    v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_access), Depends(check_path_ids),
                                               Depends(check_scope)], responses=ERROR_RESPONSES)
    for module in (albums, members, photos, deletion, downloads, people, suggestions, events, shares):
        v1.include_router(module.router)

    @v1.get("/status", tags=["service"], openapi_extra=OWNER_ONLY)
    def status() -> dict[str, object]:
        """Job counts per status (queued, running, done, failed), the worker count, and the re-embedding after a
        change of recogniser: ``reembedding`` ``{"albums", "faces"}`` still to do (both 0 when none is)."""
        return {"jobs": services.queue.counts(), "workers": settings.workers,
                "reembedding": reembedding_status(services)}

    app.include_router(v1)
    app.include_router(session.router, prefix="/v1", responses=ERROR_RESPONSES)  # sign-in: no access rule
    _include_rekognition(app)
    # The web UI (photosift/api/static/, written separately) is served at "/" once it exists. Mounted last, so
    # every API route (and the Rekognition POST /) matches first.
    if (STATIC_DIR / "index.html").is_file():
        app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="static")
    return app


def _include_rekognition(app: FastAPI) -> None:
    # The Rekognition-compatible JSON 1.1 endpoint (POST / with X-Amz-Target) lives in photosift.api.rekognition,
    # written in parallel; until that package exists the native API runs without it.
    try:
        from photosift.api.rekognition import router as rekognition_router
    except ModuleNotFoundError as exc:
        if exc.name != "photosift.api.rekognition":
            raise
        log.info("photosift.api.rekognition is not installed; POST / is unavailable")
        return
    app.include_router(rekognition_router)
