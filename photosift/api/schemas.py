"""Request and response shapes of the native API (documentation for OpenAPI; handlers return ``records`` objects
or plain dicts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, SerializerFunctionWrapHandler, model_serializer

from photosift.application import validation
from photosift.errors import InvalidInput


def _checked(check: Callable[[Any], Any]) -> AfterValidator:
    """A pydantic validator running one of ``photosift.application.validation``'s checks."""

    def run(value: Any) -> Any:
        try:
            return check(value)
        except InvalidInput as exc:
            raise ValueError(str(exc)) from None

    return AfterValidator(run)


Name = Annotated[str, Field(min_length=1, max_length=validation.MAX_NAME,
                            description="1-200 characters, no control characters"), _checked(validation.check_name)]
Id = Annotated[str, Field(pattern=validation.ID_PATTERN, max_length=validation.MAX_ID)]


class ErrorDetail(BaseModel):
    type: str = Field(description="error class, e.g. NotFound, InvalidImage, ImageTooLarge")
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "invalid input: a malformed id, name, parameter or body"},
    401: {"model": ErrorBody, "description": "API keys are configured and the request has no valid one"},
    403: {"model": ErrorBody, "description": "a cross-origin write, or a non-loopback client without API keys"},
    404: {"model": ErrorBody, "description": "the album, photo, member, person or face does not exist"},
    "4XX": {"model": ErrorBody, "description": "any other client error, in the same shape"},
}


class AlbumCreate(BaseModel):
    name: Name
    threshold: float | None = Field(default=None, ge=0, le=100, allow_inf_nan=False,
                                    description="similarity 0-100 for member matches; default: the engine's")


class Album(BaseModel):
    id: str
    name: str
    threshold: float | None = Field(default=None, description="omitted when the album uses the default")
    created_at: str
    photos: int | None = None
    members: int | None = None
    status: dict[str, int] | None = Field(default=None, description="photo counts per status")
    cover_photo_id: str | None = Field(default=None, description="album list: the photo to show for the album "
                                       "(e.g. its thumbnail): the first analysed photo by date taken (EXIF, else "
                                       "upload time; as sort=taken_at lists them), null while there is none")

    @model_serializer(mode="wrap")
    def _omit_unread(self, handler: SerializerFunctionWrapHandler):  # noqa: ANN202 - typed, the schema is lost
        """``threshold`` only when the album has its own, the counts only when they were read
        (``cover_photo_id`` stays even when null: the album list shows it)."""
        return {key: value for key, value in handler(self).items()
                if value is not None or key not in ("threshold", "photos", "members", "status")}


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
    suggestions: int | None = Field(default=None, description="photos waiting as \"Is this <member>?\" "
                                                               "(``GET /albums/{id}/suggestions``)")
    warnings: list[str] = Field(default_factory=list, description="what was noticed in new reference photos but "
                                                                    "accepted (e.g. a smaller second face)")


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
    photo_id: str = Field(description="the photo the face is in")


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
    taken_at: str | None = Field(default=None, description="when it was taken, ISO 8601: from EXIF with the camera's "
                                 "UTC offset (no offset when the camera recorded none), else the upload time (UTC)")
    taken_at_source: str | None = Field(default=None, description="exif | upload: where taken_at comes from")
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
    name: Name = Field(description="a new name makes the person a member; an existing member's name merges into it")


class PersonRenamed(BaseModel):
    member: Member
    created: bool = Field(description="true when a new member was created")
    faces: list[str] = Field(description="the ids of the faces now assigned to the member")


class PersonUpdate(BaseModel):
    hidden: bool


class PeopleMerge(BaseModel):
    source: Id = Field(description="the person that disappears")
    target: Id = Field(description="the person that receives the source's faces")


class FaceIds(BaseModel):
    face_ids: list[Id] = Field(min_length=1, max_length=validation.MAX_LIST,
                               description=f"1-{validation.MAX_LIST} face ids")


class FaceMove(BaseModel):
    person_id: Id | None = Field(default=None, description="move into this person")
    member_id: Id | None = Field(default=None, description="assign to this member")
    new_person: bool = Field(default=False, description="move into a new person of its own")


class FaceReject(BaseModel):
    member_id: Id = Field(description="the member this face is not")


class FacePlacement(BaseModel):
    person_id: str | None
    member_id: str | None


class FaceMoved(FacePlacement):
    face_id: str
    photo_id: str
    previous: FacePlacement
