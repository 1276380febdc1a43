"""Deleting photos: ``DELETE /v1/photos/{id}`` and ``POST /v1/albums/{id}/photos/delete`` (a selection, or every
blurry photo). Owner only: share links cannot delete (``photosift.api.deps``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from photosift.api.deps import AlbumId, PhotoId, ServicesDep
from photosift.api.schemas import Id
from photosift.application import deletion, validation

router = APIRouter(tags=["photos"])


class PhotoDeletion(BaseModel):
    photo_ids: list[Id] | None = Field(default=None, min_length=1, max_length=validation.MAX_LIST,
                                       description=f"1-{validation.MAX_LIST} photo ids of the album")
    blurry: bool | None = Field(default=None, description="true: every photo of the album analysed as blurry")


class PhotosDeleted(BaseModel):
    deleted: list[str] = Field(description="the ids of the photos deleted")
    not_found: list[str] = Field(description="ids of photo_ids that are not (or no longer) photos of the album")


@router.delete("/photos/{photo_id}", status_code=204)
def delete_photo(photo_id: PhotoId, svc: ServicesDep) -> Response:
    """Delete a photo with its faces and results (and its bytes and thumbnails unless another photo or reference
    uses them). The album's event stream gets ``photo.deleted`` ``{"photo_ids": [id]}``."""
    deletion.delete_photo(svc, photo_id)
    return Response(status_code=204)


@router.post("/albums/{album_id}/photos/delete", response_model=PhotosDeleted)
def delete_photos(album_id: AlbumId, body: PhotoDeletion, svc: ServicesDep) -> dict[str, Any]:
    """Delete several photos of the album in one step: ``{"photo_ids": [...]}`` (a selection) or
    ``{"blurry": true}`` (every photo analysed as blurry). One ``photo.deleted`` event lists them all."""
    return deletion.delete_photos(svc, album_id, photo_ids=body.photo_ids, blurry=bool(body.blurry))
