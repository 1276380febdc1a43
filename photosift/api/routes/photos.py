"""``/v1/albums/{id}/photos`` (upload, query), ``/v1/albums/{id}/faces``, ``/v1/photos/{id}`` (results, bytes)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, Response, UploadFile
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from photosift.api import schemas
from photosift.api.deps import SHARE_CONTRIBUTE, ServicesDep
from photosift.api.uploads import read_uploads
from photosift.application import photos
from photosift.application.blobs import THUMBNAIL_SIZES
from photosift.catalog import records
from photosift.errors import REPLIES, ImageTooLarge, InvalidInput

router = APIRouter(tags=["photos"])
Limit = Annotated[int, Query(ge=1, le=photos.MAX_PAGE, description="page size")]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]


@router.post("/albums/{album_id}/photos", status_code=202, response_model=schemas.UploadResponse,
             response_model_exclude_none=True,
             responses={400: {"model": schemas.ErrorBody}, 413: {"model": schemas.ErrorBody},
                        503: {"model": schemas.ErrorBody, "description": "the store or catalog is unavailable"},
                        507: {"model": schemas.ErrorBody, "description": "no space left to store the photos"}},
             openapi_extra=SHARE_CONTRIBUTE)
async def upload_photos(album_id: str, svc: ServicesDep,
                        files: Annotated[list[UploadFile], File(description="one or more images")]) -> Any:
    """Upload one or many photos (multipart field ``files``). Answers 202 once every accepted photo is stored and
    recorded, with an id and status ``pending`` per file; a refused file gets an ``error`` instead while the others
    are accepted. Analysis results follow on ``GET /v1/photos/{id}`` and the album's event stream."""
    uploads = await read_uploads(files, svc.settings.max_upload_bytes)
    results = await run_in_threadpool(photos.add_photos, svc, album_id, uploads)
    if any("id" in r for r in results):
        return {"photos": results}
    errors = [r["error"] for r in results]
    status = 413 if all(e["type"] == ImageTooLarge.__name__ for e in errors) else REPLIES[InvalidInput].status
    message = "no file was accepted: " + "; ".join(f"{r['filename']}: {r['error']['message']}" for r in results)
    return JSONResponse({"error": {"type": errors[0]["type"], "message": message}, "photos": results},
                        status_code=status)


@router.get("/albums/{album_id}/photos", response_model=schemas.PhotoPage)
def list_photos(
    album_id: str, svc: ServicesDep, limit: Limit = 50, cursor: Cursor = None,
    member: Annotated[str | None, Query(description="only photos where this member id was matched")] = None,
    blurry: Annotated[bool | None, Query(description="filter by the blur verdict")] = None,
    has_faces: Annotated[bool | None, Query(description="false: analysed photos without faces")] = None,
    status: Annotated[Literal["pending", "done", "failed"] | None, Query()] = None,
    sort: Annotated[Literal["uploaded", "taken_at", "-taken_at"], Query(
        description="uploaded: upload order; taken_at / -taken_at: capture time, oldest / newest first")] = "uploaded",
    taken_after: Annotated[datetime | None, Query(description="taken at or after (ISO 8601; no offset = UTC)")] = None,
    taken_before: Annotated[datetime | None, Query(description="taken before (ISO 8601; no offset = UTC)")] = None,
) -> records.Page:
    """A page of the album's photos (upload order unless ``sort``) with their faces and matches; filters combine
    with AND. An unknown ``member`` is 404; ``member=null`` is 400 (leave it out for every photo)."""
    return photos.list_photos(svc, album_id, member_id=member, blurry=blurry, has_faces=has_faces, status=status,
                              limit=limit, cursor=cursor, sort=sort, taken_after=taken_after,
                              taken_before=taken_before)


@router.get("/albums/{album_id}/faces", response_model=schemas.FacePage)
def list_faces(
    album_id: str, svc: ServicesDep, limit: Limit = 50, cursor: Cursor = None,
    unknown: Annotated[bool | None, Query(description="true: faces no member matched")] = None,
    member: Annotated[str | None, Query(description="only faces matched to this member id")] = None,
) -> records.Page:
    """A page of the album's faces with their photo ids (``unknown=true``: unknown faces)."""
    return photos.list_faces(svc, album_id, unknown=unknown, member_id=member, limit=limit, cursor=cursor)


@router.get("/photos/{photo_id}", response_model=schemas.Photo)
def get_photo(photo_id: str, svc: ServicesDep) -> records.Photo:
    """A photo's results: status, dimensions, sharpness/blurry, faces (box, confidence, quality) and for each face
    the member it matched with similarity, or ``unknown``."""
    return photos.get_photo(svc, photo_id)


@router.get("/photos/{photo_id}/content", response_class=Response,
            responses={200: {"content": {"image/*": {}}, "description": "the original bytes"}})
def photo_content(photo_id: str, svc: ServicesDep) -> Response:
    """The photo's original bytes, as uploaded."""
    data, content_type = photos.photo_content(svc, photo_id)
    return Response(data, media_type=content_type, headers={"Cache-Control": "private, max-age=31536000, immutable"})


@router.get("/photos/{photo_id}/thumbnail", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}, "description": "a JPEG thumbnail"},
                       503: {"model": schemas.ErrorBody, "description": "Busy: making a new thumbnail must wait"}})
async def photo_thumbnail(
    photo_id: str, svc: ServicesDep,
    size: Annotated[int, Query(description=f"longer side in pixels, one of {THUMBNAIL_SIZES}")] = 256,
    square: Annotated[bool, Query(description="a square across the shorter side that keeps the faces in frame")]
    = False,
) -> Response:
    """An upright JPEG of the photo, whatever its format (HEIC included): ``size=2048`` is its display version.
    Made once, then cached in the store (a cached one is served even when the server is busy analysing).
    ``square=true``: a square crop placed to keep every face whole when they fit (centred before analysis)."""
    thumb = await run_in_threadpool(photos.cached_thumbnail, svc, photo_id, size, square)  # outside the engine pool
    if thumb is None:  # only making one decodes the photo: that waits in the engine pool (503 Busy when saturated)
        thumb = await svc.engine.run(photos.photo_thumbnail, svc, photo_id, size, square)
    cache = "private, max-age=86400" if thumb.final else "no-store"
    return Response(thumb.data, media_type="image/jpeg", headers={"Cache-Control": cache})
