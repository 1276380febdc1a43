"""Photos of albums: upload rows, analysis results, pages, blob keys.

Repository functions: a session first, then keyword-only arguments; they return ``records`` dataclasses or plain
values, never ORM rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy import delete as delete_rows

from photosift.catalog import jobs, members, models, records
from photosift.catalog.db import Session
from photosift.errors import NotFound

_Photo = models.Photo
_taken = func.coalesce(_Photo.taken_at, _Photo.created_at)  # the capture time, else the upload time


@dataclass(frozen=True, slots=True)
class File:
    """A photo's stored bytes: what thumbnails and downloads read."""

    id: str
    filename: str | None
    content_type: str
    size_bytes: int
    blob_key: str
    status: str


def add(session: Session, *, album_id: str, blob_key: str, sha256: str, filename: str | None, content_type: str,
        size_bytes: int, created_at: datetime, taken_at: datetime, taken_at_offset: int | None,
        taken_at_source: str) -> records.Photo:
    """Record an upload as a ``pending`` photo with its ``analyze`` job."""
    photo = _Photo(album_id=album_id, blob_key=blob_key, sha256=sha256, filename=filename,
                   content_type=content_type, size_bytes=size_bytes, status=models.PhotoStatus.PENDING,
                   created_at=created_at, taken_at=taken_at, taken_at_offset=taken_at_offset,
                   taken_at_source=taken_at_source)
    session.add(photo)
    session.flush()
    jobs.enqueue(session, kind="analyze", album_id=album_id, photo_id=photo.id)
    return records.photo_of(photo, None, {})


def with_sha256(session: Session, *, album_id: str, sha256: str) -> records.Photo | None:
    """The album's photo of these bytes (without its faces), if it has one."""
    photo = session.scalars(select(_Photo).where(_Photo.album_id == album_id, _Photo.sha256 == sha256)).first()
    return None if photo is None else records.photo_of(photo, None, {})


def get(session: Session, *, photo_id: str) -> records.Photo:
    """The photo with its faces and their matches; raises ``NotFound``."""
    photo = _require(session, photo_id)
    return _with_faces(session, photo.album_id, [photo])[0]


def file(session: Session, *, photo_id: str) -> File:
    """Where the photo's bytes are; raises ``NotFound``."""
    return _file_of(_require(session, photo_id))


def album_id_of(session: Session, *, photo_id: str) -> str | None:
    """The album of the photo, ``None`` when there is no such photo."""
    return session.scalar(select(_Photo.album_id).where(_Photo.id == photo_id))


def page(session: Session, *, album_id: str, limit: int, member_id: str | None = None, blurry: bool | None = None,
         has_faces: bool | None = None, status: str | None = None, taken_after: datetime | None = None,
         taken_before: datetime | None = None, sort: str = "uploaded", after_id: str | None = None,
         after_taken: tuple[datetime, str] | None = None) -> list[records.Photo]:
    """Up to ``limit`` of the album's photos with their faces; filters combine with AND (``member_id``: matched in
    the photo; ``has_faces``: the face count; ``taken_after`` inclusive, ``taken_before`` exclusive). ``sort``:
    ``uploaded`` (by id, after ``after_id``), ``taken_at`` or ``-taken_at`` (by capture time then id, after
    ``after_taken`` = ``(capture time, photo id)``)."""
    query = select(_Photo).where(_Photo.album_id == album_id)
    if taken_after is not None:
        query = query.where(_taken >= taken_after)
    if taken_before is not None:
        query = query.where(_taken < taken_before)
    if member_id is not None:
        query = query.where(_has_face(models.Face.member_id == member_id))
    if blurry is not None:
        query = query.where(_Photo.blurry.is_(blurry))
    if has_faces is not None:
        query = query.where(_Photo.face_count > 0 if has_faces else _Photo.face_count == 0)
    if status is not None:
        query = query.where(_Photo.status == status)
    if sort == "uploaded":
        if after_id:
            query = query.where(_Photo.id > after_id)
        query = query.order_by(_Photo.id)
    else:
        newest_first = sort.startswith("-")
        if after_taken is not None:
            moment, last_id = after_taken
            later = _taken < moment if newest_first else _taken > moment
            query = query.where(or_(later, and_(_taken == moment, _Photo.id > last_id)))
        query = query.order_by(_taken.desc() if newest_first else _taken, _Photo.id)
    return _with_faces(session, album_id, list(session.scalars(query.limit(limit))))


def files(session: Session, *, album_id: str, member_id: str | None = None, person_id: str | None = None,
          photo_ids: Sequence[str] | None = None) -> list[File]:
    """The album's photos where member ``member_id`` was matched, with a face of person ``person_id``, or among
    ``photo_ids`` (those given combine with AND), in capture-time order."""
    query = select(_Photo).where(_Photo.album_id == album_id)
    if member_id is not None:
        query = query.where(_has_face(models.Face.member_id == member_id))
    if person_id is not None:
        query = query.where(_has_face(models.Face.person_id == person_id))
    if photo_ids is not None:
        query = query.where(_Photo.id.in_(photo_ids))
    return [_file_of(p) for p in session.scalars(query.order_by(_taken, _Photo.id))]


def blob_keys(session: Session, *, album_id: str, photo_ids: Sequence[str] | None = None,
              blurry: bool | None = None) -> dict[str, str]:
    """``{photo id: blob key}`` of the album's photos among ``photo_ids`` and/or with the blur verdict ``blurry``
    (when given), in id order."""
    query = select(_Photo.id, _Photo.blob_key).where(_Photo.album_id == album_id)
    if photo_ids is not None:
        query = query.where(_Photo.id.in_(photo_ids))
    if blurry is not None:
        query = query.where(_Photo.blurry.is_(blurry))
    return {photo_id: key for photo_id, key in session.execute(query.order_by(_Photo.id))}


def delete(session: Session, *, photo_ids: Sequence[str]) -> None:
    """Delete the photos; the database cascades to their faces and jobs."""
    session.execute(delete_rows(_Photo).where(_Photo.id.in_(photo_ids)))


def blob_used(session: Session, *, blob_key: str) -> bool:
    """Whether a photo or a reference photo of any album uses the blob."""
    return bool(session.scalar(select(_Photo.id).where(_Photo.blob_key == blob_key).limit(1)) or session.scalar(
        select(models.Reference.id).where(models.Reference.blob_key == blob_key).limit(1)))


def _require(session: Session, photo_id: str) -> models.Photo:
    photo = session.get(_Photo, photo_id)
    if photo is None:
        raise NotFound(f"no photo {photo_id!r}")
    return photo


def _file_of(photo: models.Photo) -> File:
    return File(id=photo.id, filename=photo.filename, content_type=photo.content_type, size_bytes=photo.size_bytes,
                blob_key=photo.blob_key, status=photo.status)


def _has_face(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """The photo has a face that meets ``condition``."""
    return exists().where(models.Face.photo_id == _Photo.id, condition)


def _with_faces(session: Session, album_id: str, photos: list[models.Photo]) -> list[records.Photo]:
    """The album's ``photos`` as records with their faces (in engine order) and the faces' member names."""
    faces: dict[str, list[models.Face]] = {p.id: [] for p in photos}
    if faces:
        query = select(models.Face).where(models.Face.photo_id.in_(faces)).order_by(models.Face.position)
        for face in session.scalars(query):
            faces[face.photo_id].append(face)
    names = members.names(session, album_id=album_id)
    return [records.photo_of(p, faces[p.id], names) for p in photos]


def set_analysed(session: Session, *, photo_id: str, width: int, height: int, sharpness: float, blurry: bool,
                 blur_region: str | None, face_count: int) -> None:
    """Record the photo's analysis (dimensions, blur verdict, how many faces): it is ``done``, without error."""
    photo = _require(session, photo_id)
    photo.width, photo.height = width, height
    photo.sharpness, photo.blurry, photo.blur_region = sharpness, blurry, blur_region
    photo.face_count = face_count
    photo.status, photo.error, photo.analysed_at = models.PhotoStatus.DONE, None, models.utcnow()


def set_failed(session: Session, *, photo_id: str, error: str) -> bool:
    """Mark the photo ``failed`` with ``error``; False when there is no such photo (deleted meanwhile)."""
    photo = session.get(_Photo, photo_id)
    if photo is None:
        return False
    photo.status, photo.error = models.PhotoStatus.FAILED, error
    return True
