"""``/v1/albums/{id}/people``: automatic people (grouped unmatched faces) and the user's corrections."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from photosift.api import schemas
from photosift.api.deps import SHARE_CONTRIBUTE, AlbumId, FaceId, PersonId, ServicesDep
from photosift.application import people
from photosift.catalog import records

router = APIRouter(tags=["people"])


class MergeSuggestion(BaseModel):
    people: list[schemas.Person] = Field(description="two people who may be one")
    similarity: float = Field(description="mean similarity (0-100) between their faces")


class MergeSuggestions(BaseModel):
    items: list[MergeSuggestion]


@router.get("/albums/{album_id}/people", response_model=schemas.PeopleList)
def list_people(album_id: AlbumId, svc: ServicesDep,
                hidden: Annotated[bool, Query(description="include hidden people")] = False) -> records.PeopleList:
    """The album's people, most faces first, each with a cover face and counts; and the number of unknown faces."""
    return people.list_people(svc, album_id, include_hidden=hidden)


@router.post("/albums/{album_id}/people", status_code=201, response_model=schemas.Person,
             openapi_extra=SHARE_CONTRIBUTE)
def create_person(album_id: AlbumId, body: schemas.FaceIds, svc: ServicesDep) -> records.Person:
    """A new person made of the given faces, taken from wherever they are (a person, a member, unknown)."""
    return people.create_person(svc, album_id, body.face_ids)


@router.post("/albums/{album_id}/people/merge", response_model=schemas.Person, openapi_extra=SHARE_CONTRIBUTE)
def merge_people(album_id: AlbumId, body: schemas.PeopleMerge, svc: ServicesDep) -> records.Person:
    """Merge ``source`` into ``target``; refused when both appear in one photo. ``moved`` lists the faces moved."""
    return people.merge_people(svc, album_id, body.source, body.target)


class RegroupQueued(BaseModel):
    queued: bool = Field(description="false: a re-cluster of this album was queued already")


@router.post("/albums/{album_id}/people/regroup", status_code=202, response_model=RegroupQueued)
def regroup_people(album_id: AlbumId, svc: ServicesDep) -> dict[str, Any]:
    """Group the album's people again from every face in the background (photos and re-matches only regroup the
    faces they change and their neighbours); what users placed is kept. Owner only; ``people.changed`` follows."""
    return people.queue_regroup(svc, album_id)


@router.get("/albums/{album_id}/people/suggestions", response_model=MergeSuggestions)
def merge_suggestions(album_id: AlbumId, svc: ServicesDep) -> dict[str, Any]:
    """Pairs of people who may be one person, most similar first (never merged automatically: a prompt for
    ``POST /people/merge``)."""
    return people.merge_suggestions(svc, album_id)


@router.get("/albums/{album_id}/people/{person_id}", response_model=schemas.PersonDetail)
def get_person(album_id: AlbumId, person_id: PersonId, svc: ServicesDep) -> records.PersonDetail:
    """A person with all its faces (``unknown``: the faces that fit nobody)."""
    return people.get_person(svc, album_id, person_id)


@router.patch("/albums/{album_id}/people/{person_id}", response_model=schemas.Person,
              openapi_extra=SHARE_CONTRIBUTE)
def update_person(album_id: AlbumId, person_id: PersonId, body: schemas.PersonUpdate, svc: ServicesDep
                  ) -> records.Person:
    """Hide a person from the people list (``hidden: true``) or show it again."""
    return people.set_hidden(svc, album_id, person_id, body.hidden)


@router.post("/albums/{album_id}/people/{person_id}/rename", response_model=schemas.PersonRenamed,
             openapi_extra=SHARE_CONTRIBUTE)
def rename_person(album_id: AlbumId, person_id: PersonId, body: schemas.PersonRename, svc: ServicesDep
                  ) -> dict[str, Any]:
    """Name a person: a new name creates a member from its faces; an existing member's name merges into it."""
    return people.rename_person(svc, album_id, person_id, body.name)


@router.post("/albums/{album_id}/people/{person_id}/split", status_code=201, response_model=schemas.Person,
             openapi_extra=SHARE_CONTRIBUTE)
def split_person(album_id: AlbumId, person_id: PersonId, body: schemas.FaceIds, svc: ServicesDep
                 ) -> records.Person:
    """Move some of a person's faces into a new person (they are different people)."""
    return people.split_person(svc, album_id, person_id, body.face_ids)


@router.post("/albums/{album_id}/faces/{face_id}/reject", response_model=schemas.FaceMoved,
             openapi_extra=SHARE_CONTRIBUTE)
def reject_face(album_id: AlbumId, face_id: FaceId, body: schemas.FaceReject, svc: ServicesDep) -> dict[str, Any]:
    """"This face is not <member>": the face leaves the member, and it and faces very like it stop matching them.
    ("This is <member>" is ``move`` with ``member_id``.)"""
    return people.reject_face(svc, album_id, face_id, body.member_id)


@router.post("/albums/{album_id}/faces/{face_id}/move", response_model=schemas.FaceMoved,
             openapi_extra=SHARE_CONTRIBUTE)
def move_face(album_id: AlbumId, face_id: FaceId, body: schemas.FaceMove, svc: ServicesDep) -> dict[str, Any]:
    """Move one face into a person, a member or a new person; with none of them, into unknown."""
    return people.move_face(svc, album_id, face_id, person_id=body.person_id, member_id=body.member_id,
                            new=body.new_person)
