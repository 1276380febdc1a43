"""Albums: create, list, get, rename, delete (with their photos, faces, members and no-longer-referenced blobs)."""

from __future__ import annotations

from photosift.application import album_index, face_spaces
from photosift.application.blobs import delete_unreferenced
from photosift.application.context import Services
from photosift.application.events import record_event
from photosift.application.validation import check_name, check_threshold
from photosift.catalog import albums, records


def create_album(svc: Services, *, name: str, threshold: float | None = None) -> records.Album:
    """A new empty album. ``threshold``: similarity 0-100 for member matches (default: ``matching.ALBUM_THRESHOLD``)."""
    name = check_name(name, "album name")
    threshold = check_threshold(threshold)
    with svc.catalog.session() as session:
        return albums.create(session, name=name, threshold=threshold)


def list_albums(svc: Services) -> list[records.Album]:
    """Every album, oldest first, with photo and member counts and its ``cover_photo_id``: the first analysed photo
    by date taken."""
    with svc.catalog.read() as session:
        return albums.listed(session)


def get_album(svc: Services, album_id: str) -> records.Album:
    """One album with photo counts per status and its member count."""
    with svc.catalog.read() as session:
        return albums.with_counts(session, album_id=album_id)


def rename_album(svc: Services, album_id: str, name: str) -> records.Album:
    """Give the album a new name; its open clients get ``album.updated`` ``{"name"}``."""
    name = check_name(name, "album name")
    with svc.catalog.session() as session:
        albums.require(session, album_id=album_id, lock=True)
        albums.rename(session, album_id=album_id, name=name)
        record_event(session, album_id, "album.updated", {"name": name})
    svc.hub.publish(album_id)
    return get_album(svc, album_id)


def delete_album(svc: Services, album_id: str) -> None:
    """Delete the album, its members, photos, faces, jobs and events, then the blobs no other album uses."""
    with svc.catalog.session() as session:
        albums.require(session, album_id=album_id, lock=True)
        keys = albums.blob_keys(session, album_id=album_id)
        albums.delete(session, album_id=album_id)  # the database cascades to every row of the album
        album_index.drop(face_spaces.index_of(svc.catalog), session, album_id)
    svc.hub.publish(album_id)
    delete_unreferenced(svc, keys)
