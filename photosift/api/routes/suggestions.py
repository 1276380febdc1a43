"""``/v1/albums/{id}/suggestions``: "Is this <member>?" for people and faces that came close to a member, and what a
"Not <member>" would take away before it is said."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from photosift.api import schemas
from photosift.api.deps import SHARE_CONTRIBUTE, AlbumId, FaceId, ServicesDep
from photosift.application import people, suggestions
from photosift.application.validation import ID_PATTERN, MAX_ID

router = APIRouter(tags=["people"])
OptionalId = Annotated[str | None, Query(pattern=ID_PATTERN, max_length=MAX_ID)]


class MemberName(BaseModel):
    id: str
    name: str


class SuggestedFace(BaseModel):
    id: str
    photo_id: str
    box: list[int] = Field(description="[left, top, width, height] in pixels of the photo")


class Suggestion(BaseModel):
    member: MemberName
    person: schemas.Person | None = Field(description="the person suggested; null for a face in no person")
    faces: list[SuggestedFace] = Field(description="the faces the answer applies to")
    photos: int = Field(description="photos these faces are in")
    similarity: float = Field(description="0-100 against the member (a person: its faces together)")


class Suggestions(BaseModel):
    items: list[Suggestion]


class SuggestionAnswer(BaseModel):
    member_id: schemas.Id
    face_ids: list[schemas.Id] = Field(min_length=1, max_length=1000, description="the suggestion's faces")
    accept: bool = Field(description="true: they are the member (pinned to them); false: they are not (rejections)")


class SuggestionAnswered(BaseModel):
    member_id: str
    accepted: bool
    faces: list[str]


class RejectPreview(BaseModel):
    faces: list[str] = Field(description="faces that would leave the member, this one included")
    photos: list[str] = Field(description="the photos they are in")
    count: int = Field(description="how many photos would leave the member")


@router.get("/albums/{album_id}/suggestions", response_model=Suggestions)
def list_suggestions(album_id: AlbumId, svc: ServicesDep, member_id: OptionalId = None,
                     person_id: OptionalId = None) -> suggestions.ShownList:
    """People and faces that came close to a member without being given to them ("Is this <member>?"), most similar
    first; ``member_id`` / ``person_id`` keep one member's or one person's. Answer with ``POST
    /suggestions/answer``."""
    return suggestions.list_suggestions(svc, album_id, member_id=member_id, person_id=person_id)


@router.post("/albums/{album_id}/suggestions/answer", response_model=SuggestionAnswered,
             openapi_extra=SHARE_CONTRIBUTE)
def answer_suggestion(album_id: AlbumId, body: SuggestionAnswer, svc: ServicesDep) -> dict[str, Any]:
    """Yes (``accept``): the faces are pinned to the member. No: each is recorded as "not <member>" and stays where
    it is. The album is re-matched either way."""
    return people.answer_suggestion(svc, album_id, body.member_id, body.face_ids, body.accept)


@router.get("/albums/{album_id}/faces/{face_id}/reject-preview", response_model=RejectPreview)
def reject_preview(album_id: AlbumId, face_id: FaceId, svc: ServicesDep,
                   member_id: Annotated[str, Query(pattern=ID_PATTERN, max_length=MAX_ID)]) -> dict[str, Any]:
    """What ``POST /faces/{face_id}/reject`` ``{"member_id"}`` would take from the member: this face and the look-alike
    matches that would leave with it, and their photos (to confirm before a correction that reaches further)."""
    return people.reject_preview(svc, album_id, face_id, member_id)
