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
from typing import TypeVar

from photosift import faces as face_engine
from photosift.application import album_index, face_spaces
from photosift.application.context import Services
from photosift.application.events import record_event
from photosift.application.matching import rebuild_template
from photosift.application.processing import enqueue_match, enqueue_regroup, locked_album
from photosift.application.reembed_work import (
    Embedded,
    StoredFace,
    StoredPhoto,
    StoredReference,
    embed_photos,
    embed_references,
)
from photosift.catalog import albums, events, faces, jobs, members
from photosift.errors import NotFound
from photosift.jobs.queue import Claimed, mark_done, renew_lease

log = logging.getLogger("photosift.reembedding")

KIND = "reembed"
PROGRESS = "album.reembedding"
"""Event type: ``{"done", "total"}`` faces and reference photos embedded again so far."""
DONE = "album.reembedded"
"""Event type: ``{"recognizer", "faces", "references", "rejections", "failed_photos", "failed_references"}``."""
PROGRESS_SECONDS = 2.0
PHOTOS_PER_CALL = 8  # photos (or reference photos) handed to an analysis process at once

T = TypeVar("T")


# --- start-up and status ------------------------------------------------------------------------------------------


def queue_reembedding(svc: Services) -> list[str]:
    """Queue a ``reembed`` job for every album holding faces, reference photos or templates of another recogniser
    than the running one, unless one is queued or running already, or the album's last re-embedding was with this
    recogniser (what is left could not be re-embedded). Returns the albums queued."""
    current = face_engine.EMBEDDER
    with svc.catalog.session() as session:
        stale = albums.stale(session, recognizer=current)
        if not stale:
            return []
        pending = jobs.pending_albums(session, kind=KIND)
        finished = {album_id for album_id, data in events.latest_data(session, type_=DONE).items()
                    if data.get("recognizer") == current}
        added = sorted(stale - pending - finished)
        for album_id in added:
            jobs.enqueue(session, kind=KIND, album_id=album_id)
    if added:
        log.info("re-embedding %d album(s) with recogniser %s", len(added), current)
        svc.notify_jobs(len(added))
    return added


def reembedding_status(svc: Services) -> dict[str, int]:
    """``{"albums", "faces"}``: albums waiting for or being re-embedded, and their faces and reference photos still
    on another recogniser's vectors (both 0 once every re-embedding is over)."""
    current = face_engine.EMBEDDER
    with svc.catalog.read() as session:
        pending = sorted(jobs.pending_albums(session, kind=KIND))
        stale = albums.count_stale(session, album_ids=pending, recognizer=current) if pending else 0
    return {"albums": len(pending), "faces": stale}


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

    def run(self, job: Claimed) -> None:
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

    def failed(self, job: Claimed, error: str) -> None:
        log.error("re-embedding album %s failed: %s (its old vectors stay unused; it is tried again at the next "
                  "start)", job.album_id, error)

    def _plan(self, album_id: str) -> _Plan | None:
        current = face_engine.EMBEDDER
        with self.svc.catalog.read() as session:
            try:
                albums.require(session, album_id=album_id)
            except NotFound:
                return None
            references = [StoredReference(rid, key, _box(box)) for rid, key, box in
                          members.references_to_embed(session, album_id=album_id, recognizer=current)]
            keys: dict[str, str] = {}
            stored: dict[str, list[StoredFace]] = defaultdict(list)
            for face in faces.to_embed(session, album_id=album_id, recognizer=current):
                keys[face.photo_id] = face.blob_key
                stored[face.photo_id].append(_stored_face(face))
        return _Plan(references, [StoredPhoto(pid, keys[pid], tuple(found)) for pid, found in stored.items()])

    def _commit(self, job: Claimed, results: _Results) -> None:
        current = face_engine.EMBEDDER
        with self.svc.catalog.session() as session:
            album = locked_album(session, job.album_id)
            if album is None:
                mark_done(session, job)
                return
            embedded = faces.set_vectors(session, album_id=album.id, vectors=results.faces.vectors, recognizer=current)
            album_index.drop(face_spaces.index_of(self.svc.catalog), session, album.id)  # rebuilt at its next use
            references = members.set_reference_vectors(session, album_id=album.id,
                                                       vectors=results.references.vectors, recognizer=current)
            rejections = faces.copy_rejection_vectors(session, album_id=album.id, recognizer=current)
            before = members.template_states(session, album_id=album.id)
            for member_id in before:
                rebuild_template(session, member_id)
            after = members.template_states(session, album_id=album.id)
            templates = sum(after[member_id] != state for member_id, state in before.items())
            record_event(session, album.id, DONE, {
                "recognizer": current, "faces": embedded, "references": references, "rejections": rejections,
                "failed_photos": len(results.faces.failed), "failed_references": len(results.references.failed)})
            queued = bool(embedded or references or rejections or templates) and enqueue_match(session, album.id)
            if embedded:  # people of new vectors: group them again from every face, once the re-match is done
                queued = enqueue_regroup(session, album.id) or queued
            mark_done(session, job)
        if queued:
            self.svc.notify_jobs(1)
        self.svc.hub.publish(job.album_id)


class _Progress:
    """``album.reembedding`` events, at most every ``PROGRESS_SECONDS``, each renewing the job's lease."""

    def __init__(self, svc: Services, job: Claimed, total: int) -> None:
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


def _merge(into: Embedded, part: Embedded) -> None:
    into.vectors.update(part.vectors)
    into.failed.update(part.failed)


def _chunks(items: Sequence[T]) -> list[list[T]]:
    return [list(items[i : i + PHOTOS_PER_CALL]) for i in range(0, len(items), PHOTOS_PER_CALL)]


def _box(box: Sequence[float]) -> tuple[int, int, int, int]:
    left, top, width, height = (int(v) for v in box)
    return left, top, width, height


def _stored_face(face: faces.ToEmbed) -> StoredFace:
    pose = face.pose or {}
    return StoredFace(
        face_id=face.id, box=_box(face.box), confidence=float(face.confidence),
        landmarks=tuple((float(x), float(y)) for x, y in face.landmarks),
        pose=(float(pose.get("yaw", 0.0)), float(pose.get("pitch", 0.0)), float(pose.get("roll", 0.0))),
        sharpness=float(face.sharpness), brightness=float(face.brightness), too_small=bool(face.too_small))


__all__ = ["DONE", "KIND", "PROGRESS", "ReembedJob", "queue_reembedding", "reembedding_status"]
