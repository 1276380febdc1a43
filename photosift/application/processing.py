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

from photosift import faces as face_engine
from photosift.application import album_index, face_spaces, nearby
from photosift.application.context import Services
from photosift.application.events import record_event
from photosift.application.grouping import Identified, Nearest, big_enough, regroup, regroup_faces_guarded
from photosift.application.matching import (
    CONFIDENT,
    IndexedLookAlikes,
    Templates,
    Thresholded,
    album_faces,
    load_templates,
    match_faces,
    with_album_evidence,
)
from photosift.catalog import albums, jobs, members, photos, records
from photosift.catalog import faces as faces_repo
from photosift.catalog.db import Session
from photosift.catalog.face_index import FaceIndex
from photosift.catalog.faces import Stored
from photosift.catalog.models import bytes_to_vector, vector_to_bytes
from photosift.errors import NotFound
from photosift.imaging import DecodeLimits
from photosift.jobs.queue import Claimed, mark_done
from photosift.store.base import BlobStore

if TYPE_CHECKING:
    from photosift.analysis import PhotoAnalysis


def enqueue_match(session: Session, album_id: str) -> bool:
    """Queue a re-match of the album unless one is already queued; returns whether a job was added."""
    return jobs.enqueue_once(session, kind="match", album_id=album_id)


def enqueue_regroup(session: Session, album_id: str) -> bool:
    """Queue a full re-cluster of the album's people (``RegroupJob``) unless one is queued."""
    return jobs.enqueue_once(session, kind="regroup", album_id=album_id)


def analyze_stored(store: BlobStore, key: str, *, limits: DecodeLimits, blur_threshold: float | None
                   ) -> PhotoAnalysis:
    """``analyze`` the photo under ``key`` of ``store``, reading it where this runs (an analysis process): the
    photo's bytes never pass through the server process, whose memory does not grow with the photos."""
    from photosift.analysis import analyze

    return analyze(store.get(key), limits=limits, blur_threshold=blur_threshold)


def record_analysis(session: Session, album: Thresholded, photo: Identified, result: PhotoAnalysis,
                    index: FaceIndex) -> None:
    """Store one photo's analysis in the caller's transaction (which holds the album's lock): its faces matched to
    the members and put in the album's face index, the people brought up to date from the new faces' neighbours
    (``grouping.regroup_faces``), a re-match queued when a member matched (rule 5 aside: it is applied with the
    look-alikes the album's index finds, or left to the re-match), and the ``photo.analyzed`` event.
    Replaces what an earlier analysis of the photo stored."""
    old = faces_repo.delete_of_photo(session, photo_id=photo.id)
    if old:
        album_index.remove_faces(index, session, album.id, old)
    embeddings, small = [f.embedding for f in result.faces], [f.face.too_small for f in result.faces]
    nearest = album_index.nearest(index, session, album.id)
    templates = load_templates(session, album, doubtful_for=embeddings)
    unchecked = match_faces(embeddings, small, templates, photo.id)  # before rule 5 (no look-alikes given)
    look_alikes = IndexedLookAlikes(session, album.id, nearest, most=nearby.START)
    matches = (match_faces(embeddings, small, replace(templates, album=look_alikes), photo.id) if any(unchecked)
               else unchecked)
    new = []
    for position, (found, match) in enumerate(zip(result.faces, matches, strict=True)):
        face = found.face
        new.append(faces_repo.New(
            position=position, box=[int(v) for v in face.box], confidence=float(face.confidence),
            landmarks=[[float(x), float(y)] for x, y in face.landmarks],
            pose={"yaw": float(face.pose.yaw), "pitch": float(face.pose.pitch), "roll": float(face.pose.roll)},
            sharpness=float(face.quality.sharpness), brightness=float(face.quality.brightness),
            relative_blur=float(face.quality.relative_blur),
            analysed_size=None if face.quality.size is None else float(face.quality.size),
            too_small=bool(face.too_small),
            embedding=vector_to_bytes(found.embedding),
            recognizer=face_engine.EMBEDDER, member_id=match[0] if match else None,
            similarity=match[1] if match else None,
        ))
    photos.set_analysed(session, photo_id=photo.id, width=int(result.width), height=int(result.height),
                        sharpness=float(result.blur.sharpness), blurry=bool(result.blur.blurry),
                        blur_region=result.blur.region, face_count=len(new))
    faces = faces_repo.add(session, album_id=album.id, photo_id=photo.id, faces=new)
    album_index.add_faces(index, session, album.id, faces)
    if any(face.member_id is None for face in faces):  # only unmatched faces can change the people
        regroup_faces_guarded(session, album.id, faces, nearest)
    if any(unchecked):  # new evidence of a member, or a look-alike of the album's doubtful faces (rule 5)
        enqueue_match(session, album.id)
    record_event(session, album.id, "photo.analyzed",
                 {"photo": records.as_json(photos.get(session, photo_id=photo.id))})


def faces_to_rematch(session: Session, album_id: str, templates: Templates, nearest: Nearest
                     ) -> dict[str, list[Stored]] | None:
    """The faces of the running recogniser whose member a re-match can change, by photo: those matched to a member
    now, and those that can score the album's threshold (or ``CONFIDENT``, rule 4's evidence) against a member's
    template, found around it in the album's index (``nearby.around``: a template ranks faces by their mean cosine
    to its faces); with, in their photos, the faces placed by hand (they take part in the photo's one face per
    member). Any other face stays unknown: it reaches no member, and no rule gives it one. None when the index
    cannot bound them (no index, or a member near too many faces)."""
    ids = faces_repo.matched_ids(session, album_id=album_id, recognizer=face_engine.EMBEDDER)
    floor = min(templates.threshold, CONFIDENT)
    for template in templates.vectors if templates.vectors is not None else ():
        found = nearby.around(session, album_id, nearest, template, floor)
        if found is None:
            return None
        ids.update(n.id for n in found)
    faces = faces_repo.stored(session, face_ids=sorted(ids))
    in_photos = {face.photo_id for face in faces}
    placed = faces_repo.placed(session, album_id=album_id, recognizer=face_engine.EMBEDDER)
    return _by_photo([*faces, *(face for face in placed if face.photo_id in in_photos)])


def _by_photo(faces: Iterable[Stored]) -> dict[str, list[Stored]]:
    """``faces`` by photo (in photo id order), each photo's in position order."""
    by_photo: dict[str, list[Stored]] = defaultdict(list)
    for face in sorted(faces, key=lambda f: (f.photo_id, f.position)):
        by_photo[face.photo_id].append(face)  # a photo's faces share one recogniser: all are here, or none
    return by_photo


class AnalyzeJob:
    """Analyse one photo: blur, faces and embeddings, then match the faces to the album's members."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def run(self, job: Claimed) -> None:
        photo_id = _photo_of(job)
        with self.svc.catalog.read() as session:
            stored = _file_or_none(session, photo_id)
        if stored is None:  # deleted meanwhile, and its job with it (nothing left to mark done)
            return
        result = self.svc.analysis.run(analyze_stored, self.svc.store, stored.blob_key, limits=self.svc.limits,
                                       blur_threshold=self.svc.settings.blur_threshold)
        with self.svc.catalog.session() as session:
            album = locked_album(session, job.album_id)
            photo = _file_or_none(session, photo_id)
            if album is not None and photo is not None:
                record_analysis(session, album, photo, result, face_spaces.index_of(self.svc.catalog))
            mark_done(session, job)
        self.svc.hub.publish(job.album_id)

    def failed(self, job: Claimed, error: str) -> None:
        photo_id = _photo_of(job)
        with self.svc.catalog.session() as session:
            if not photos.set_failed(session, photo_id=photo_id, error=error):
                return
            record_event(session, job.album_id, "photo.failed", {"photo_id": photo_id, "error": error})
        self.svc.hub.publish(job.album_id)


def _photo_of(job: Claimed) -> str:
    assert job.photo_id is not None, "an analyze job names its photo"
    return job.photo_id


def _file_or_none(session: Session, photo_id: str) -> photos.File | None:
    """The photo's file (its id and blob key), None when it was deleted meanwhile."""
    try:
        return photos.file(session, photo_id=photo_id)
    except NotFound:
        return None


def locked_album(session: Session, album_id: str) -> records.Album | None:
    """The album, row-locked until the transaction ends (a job's writes to an album take turns); None when it was
    deleted meanwhile."""
    try:
        return albums.require(session, album_id=album_id, lock=True)
    except NotFound:
        return None


class MatchJob:
    """Re-match an album's faces to its members' current templates; one ``photo.matched`` event per changed photo,
    then ``album.matched`` ``{"photos_changed"}``. Only the faces whose member can change are read
    (``faces_to_rematch``), or every face when the album's index cannot bound them. Faces whose vectors another
    recogniser made (not re-embedded yet, or whose photo could not be read again) keep the member they had."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def run(self, job: Claimed) -> None:
        with self.svc.catalog.session() as session:
            album = locked_album(session, job.album_id)
            if album is None:
                mark_done(session, job)
                return
            templates = load_templates(session, album)
            nearest = face_spaces.album_nearest(self.svc.catalog, session, album.id)
            by_photo = faces_to_rematch(session, album.id, templates, nearest)
            look_alikes = None  # the whole album's faces answer rule 5
            if by_photo is None:
                by_photo = _by_photo(face for face in faces_repo.of_album(session, album_id=album.id)
                                     if face.recognizer == face_engine.EMBEDDER)
            else:
                look_alikes = IndexedLookAlikes(session, album.id, nearest,
                                                cache(lambda: album_faces(session, album.id, templates)))
            vectors = {face.id: bytes_to_vector(face.embedding) for faces in by_photo.values() for face in faces}
            every = [face for faces in by_photo.values() for face in faces if not face.person_pinned]
            templates = with_album_evidence(templates, [f.photo_id for f in every], [vectors[f.id] for f in every],
                                            [not f.too_small for f in every], look_alikes,
                                            [big_enough(f) for f in every])
            names = members.names(session, album_id=album.id)
            changed: list[dict[str, Any]] = []
            moved: list[Stored] = []  # faces given to a member or freed from one: the people they change
            updates: dict[str, tuple[str | None, float | None]] = {}
            for photo_id, faces in by_photo.items():
                matches = match_faces([vectors[f.id] for f in faces], [f.too_small for f in faces], templates, photo_id)
                now: dict[str, tuple[str | None, float | None]] = {}
                for face, match in zip(faces, matches, strict=True):
                    if face.person_pinned:
                        continue  # placed by the user (people view): re-matching never moves it
                    member_id, sim = match if match else (None, None)
                    if face.member_id != member_id:
                        moved.append(face)
                    if face.member_id != member_id or (sim is not None and abs((face.similarity or 0) - sim) > 0.01):
                        now[face.id] = member_id, sim
                if now:
                    updates.update(now)
                    changed.append({"photo_id": photo_id, "matches": _matches(faces, now, names)})
            faces_repo.set_matches(session, matches=updates)
            for data in changed:
                record_event(session, album.id, "photo.matched", data)
            regroup_faces_guarded(session, album.id, moved, nearest)
            # the end of this re-match (clients waiting for "their photos are being found" know it is over)
            record_event(session, album.id, "album.matched", {"photos_changed": len(changed)})
            mark_done(session, job)
        self.svc.hub.publish(job.album_id)

    def failed(self, job: Claimed, error: str) -> None:
        pass  # the next member change queues a new match; the job row keeps the error


class RegroupJob:
    """Group the album's people again from every face (``grouping.regroup``), keeping what users placed: the full
    re-cluster, after a change of recogniser or on request, where photos and re-matches only regroup the faces they
    changed and their neighbours."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def run(self, job: Claimed) -> None:
        with self.svc.catalog.session() as session:
            if locked_album(session, job.album_id) is not None:
                regroup(session, job.album_id)
            mark_done(session, job)
        self.svc.hub.publish(job.album_id)

    def failed(self, job: Claimed, error: str) -> None:
        pass  # the people stay as they were; the job row keeps the error


def _matches(faces: list[Stored], now: dict[str, tuple[str | None, float | None]], names: dict[str, str]
             ) -> Any:  # noqa: ANN401 - JSON
    """The matched faces of one photo after a re-match (``now``: the matches it changed), as ``photo.matched``
    events carry them."""
    matched = [(face.id, *now.get(face.id, (face.member_id, face.similarity))) for face in faces]
    return records.as_json([records.Match(face_id=face_id, member_id=member_id, member_name=names.get(member_id),
                                          similarity=similarity)
                            for face_id, member_id, similarity in matched if member_id is not None])


def job_handlers(svc: Services) -> dict[str, Any]:
    """The handlers the job runner dispatches to, by ``Job.kind``."""
    from photosift.application.reembedding import ReembedJob  # it queues re-matches with enqueue_match (above)

    return {"analyze": AnalyzeJob(svc), "match": MatchJob(svc), "reembed": ReembedJob(svc), "regroup": RegroupJob(svc)}
