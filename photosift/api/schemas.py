"""Request and response shapes of the native API (documentation for OpenAPI; handlers return plain dicts)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    type: str = Field(description="error class, e.g. NotFound, InvalidImage, ImageTooLarge")
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class AlbumCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    threshold: float | None = Field(default=None, ge=0, le=100,
                                    description="similarity 0-100 for member matches; default: the engine's")


class Album(BaseModel):
    id: str
    name: str
    threshold: float | None
    created_at: str
    photos: int | None = None
    members: int | None = None
    status: dict[str, int] | None = Field(default=None, description="photo counts per status")


class Reference(BaseModel):
    id: str
    filename: str | None
    box: list[int] = Field(description="[left, top, width, height] in pixels of the reference photo")
    confidence: float


class Member(BaseModel):
    id: str
    album_id: str
    name: str
    references: list[Reference]
    created_at: str
    updated_at: str
    photos: int | None = Field(default=None, description="number of photos the member was matched in")


class MemberMatch(BaseModel):
    id: str
    name: str | None
    similarity: float | None = Field(description="0-100 (to the member's template); null when it has none")


class FaceQuality(BaseModel):
    sharpness: float
    brightness: float


class Face(BaseModel):
    id: str
    box: list[int] = Field(description="[left, top, width, height] in pixels of the upright original")
    confidence: float = Field(description="0-100")
    landmarks: list[list[float]]
    pose: dict[str, float]
    quality: FaceQuality
    too_small: bool
    member: MemberMatch | None = Field(description="the member this face matched, or null")
    unknown: bool = Field(description="true when no member matched")
    person_id: str | None = Field(default=None, description="the person this unmatched face was grouped into")
    photo_id: str | None = None


class Blur(BaseModel):
    sharpness: float = Field(description="0-100, higher is sharper")
    blurry: bool
    region: str | None


class Photo(BaseModel):
    id: str
    album_id: str
    filename: str | None
    status: str = Field(description="pending | done | failed")
    error: str | None
    content_type: str
    size_bytes: int
    sha256: str
    width: int | None
    height: int | None
    blur: Blur | None
    face_count: int | None
    created_at: str
    analysed_at: str | None
    faces: list[Face] | None = None


class PhotoPage(BaseModel):
    items: list[Photo]
    next_cursor: str | None


class FacePage(BaseModel):
    items: list[Face]
    next_cursor: str | None


class UploadResult(BaseModel):
    filename: str | None
    id: str | None = None
    status: str | None = Field(default=None, description="pending for a new photo")
    duplicate: bool | None = Field(default=None, description="the album already had these exact bytes")
    error: ErrorDetail | None = Field(default=None, description="why this file was refused")


class UploadResponse(BaseModel):
    photos: list[UploadResult]


class FaceBox(BaseModel):
    face_id: str
    photo_id: str
    box: list[int] = Field(description="[left, top, width, height] in pixels of the upright original")


class Person(BaseModel):
    id: str = Field(description="the person's id, or 'unknown' for the faces that fit nobody")
    album_id: str
    name: str = Field(description="display label: 'Person <number>' (naming a person makes it a member)")
    number: int | None
    hidden: bool
    faces: int = Field(description="number of faces")
    photos: int = Field(description="number of photos")
    cover: FaceBox | None = Field(description="the person's most typical face")
    moved: list[str] | None = Field(default=None, description="merge: the ids of the faces that moved")


class PersonFace(BaseModel):
    id: str
    photo_id: str
    box: list[int]
    too_small: bool
    pinned: bool = Field(description="placed by a user correction (kept by later grouping and matching)")
    person_id: str | None


class PersonDetail(Person):
    items: list[PersonFace] = Field(description="every face of the person")


class PeopleList(BaseModel):
    items: list[Person]
    unknown: int = Field(description="faces that match no member and fit no person")


class PersonRename(BaseModel):
    name: str = Field(min_length=1, max_length=200,
                      description="a new name makes the person a member; an existing member's name merges into it")


class PersonRenamed(BaseModel):
    member: Member
    created: bool = Field(description="true when a new member was created")
    faces: list[str] = Field(description="the ids of the faces now assigned to the member")


class PersonUpdate(BaseModel):
    hidden: bool


class PeopleMerge(BaseModel):
    source: str = Field(description="the person that disappears")
    target: str = Field(description="the person that receives the source's faces")


class FaceIds(BaseModel):
    face_ids: list[str] = Field(min_length=1)


class FaceMove(BaseModel):
    person_id: str | None = Field(default=None, description="move into this person")
    member_id: str | None = Field(default=None, description="assign to this member")
    new_person: bool = Field(default=False, description="move into a new person of its own")


class FacePlacement(BaseModel):
    person_id: str | None
    member_id: str | None


class FaceMoved(FacePlacement):
    face_id: str
    photo_id: str
    previous: FacePlacement
