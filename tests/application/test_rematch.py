"""An album's re-match from its face index (processing.faces_to_rematch, matching.IndexedLookAlikes) decides as the
re-match of every face does, on SQLite and PostgreSQL; rule 5 applies while a photo is
analysed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from pgserver_support import catalog_url, pgserver_url  # noqa: E402, F401 - PostgreSQL 16 (pgserver)
from sqlalchemy import select
from synthetic_faces import Synthetic

from photosift import faces
from photosift.analysis import PhotoAnalysis
from photosift.application import face_spaces, nearby
from photosift.application.events import EventHub
from photosift.application.grouping import GROUP_MIN_SIZE
from photosift.application.matching import ALBUM_THRESHOLD, CONFIDENT, RECURRING, load_templates
from photosift.application.processing import MatchJob, faces_to_rematch, record_analysis
from photosift.blur import BlurResult
from photosift.catalog.db import Catalog
from photosift.catalog.models import Album, Event, Face, Job, Member, Photo, Reference, vector_to_bytes
from photosift.faces.types import EmbeddedFace, FaceQuality, Pose
from photosift.faces.types import Face as EngineFace

DIM = faces.EMBEDDING_DIM - 1


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Catalog]:
    catalog = Catalog(catalog_url(request, tmp_path))
    catalog.migrate()
    yield catalog  # (the PostgreSQL database is the session's: each test makes albums of its own)
    catalog.dispose()


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def sighting(rng: np.random.Generator, centre: np.ndarray, cosine: float) -> np.ndarray:
    noise = rng.normal(size=DIM)
    noise = unit(noise - noise @ centre * centre)
    return np.append(cosine * centre + np.sqrt(1 - cosine**2) * noise, 0.0).astype(np.float32)


def album_faces(seed: int) -> tuple[list[np.ndarray], list[list[tuple[np.ndarray, int | None]]], dict]:
    """References of 3 members, and photos of faces (embedding, member index placed now or None): members seen (not
    matched yet) at
    cosines from clearly below the threshold to near-certain, strangers who resemble a member and recur, one-off
    strangers; a stale match (a stranger given to member 1) and the rule-5 stranger of ``test_matching``."""
    rng = np.random.default_rng(seed)
    centres = [unit(rng.normal(size=DIM)) for _ in range(3)]
    references = [sighting(rng, c, 0.85) for c in centres]
    people: list[tuple[np.ndarray, int | None]] = []
    for centre in centres:
        people += [(sighting(rng, centre, c), None) for c in rng.uniform(0.35, 0.9, 40)]  # not matched yet
        twin = unit(0.5 * centre + 0.87 * unit(rng.normal(size=DIM)))  # resembles the member, recurs
        people += [(sighting(rng, twin, 0.85), None) for _ in range(6)]
    people += [(sighting(rng, unit(rng.normal(size=DIM)), 1.0), None) for _ in range(300)]
    order = rng.permutation(len(people))
    photos = [[people[i] for i in order[start:start + 4]] for start in range(0, len(order), 4)]
    photos[0][0] = (photos[0][0][0], 1)  # stale: whatever it is, it is matched to member 1 now
    f = Synthetic(6)
    doubtful, confident = f.cosine((ALBUM_THRESHOLD + CONFIDENT) / 2), f.cosine((CONFIDENT + 100) / 2)
    selfie = f.of(d0=1.0)
    resembling = f.of(d0=doubtful, d1=np.sqrt(1 - doubtful**2))
    elsewhere = [confident * resembling + f.of(**{f"d{k}": np.sqrt(1 - confident**2)}) for k in range(2, 2 + RECURRING)]
    references.append(selfie)
    photos += [[(resembling, 3)], *([(e, None)] for e in elsewhere)]
    return references, photos, {"resembling": resembling, "selfie": selfie}


def make_album(catalog: Catalog, seed: int) -> str:
    references, photos, _ = album_faces(seed)
    with catalog.session() as session:
        album = Album(name=f"seed {seed}")
        session.add(album)
        session.flush()
        members = []
        for k, reference in enumerate(references):
            member = Member(album_id=album.id, name=f"m{k}", recognizer=faces.EMBEDDER,
                            template=vector_to_bytes(reference))
            session.add(member)
            session.flush()
            session.add(Reference(member_id=member.id, album_id=album.id, blob_key=f"r{k}", box=[0, 0, 9, 9],
                                  confidence=99.0, embedding=vector_to_bytes(reference), recognizer=faces.EMBEDDER))
            members.append(member.id)
        for p, found in enumerate(photos):
            photo = Photo(album_id=album.id, blob_key=f"b{p}", sha256=f"{seed:08x}{p:056x}", filename=f"{p}.jpg",
                          content_type="image/jpeg", size_bytes=1, status="done", face_count=len(found))
            session.add(photo)
            session.flush()
            for position, (vector, member) in enumerate(found):
                session.add(Face(photo_id=photo.id, album_id=album.id, position=position, left=0, top=0, width=90,
                                 height=90, confidence=99.0, landmarks=[], pose={"yaw": 0, "pitch": 0, "roll": 0},
                                 sharpness=60.0, brightness=50.0, relative_blur=0.5, embedding=vector_to_bytes(vector),
                                 recognizer=faces.EMBEDDER, member_id=None if member is None else members[member],
                                 similarity=None if member is None else 95.0))
        return album.id


def analysis(vectors: list[np.ndarray], size: float = 45.0) -> PhotoAnalysis:
    """A photo's analysis as the engine would return it, with ``vectors`` as its faces (of ``size`` px analysed)."""
    found = [EmbeddedFace(EngineFace(box=(100 * k, 0, 90, 90), confidence=99.0, landmarks=(), pose=Pose(0, 0, 0),
                                     quality=FaceQuality(60.0, 50.0, 0.5, size)), v) for k, v in enumerate(vectors)]
    return PhotoAnalysis(width=400, height=100, blur=BlurResult(60.0, False, "faces", None, "default"), faces=found)


def rematch(catalog: Catalog, album_id: str) -> tuple[dict, list]:
    """Run a re-match; the album's placements ``(photo, position) -> (member name, similarity)`` and its events."""
    svc = SimpleNamespace(catalog=catalog, hub=EventHub())
    with catalog.session() as session:  # a job as a worker holds it once claimed
        job = Job(kind="match", album_id=album_id, status="running", worker="test:1:claim")
        session.add(job)
    MatchJob(svc).run(job)
    with catalog.read() as session:
        names = dict(session.execute(select(Member.id, Member.name).where(Member.album_id == album_id)).all())
        photos = dict(session.execute(select(Photo.id, Photo.filename).where(Photo.album_id == album_id)).all())
        placed = {(photos[f.photo_id], f.position): (names.get(f.member_id), f.similarity)
                  for f in session.scalars(select(Face).where(Face.album_id == album_id))}
        events = [(e.type, photos.get(e.data.get("photo_id")),
                   sorted((m["member_name"], m["similarity"]) for m in e.data.get("matches", [])),
                   e.data.get("photos_changed"))
                  for e in session.scalars(select(Event).where(Event.album_id == album_id).order_by(Event.id))
                  if e.type in ("photo.matched", "album.matched")]
    return placed, events


def test_a_rematch_from_the_index_decides_as_the_whole_album(catalog: Catalog,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    indexed, scanned = make_album(catalog, 3), make_album(catalog, 3)
    monkeypatch.setattr(nearby, "START", 8)  # a member has 40 faces: the queries widen (8, 16, 32, 64)
    album_nearest = face_spaces.album_nearest
    monkeypatch.setattr(face_spaces, "album_nearest", lambda c, s, album_id: (
        (lambda embedding, k: None) if album_id == scanned else album_nearest(c, s, album_id)))
    with catalog.read() as session:
        templates = load_templates(session, session.get(Album, indexed))
        read = faces_to_rematch(session, indexed, templates, album_nearest(catalog, session, indexed))
        count = len(list(session.scalars(select(Face.id).where(Face.album_id == indexed))))
    assert read is not None
    assert 0 < sum(map(len, read.values())) < count / 2  # the members' neighbourhoods, not the album
    placed, events = rematch(catalog, indexed)
    assert (placed, events) == rematch(catalog, scanned)
    decided = [member for member, _ in placed.values() if member is not None]
    assert {"m0", "m1", "m2"} <= set(decided)
    assert placed[("0.jpg", 0)][0] != "m1" or placed[("0.jpg", 0)][1] != 95.0  # the stale match is re-decided
    rule5 = f"{len(album_faces(3)[1]) - RECURRING - 1}.jpg"
    assert placed[(rule5, 0)] == (None, None)  # the recurring stranger, excluded by his other photos (rule 5)
    assert sum(e[0] == "photo.matched" for e in events) > 0 and events[-1][0] == "album.matched"


def test_past_its_reach_the_rematch_reads_the_album(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    album_id = make_album(catalog, 4)
    monkeypatch.setattr(nearby, "START", 8)  # one query of 8 faces: too few to bound a member's 40
    monkeypatch.setattr(nearby, "MOST", 8)
    with catalog.read() as session:
        templates = load_templates(session, session.get(Album, album_id))
        assert faces_to_rematch(session, album_id, templates,
                                face_spaces.album_nearest(catalog, session, album_id)) is None
    placed, _ = rematch(catalog, album_id)
    assert {"m0", "m1", "m2"} <= {member for member, _ in placed.values()}


def test_rule_5_applies_while_a_photo_is_analysed(catalog: Catalog) -> None:
    """The recurring stranger's photo, analysed after his other photos: unknown at once (his look-alikes come from
    the index), and a re-match is still queued (his face may be another doubtful face's look-alike)."""
    album_id = make_album(catalog, 5)
    resembling = album_faces(5)[2]["resembling"]
    with catalog.session() as session:
        session.execute(Face.__table__.delete().where(Face.album_id == album_id, Face.embedding == vector_to_bytes(
            resembling)))
        photo = Photo(album_id=album_id, blob_key="new", sha256="e" * 64, filename="new.jpg",
                      content_type="image/jpeg", size_bytes=1)
        session.add(photo)
        session.flush()
        photo_id = photo.id
    with catalog.session() as session:
        album = session.scalars(select(Album).where(Album.id == album_id).with_for_update()).one()
        record_analysis(session, album, session.get(Photo, photo_id), analysis([resembling]),
                        face_spaces.index_of(catalog))
    with catalog.read() as session:
        assert session.scalar(select(Face.member_id).where(Face.photo_id == photo_id)) is None
        assert session.scalar(select(Face.analysed_size).where(Face.photo_id == photo_id)) == 45.0
        assert session.scalar(select(Job.id).where(Job.album_id == album_id, Job.kind == "match")) is not None


@pytest.mark.parametrize("size", [90.0, None, GROUP_MIN_SIZE - 1])
def test_only_faces_large_enough_are_a_member_s_evidence(catalog: Catalog, size: float | None) -> None:
    """Rule 4's evidence, as a photo's analysis loads it: the member's confident faces of other photos, unless they
    are smaller than ``GROUP_MIN_SIZE`` (faces stored before sizes were measured count)."""
    f = Synthetic(5)
    confident = f.cosine((CONFIDENT + 100) / 2)
    a, b = np.sqrt(confident), np.sqrt(1 - confident)
    selfie = f.of(d0=a, d1=b)
    between = f.cosine((ALBUM_THRESHOLD + CONFIDENT) / 2)
    doubtful = f.of(d0=between / a, d6=np.sqrt(1 - (between / a) ** 2))  # Alice, doubtful against her selfie
    with catalog.session() as session:
        album = Album(name="evidence")
        session.add(album)
        session.flush()
        member = Member(album_id=album.id, name="alice", recognizer=faces.EMBEDDER, template=vector_to_bytes(selfie))
        session.add(member)
        session.flush()
        session.add(Reference(member_id=member.id, album_id=album.id, blob_key="r", box=[0, 0, 9, 9], confidence=99.0,
                              embedding=vector_to_bytes(selfie), recognizer=faces.EMBEDDER))
        for k in (2, 3, 4):
            photo = Photo(album_id=album.id, blob_key=f"b{k}", sha256=f"{k:064x}", filename=f"{k}.jpg",
                          content_type="image/jpeg", size_bytes=1, status="done", face_count=1)
            session.add(photo)
            session.flush()
            session.add(Face(photo_id=photo.id, album_id=album.id, position=0, left=0, top=0, width=90, height=90,
                             confidence=99.0, landmarks=[], pose={"yaw": 0, "pitch": 0, "roll": 0}, sharpness=60.0,
                             brightness=50.0, relative_blur=0.5, analysed_size=size, recognizer=faces.EMBEDDER,
                             embedding=vector_to_bytes(f.of(d0=a, **{f"d{k}": b})), member_id=member.id,
                             similarity=CONFIDENT + 1))
        session.flush()
        templates = load_templates(session, album, doubtful_for=[doubtful])
    evidence = len(templates.confident.get(0, []))
    assert evidence == (0 if size is not None and size < GROUP_MIN_SIZE else 3)
