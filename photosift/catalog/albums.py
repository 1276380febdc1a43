"""Albums: read, create, rename, delete, and the counts an album shows.

Repository functions: a session first, then keyword-only arguments; they return ``records`` dataclasses or plain
values, never ORM rows.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import func, select

from photosift.catalog import models, records
from photosift.catalog.db import Session
from photosift.errors import NotFound


def require(session: Session, *, album_id: str, lock: bool = False) -> records.Album:
    """The album ``album_id`` (row-locked on PostgreSQL when ``lock``: writers of one album take turns); raises
    ``NotFound``."""
    query = select(models.Album).where(models.Album.id == album_id)
    if lock:
        query = query.with_for_update()
    album = session.scalars(query).first()
    if album is None:
        raise NotFound(f"no album {album_id!r}")
    return records.album_of(album)


def create(session: Session, *, name: str, threshold: float | None) -> records.Album:
    """A new empty album (with its counts: no photos, no members)."""
    album = models.Album(name=name, threshold=threshold)
    session.add(album)
    session.flush()
    return records.album_of(album, photos=0, members=0)


def listed(session: Session) -> list[records.Album]:
    """Every album, oldest first, with its photo and member counts and ``cover_photo_id`` (a query per count, not
    per album)."""
    photos = dict(session.execute(select(models.Photo.album_id, func.count()).group_by(models.Photo.album_id)).all())
    members = dict(session.execute(select(models.Member.album_id, func.count())
                                   .group_by(models.Member.album_id)).all())
    covers = _cover_photos(session)
    return [records.album_of(a, photos=photos.get(a.id, 0), members=members.get(a.id, 0),
                             cover_photo_id=covers.get(a.id))
            for a in session.scalars(select(models.Album).order_by(models.Album.id))]


def _cover_photos(session: Session) -> dict[str, str]:
    """``{album id: photo id}``: each album's first analysed photo by date taken (EXIF, else the upload time; ties
    in upload order), as ``sort=taken_at`` lists them; albums without an analysed photo are left out. One query."""
    photo = models.Photo
    first = func.row_number().over(partition_by=photo.album_id,
                                   order_by=(func.coalesce(photo.taken_at, photo.created_at), photo.id))
    ranked = (select(photo.album_id, photo.id, first.label("n")).where(photo.status == models.PhotoStatus.DONE)
              .subquery())
    return dict(session.execute(select(ranked.c.album_id, ranked.c.id).where(ranked.c.n == 1)).all())


def with_counts(session: Session, *, album_id: str) -> records.Album:
    """The album with its photo counts per status (``status``), photo and member counts; raises ``NotFound``."""
    album = require(session, album_id=album_id)
    by_status = dict(session.execute(select(models.Photo.status, func.count())
                                     .where(models.Photo.album_id == album_id).group_by(models.Photo.status)).all())
    members = session.scalar(select(func.count()).select_from(models.Member)
                             .where(models.Member.album_id == album_id))
    return dataclasses.replace(album, photos=sum(by_status.values()), members=members or 0, status=by_status)


def rename(session: Session, *, album_id: str, name: str) -> None:
    """Give the album (already read in this session, e.g. by ``require``) a new name."""
    _row(session, album_id).name = name


def blob_keys(session: Session, *, album_id: str) -> set[str]:
    """The blob keys the album's photos and reference photos use."""
    keys = set(session.scalars(select(models.Photo.blob_key).where(models.Photo.album_id == album_id)))
    return keys | set(session.scalars(select(models.Reference.blob_key).where(models.Reference.album_id == album_id)))


def delete(session: Session, *, album_id: str) -> None:
    """Delete the album; the database cascades to every row of the album (ON DELETE CASCADE)."""
    session.delete(_row(session, album_id))


def stale(session: Session, *, recognizer: str) -> set[str]:
    """The albums holding faces, reference photos or member templates that another recogniser than ``recognizer``
    made."""
    found = set(session.scalars(select(models.Face.album_id).where(models.Face.recognizer != recognizer).distinct()))
    found |= set(session.scalars(select(models.Reference.album_id).where(models.Reference.recognizer != recognizer)
                                 .distinct()))
    found |= set(session.scalars(select(models.Member.album_id).where(models.Member.recognizer != recognizer,
                                                                      models.Member.template.is_not(None))
                                 .distinct()))
    return found


def count_stale(session: Session, *, album_ids: list[str], recognizer: str) -> int:
    """How many faces and reference photos of the albums another recogniser than ``recognizer`` embedded."""
    count = 0
    for model in (models.Face, models.Reference):
        count += session.scalar(select(func.count()).select_from(model).where(
            model.album_id.in_(album_ids), model.recognizer != recognizer)) or 0
    return count


def _row(session: Session, album_id: str) -> models.Album:
    album = session.get(models.Album, album_id)
    if album is None:
        raise NotFound(f"no album {album_id!r}")
    return album
