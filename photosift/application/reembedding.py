"""Re-embedding: an album's vectors made again when the service runs another recogniser than the one that made them.

Vectors of two recognisers are never compared: every stored vector records its ``recognizer``, and matching,
grouping and the reference checks use only those of the running one (``photosift.faces.EMBEDDER``). At start-up,
``queue_reembedding`` queues one ``reembed`` job for each album with faces, reference photos or templates of another
recogniser. The job (``ReembedJob``):

1. reads the album's reference photos and faces of another recogniser;
2. embeds them again from the stored photos in the analysis processes (``photosift.application.reembed_work``):
   a photo's faces keep their ids, boxes, members, people and pinned corrections; only their vectors change;
3. writes everything in ONE transaction: the new vectors with their recogniser, each rejection's vector copied from
   its face when the face still exists (a rejection whose face is gone keeps its old vector and is never compared),
   every member's template, an ``album.reembedded`` event, and one re-match of the album (``enqueue_match``).

Until step 3 commits, the album works on what it had: faces of the old recogniser keep their member and person.
Progress goes out as ``album.reembedding`` ``{"done", "total"}`` events (faces and reference photos), each in a small
transaction of its own, at most every ``PROGRESS_SECONDS``, which also renews the job's lease. Faces of a photo that
can no longer be read keep their old vectors (``failed_photos`` in the final event), and so do references whose face
is not found again (``failed_references``); an album whose last re-embedding was with the running recogniser is not
queued again for them. Interrupted at any point, the job starts again from the beginning: nothing of it was written,
or all of it.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from photosift import faces as face_engine
from photosift.application import album_index, face_spaces
from photosift.application.context import Services
from photosift.application.events import record_event
from photosift.application.matching import rebuild_template
from photosift.application.processing import enqueue_match, enqueue_regroup
from photosift.application.reembed_work import (
    Embedded,
    StoredFace,
    StoredPhoto,
    StoredReference,
    embed_photos,
    embed_references,
)
from photosift.catalog.models import Album, Event, Face, Job, JobStatus, Member, Photo, Reference, Rejection
from photosift.jobs.queue import mark_done, renew_lease

log = logging.getLogger("photosift.reembedding")

KIND = "reembed"
PROGRESS = "album.reembedding"
"""Event type: ``{"done", "total"}`` faces and reference photos embedded again so far."""
DONE = "album.reembedded"
"""Event type: ``{"recognizer", "faces", "references", "rejections", "failed_photos", "failed_references"}``."""
PROGRESS_SECONDS = 2.0
PHOTOS_PER_CALL = 8  # photos (or reference photos) handed to an analysis process at once
PENDING = (JobStatus.QUEUED, JobStatus.RUNNING)
FACE_COLUMNS = (Face.id, Face.photo_id, Face.left, Face.top, Face.width, Face.height, Face.confidence, Face.landmarks,
                Face.pose, Face.sharpness, Face.brightness, Face.too_small)
"""What re-embedding reads of a stored face (not its old vector)."""

T = TypeVar("T")


# --- start-up and status ------------------------------------------------------------------------------------------


def queue_reembedding(svc: Services) -> list[str]:
    """Queue a ``reembed`` job for every album holding faces, reference photos or templates of another recogniser
    than the running one, unless one is queued or running already, or the album's last re-embedding was with this
    recogniser (what is left could not be re-embedded). Returns the albums queued."""
    current = face_engine.EMBEDDER
    with svc.catalog.session() as session:
        stale = _stale_albums(session, current)
        if not stale:
            return []
        pending = set(session.scalars(select(Job.album_id).where(Job.kind == KIND, Job.status.in_(PENDING))))
        finished = {album_id for album_id, data in _last_reembedded(session).items()
                    if data.get("recognizer") == current}
        added = sorted(stale - pending - finished)
        for album_id in added:
            session.add(Job(kind=KIND, album_id=album_id))
    if added:
        log.info("re-embedding %d album(s) with recogniser %s", len(added), current)
        svc.notify_jobs(len(added))
    return added


def reembedding_status(svc: Services) -> dict[str, int]:
    """``{"albums", "faces"}``: albums waiting for or being re-embedded, and their faces and reference photos still
    on another recogniser's vectors (both 0 once every re-embedding is over)."""
    current = face_engine.EMBEDDER
    with svc.catalog.read() as session:
        albums = sorted(set(session.scalars(select(Job.album_id).where(Job.kind == KIND, Job.status.in_(PENDING)))))
        pending = 0
        for model in (Face, Reference) if albums else ():
            pending += session.scalar(select(func.count()).select_from(model).where(
                model.album_id.in_(albums), model.recognizer != current)) or 0
    return {"albums": len(albums), "faces": pending}


def _stale_albums(session: Session, current: str) -> set[str]:
    stale = set(session.scalars(select(Face.album_id).where(Face.recognizer != current).distinct()))
    stale |= set(session.scalars(select(Reference.album_id).where(Reference.recognizer != current).distinct()))
    stale |= set(session.scalars(select(Member.album_id).where(Member.recognizer != current,
                                                               Member.template.is_not(None)).distinct()))
    return stale


def _last_reembedded(session: Session) -> dict[str, dict[str, Any]]:
    """The data of each album's latest ``album.reembedded`` event."""
    rows = session.execute(select(Event.album_id, Event.data).where(Event.type == DONE).order_by(Event.id)).all()
    return {album_id: data or {} for album_id, data in rows}


# --- the job ------------------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    """What an album has to re-embed."""

    references: list[StoredReference]
    photos: list[StoredPhoto]

    @property
    def total(self) -> int:
        return len(self.references) + sum(len(p.faces) for p in self.photos)


@dataclass
class _Results:
    faces: Embedded = field(default_factory=Embedded)
    references: Embedded = field(default_factory=Embedded)


class ReembedJob:
    """Re-embed one album with the running recogniser (see the module docstring)."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def run(self, job: Job) -> None:
        plan = self._plan(job.album_id)
        if plan is None:  # the album is gone
            with self.svc.catalog.session() as session:
                mark_done(session, job)
            return
        progress = _Progress(self.svc, job, plan.total)
        progress.report(0, force=True)
        results = _Results()
        done = 0
        for chunk in _chunks(plan.references):
            embedded = self.svc.analysis.run(embed_references, self.svc.store, chunk, self.svc.limits)
            _merge(results.references, embedded)
            done += len(chunk)
            progress.report(done)
        for photos in _chunks(plan.photos):
            embedded = self.svc.analysis.run(embed_photos, self.svc.store, photos, self.svc.limits)
            _merge(results.faces, embedded)
            done += sum(len(p.faces) for p in photos)
            progress.report(done)
        for kind, failed in (("photo", results.faces.failed), ("reference photo", results.references.failed)):
            for row_id, reason in failed.items():
                log.warning("album %s: %s %s keeps its old vectors: %s", job.album_id, kind, row_id, reason)
        self._commit(job, results)

    def failed(self, job: Job, error: str) -> None:
        log.error("re-embedding album %s failed: %s (its old vectors stay unused; it is tried again at the next "
                  "start)", job.album_id, error)

    def _plan(self, album_id: str) -> _Plan | None:
        current = face_engine.EMBEDDER
        with self.svc.catalog.read() as session:
            if session.get(Album, album_id) is None:
                return None
            references = [StoredReference(rid, key, _box(box)) for rid, key, box in session.execute(
                select(Reference.id, Reference.blob_key, Reference.box).where(
                    Reference.album_id == album_id, Reference.recognizer != current).order_by(Reference.id))]
            keys: dict[str, str] = {}
            faces: dict[str, list[StoredFace]] = defaultdict(list)
            for row in session.execute(select(*FACE_COLUMNS, Photo.blob_key).join(Photo, Photo.id == Face.photo_id)
                                       .where(Face.album_id == album_id, Face.recognizer != current)
                                       .order_by(Face.photo_id, Face.position)):
                keys[row.photo_id] = row.blob_key
                faces[row.photo_id].append(_stored_face(row))
        return _Plan(references, [StoredPhoto(pid, keys[pid], tuple(found)) for pid, found in faces.items()])

    def _commit(self, job: Job, results: _Results) -> None:
        current = face_engine.EMBEDDER
        with self.svc.catalog.session() as session:
            album = session.scalars(select(Album).where(Album.id == job.album_id).with_for_update()).first()
            if album is None:
                mark_done(session, job)
                return
            faces = _write_vectors(session, Face, album.id, results.faces.vectors, current)
            album_index.drop(face_spaces.index_of(self.svc.catalog), session, album.id)  # rebuilt at its next use
            references = _write_vectors(session, Reference, album.id, results.references.vectors, current)
            rejections = _copy_rejections(session, album.id, current)
            templates = 0
            for member in session.scalars(select(Member).where(Member.album_id == album.id)):
                before = (member.template, member.recognizer)
                rebuild_template(session, member)
                templates += (member.template, member.recognizer) != before
            record_event(session, album.id, DONE, {
                "recognizer": current, "faces": faces, "references": references, "rejections": rejections,
                "failed_photos": len(results.faces.failed), "failed_references": len(results.references.failed)})
            queued = bool(faces or references or rejections or templates) and enqueue_match(session, album.id)
            if faces:  # people of new vectors: group them again from every face, once the re-match is done
                queued = enqueue_regroup(session, album.id) or queued
            mark_done(session, job)
        if queued:
            self.svc.notify_jobs(1)
        self.svc.hub.publish(job.album_id)


class _Progress:
    """``album.reembedding`` events, at most every ``PROGRESS_SECONDS``, each renewing the job's lease."""

    def __init__(self, svc: Services, job: Job, total: int) -> None:
        self.svc, self.job, self.total = svc, job, total
        self.last = 0.0

    def report(self, done: int, *, force: bool = False) -> None:
        if not force and time.monotonic() - self.last < PROGRESS_SECONDS:
            return
        with self.svc.catalog.session() as session:
            record_event(session, self.job.album_id, PROGRESS, {"done": done, "total": self.total})
            renew_lease(session, self.job, self.svc.queue.lease)
        self.last = time.monotonic()
        self.svc.hub.publish(self.job.album_id)


def _write_vectors(session: Session, model: type[Face] | type[Reference], album_id: str, vectors: dict[str, bytes],
                   current: str) -> int:
    """Store ``vectors`` (row id -> bytes) on the album's rows of ``model`` that are still of another recogniser
    (rows deleted or replaced meanwhile are left out); returns how many were written."""
    still_old = set(session.scalars(select(model.id).where(model.album_id == album_id, model.recognizer != current)))
    rows = [{"row_id": row_id, "vector": blob} for row_id, blob in vectors.items() if row_id in still_old]
    _update_many(session, model, rows, current)
    return len(rows)


def _copy_rejections(session: Session, album_id: str, current: str) -> int:
    """Give each rejection of another recogniser the vector of its face, when the face is of the running one."""
    rows = [{"row_id": rid, "vector": blob} for rid, blob in session.execute(
        select(Rejection.id, Face.embedding).join(Face, Face.id == Rejection.face_id).where(
            Rejection.album_id == album_id, Rejection.recognizer != current, Face.recognizer == current))]
    _update_many(session, Rejection, rows, current)
    return len(rows)


def _update_many(session: Session, model: type[Any], rows: list[dict[str, Any]], current: str) -> None:
    if rows:
        table = model.__table__
        session.execute(update(table).where(table.c.id == bindparam("row_id"))
                        .values(embedding=bindparam("vector"), recognizer=current), rows)


def _merge(into: Embedded, part: Embedded) -> None:
    into.vectors.update(part.vectors)
    into.failed.update(part.failed)


def _chunks(items: Sequence[T]) -> list[list[T]]:
    return [list(items[i : i + PHOTOS_PER_CALL]) for i in range(0, len(items), PHOTOS_PER_CALL)]


def _box(box: Sequence[float]) -> tuple[int, int, int, int]:
    left, top, width, height = (int(v) for v in box)
    return left, top, width, height


def _stored_face(face: Any) -> StoredFace:  # noqa: ANN401 - a result row of FACE_COLUMNS
    pose = face.pose or {}
    return StoredFace(
        face_id=face.id, box=_box((face.left, face.top, face.width, face.height)), confidence=float(face.confidence),
        landmarks=tuple((float(x), float(y)) for x, y in face.landmarks),
        pose=(float(pose.get("yaw", 0.0)), float(pose.get("pitch", 0.0)), float(pose.get("roll", 0.0))),
        sharpness=float(face.sharpness), brightness=float(face.brightness), too_small=bool(face.too_small))


__all__ = ["DONE", "KIND", "PROGRESS", "ReembedJob", "queue_reembedding", "reembedding_status"]
