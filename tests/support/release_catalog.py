"""A catalog as the previous release (schema revision 0008, the ``facenet+dlib`` recogniser) wrote it, for the upgrade
tests: one album with photos and their faces, a member with a reference photo and a template, a pinned "this is"
correction, a person with a pinned face, "not <member>" corrections (one whose face was deleted since), a photo whose
stored file no longer decodes, and a Rekognition collection of face model version 1.0.

Rows are written with plain SQL against the tables of revision 0008 (reflected), as that release stored them:
641-value vectors (FaceNet 512 and dlib 128, each L2-normalised, then the pose value). With a ``store``, the photos
are real generated photos stored under their content keys, and faces are where the detector finds them.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import sqlalchemy as sa

from photosift.catalog.db import Catalog
from photosift.catalog.models import new_id
from photosift.store.base import BlobStore

REVISION = "0008_embedding_pose"
OLD_RECOGNIZER = "facenet+dlib"
OLD_DIM = 641


def old_vector(rng: np.random.Generator) -> bytes:
    """A vector as the previous release stored it: two unit parts (512, 128) and a frontal pose value."""
    parts = [rng.normal(size=n).astype(np.float32) for n in (512, 128)]
    return np.concatenate([p / np.linalg.norm(p) for p in parts] + [np.zeros(1, np.float32)]).tobytes()


@dataclass
class ReleaseAlbum:
    """Ids of what ``write_release_catalog`` stored."""

    album_id: str
    member_id: str
    empty_member_id: str  # a member without references (no template)
    reference_id: str
    person_id: str
    photos: dict[str, str] = field(default_factory=dict)  # file name -> photo id
    faces: dict[str, str] = field(default_factory=dict)  # file name -> id of its face
    rejection_id: str = ""  # "c0.jpg's face is not the member"
    orphan_rejection_id: str = ""  # a rejection whose face was deleted
    collection_id: str = "legacy"
    vectors: dict[str, bytes] = field(default_factory=dict)  # row id -> stored vector


def _photos() -> dict[str, bytes]:
    from people_images import shot

    return {"a0.jpg": shot("astronaut", 0), "a1.jpg": shot("astronaut", 1), "c0.jpg": shot("cameraman", 0),
            "c1.jpg": shot("cameraman", 1), "gone.jpg": shot("astronaut", 3)}


def _faces(data: bytes | None) -> list[dict]:
    """The faces the detector finds in ``data`` (one placeholder face without it), as the catalog stores them."""
    if data is None:
        return [{"box": (100, 80, 120, 150), "confidence": 99.0,
                 "landmarks": [[130.0, 130.0], [190.0, 130.0], [160.0, 160.0], [135.0, 190.0], [185.0, 190.0]],
                 "pose": {"yaw": 0.0, "pitch": 0.0, "roll": 0.0}, "sharpness": 50.0, "brightness": 50.0,
                 "too_small": False}]
    from photosift import faces, imaging
    from photosift.analysis import FACE_MAX_PIXELS

    found = faces.detect_faces(imaging.decode(data, max_pixels=FACE_MAX_PIXELS))
    return [{"box": f.box, "confidence": f.confidence, "landmarks": [list(p) for p in f.landmarks],
             "pose": {"yaw": f.pose.yaw, "pitch": f.pose.pitch, "roll": f.pose.roll},
             "sharpness": f.quality.sharpness, "brightness": f.quality.brightness, "too_small": f.too_small}
            for f in found]


def write_release_catalog(url: str, store: BlobStore | None = None, reference: bytes | None = None) -> ReleaseAlbum:
    """Migrate ``url`` to revision 0008 and fill it as the previous release would have (see the module docstring).

    With ``store``, the photos and the ``reference`` photo (the member's selfie) are stored there; ``gone.jpg``'s
    stored file is then overwritten with bytes that no longer decode."""
    catalog = Catalog(url)
    catalog.migrate(REVISION)
    rng = np.random.default_rng(42)
    now = datetime.now(UTC)
    photos = _photos() if store is not None else dict.fromkeys(_photos(), b"")
    try:
        with catalog.engine.begin() as db:
            meta = sa.MetaData()
            meta.reflect(db)
            t = meta.tables

            def insert(table: str, **values: object) -> None:
                db.execute(t[table].insert().values(**values))

            album = ReleaseAlbum(album_id=new_id(), member_id=new_id(), empty_member_id=new_id(),
                                 reference_id=new_id(), person_id=new_id())
            insert("albums", id=album.album_id, name="Trip 2025", threshold=None, created_at=now)
            template = old_vector(rng)
            album.vectors[album.member_id] = template
            insert("members", id=album.member_id, album_id=album.album_id, name="Eileen", template=template,
                   created_at=now, updated_at=now)
            insert("members", id=album.empty_member_id, album_id=album.album_id, name="Nobody", template=None,
                   created_at=now, updated_at=now)
            selfie = reference or b"selfie"
            key = store.put_content(selfie) if store is not None else f"photos/00/{hashlib.sha256(selfie).hexdigest()}"
            box = _faces(reference if store is not None else None)[0]["box"]
            vector = old_vector(rng)
            album.vectors[album.reference_id] = vector
            insert("member_references", id=album.reference_id, member_id=album.member_id, album_id=album.album_id,
                   blob_key=key, filename="selfie.jpg", box=[int(v) for v in box], confidence=99.0, embedding=vector,
                   created_at=now)
            insert("people", id=album.person_id, album_id=album.album_id, number=1, hidden=False, created_at=now,
                   updated_at=now)
            # placements as the previous release left them: matched, confirmed ("this is"), grouped, pinned
            placement = {"a0.jpg": {"member_id": album.member_id, "similarity": 97.5},
                         "a1.jpg": {"member_id": album.member_id, "similarity": 93.0, "person_pinned": True},
                         "c0.jpg": {"person_id": album.person_id, "person_pinned": True},
                         "c1.jpg": {"person_id": album.person_id},
                         "gone.jpg": {"member_id": album.member_id, "similarity": 96.0}}
            for name, data in photos.items():
                pid = new_id()
                album.photos[name] = pid
                key = store.put_content(data) if store is not None else f"photos/00/{pid}"
                found = _faces(data if store is not None else None)
                assert len(found) == 1, (name, found)
                insert("photos", id=pid, album_id=album.album_id, blob_key=key, sha256=hashlib.sha256(
                    data or pid.encode()).hexdigest(), filename=name, content_type="image/jpeg",
                    size_bytes=len(data), status="done", width=800, height=600, sharpness=60.0, blurry=False,
                    blur_region="face", face_count=1, created_at=now, analysed_at=now, taken_at=now,
                    taken_at_source="upload")
                fid = new_id()
                album.faces[name] = fid
                face = found[0]
                left, top, width, height = (int(v) for v in face["box"])
                vector = old_vector(rng)
                album.vectors[fid] = vector
                insert("faces", id=fid, photo_id=pid, album_id=album.album_id, position=0, left=left, top=top,
                       width=width, height=height, confidence=face["confidence"], landmarks=face["landmarks"],
                       pose=face["pose"], sharpness=face["sharpness"], brightness=face["brightness"],
                       too_small=face["too_small"], embedding=vector, member_id=None, similarity=None,
                       person_id=None, person_pinned=False)
                db.execute(t["faces"].update().where(t["faces"].c.id == fid).values(**placement[name]))
                insert("jobs", kind="analyze", album_id=album.album_id, photo_id=pid, status="done", attempts=1,
                       created_at=now, updated_at=now)
            album.rejection_id, album.orphan_rejection_id = new_id(), new_id()
            for rid, face_id in ((album.rejection_id, album.faces["c0.jpg"]), (album.orphan_rejection_id, None)):
                vector = album.vectors[face_id] if face_id else old_vector(rng)
                album.vectors[rid] = vector
                insert("rejections", id=rid, album_id=album.album_id, member_id=album.member_id, face_id=face_id,
                       embedding=vector, created_at=now)
            insert("events", album_id=album.album_id, type="album.matched", data={"photos_changed": 0},
                   created_at=now)
            insert("rekognition_collections", collection_id=album.collection_id, arn="aws:rekognition:us-east-1:"
                   f"000000000000:collection/{album.collection_id}", face_model_version="1.0", created_at=now)
            insert("rekognition_faces", face_id=str(uuid.uuid4()), collection_id=album.collection_id,
                   image_id=str(uuid.uuid4()), external_image_id="eileen", user_id=None, box_left=0.1, box_top=0.1,
                   box_width=0.3, box_height=0.4, confidence=99.0, embedding=old_vector(rng), created_at=now)
        if store is not None:
            store.put(db_key(catalog, album.photos["gone.jpg"]), b"\xff\xd8 no longer a photo")
    finally:
        catalog.dispose()
    return album


def db_key(catalog: Catalog, photo_id: str) -> str:
    """The stored blob key of a photo."""
    with catalog.engine.connect() as db:
        return db.execute(sa.text("SELECT blob_key FROM photos WHERE id = :id"), {"id": photo_id}).scalar_one()
