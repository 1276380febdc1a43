"""Plain-dict views of catalog rows, as the API returns them (boxes ``[left, top, width, height]`` in pixels)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from photosift.catalog.models import Face, Member, Photo, Reference
from photosift.catalog.records import iso, taken_at


def member_view(member: Member, references: Iterable[Reference]) -> dict[str, Any]:
    return {
        "id": member.id, "album_id": member.album_id, "name": member.name,
        "references": [reference_view(r) for r in references],
        "created_at": iso(member.created_at), "updated_at": iso(member.updated_at),
    }


def reference_view(reference: Reference) -> dict[str, Any]:
    return {"id": reference.id, "filename": reference.filename, "box": list(reference.box),
            "confidence": reference.confidence}


def face_view(face: Face, member_names: dict[str, str]) -> dict[str, Any]:
    """A face of a stored photo (``photo_id``) with its match: ``member`` = ``{"id", "name", "similarity"}``, or
    ``None`` and ``unknown`` true."""
    member = None
    if face.member_id is not None:
        member = {"id": face.member_id, "name": member_names.get(face.member_id), "similarity": face.similarity}
    return {
        "id": face.id, "photo_id": face.photo_id, "box": face.box, "confidence": face.confidence,
        "landmarks": face.landmarks, "pose": face.pose,
        "quality": {"sharpness": face.sharpness, "brightness": face.brightness}, "too_small": face.too_small,
        "member": member, "unknown": member is None, "person_id": face.person_id,
    }


def photo_view(photo: Photo, faces: list[Face] | None, member_names: dict[str, str]) -> dict[str, Any]:
    """A photo and, once analysed, its dimensions, blur verdict and faces (``faces`` None = not included)."""
    view: dict[str, Any] = {
        "id": photo.id, "album_id": photo.album_id, "filename": photo.filename, "status": photo.status,
        "error": photo.error, "content_type": photo.content_type, "size_bytes": photo.size_bytes,
        "sha256": photo.sha256, "width": photo.width, "height": photo.height,
        "blur": None if photo.sharpness is None else {
            "sharpness": photo.sharpness, "blurry": photo.blurry, "region": photo.blur_region},
        "face_count": photo.face_count,
        "created_at": iso(photo.created_at),
        "analysed_at": iso(photo.analysed_at),
        "taken_at": taken_at(photo), "taken_at_source": photo.taken_at_source or "upload",
    }
    if faces is not None:
        view["faces"] = [face_view(f, member_names) for f in faces]
    return view


def member_names(session: Session, album_id: str) -> dict[str, str]:
    """``{member id: name}`` of an album."""
    return dict(session.execute(select(Member.id, Member.name).where(Member.album_id == album_id)).all())


def matches_view(faces: Iterable[Face], names: dict[str, str]) -> list[dict[str, Any]]:
    """The matched faces of one photo, for ``photo.matched`` events."""
    return [{"face_id": f.id, "member_id": f.member_id, "member_name": names.get(f.member_id),
             "similarity": f.similarity} for f in faces if f.member_id is not None]
