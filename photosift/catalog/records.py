"""Domain objects: what the catalog's repository functions return, shaped as the service shows them.

Frozen dataclasses, never ORM rows: a use case cannot lazy-load or write by accident. Times are ISO 8601 strings in
UTC (``iso``), boxes ``[left, top, width, height]`` in pixels of the upright original. The API's schemas build
from these objects and event payloads are ``as_json(record)``, so both show the same fields. The ``*_of`` functions
build a record from its row; only repository modules call them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from photosift.catalog import models


def aware(moment: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite returns naive datetimes; every stored time is UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC."""
    return None if moment is None else aware(moment).isoformat()


def as_json(record: Any) -> Any:
    """A record (or a list/dict of records) as plain JSON values: the same keys the API answers with."""
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return {f.name: as_json(getattr(record, f.name)) for f in dataclasses.fields(record)}
    if isinstance(record, list | tuple):
        return [as_json(item) for item in record]
    if isinstance(record, dict):
        return {key: as_json(value) for key, value in record.items()}
    return record


@dataclass(frozen=True, slots=True)
class Album:
    """An album; ``threshold`` None = the default; the counts when the use case read them."""

    id: str
    name: str
    threshold: float | None
    created_at: str | None
    photos: int | None = None
    members: int | None = None
    status: dict[str, int] | None = None
    cover_photo_id: str | None = None


@dataclass(frozen=True, slots=True)
class Reference:
    """A member's reference photo: the box of the face it gave."""

    id: str
    filename: str | None
    box: list[int]
    confidence: float


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    album_id: str
    name: str
    references: list[Reference]
    created_at: str | None
    updated_at: str | None


@dataclass(frozen=True, slots=True)
class MemberMatch:
    """The member a face matched and how similar (0-100) it is to the member's template."""

    id: str
    name: str | None
    similarity: float | None


@dataclass(frozen=True, slots=True)
class FaceQuality:
    sharpness: float
    brightness: float


@dataclass(frozen=True, slots=True)
class Face:
    """A face of a stored photo with its match: ``member`` or ``None`` and ``unknown`` true."""

    id: str
    photo_id: str
    box: list[int]
    confidence: float
    landmarks: list[list[float]]
    pose: dict[str, float]
    quality: FaceQuality
    too_small: bool
    member: MemberMatch | None
    unknown: bool
    person_id: str | None


@dataclass(frozen=True, slots=True)
class Blur:
    sharpness: float
    blurry: bool | None
    region: str | None


@dataclass(frozen=True, slots=True)
class Photo:
    """A photo and, once analysed, its dimensions, blur verdict and faces (``faces`` None = not included)."""

    id: str
    album_id: str
    filename: str | None
    status: str
    error: str | None
    content_type: str
    size_bytes: int
    sha256: str
    width: int | None
    height: int | None
    blur: Blur | None
    face_count: int | None
    created_at: str | None
    analysed_at: str | None
    taken_at: str | None
    taken_at_source: str
    faces: list[Face] | None = field(default=None)


@dataclass(frozen=True, slots=True)
class Match:
    """A matched face of one photo, as ``photo.matched`` events carry it."""

    face_id: str
    member_id: str
    member_name: str | None
    similarity: float | None


def album_of(row: models.Album, **counts: Any) -> Album:
    """``counts``: any of ``photos``, ``members``, ``status``, ``cover_photo_id``."""
    return Album(id=row.id, name=row.name, threshold=row.threshold, created_at=iso(row.created_at), **counts)


def reference_of(row: models.Reference) -> Reference:
    return Reference(id=row.id, filename=row.filename, box=list(row.box), confidence=row.confidence)


def member_of(row: models.Member, references: Iterable[models.Reference]) -> Member:
    return Member(id=row.id, album_id=row.album_id, name=row.name, references=[reference_of(r) for r in references],
                  created_at=iso(row.created_at), updated_at=iso(row.updated_at))


def face_of(row: models.Face, member_names: dict[str, str]) -> Face:
    member = None
    if row.member_id is not None:
        member = MemberMatch(id=row.member_id, name=member_names.get(row.member_id), similarity=row.similarity)
    return Face(id=row.id, photo_id=row.photo_id, box=row.box, confidence=row.confidence, landmarks=row.landmarks,
                pose=row.pose, quality=FaceQuality(sharpness=row.sharpness, brightness=row.brightness),
                too_small=row.too_small, member=member, unknown=member is None, person_id=row.person_id)


def photo_of(row: models.Photo, faces: list[models.Face] | None, member_names: dict[str, str]) -> Photo:
    """``faces`` None: the photo without its faces."""
    blur = None if row.sharpness is None else Blur(sharpness=row.sharpness, blurry=row.blurry,
                                                   region=row.blur_region)
    return Photo(
        id=row.id, album_id=row.album_id, filename=row.filename, status=row.status, error=row.error,
        content_type=row.content_type, size_bytes=row.size_bytes, sha256=row.sha256, width=row.width,
        height=row.height, blur=blur, face_count=row.face_count, created_at=iso(row.created_at),
        analysed_at=iso(row.analysed_at), taken_at=taken_at(row), taken_at_source=row.taken_at_source or "upload",
        faces=None if faces is None else [face_of(f, member_names) for f in faces],
    )


def matches_of(faces: Iterable[models.Face], member_names: dict[str, str]) -> list[Match]:
    """The matched faces among ``faces``."""
    return [Match(face_id=f.id, member_id=f.member_id, member_name=member_names.get(f.member_id),
                  similarity=f.similarity) for f in faces if f.member_id is not None]


def taken_at(row: models.Photo) -> str | None:
    """When the photo was taken, ISO 8601: from EXIF in the camera's UTC offset when it recorded one, else the
    camera's clock without an offset (its time zone is unknown); from the upload in UTC."""
    moment = row.taken_at or row.created_at
    if moment is None:
        return None
    moment = aware(moment)
    if row.taken_at_source != "exif":
        return moment.isoformat()
    if row.taken_at_offset is None:
        return moment.replace(tzinfo=None).isoformat()
    return moment.astimezone(timezone(timedelta(minutes=row.taken_at_offset))).isoformat()


@dataclass(frozen=True, slots=True)
class Page:
    """A page of a list (``Photo`` or ``Face`` records); ``next_cursor`` None on the last page."""

    items: list[Any]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class FaceBox:
    """A face shown for something else (a person's cover): where it is."""

    face_id: str
    photo_id: str
    box: list[int]


@dataclass(frozen=True, slots=True)
class Person:
    """A person (a group of unnamed faces), "Person <number>"; ``faces``, ``photos`` and ``cover`` once the use case
    counted its faces; ``moved``: the faces a merge moved into it."""

    id: str
    album_id: str
    name: str
    number: int | None
    hidden: bool
    faces: int = 0
    photos: int = 0
    cover: FaceBox | None = None
    moved: list[str] | None = None


@dataclass(frozen=True, slots=True)
class PersonFace:
    """A face of a person (or an unknown face): ``pinned`` when a user placed it."""

    id: str
    photo_id: str
    box: list[int]
    too_small: bool
    pinned: bool
    person_id: str | None


@dataclass(frozen=True, slots=True)
class PersonDetail(Person):
    """A person with all its faces."""

    items: list[PersonFace] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PeopleList:
    """An album's people and how many of its faces are unknown (no member, no person)."""

    items: list[Person]
    unknown: int


def person_of(row: models.Person) -> Person:
    """The person without its faces (``faces``, ``photos`` and ``cover`` are the use case's)."""
    return Person(id=row.id, album_id=row.album_id, name=f"Person {row.number}", number=row.number, hidden=row.hidden)


@dataclass(frozen=True, slots=True)
class MemberDetail(Member):
    """A member as its use cases answer: how many photos it was matched in and how many its suggestions hold (None:
    not counted), and what was noticed but accepted in new reference photos."""

    photos: int | None = None
    suggestions: int | None = None
    warnings: list[str] = field(default_factory=list)


def member_detail(member: Member, **extra: Any) -> MemberDetail:
    """``member`` with ``extra``: any of ``photos``, ``suggestions``, ``warnings``, or a field of ``member`` to
    replace (e.g. ``references``)."""
    return MemberDetail(**{**{f.name: getattr(member, f.name) for f in dataclasses.fields(member)}, **extra})
