"""Deleting photos: one, a selection, or every blurry photo of an album, with their faces and jobs, then the blobs
(and cached thumbnails) no other photo or reference uses.

One transaction removes the photos (the catalog cascades to their faces and queued jobs; an analysis already
running for one finds it gone and records nothing), removes the people left without faces, queues a re-match when a
face the user had confirmed for a member went (the member's template changes), and records a ``photo.deleted``
event ``{"photo_ids": [...]}`` (and ``people.changed`` when people lost faces) for the album's other open clients.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from photosift.application import album_index, face_spaces
from photosift.application.blobs import delete_unreferenced
from photosift.application.context import Services
from photosift.application.events import record_event
from photosift.application.grouping import PEOPLE_CHANGED, remove_empty_people
from photosift.application.processing import enqueue_match
from photosift.application.validation import check_ids
from photosift.catalog import albums, faces, photos
from photosift.errors import InvalidInput, NotFound

PHOTO_DELETED = "photo.deleted"
"""Event type: ``{"photo_ids": [...]}`` — these photos, their faces and results are gone."""


def delete_photo(svc: Services, photo_id: str) -> None:
    """Delete one photo (``NotFound`` when there is none)."""
    with svc.catalog.read() as session:
        album_id = photos.album_id_of(session, photo_id=photo_id)
    if album_id is None:
        raise NotFound(f"no photo {photo_id!r}")
    result = delete_photos(svc, album_id, photo_ids=[photo_id])
    if not result["deleted"]:  # deleted by another request meanwhile
        raise NotFound(f"no photo {photo_id!r}")


def delete_photos(svc: Services, album_id: str, *, photo_ids: Sequence[str] | None = None,
                  blurry: bool = False) -> dict[str, Any]:
    """Delete the album's photos ``photo_ids`` (1-1000 ids), or with ``blurry`` every photo of the album analysed
    as blurry. Ids that are not photos of this album are left alone and listed in ``not_found`` (a selection may
    hold photos another client deleted meanwhile).

    Returns ``{"deleted": [ids], "not_found": [ids]}``.
    """
    if (photo_ids is None) == (not blurry):
        raise InvalidInput("send either photo_ids (a list of photo ids) or blurry: true")
    wanted = check_ids(list(photo_ids), "photo_ids") if photo_ids is not None else []
    with svc.catalog.session() as session:
        albums.require(session, album_id=album_id, lock=True)
        found = (photos.blob_keys(session, album_id=album_id, photo_ids=wanted) if photo_ids is not None
                 else photos.blob_keys(session, album_id=album_id, blurry=True))
        deleted = list(found)
        if deleted:
            gone = faces.assignments(session, photo_ids=deleted)
            photos.delete(session, photo_ids=deleted)  # cascades to faces and jobs
            album_index.remove_faces(face_spaces.index_of(svc.catalog), session, album_id, [f.id for f in gone])
            session.flush()
            removed = remove_empty_people(session, album_id)
            if removed or any(face.person_id for face in gone):
                record_event(session, album_id, PEOPLE_CHANGED, {"faces": {}, "removed": removed})
            if any(face.member_id and face.pinned for face in gone):
                enqueue_match(session, album_id)  # a confirmed face was part of its member's template
            record_event(session, album_id, PHOTO_DELETED, {"photo_ids": deleted})
    if deleted:
        svc.notify_jobs(1)
        svc.hub.publish(album_id)
        delete_unreferenced(svc, set(found.values()))
    return {"deleted": deleted, "not_found": [pid for pid in wanted if pid not in found]}


__all__ = ["PHOTO_DELETED", "delete_photo", "delete_photos"]
