"""``GET /v1/albums/{id}/events``: the album's event log as Server-Sent Events, live."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from photosift.api.deps import AlbumId, PrincipalDep, ServicesDep
from photosift.application.access import Principal, still_valid
from photosift.application.albums import get_album
from photosift.application.context import Services
from photosift.application.events import read_events
from photosift.application.validation import MAX_EVENT_ID, check_event_id

router = APIRouter(tags=["events"])

POLL_SECONDS = 2.0  # check the access this often; re-read the log too unless notifications wake the stream
KEEPALIVE_SECONDS = 15.0


@router.get("/albums/{album_id}/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "an endless SSE stream"}})
async def album_events(
    album_id: AlbumId, svc: ServicesDep, principal: PrincipalDep,
    after: Annotated[int, Query(ge=0, le=MAX_EVENT_ID,
                                description="replay events with id > after (0: the whole history)")] = 0,
    last_event_id: Annotated[str | None, Header(
        max_length=19, pattern=r"^[0-9]+$", description="resume after this event id (set by EventSource; overrides "
                                                         "after)")] = None,
) -> StreamingResponse:
    """Server-Sent Events of the album: ``photo.added``, ``photo.analyzed`` (full results), ``photo.failed``,
    ``photo.deleted`` (``{"photo_ids"}``),
    ``photo.matched`` (a photo's member matches changed), ``member.updated``, ``member.deleted``, ``people.changed``
    (people grouped or corrected), ``album.matched`` (a re-match is over), ``album.updated`` (renamed),
    ``album.reembedding`` (``{"done", "total"}``: faces being embedded again by a new recogniser),
    ``album.reembedded`` (that is over), and ``album.deleted`` (the stream then ends). Each event's ``id`` can resume
    the stream (``Last-Event-ID``).
    A malformed ``after`` or ``Last-Event-ID`` (not digits, or beyond 2^63-1) is refused with 400, before the
    stream starts. The stream ends when the session or share link it was opened with is revoked."""
    start = check_event_id(last_event_id, "Last-Event-ID") if last_event_id else after
    await run_in_threadpool(get_album, svc, album_id)  # 404 before the stream starts
    return StreamingResponse(_stream(svc, album_id, start, principal), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _stream(svc: Services, album_id: str, after: int, principal: Principal) -> AsyncIterator[str]:
    yield "retry: 2000\n\n"
    last_sent = time.monotonic()
    woken = True
    with svc.hub.subscribe(album_id) as wake:
        while True:
            wake.clear()
            if not await run_in_threadpool(still_valid, svc, principal):
                return  # signed out or revoked: the browser's reconnection then gets 401
            if woken or not svc.hub.listening:  # PostgreSQL's notifications wake it for any server's events
                events = await run_in_threadpool(read_events, svc.catalog, album_id, after)
                for event in events:
                    after = event.id
                    data = json.dumps(event.data, separators=(",", ":"))
                    yield f"id: {event.id}\nevent: {event.type}\ndata: {data}\n\n"
                if events:
                    last_sent = time.monotonic()
                    continue
                if not await run_in_threadpool(_album_exists, svc, album_id):
                    yield f"event: album.deleted\ndata: {json.dumps({'album_id': album_id})}\n\n"
                    return
            try:
                await asyncio.wait_for(wake.wait(), timeout=POLL_SECONDS)
                woken = True
            except TimeoutError:
                woken = False
                if time.monotonic() - last_sent >= KEEPALIVE_SECONDS:
                    last_sent = time.monotonic()
                    yield ": keep-alive\n\n"


def _album_exists(svc: Services, album_id: str) -> bool:
    from photosift.catalog.models import Album

    with svc.catalog.read() as session:
        return session.get(Album, album_id) is not None
