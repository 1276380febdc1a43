"""Members of an album: a name and reference photos whose largest faces make the member's template.

Every change of a member's references rebuilds its template (``photosift.faces.make_template`` over all its
reference embeddings) and queues a re-match of the album's existing photos.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from photosift.application import views
from photosift.application.albums import require_album
from photosift.application.blobs import delete_unreferenced, store_upload
from photosift.application.context import Services
from photosift.application.events import record_event
from photosift.application.photos import Upload
from photosift.application.processing import enqueue_match
from photosift.catalog.models import Face, Member, Reference, bytes_to_vector, vector_to_bytes
from photosift.errors import AlreadyExists, InvalidInput, NoFaceFound, NotFound


def _reference_face(svc: Services, upload: Upload) -> dict[str, Any]:
    """Store a reference photo and embed its largest face; raises ``NoFaceFound`` / ``InvalidImage``."""
    from photosift.analysis import analyze

    blob = store_upload(svc, upload.data)
    result = analyze(upload.data, limits=svc.limits)
    if not result.faces:
        raise NoFaceFound(f"no face found in reference photo {upload.filename or '(unnamed)'}")
    largest = max(result.faces, key=lambda f: f.face.box[2] * f.face.box[3])
    return {"blob_key": blob.key, "filename": upload.filename, "box": [int(v) for v in largest.face.box],
            "confidence": float(largest.face.confidence), "embedding": vector_to_bytes(largest.embedding)}


async def _reference_faces(svc: Services, uploads: list[Upload]) -> list[dict[str, Any]]:
    if not uploads:
        raise InvalidInput("at least one reference photo is required")
    if len(uploads) > svc.settings.max_files_per_request:
        raise InvalidInput(f"{len(uploads)} files in one request; the limit is {svc.settings.max_files_per_request}")
    for upload in uploads:
        if upload.error is not None:
            raise upload.error
    return [await svc.engine.run(_reference_face, svc, upload) for upload in uploads]


def _require_member(session: Session, member_id: str, album_id: str | None = None) -> Member:
    member = session.get(Member, member_id)
    if member is None or (album_id is not None and member.album_id != album_id):
        raise NotFound(f"no member {member_id!r}")
    return member


def _rebuild_template(session: Session, member: Member) -> list[Reference]:
    from photosift.faces import make_template

    references = list(session.scalars(select(Reference).where(Reference.member_id == member.id)
                                      .order_by(Reference.id)))
    member.template = (vector_to_bytes(make_template([bytes_to_vector(r.embedding) for r in references]))
                       if references else None)
    return references


def _commit_references(svc: Services, member: Member, session: Session, faces: list[dict[str, Any]]
                       ) -> dict[str, Any]:
    for face in faces:
        session.add(Reference(member_id=member.id, album_id=member.album_id, **face))
    session.flush()
    references = _rebuild_template(session, member)
    view = views.member_view(member, references)
    record_event(session, member.album_id, "member.updated",
                 {"member_id": member.id, "name": member.name, "references": len(references)})
    enqueue_match(session, member.album_id)
    return view


async def create_member(svc: Services, album_id: str, name: str, uploads: list[Upload]) -> dict[str, Any]:
    """A new member from one or more reference photos (each must show a face; the largest face is used)."""
    name = name.strip()
    if not name:
        raise InvalidInput("member name must not be empty")
    await run_in_threadpool(_check_new_member, svc, album_id, name)
    faces = await _reference_faces(svc, uploads)

    def commit() -> dict[str, Any]:
        with svc.catalog.session() as session:
            _check_new_member_in(session, album_id, name)
            member = Member(album_id=album_id, name=name)
            session.add(member)
            session.flush()
            return _commit_references(svc, member, session, faces)

    view = await run_in_threadpool(commit)
    _after_change(svc, album_id)
    return view


def _check_new_member(svc: Services, album_id: str, name: str) -> None:
    with svc.catalog.read() as session:
        _check_new_member_in(session, album_id, name)


def _check_new_member_in(session: Session, album_id: str, name: str) -> None:
    require_album(session, album_id)
    if session.scalar(select(Member.id).where(Member.album_id == album_id, Member.name == name)) is not None:
        raise AlreadyExists(f"album {album_id!r} already has a member named {name!r}")


async def add_references(svc: Services, album_id: str, member_id: str, uploads: list[Upload]) -> dict[str, Any]:
    """Add reference photos to a member; its template and the album's matches are updated."""
    await run_in_threadpool(get_member, svc, album_id, member_id)
    faces = await _reference_faces(svc, uploads)

    def commit() -> dict[str, Any]:
        with svc.catalog.session() as session:
            require_album(session, album_id, lock=True)
            return _commit_references(svc, _require_member(session, member_id, album_id), session, faces)

    view = await run_in_threadpool(commit)
    _after_change(svc, album_id)
    return view


def remove_reference(svc: Services, album_id: str, member_id: str, reference_id: str) -> dict[str, Any]:
    """Remove one reference photo; a member without references matches nothing until new ones are added."""
    with svc.catalog.session() as session:
        require_album(session, album_id, lock=True)
        member = _require_member(session, member_id, album_id)
        reference = session.get(Reference, reference_id)
        if reference is None or reference.member_id != member.id:
            raise NotFound(f"member {member_id!r} has no reference {reference_id!r}")
        key = reference.blob_key
        session.delete(reference)
        session.flush()
        references = _rebuild_template(session, member)
        view = views.member_view(member, references)
        record_event(session, album_id, "member.updated",
                     {"member_id": member.id, "name": member.name, "references": len(references)})
        enqueue_match(session, album_id)
    _after_change(svc, album_id)
    delete_unreferenced(svc, [key])
    return view


def delete_member(svc: Services, album_id: str, member_id: str) -> None:
    """Delete a member and its references; its matches become unknown faces (then the album is re-matched)."""
    with svc.catalog.session() as session:
        require_album(session, album_id, lock=True)
        member = _require_member(session, member_id, album_id)
        keys = list(session.scalars(select(Reference.blob_key).where(Reference.member_id == member.id)))
        matched = list(session.scalars(select(Face).where(Face.member_id == member.id)))
        for face in matched:
            face.member_id, face.similarity = None, None
            face.person_pinned = False  # a face the user gave this member is free to be matched/grouped again
        session.delete(member)
        session.flush()
        names = views.member_names(session, album_id)
        for photo_id in sorted({f.photo_id for f in matched}):
            faces = session.scalars(select(Face).where(Face.photo_id == photo_id).order_by(Face.position))
            record_event(session, album_id, "photo.matched",
                         {"photo_id": photo_id, "matches": views.matches_view(faces, names)})
        record_event(session, album_id, "member.deleted", {"member_id": member_id})
        enqueue_match(session, album_id)
    _after_change(svc, album_id)
    delete_unreferenced(svc, keys)


def get_member(svc: Services, album_id: str, member_id: str) -> dict[str, Any]:
    """A member with its reference photos and how many photos it was matched in."""
    with svc.catalog.read() as session:
        member = _require_member(session, member_id, album_id)
        view = views.member_view(member, member.references)
        view["photos"] = session.scalar(select(func.count()).select_from(Face).where(Face.member_id == member.id))
        return view


def list_members(svc: Services, album_id: str) -> list[dict[str, Any]]:
    """The album's members, oldest first."""
    with svc.catalog.read() as session:
        require_album(session, album_id)
        counts = dict(session.execute(select(Face.member_id, func.count()).where(Face.album_id == album_id)
                                      .group_by(Face.member_id)).tuples().all())
        members = session.scalars(select(Member).where(Member.album_id == album_id).order_by(Member.id)).all()
        return [{**views.member_view(m, m.references), "photos": counts.get(m.id, 0)} for m in members]


def _after_change(svc: Services, album_id: str) -> None:
    svc.notify_jobs(1)
    svc.hub.publish(album_id)
