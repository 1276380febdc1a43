"""``GET /v1/albums/{id}/download``: a member's photos, a person's, or a selection, as one streamed ZIP."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from photosift.api.deps import AlbumId, ServicesDep
from photosift.application import downloads, validation

router = APIRouter(tags=["photos"])
_NOT_PLAIN = re.compile(r'[^\x20-\x7e]+|["\\%]')  # what the ASCII filename= fallback replaces


@router.get("/albums/{album_id}/download", response_class=StreamingResponse,
            responses={200: {"content": {"application/zip": {}}, "description": "a ZIP of the original photos"}})
def download_photos(
    album_id: AlbumId, svc: ServicesDep,
    member: Annotated[str | None, Query(description="the photos this member id was matched in")] = None,
    person: Annotated[str | None, Query(description="the photos with a face of this person id")] = None,
    photo_ids: Annotated[str | None, Query(description=f"comma-separated photo ids of the album (up to "
                                                       f"{validation.MAX_LIST})")] = None,
) -> StreamingResponse:
    """The original bytes of the chosen photos (exactly one of ``member``, ``person``, ``photo_ids``) as a ZIP with
    their uploaded file names (a number added to a repeated name), in capture-time order, streamed with its
    ``Content-Length``. An unknown member, person or photo is 404; ``member=null``, a malformed id or no choice
    is 400."""
    ids = None if photo_ids is None else [part.strip() for part in photo_ids.split(",")]
    archive = downloads.album_download(svc, album_id, member_id=member, person_id=person, photo_ids=ids)
    headers = {"Content-Length": str(archive.size), "Cache-Control": "private, no-store",
               "Content-Disposition": content_disposition(archive.filename)}
    return StreamingResponse(archive.chunks, media_type="application/zip", headers=headers)


def content_disposition(filename: str) -> str:
    """``attachment`` named ``filename`` for every client: ``filename*`` in UTF-8 (RFC 6266 / 8187), and a plain
    ASCII ``filename`` for clients that ignore it (accents dropped: "Zoë" -> "Zoe"; other non-ASCII runs, quotes,
    backslashes and ``%`` as ``_``)."""
    unaccented = "".join(c for c in unicodedata.normalize("NFKD", filename) if not unicodedata.combining(c))
    fallback = _NOT_PLAIN.sub("_", unaccented)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
