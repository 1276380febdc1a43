"""Members of an album: a name and reference photos whose faces make the member's template.

Every change of a member's references rebuilds its template (``photosift.faces.make_template`` over all its
reference embeddings) and queues a re-match of the album's existing photos.

A reference photo is checked before it is used: it must show a face (``NoFaceFound``) big and sharp enough to
compare (``FaceTooSmall`` / ``FaceTooBlurred``); when it shows several faces of similar size the caller must choose
one (``SeveralFaces``, listing them; ``face`` picks one, largest first), a much smaller second face only adds a
warning; and the face must not be another member of the album (``FaceOfAnotherMember`` at ``SAME_PERSON``; a weaker
resemblance above the album's threshold is only a warning: look-alikes exist). Only templates of the running
recogniser are compared; a member's template is made of its references of that recogniser
(``photosift.application.matching.rebuild_template``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from starlette.concurrency import run_in_threadpool

from photosift import faces as face_engine
from photosift.application import face_spaces, scoring, suggestions
from photosift.application.blobs import delete_unreferenced, store_upload
from photosift.application.context import Services
from photosift.application.events import record_event
from photosift.application.grouping import regroup_faces
from photosift.application.matching import album_threshold, rebuild_template
from photosift.application.photos import Upload
from photosift.application.processing import enqueue_match
from photosift.application.validation import check_name
from photosift.catalog import albums, records
from photosift.catalog import faces as faces_repo
from photosift.catalog import members as members_repo
from photosift.catalog.db import Session
from photosift.catalog.models import bytes_to_vector, vector_to_bytes
from photosift.errors import (
    AlreadyExists,
    FaceOfAnotherMember,
    FaceTooBlurred,
    FaceTooSmall,
    InvalidInput,
    NoFaceFound,
    SeveralFaces,
)

SAME_PERSON = face_engine.CERTAIN_THRESHOLD
"""A reference face at least this similar to another member is that member."""
SIMILAR_SIZE = 0.4
"""A second face with at least this share of the largest face's area makes a reference photo ambiguous."""


def _reference_face(svc: Services, upload: Upload, choice: int | None) -> dict[str, Any]:
    """Check a reference photo, store it and embed its face (see the module docstring for the checks).

    Returns the reference's fields plus ``warning`` (a message or None)."""
    from photosift.analysis import analyze

    data = upload.data
    name = upload.filename or "(unnamed)"
    result = analyze(data, limits=svc.limits, reference=True)
    found = sorted(result.faces, key=lambda f: -f.face.box[2] * f.face.box[3])
    if not found:
        raise NoFaceFound(f"no face found in reference photo {name}")
    boxes = "; ".join(f"face {i}: box {list(f.face.box)}" for i, f in enumerate(found))
    warning = None
    if choice is not None:
        if not 0 <= choice < len(found):
            raise InvalidInput(f"face {choice} does not exist: {name} shows {len(found)} face(s) ({boxes})")
        chosen = found[choice]
    else:
        chosen = found[0]
        if len(found) > 1:
            area = [f.face.box[2] * f.face.box[3] for f in found]
            if area[1] >= SIMILAR_SIZE * area[0]:
                raise SeveralFaces(f"{name} shows {len(found)} faces of similar size; choose one with 'face' "
                                   f"(largest first): {boxes}",
                                   details={"faces": [{"index": i, "box": [int(v) for v in f.face.box]}
                                                      for i, f in enumerate(found)],
                                            "width": result.width, "height": result.height})
            warning = f"{name} shows {len(found)} faces; the largest was used (box {list(chosen.face.box)})"
    face = chosen.face
    if face.too_small:
        raise FaceTooSmall(f"the face in {name} is {face.box[2]}x{face.box[3]} px, too small to compare reliably")
    if face.quality.sharpness < face_engine.REFERENCE_MIN_SHARPNESS:
        raise FaceTooBlurred(f"the face in {name} is too blurred to compare (face sharpness "
                             f"{face.quality.sharpness:g}, needs {face_engine.REFERENCE_MIN_SHARPNESS:g} of 100)")
    blob = store_upload(svc, data)
    return {"blob_key": blob.key, "filename": upload.filename, "box": [int(v) for v in face.box],
            "confidence": float(face.confidence), "embedding": vector_to_bytes(chosen.embedding),
            "recognizer": face_engine.EMBEDDER, "warning": warning}


async def _reference_faces(svc: Services, uploads: list[Upload], choice: int | None) -> list[dict[str, Any]]:
    if not uploads:
        raise InvalidInput("at least one reference photo is required")
    if len(uploads) > svc.settings.max_files_per_request:
        raise InvalidInput(f"{len(uploads)} files in one request; the limit is {svc.settings.max_files_per_request}")
    if choice is not None and len(uploads) != 1:
        raise InvalidInput("'face' chooses a face of ONE reference photo; send that photo alone")
    for upload in uploads:
        if upload.error is not None:
            raise upload.error
    return [await svc.engine.run(_reference_face, svc, upload, choice) for upload in uploads]


def _check_not_another_member(session: Session, album_id: str, member_id: str | None,
                              faces: list[dict[str, Any]]) -> None:
    """Refuse reference faces that surely are another member of the album (one person, one member): similarity
    >= ``SAME_PERSON``; one that only reaches the album's threshold is taken with a warning (look-alikes exist).
    Members whose template another recogniser made are not compared (until the album is re-embedded)."""
    others = members_repo.templates(session, album_id=album_id, recognizer=face_engine.EMBEDDER, excluding=member_id)
    if not others:
        return
    threshold = album_threshold(albums.require(session, album_id=album_id))
    scores = scoring.similarity(np.stack([bytes_to_vector(f["embedding"]) for f in faces]),
                                np.stack([template for _, template in others]))
    for row, face in enumerate(faces):
        col = int(np.argmax(scores[row]))
        score, name = float(scores[row, col]), others[col][0]
        where = f"the face in {face['filename'] or 'the reference photo'}"
        if score >= max(SAME_PERSON, threshold):
            raise FaceOfAnotherMember(f"{where} is member {name!r} (similarity {score:.1f}): one person can be only "
                                      "one member")
        if score >= threshold:
            warning = (f"{where} looks like member {name!r} (similarity {score:.1f}); if they are different people, "
                       f"correct wrong matches with 'Not {name}'")
            face["warning"] = "; ".join(w for w in (face["warning"], warning) if w)


def _commit_references(session: Session, member: records.Member, faces: list[dict[str, Any]]
                       ) -> records.MemberDetail:
    for face in faces:
        members_repo.add_reference(session, member_id=member.id, album_id=member.album_id,
                                   **{k: v for k, v in face.items() if k != "warning"})
    rebuild_template(session, member.id)
    member = members_repo.require(session, album_id=member.album_id, member_id=member.id)  # its updated_at now
    detail = records.member_detail(
        member, warnings=[f["warning"] for f in faces if f["warning"]],
        suggestions=suggestions.counts(session, member.album_id, before_rematch=True).get(member.id, 0))
    record_event(session, member.album_id, "member.updated",
                 {"member_id": member.id, "name": member.name, "references": len(member.references)})
    enqueue_match(session, member.album_id)
    return detail


async def create_member(svc: Services, album_id: str, name: str, uploads: list[Upload], *,
                        face: int | None = None) -> records.MemberDetail:
    """A new member from one or more checked reference photos (see the module docstring); ``face`` chooses the face
    of a single photo (0 = the largest)."""
    name = check_name(name, "member name")
    await run_in_threadpool(_check_new_member, svc, album_id, name)
    faces = await _reference_faces(svc, uploads, face)

    def commit() -> records.MemberDetail:
        with svc.catalog.session() as session:
            _check_new_member_in(session, album_id, name)
            _check_not_another_member(session, album_id, None, faces)
            member_id = members_repo.create(session, album_id=album_id, name=name, recognizer=face_engine.EMBEDDER)
            member = members_repo.require(session, album_id=album_id, member_id=member_id)
            return _commit_references(session, member, faces)

    member = await run_in_threadpool(commit)
    _after_change(svc, album_id)
    return member


def _check_new_member(svc: Services, album_id: str, name: str) -> None:
    with svc.catalog.read() as session:
        _check_new_member_in(session, album_id, name)


def _check_new_member_in(session: Session, album_id: str, name: str) -> None:
    albums.require(session, album_id=album_id)
    if members_repo.named(session, album_id=album_id, name=name) is not None:
        raise AlreadyExists(f"album {album_id!r} already has a member named {name!r}")


async def add_references(svc: Services, album_id: str, member_id: str, uploads: list[Upload], *,
                         face: int | None = None) -> records.MemberDetail:
    """Add checked reference photos to a member; its template and the album's matches are updated."""
    await run_in_threadpool(get_member, svc, album_id, member_id)
    faces = await _reference_faces(svc, uploads, face)

    def commit() -> records.MemberDetail:
        with svc.catalog.session() as session:
            albums.require(session, album_id=album_id, lock=True)
            _check_not_another_member(session, album_id, member_id, faces)
            return _commit_references(session, members_repo.require(session, album_id=album_id, member_id=member_id),
                                      faces)

    member = await run_in_threadpool(commit)
    _after_change(svc, album_id)
    return member


def remove_reference(svc: Services, album_id: str, member_id: str, reference_id: str) -> records.MemberDetail:
    """Remove one reference photo; a member without references matches nothing until new ones are added."""
    with svc.catalog.session() as session:
        albums.require(session, album_id=album_id, lock=True)
        member = members_repo.require(session, album_id=album_id, member_id=member_id)
        key = members_repo.remove_reference(session, member_id=member.id, reference_id=reference_id)
        rebuild_template(session, member.id)
        member = members_repo.require(session, album_id=album_id, member_id=member_id)  # its updated_at now
        record_event(session, album_id, "member.updated",
                     {"member_id": member.id, "name": member.name, "references": len(member.references)})
        enqueue_match(session, album_id)
    _after_change(svc, album_id)
    delete_unreferenced(svc, [key])
    return records.member_detail(member)


def rename_member(svc: Services, album_id: str, member_id: str, name: str) -> records.MemberDetail:
    """Give a member a new name (``AlreadyExists`` when another member of the album has it); open clients get
    ``member.updated``."""
    name = check_name(name, "member name")
    with svc.catalog.session() as session:
        albums.require(session, album_id=album_id, lock=True)
        member = members_repo.require(session, album_id=album_id, member_id=member_id)
        if member.name != name:
            _check_new_member_in(session, album_id, name)
            members_repo.rename(session, member_id=member.id, name=name)
            record_event(session, album_id, "member.updated",
                         {"member_id": member.id, "name": name, "references": len(member.references)})
    _after_change(svc, album_id)
    return get_member(svc, album_id, member_id)


def delete_member(svc: Services, album_id: str, member_id: str) -> None:
    """Delete a member and its references; its matches become unknown faces (then the album is re-matched)."""
    with svc.catalog.session() as session:
        albums.require(session, album_id=album_id, lock=True)
        member = members_repo.require(session, album_id=album_id, member_id=member_id)
        keys = members_repo.blob_keys(session, member_id=member.id)
        # a face the user gave this member is free to be matched/grouped again
        matched = faces_repo.release(session, member_id=member.id)
        members_repo.delete(session, member_id=member.id)
        regroup_faces(session, album_id, matched, face_spaces.album_nearest(svc.catalog, session, album_id))
        for photo_id in sorted({f.photo_id for f in matched}):
            matches = faces_repo.matches(session, album_id=album_id, photo_id=photo_id)
            record_event(session, album_id, "photo.matched",
                         {"photo_id": photo_id, "matches": records.as_json(matches)})
        record_event(session, album_id, "member.deleted", {"member_id": member_id})
        enqueue_match(session, album_id)
    _after_change(svc, album_id)
    delete_unreferenced(svc, keys)


def get_member(svc: Services, album_id: str, member_id: str) -> records.MemberDetail:
    """A member with its reference photos, how many photos it was matched in, and how many photos its
    suggestions hold (``photosift.application.suggestions``)."""
    with svc.catalog.read() as session:
        member = members_repo.require(session, album_id=album_id, member_id=member_id)
        return records.member_detail(member, photos=faces_repo.count_of_member(session, member_id=member.id),
                                     suggestions=suggestions.counts(session, album_id).get(member.id, 0))


def list_members(svc: Services, album_id: str) -> list[records.MemberDetail]:
    """The album's members, oldest first, with their photo and suggestion counts."""
    with svc.catalog.read() as session:
        albums.require(session, album_id=album_id)
        counts = faces_repo.counts_by_member(session, album_id=album_id)
        members = members_repo.listed(session, album_id=album_id)
        waiting = suggestions.counts(session, album_id)
        return [records.member_detail(m, photos=counts.get(m.id, 0), suggestions=waiting.get(m.id, 0))
                for m in members]


def _after_change(svc: Services, album_id: str) -> None:
    svc.notify_jobs(1)
    svc.hub.publish(album_id)
