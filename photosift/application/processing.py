"""The background jobs of the service: ``analyze`` (one photo) and ``match`` (re-match an album's faces); the
``reembed`` job (an album's vectors made again by a new recogniser) lives in ``photosift.application.reembedding``.

Both write their results, their events and the job's completion in ONE transaction, so a job interrupted at any
point (even SIGKILL) leaves either nothing or everything, and running it again replaces rather than duplicates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from photosift import faces as face_engine
from photosift.application import album_index, face_spaces, nearby, views
from photosift.application.context import Services
from photosift.application.events import record_event
from photosift.application.grouping import Nearest, regroup, regroup_faces_guarded
from photosift.application.matching import (
    CONFIDENT,
    IndexedLookAlikes,
    Templates,
    album_faces,
    load_templates,
    match_faces,
    with_album_evidence,
)
from photosift.catalog.face_index import FaceIndex
from photosift.catalog.models import Album, Face, Job, Photo, PhotoStatus, bytes_to_vector, utcnow, vector_to_bytes
from photosift.imaging import DecodeLimits
from photosift.jobs.queue import mark_done
from photosift.store.base import BlobStore

if TYPE_CHECKING:
    from photosift.analysis import PhotoAnalysis


def enqueue_match(session: Session, album_id: str) -> bool:
    """Queue a re-match of the album unless one is already queued; returns whether a job was added."""
    return _enqueue_once(session, album_id, "match")


def enqueue_regroup(session: Session, album_id: str) -> bool:
    """Queue a full re-cluster of the album's people (``RegroupJob``) unless one is queued."""
    return _enqueue_once(session, album_id, "regroup")


def _enqueue_once(session: Session, album_id: str, kind: str) -> bool:
    queued = session.scalar(select(Job.id).where(Job.album_id == album_id, Job.kind == kind,
                                                 Job.status == "queued").limit(1))
    if queued is not None:
        return False
    session.add(Job(kind=kind, album_id=album_id))
    return True


def analyze_stored(store: BlobStore, key: str, *, limits: DecodeLimits, blur_threshold: float | None
                   ) -> PhotoAnalysis:
    """``analyze`` the photo under ``key`` of ``store``, reading it where this runs (an analysis process): the
    photo's bytes never pass through the server process, whose memory does not grow with the photos."""
    from photosift.analysis import analyze

    return analyze(store.get(key), limits=limits, blur_threshold=blur_threshold)


def record_analysis(session: Session, album: Album, photo: Photo, result: PhotoAnalysis, index: FaceIndex) -> None:
    """Store one photo's analysis in the caller's transaction (which holds the album's lock): its faces matched to
    the members and put in the album's face index, the people brought up to date from the new faces' neighbours
    (``grouping.regroup_faces``), a re-match queued when a member matched (rule 5 aside: it is applied with the
    look-alikes the album's index finds, or left to the re-match), and the ``photo.analyzed`` event.
    Replaces what an earlier analysis of the photo stored."""
    old = list(session.scalars(select(Face.id).where(Face.photo_id == photo.id)))
    if old:
        session.execute(delete(Face).where(Face.id.in_(old)))
        album_index.remove_faces(index, session, album.id, old)
    embeddings, small = [f.embedding for f in result.faces], [f.face.too_small for f in result.faces]
    nearest = album_index.nearest(index, session, album.id)
    templates = load_templates(session, album, doubtful_for=embeddings)
    unchecked = match_faces(embeddings, small, templates, photo.id)  # before rule 5 (no look-alikes given)
    look_alikes = IndexedLookAlikes(session, album.id, nearest, most=nearby.START)
    matches = (match_faces(embeddings, small, replace(templates, album=look_alikes), photo.id) if any(unchecked)
               else unchecked)
    faces = []
    for position, (found, match) in enumerate(zip(result.faces, matches, strict=True)):
        face = found.face
        left, top, width, height = (int(v) for v in face.box)
        faces.append(Face(
            photo_id=photo.id, album_id=album.id, position=position, left=left, top=top, width=width,
            height=height, confidence=float(face.confidence),
            landmarks=[[float(x), float(y)] for x, y in face.landmarks],
            pose={"yaw": float(face.pose.yaw), "pitch": float(face.pose.pitch), "roll": float(face.pose.roll)},
            sharpness=float(face.quality.sharpness), brightness=float(face.quality.brightness),
            relative_blur=float(face.quality.relative_blur), too_small=bool(face.too_small),
            embedding=vector_to_bytes(found.embedding),
            recognizer=face_engine.EMBEDDER, member_id=match[0] if match else None,
            similarity=match[1] if match else None,
        ))
    session.add_all(faces)
    photo.width, photo.height = int(result.width), int(result.height)
    photo.sharpness, photo.blurry = float(result.blur.sharpness), bool(result.blur.blurry)
    photo.blur_region = result.blur.region
    photo.face_count = len(faces)
    photo.status, photo.error, photo.analysed_at = PhotoStatus.DONE, None, utcnow()
    session.flush()
    album_index.add_faces(index, session, album.id, faces)
    if any(face.member_id is None for face in faces):  # only unmatched faces can change the people
        regroup_faces_guarded(session, album.id, faces, nearest)
    if any(unchecked):  # new evidence of a member, or a look-alike of the album's doubtful faces (rule 5)
        enqueue_match(session, album.id)
    view = views.photo_view(photo, faces, views.member_names(session, album.id))
    record_event(session, album.id, "photo.analyzed", {"photo": view})


def faces_to_rematch(session: Session, album_id: str, templates: Templates, nearest: Nearest
                     ) -> dict[str, list[Face]] | None:
    """The faces of the running recogniser whose member a re-match can change, by photo: those matched to a member
    now, and those that can score the album's threshold (or ``CONFIDENT``, rule 4's evidence) against a member's
    template, found around it in the album's index (``nearby.around``: a template ranks faces by their mean cosine
    to its faces); with, in their photos, the faces placed by hand (they take part in the photo's one face per
    member). Any other face stays unknown: it reaches no member, and no rule gives it one. None when the index
    cannot bound them (no index, or a member near too many faces)."""
    current = Face.recognizer == face_engine.EMBEDDER
    ids = set(session.scalars(select(Face.id).where(Face.album_id == album_id, Face.member_id.is_not(None),
                                                    Face.person_pinned.is_(False), current)))
    floor = min(templates.threshold, CONFIDENT)
    for template in templates.vectors if templates.vectors is not None else ():
        found = nearby.around(session, album_id, nearest, template, floor)
        if found is None:
            return None
        ids.update(n.id for n in found)
    ordered = sorted(ids)
    faces = [face for start in range(0, len(ordered), nearby.LOAD_BATCH)
             for face in session.scalars(select(Face).where(Face.id.in_(ordered[start:start + nearby.LOAD_BATCH])))]
    photos = {face.photo_id for face in faces}
    placed = session.scalars(select(Face).where(Face.album_id == album_id, Face.person_pinned.is_(True), current))
    return _by_photo([*faces, *(face for face in placed if face.photo_id in photos)])


def _by_photo(faces: Iterable[Face]) -> dict[str, list[Face]]:
    """``faces`` by photo (in photo id order), each photo's in position order."""
    by_photo: dict[str, list[Face]] = defaultdict(list)
    for face in sorted(faces, key=lambda f: (f.photo_id, f.position)):
        by_photo[face.photo_id].append(face)  # a photo's faces share one recogniser: all are here, or none
    return by_photo


class AnalyzeJob:
    """Analyse one photo: blur, faces and embeddings, then match the faces to the album's members."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def run(self, job: Job) -> None:
        with self.svc.catalog.read() as session:
            photo = session.get(Photo, job.photo_id)
            blob_key = photo.blob_key if photo else None
        if blob_key is None:  # deleted meanwhile
            with self.svc.catalog.session() as session:
                mark_done(session, job)
            return
        result = self.svc.analysis.run(analyze_stored, self.svc.store, blob_key, limits=self.svc.limits,
                                       blur_threshold=self.svc.settings.blur_threshold)
        with self.svc.catalog.session() as session:
            album = session.scalars(select(Album).where(Album.id == job.album_id).with_for_update()).first()
            photo = session.get(Photo, job.photo_id)
            if album is not None and photo is not None:
                record_analysis(session, album, photo, result, face_spaces.index_of(self.svc.catalog))
            mark_done(session, job)
        self.svc.hub.publish(job.album_id)

    def failed(self, job: Job, error: str) -> None:
        with self.svc.catalog.session() as session:
            photo = session.get(Photo, job.photo_id)
            if photo is None:
                return
            photo.status, photo.error = PhotoStatus.FAILED, error
            record_event(session, job.album_id, "photo.failed", {"photo_id": photo.id, "error": error})
        self.svc.hub.publish(job.album_id)


class MatchJob:
    """Re-match an album's faces to its members' current templates; one ``photo.matched`` event per changed photo,
    then ``album.matched`` ``{"photos_changed"}``. Only the faces whose member can change are read
    (``faces_to_rematch``), or every face when the album's index cannot bound them. Faces whose vectors another
    recogniser made (not re-embedded yet, or whose photo could not be read again) keep the member they had."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def run(self, job: Job) -> None:
        with self.svc.catalog.session() as session:
            album = session.scalars(select(Album).where(Album.id == job.album_id).with_for_update()).first()
            if album is None:
                mark_done(session, job)
                return
            templates = load_templates(session, album)
            nearest = face_spaces.album_nearest(self.svc.catalog, session, album.id)
            by_photo = faces_to_rematch(session, album.id, templates, nearest)
            look_alikes = None  # the whole album's faces answer rule 5
            if by_photo is None:
                by_photo = _by_photo(session.scalars(select(Face).where(Face.album_id == album.id,
                                                                        Face.recognizer == face_engine.EMBEDDER)))
            else:
                look_alikes = IndexedLookAlikes(session, album.id, nearest,
                                                cache(lambda: album_faces(session, album.id, templates)))
            vectors = {face.id: bytes_to_vector(face.embedding) for faces in by_photo.values() for face in faces}
            every = [face for faces in by_photo.values() for face in faces if not face.person_pinned]
            templates = with_album_evidence(templates, [f.photo_id for f in every], [vectors[f.id] for f in every],
                                            [not f.too_small for f in every], look_alikes)
            names = views.member_names(session, album.id)
            changed: list[dict[str, Any]] = []
            moved: list[Face] = []  # faces given to a member or freed from one: the people they change
            for photo_id, faces in by_photo.items():
                matches = match_faces([vectors[f.id] for f in faces], [f.too_small for f in faces], templates, photo_id)
                dirty = False
                for face, match in zip(faces, matches, strict=True):
                    if face.person_pinned:
                        continue  # placed by the user (people view): re-matching never moves it
                    member_id, sim = match if match else (None, None)
                    if face.member_id != member_id:
                        moved.append(face)
                    if face.member_id != member_id or (sim is not None and abs((face.similarity or 0) - sim) > 0.01):
                        face.member_id, face.similarity = member_id, sim
                        dirty = True
                if dirty:
                    changed.append({"photo_id": photo_id, "matches": views.matches_view(faces, names)})
            for data in changed:
                record_event(session, album.id, "photo.matched", data)
            regroup_faces_guarded(session, album.id, moved, nearest)
            # the end of this re-match (clients waiting for "their photos are being found" know it is over)
            record_event(session, album.id, "album.matched", {"photos_changed": len(changed)})
            mark_done(session, job)
        self.svc.hub.publish(job.album_id)

    def failed(self, job: Job, error: str) -> None:
        pass  # the next member change queues a new match; the job row keeps the error


class RegroupJob:
    """Group the album's people again from every face (``grouping.regroup``), keeping what users placed: the full
    re-cluster, after a change of recogniser or on request, where photos and re-matches only regroup the faces they
    changed and their neighbours."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def run(self, job: Job) -> None:
        with self.svc.catalog.session() as session:
            if session.scalars(select(Album).where(Album.id == job.album_id).with_for_update()).first() is not None:
                regroup(session, job.album_id)
            mark_done(session, job)
        self.svc.hub.publish(job.album_id)

    def failed(self, job: Job, error: str) -> None:
        pass  # the people stay as they were; the job row keeps the error


def job_handlers(svc: Services) -> dict[str, Any]:
    """The handlers the job runner dispatches to, by ``Job.kind``."""
    from photosift.application.reembedding import ReembedJob  # it queues re-matches with enqueue_match (above)

    return {"analyze": AnalyzeJob(svc), "match": MatchJob(svc), "reembed": ReembedJob(svc), "regroup": RegroupJob(svc)}
