"""Albums: create, list, get, rename, delete (with their photos, faces, members and no-longer-referenced blobs)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from photosift.application import album_index, face_spaces
from photosift.application.blobs import delete_unreferenced
from photosift.application.context import Services
from photosift.application.events import record_event
from photosift.application.validation import check_name, check_threshold
from photosift.catalog.models import Album, Member, Photo, PhotoStatus, Reference
from photosift.errors import NotFound


def require_album(session: Session, album_id: str, *, lock: bool = False) -> Album:
    """The album ``album_id`` (row-locked on PostgreSQL when ``lock``); raises ``NotFound``."""
    query = select(Album).where(Album.id == album_id)
    if lock:
        query = query.with_for_update()
    album = session.scalars(query).first()
    if album is None:
        raise NotFound(f"no album {album_id!r}")
    return album


def create_album(svc: Services, *, name: str, threshold: float | None = None) -> dict[str, Any]:
    """A new empty album. ``threshold``: similarity 0-100 for member matches (default: ``matching.ALBUM_THRESHOLD``)."""
    from photosift.application.views import album_view

    name = check_name(name, "album name")
    threshold = check_threshold(threshold)
    with svc.catalog.session() as session:
        album = Album(name=name, threshold=threshold)
        session.add(album)
        session.flush()
        return album_view(album, photos=0, members=0)


def list_albums(svc: Services) -> list[dict[str, Any]]:
    """Every album, oldest first, with photo and member counts and its ``cover_photo_id`` (``cover_photos``)."""
    from photosift.application.views import album_view

    with svc.catalog.read() as session:
        photos = dict(session.execute(select(Photo.album_id, func.count()).group_by(Photo.album_id)).all())
        members = dict(session.execute(select(Member.album_id, func.count()).group_by(Member.album_id)).all())
        covers = cover_photos(session)
        albums = session.scalars(select(Album).order_by(Album.id)).all()
        return [{**album_view(a, photos=photos.get(a.id, 0), members=members.get(a.id, 0)),
                 "cover_photo_id": covers.get(a.id)} for a in albums]


def cover_photos(session: Session) -> dict[str, str]:
    """``{album id: photo id}``: each album's first analysed photo by date taken (EXIF, else the upload time; ties
    in upload order), as ``sort=taken_at`` lists them; albums without an analysed photo are left out. One query."""
    first = func.row_number().over(partition_by=Photo.album_id,
                                   order_by=(func.coalesce(Photo.taken_at, Photo.created_at), Photo.id))
    ranked = (select(Photo.album_id, Photo.id, first.label("n")).where(Photo.status == PhotoStatus.DONE)
              .subquery())
    return dict(session.execute(select(ranked.c.album_id, ranked.c.id).where(ranked.c.n == 1)).all())


def get_album(svc: Services, album_id: str) -> dict[str, Any]:
    """One album with photo counts per status and its member count."""
    from photosift.application.views import album_view

    with svc.catalog.read() as session:
        album = require_album(session, album_id)
        by_status = dict(session.execute(
            select(Photo.status, func.count()).where(Photo.album_id == album_id).group_by(Photo.status)
        ).all())
        members = session.scalar(select(func.count()).select_from(Member).where(Member.album_id == album_id))
        view = album_view(album, photos=sum(by_status.values()), members=members or 0)
        view["status"] = by_status
        return view


def rename_album(svc: Services, album_id: str, name: str) -> dict[str, Any]:
    """Give the album a new name; its open clients get ``album.updated`` ``{"name"}``."""
    name = check_name(name, "album name")
    with svc.catalog.session() as session:
        album = require_album(session, album_id, lock=True)
        album.name = name
        record_event(session, album_id, "album.updated", {"name": name})
    svc.hub.publish(album_id)
    return get_album(svc, album_id)


def delete_album(svc: Services, album_id: str) -> None:
    """Delete the album, its members, photos, faces, jobs and events, then the blobs no other album uses."""
    with svc.catalog.session() as session:
        album = require_album(session, album_id, lock=True)
        keys = set(session.scalars(select(Photo.blob_key).where(Photo.album_id == album_id)))
        keys |= set(session.scalars(select(Reference.blob_key).where(Reference.album_id == album_id)))
        session.delete(album)  # the database cascades to every row of the album (ON DELETE CASCADE)
        album_index.drop(face_spaces.index_of(svc.catalog), session, album_id)
    svc.hub.publish(album_id)
    delete_unreferenced(svc, keys)
