"""Photos: upload (durable before acknowledged), results, queries with pagination, bytes and thumbnails."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from photosift.application import blobs, views
from photosift.application.albums import require_album
from photosift.application.context import Services
from photosift.application.events import record_event
from photosift.application.validation import check_id
from photosift.catalog.models import Face, Job, Member, Photo, PhotoStatus, utcnow
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
        require_album(session, album_id)

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
        require_album(session, album_id)
        for upload, blob in zip(uploads, stored, strict=True):
            if isinstance(blob, PhotosiftError):
                results.append({"filename": upload.filename,
                                "error": {"type": type(blob).__name__, "message": str(blob)}})
                continue
            existing = session.scalars(
                select(Photo).where(Photo.album_id == album_id, Photo.sha256 == blob.sha256)).first()
            if existing is not None:
                results.append({"filename": upload.filename, "id": existing.id, "status": existing.status,
                                "duplicate": True})
                continue
            # Upload times increase in the order of the parts, like the ids (the upload order), so a list by date
            # taken keeps that order for photos without an EXIF date even if the clock steps back meanwhile.
            now = max(utcnow(), now + timedelta(microseconds=1))
            photo = Photo(album_id=album_id, blob_key=blob.key, sha256=blob.sha256, filename=upload.filename,
                          content_type=blob.content_type, size_bytes=blob.size, status=PhotoStatus.PENDING,
                          created_at=now, taken_at=blob.taken.utc if blob.taken else now,
                          taken_at_offset=_minutes(blob.taken.offset) if blob.taken else None,
                          taken_at_source="exif" if blob.taken else "upload")
            session.add(photo)
            session.flush()
            session.add(Job(kind="analyze", album_id=album_id, photo_id=photo.id))
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
    found = session.scalar(select(Member.id).where(Member.id == member_id, Member.album_id == album_id))
    if found is None:
        raise NotFound(f"no member {member_id!r} in album {album_id!r}")
    return member_id


def _require_photo(session: Session, photo_id: str) -> Photo:
    photo = session.get(Photo, photo_id)
    if photo is None:
        raise NotFound(f"no photo {photo_id!r}")
    return photo


def get_photo(svc: Services, photo_id: str) -> dict[str, Any]:
    """A photo with its analysis results (dimensions, blur, faces and their member matches)."""
    with svc.catalog.read() as session:
        photo = _require_photo(session, photo_id)
        faces = views.faces_by_photo(session, [photo.id])[photo.id]
        return views.photo_view(photo, faces, views.member_names(session, photo.album_id))


def photo_blob(svc: Services, photo_id: str) -> tuple[str, str]:
    """``(blob key, content type)`` of a photo."""
    with svc.catalog.read() as session:
        photo = _require_photo(session, photo_id)
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
        photo = _require_photo(session, photo_id)
        if not square:
            return _ThumbnailSource(photo.blob_key, [], True)
        boxes = [list(box) for box in session.execute(
            select(Face.left, Face.top, Face.width, Face.height).where(Face.photo_id == photo_id))]
        # Analysis is final for the blob's bytes (the same bytes give the same faces), so is its square crop.
        return _ThumbnailSource(photo.blob_key, boxes, photo.status in (PhotoStatus.DONE, PhotoStatus.FAILED))


def list_photos(
    svc: Services, album_id: str, *, member_id: str | None = None, blurry: bool | None = None,
    has_faces: bool | None = None, status: str | None = None, limit: int = 50, cursor: str | None = None,
    sort: str = "uploaded", taken_after: datetime | None = None, taken_before: datetime | None = None,
) -> dict[str, Any]:
    """A page of an album's photos with faces; filters combine with AND.

    ``member_id``: photos where that member was matched (``NotFound`` for another album's or no member);
    ``blurry``: the blur verdict; ``has_faces``: False for analysed photos without faces; ``status``:
    pending|done|failed; ``taken_after`` (inclusive) / ``taken_before`` (exclusive): the capture time (a time
    without a UTC offset is read as UTC, like a camera time without one). ``sort``: ``uploaded`` (upload order,
    oldest first), ``taken_at`` (capture time, oldest first) or ``-taken_at`` (newest first). ``cursor``: the
    ``next_cursor`` of the previous page (of the same sort). Returns ``{"items", "next_cursor"}`` (``next_cursor``
    None on the last page).
    """
    limit = _page_size(limit)
    if sort not in SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)}")
    with svc.catalog.read() as session:
        require_album(session, album_id)
        query = select(Photo).where(Photo.album_id == album_id)
        taken = func.coalesce(Photo.taken_at, Photo.created_at)
        if taken_after is not None:
            query = query.where(taken >= _utc(taken_after))
        if taken_before is not None:
            query = query.where(taken < _utc(taken_before))
        if member_id is not None:
            require_member_filter(session, album_id, member_id)
            query = query.where(exists().where(Face.photo_id == Photo.id, Face.member_id == member_id))
        if blurry is not None:
            query = query.where(Photo.blurry.is_(blurry))
        if has_faces is not None:
            query = query.where(Photo.face_count > 0 if has_faces else Photo.face_count == 0)
        if status is not None:
            query = query.where(Photo.status == status)
        if sort == "uploaded":
            if cursor:
                query = query.where(Photo.id > cursor)
            query = query.order_by(Photo.id)
        else:
            newest_first = sort.startswith("-")
            if cursor:
                moment, last_id = _parse_taken_cursor(cursor)
                later = taken < moment if newest_first else taken > moment
                query = query.where(or_(later, and_(taken == moment, Photo.id > last_id)))
            query = query.order_by(taken.desc() if newest_first else taken, Photo.id)
        photos = list(session.scalars(query.limit(limit + 1)))
        more = len(photos) > limit
        photos = photos[:limit]
        faces = views.faces_by_photo(session, [p.id for p in photos])
        names = views.member_names(session, album_id)
        items = [views.photo_view(p, faces[p.id], names) for p in photos]
    if not more:
        return {"items": items, "next_cursor": None}
    last = photos[-1]
    next_cursor = last.id if sort == "uploaded" else f"{_micros(last.taken_at or last.created_at)}.{last.id}"
    return {"items": items, "next_cursor": next_cursor}


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
               limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    """A page of an album's faces (``unknown``: faces no member matched), each with its ``photo_id``."""
    limit = _page_size(limit)
    with svc.catalog.read() as session:
        require_album(session, album_id)
        query = select(Face).where(Face.album_id == album_id)
        if unknown is not None:
            query = query.where(Face.member_id.is_(None) if unknown else Face.member_id.is_not(None))
        if member_id is not None:
            require_member_filter(session, album_id, member_id)
            query = query.where(Face.member_id == member_id)
        if cursor:
            query = query.where(Face.id > cursor)
        faces = list(session.scalars(query.order_by(Face.id).limit(limit + 1)))
        more = len(faces) > limit
        names = views.member_names(session, album_id)
        items = [views.face_view(f, names) for f in faces[:limit]]
    return {"items": items, "next_cursor": items[-1]["id"] if more else None}


def _page_size(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    return limit
