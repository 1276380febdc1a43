"""``/v1/albums``: create, list, get, rename, delete."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel

from photosift.api import schemas
from photosift.api.deps import AlbumId, ServicesDep
from photosift.application import albums
from photosift.catalog import records

router = APIRouter(tags=["albums"])


class AlbumUpdate(BaseModel):
    name: schemas.Name


@router.post("/albums", status_code=201, response_model=schemas.Album, response_model_exclude_none=True)
def create_album(body: schemas.AlbumCreate, svc: ServicesDep) -> records.Album:
    """Create an empty album. ``threshold`` (0-100) overrides the default similarity for member matches."""
    return albums.create_album(svc, name=body.name, threshold=body.threshold)


@router.get("/albums", response_model=list[schemas.Album])
def list_albums(svc: ServicesDep) -> list[records.Album]:
    """Every album, oldest first, with photo and member counts and its ``cover_photo_id`` (null until a photo is
    analysed)."""
    return albums.list_albums(svc)


@router.get("/albums/{album_id}", response_model=schemas.Album, response_model_exclude_none=True)
def get_album(album_id: AlbumId, svc: ServicesDep) -> records.Album:
    """One album with photo counts per status (pending, done, failed)."""
    return albums.get_album(svc, album_id)


@router.patch("/albums/{album_id}", response_model=schemas.Album, response_model_exclude_none=True)
def rename_album(album_id: AlbumId, body: AlbumUpdate, svc: ServicesDep) -> records.Album:
    """Rename the album (``{"name"}``); open clients get an ``album.updated`` event. Owner only."""
    return albums.rename_album(svc, album_id, body.name)


@router.delete("/albums/{album_id}", status_code=204)
def delete_album(album_id: AlbumId, svc: ServicesDep) -> Response:
    """Delete the album with its members, photos, faces and events, and the blobs no other album uses."""
    albums.delete_album(svc, album_id)
    return Response(status_code=204)
