"""``/v1/albums/{id}/members``: people to look for, each with one or more reference photos."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Response, UploadFile
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from photosift.api import schemas
from photosift.api.deps import SHARE_CONTRIBUTE, AlbumId, MemberId, ReferenceId, ServicesDep
from photosift.api.uploads import read_uploads
from photosift.application import members
from photosift.application.context import Services
from photosift.application.photos import Upload
from photosift.application.validation import check_filename
from photosift.catalog import records

router = APIRouter(tags=["members"])
References = Annotated[list[UploadFile], File(description="reference photos; the largest face of each is used")]
FaceChoice = Annotated[int | None, Form(ge=0, le=1000, description=(
    "with ONE photo showing several faces of similar size: which face (0 = the largest, as listed by the "
    "SeveralFaces error)"))]
REFERENCE_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": schemas.ErrorBody, "description": "a reference photo shows no face, several faces (choose one "
                                                     "with 'face'), or a face too small or blurred to compare"},
    409: {"model": schemas.ErrorBody, "description": "the face already matches another member"}}


class MemberUpdate(BaseModel):
    name: schemas.Name


@router.post("/albums/{album_id}/members", status_code=201, response_model=schemas.Member,
             responses=REFERENCE_ERRORS, openapi_extra=SHARE_CONTRIBUTE)
async def create_member(album_id: AlbumId, svc: ServicesDep, name: Annotated[schemas.Name, Form()], files: References,
                        face: FaceChoice = None) -> records.MemberDetail:
    """Create a member from a name and one or more reference photos (multipart). Existing photos of the album are
    re-matched in the background; ``photo.matched`` events report the changes. ``warnings`` lists what was
    noticed but accepted (e.g. a smaller second face in a selfie)."""
    return await members.create_member(svc, album_id, name, await _references(svc, files), face=face)


@router.get("/albums/{album_id}/members", response_model=list[schemas.Member])
def list_members(album_id: AlbumId, svc: ServicesDep) -> list[records.MemberDetail]:
    """The album's members with their references and photo counts."""
    return members.list_members(svc, album_id)


@router.get("/albums/{album_id}/members/{member_id}", response_model=schemas.Member)
def get_member(album_id: AlbumId, member_id: MemberId, svc: ServicesDep) -> records.MemberDetail:
    """One member with its references."""
    return members.get_member(svc, album_id, member_id)


@router.patch("/albums/{album_id}/members/{member_id}", response_model=schemas.Member,
              responses={409: {"model": schemas.ErrorBody, "description": "another member has that name"}})
def rename_member(album_id: AlbumId, member_id: MemberId, body: MemberUpdate, svc: ServicesDep) -> records.MemberDetail:
    """Rename a member (``{"name"}``, unique in the album); open clients get ``member.updated``. Owner only."""
    return members.rename_member(svc, album_id, member_id, body.name)


@router.delete("/albums/{album_id}/members/{member_id}", status_code=204)
def delete_member(album_id: AlbumId, member_id: MemberId, svc: ServicesDep) -> Response:
    """Delete a member; the faces it matched become unknown (or match another member after re-matching)."""
    members.delete_member(svc, album_id, member_id)
    return Response(status_code=204)


@router.post("/albums/{album_id}/members/{member_id}/references", response_model=schemas.Member,
             responses=REFERENCE_ERRORS, openapi_extra=SHARE_CONTRIBUTE)
async def add_references(album_id: AlbumId, member_id: MemberId, svc: ServicesDep, files: References,
                         face: FaceChoice = None) -> records.MemberDetail:
    """Add reference photos (checked as for a new member); the member's template is rebuilt from all its references
    and photos re-matched."""
    return await members.add_references(svc, album_id, member_id, await _references(svc, files), face=face)


@router.delete("/albums/{album_id}/members/{member_id}/references/{reference_id}", response_model=schemas.Member)
async def remove_reference(album_id: AlbumId, member_id: MemberId, reference_id: ReferenceId, svc: ServicesDep
                           ) -> records.MemberDetail:
    """Remove one reference photo; the template is rebuilt and photos re-matched."""
    return await run_in_threadpool(members.remove_reference, svc, album_id, member_id, reference_id)


async def _references(svc: Services, files: list[UploadFile]) -> list[Upload]:
    """The uploaded reference photos, each file name checked (a bad one refuses the request: 400)."""
    uploads = await read_uploads(files, svc.settings.max_upload_bytes)
    return [replace(upload, filename=check_filename(upload.filename)) for upload in uploads]
