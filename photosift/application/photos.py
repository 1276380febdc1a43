"""Photos: upload (durable before acknowledged), results, queries with pagination, bytes and thumbnails."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

from photosift.application import blobs
from photosift.application.context import Services
from photosift.application.events import record_event
from photosift.application.validation import check_id
from photosift.catalog import albums, faces, members, photos, records
from photosift.catalog.db import IntegrityError, Session
from photosift.catalog.models import PhotoStatus, utcnow
from photosift.errors import InvalidInput, NotFound, PhotosiftError

MAX_PAGE = 500
SORTS = ("uploaded", "taken_at", "-taken_at")  # list orders: upload order (ids), capture time up or down
_NULL_WORDS = frozenset({"null", "none", "undefined", "nil"})  # what a client sends for "no value" by mistake

# Hashing, fsync and S3 round trips release the GIL: a few threads overlap them across the files of one upload.
_upload_threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="photosift-upload")


@dataclass(frozen=True)
class Upload:
    """One file of a multipart upload: its bytes in ``file`` (a seekable binary file, usually the request's spooled
    temporary file: large uploads are never held in memory whole), or ``error`` when it was refused while being
    received (e.g. too large)."""

    filename: str | None
    file: BinaryIO | None
    size: int = 0
    error: PhotosiftError | None = None

    @classmethod
    def from_bytes(cls, filename: str | None, data: bytes) -> Upload:
        """An upload of ``data`` held in memory."""
        return cls(filename=filename, file=io.BytesIO(data), size=len(data))

    @classmethod
    def refused(cls, filename: str | None, error: PhotosiftError) -> Upload:
        """A file refused while it was received."""
        return cls(filename=filename, file=None, error=error)

    @property
    def data(self) -> bytes:
        """The whole file in memory (for callers that decode it at once, e.g. a member's reference photo)."""
        if self.file is None:
            return b""
        self.file.seek(0)
        return self.file.read()


def add_photos(svc: Services, album_id: str, uploads: list[Upload]) -> list[dict[str, Any]]:
    """Store each upload and record it as a ``pending`` photo with an ``analyze`` job, in one transaction.

    Returns one entry per upload, in order: ``{"filename", "id", "status", "duplicate"}`` or
    ``{"filename", "error": {"type", "message"}}`` for a file that was refused (the others are still accepted).
    The same bytes uploaded again to the same album give the existing photo (``duplicate: true``).
    The uploads are stored side by side but recorded one after the other, in order: their ids (the album's upload
    order) and upload times increase in the order of ``uploads``.
    When this returns, every accepted photo is in the store and committed to the catalog.
    """
    if len(uploads) > svc.settings.max_files_per_request:
        raise InvalidInput(f"{len(uploads)} files in one request; the limit is {svc.settings.max_files_per_request}")
    with svc.catalog.read() as session:
        albums.require(session, album_id=album_id)

    def store(upload: Upload) -> blobs.StoredBlob | PhotosiftError:
        if upload.error is not None or upload.file is None:
            return upload.error or InvalidInput("no file")
        try:
            return blobs.store_upload(svc, upload.file)
        except InvalidInput as exc:  # this file is refused; a failing store (StorageError) fails the request
            return exc

    stored = list(_upload_threads.map(store, uploads))
    try:
        results, queued = _record_uploads(svc, album_id, uploads, stored)
    except IntegrityError:  # another server recorded the same bytes meanwhile (PostgreSQL): they are duplicates now
        results, queued = _record_uploads(svc, album_id, uploads, stored)
    if queued:
        svc.notify_jobs(queued)
        svc.hub.publish(album_id)
    return results


def _record_uploads(svc: Services, album_id: str, uploads: list[Upload],
                    stored: list[blobs.StoredBlob | PhotosiftError]) -> tuple[list[dict[str, Any]], int]:
    """Record the stored uploads as photos with their jobs and events, in one transaction: (results, queued)."""
    results: list[dict[str, Any]] = []
    queued = 0
    now = utcnow() - timedelta(microseconds=1)
    with svc.catalog.session() as session:
        albums.require(session, album_id=album_id)
        for upload, blob in zip(uploads, stored, strict=True):
            if isinstance(blob, PhotosiftError):
                results.append({"filename": upload.filename,
                                "error": {"type": type(blob).__name__, "message": str(blob)}})
                continue
            existing = photos.with_sha256(session, album_id=album_id, sha256=blob.sha256)
            if existing is not None:
                results.append({"filename": upload.filename, "id": existing.id, "status": existing.status,
                                "duplicate": True})
                continue
            # Upload times increase in the order of the parts, like the ids (the upload order), so a list by date
            # taken keeps that order for photos without an EXIF date even if the clock steps back meanwhile.
            now = max(utcnow(), now + timedelta(microseconds=1))
            photo = photos.add(session, album_id=album_id, blob_key=blob.key, sha256=blob.sha256,
                               filename=upload.filename, content_type=blob.content_type, size_bytes=blob.size,
                               created_at=now, taken_at=blob.taken.utc if blob.taken else now,
                               taken_at_offset=_minutes(blob.taken.offset) if blob.taken else None,
                               taken_at_source="exif" if blob.taken else "upload")
            record_event(session, album_id, "photo.added", {"photo_id": photo.id, "filename": upload.filename})
            queued += 1
            results.append({"filename": upload.filename, "id": photo.id, "status": photo.status, "duplicate": False})
    return results, queued


def _minutes(offset: timedelta | None) -> int | None:
    return None if offset is None else int(offset.total_seconds() // 60)


def require_member_filter(session: Session, album_id: str, member_id: str) -> str:
    """``member_id`` as a filter of the album's photos or faces: ``InvalidInput`` for a word such as ``null`` (a
    client's "no value": leave the parameter out instead) or a malformed id, ``NotFound`` when the album has no
    such member."""
    if member_id.strip().lower() in _NULL_WORDS or not member_id.strip():
        raise InvalidInput(f"member {member_id!r} is not a member id: leave the parameter out for every photo")
    check_id(member_id, "member")
    if not members.in_album(session, album_id=album_id, member_id=member_id):
        raise NotFound(f"no member {member_id!r} in album {album_id!r}")
    return member_id


def get_photo(svc: Services, photo_id: str) -> records.Photo:
    """A photo with its analysis results (dimensions, blur, faces and their member matches)."""
    with svc.catalog.read() as session:
        return photos.get(session, photo_id=photo_id)


def photo_blob(svc: Services, photo_id: str) -> tuple[str, str]:
    """``(blob key, content type)`` of a photo."""
    with svc.catalog.read() as session:
        photo = photos.file(session, photo_id=photo_id)
    return photo.blob_key, photo.content_type


def photo_content(svc: Services, photo_id: str) -> tuple[bytes, str]:
    """The original bytes of a photo and their content type."""
    key, content_type = photo_blob(svc, photo_id)
    return svc.store.get(key), content_type


@dataclass(frozen=True)
class Thumbnail:
    """A thumbnail's JPEG bytes; ``final`` is False for a square made before the photo's faces are known (it is
    neither cached in the store nor worth caching in a browser)."""

    data: bytes
    final: bool = True


@dataclass(frozen=True)
class _ThumbnailSource:
    blob_key: str
    faces: list[list[int]]
    final: bool


def photo_thumbnail(svc: Services, photo_id: str, size: int, square: bool = False) -> Thumbnail:
    """An upright JPEG of any photo, ``size`` (one of ``blobs.THUMBNAIL_SIZES``) px on the longer side, or a
    ``square`` that keeps the photo's faces in frame (``blobs.make_thumbnail``); made now if need be (decodes)."""
    source = _thumbnail_source(svc, photo_id, size, square)
    data = blobs.make_thumbnail(svc, source.blob_key, size, square=square, faces=source.faces, cache=source.final)
    return Thumbnail(data, source.final)


def cached_thumbnail(svc: Services, photo_id: str, size: int, square: bool = False) -> Thumbnail | None:
    """The photo's thumbnail if it was made before (a catalog and a store read, no decoding), else ``None``."""
    source = _thumbnail_source(svc, photo_id, size, square)
    if not source.final:
        return None
    data = blobs.cached_thumbnail(svc, source.blob_key, size, square)
    return None if data is None else Thumbnail(data)


def _thumbnail_source(svc: Services, photo_id: str, size: int, square: bool) -> _ThumbnailSource:
    if size not in blobs.THUMBNAIL_SIZES:
        raise InvalidInput(f"thumbnail size must be one of {', '.join(map(str, blobs.THUMBNAIL_SIZES))}")
    with svc.catalog.read() as session:
        photo = photos.file(session, photo_id=photo_id)
        if not square:
            return _ThumbnailSource(photo.blob_key, [], True)
        boxes = faces.boxes(session, photo_id=photo_id)
        # Analysis is final for the blob's bytes (the same bytes give the same faces), so is its square crop.
        return _ThumbnailSource(photo.blob_key, boxes, photo.status in (PhotoStatus.DONE, PhotoStatus.FAILED))


def list_photos(
    svc: Services, album_id: str, *, member_id: str | None = None, blurry: bool | None = None,
    has_faces: bool | None = None, status: str | None = None, limit: int = 50, cursor: str | None = None,
    sort: str = "uploaded", taken_after: datetime | None = None, taken_before: datetime | None = None,
) -> records.Page:
    """A page of an album's photos with faces; filters combine with AND.

    ``member_id``: photos where that member was matched (``NotFound`` for another album's or no member);
    ``blurry``: the blur verdict; ``has_faces``: False for analysed photos without faces; ``status``:
    pending|done|failed; ``taken_after`` (inclusive) / ``taken_before`` (exclusive): the capture time (a time
    without a UTC offset is read as UTC, like a camera time without one). ``sort``: ``uploaded`` (upload order,
    oldest first), ``taken_at`` (capture time, oldest first) or ``-taken_at`` (newest first). ``cursor``: the
    ``next_cursor`` of the previous page (of the same sort). ``next_cursor`` is None on the last page.
    """
    limit = _page_size(limit)
    if sort not in SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)}")
    by_upload = sort == "uploaded"
    with svc.catalog.read() as session:
        albums.require(session, album_id=album_id)
        if member_id is not None:
            require_member_filter(session, album_id, member_id)
        after_taken = _parse_taken_cursor(cursor) if cursor and not by_upload else None
        items = photos.page(session, album_id=album_id, limit=limit + 1, member_id=member_id, blurry=blurry,
                            has_faces=has_faces, status=status, sort=sort,
                            taken_after=None if taken_after is None else _utc(taken_after),
                            taken_before=None if taken_before is None else _utc(taken_before),
                            after_id=cursor if by_upload else None, after_taken=after_taken)
    if len(items) <= limit:
        return records.Page(items=items, next_cursor=None)
    last = items[limit - 1]
    # A record's taken_at is the capture (else upload) time itself, in the camera's offset or as naive UTC.
    next_cursor = last.id if by_upload else f"{_micros(datetime.fromisoformat(last.taken_at or ''))}.{last.id}"
    return records.Page(items=items[:limit], next_cursor=next_cursor)


def _utc(moment: datetime) -> datetime:
    """An aware UTC datetime (a naive one is read as UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _micros(moment: datetime) -> int:
    delta = _utc(moment) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _parse_taken_cursor(cursor: str) -> tuple[datetime, str]:
    """``(capture time, photo id)`` of a ``next_cursor`` of a list sorted by capture time."""
    micros, _, photo_id = cursor.partition(".")
    try:
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(micros))
        return moment, check_id(photo_id, "cursor")
    except (ValueError, OverflowError, InvalidInput) as exc:
        raise InvalidInput("cursor is not a next_cursor of a list sorted by taken_at") from exc


def list_faces(svc: Services, album_id: str, *, unknown: bool | None = None, member_id: str | None = None,
               limit: int = 50, cursor: str | None = None) -> records.Page:
    """A page of an album's faces (``unknown``: faces no member matched), each with its ``photo_id``."""
    limit = _page_size(limit)
    with svc.catalog.read() as session:
        albums.require(session, album_id=album_id)
        if member_id is not None:
            require_member_filter(session, album_id, member_id)
        items = faces.page(session, album_id=album_id, limit=limit + 1, unknown=unknown, member_id=member_id,
                           after_id=cursor)
    more = len(items) > limit
    items = items[:limit]
    return records.Page(items=items, next_cursor=items[-1].id if more else None)


def _page_size(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    return limit
