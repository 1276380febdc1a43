"""The engine side of re-embedding: stored faces and reference photos embedded again by the running recogniser.

These functions run in the analysis processes (``AnalysisProcesses.run``): they read each photo from the store
themselves and return only vectors. A photo's faces are its stored faces (box, landmarks, pose, quality, in original
pixels), so nothing but their vectors changes; a reference photo's face is found again by the detector, the one
overlapping its stored box best. A photo that can no longer be read or decoded is reported, never raised, so one bad
file does not hold up its album; a failing store (``StorageError``) or a missing model does raise (the job is
tried again later).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from photosift.catalog.models import vector_to_bytes
from photosift.errors import ModelUnavailable, StorageError
from photosift.faces.types import Face, FaceQuality, Pose
from photosift.imaging import DecodedImage, DecodeLimits, decode
from photosift.store.base import BlobStore

MIN_OVERLAP = 0.3
"""A reference photo's face found again must overlap its stored box at least this much (intersection over union)."""


@dataclass(frozen=True)
class StoredFace:
    """A stored face as the engine needs it (original pixels), under its catalog id."""

    face_id: str
    box: tuple[int, int, int, int]
    confidence: float
    landmarks: tuple[tuple[float, float], ...]
    pose: tuple[float, float, float]  # yaw, pitch, roll
    sharpness: float
    brightness: float
    too_small: bool

    def to_face(self) -> Face:
        """The engine's ``Face``."""
        return Face(box=self.box, confidence=self.confidence, landmarks=self.landmarks, pose=Pose(*self.pose),
                    quality=FaceQuality(self.sharpness, self.brightness), too_small=self.too_small)


@dataclass(frozen=True)
class StoredPhoto:
    """An analysed photo: its blob and its stored faces."""

    photo_id: str
    blob_key: str
    faces: tuple[StoredFace, ...]


@dataclass(frozen=True)
class StoredReference:
    """A member's reference photo: its blob and the box of its face."""

    reference_id: str
    blob_key: str
    box: tuple[int, int, int, int]


@dataclass
class Embedded:
    """New vectors by row id (``vector_to_bytes``), and the photos / references that could not be embedded again,
    by id with the reason."""

    vectors: dict[str, bytes] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def embed_photos(store: BlobStore, photos: list[StoredPhoto], limits: DecodeLimits) -> Embedded:
    """New vectors of the stored faces of ``photos`` (by face id); a photo that cannot be read is ``failed``."""
    from photosift import faces
    from photosift.analysis import FACE_MAX_PIXELS

    out = Embedded()
    for photo in photos:
        try:
            image = _decode(store, photo.blob_key, FACE_MAX_PIXELS, limits)
            embedded = faces.embed_faces(image, [f.to_face() for f in photo.faces])
        except (StorageError, ModelUnavailable):
            raise
        except Exception as exc:  # this photo only: undecodable, gone, or a face the engine cannot take
            out.failed[photo.photo_id] = f"{type(exc).__name__}: {exc}"
            continue
        for face, result in zip(photo.faces, embedded, strict=True):
            out.vectors[face.face_id] = vector_to_bytes(result.embedding)
    return out


def embed_references(store: BlobStore, references: list[StoredReference], limits: DecodeLimits) -> Embedded:
    """New vectors of ``references`` (by reference id): the detected face that overlaps the stored box best."""
    import numpy as np

    from photosift import faces
    from photosift.analysis import FACE_MAX_PIXELS
    from photosift.faces.geometry import iou

    out = Embedded()
    for reference in references:
        try:
            image = _decode(store, reference.blob_key, FACE_MAX_PIXELS, limits)
            found = faces.detect_faces(image)
            overlap = iou(np.array([reference.box]), np.array([f.box for f in found]))[0] if found else np.zeros(0)
            if not len(overlap) or overlap.max() < MIN_OVERLAP:
                out.failed[reference.reference_id] = f"its face (box {list(reference.box)}) was not found again"
                continue
            embedded = faces.embed_faces(image, [found[int(overlap.argmax())]], reference=True)
        except (StorageError, ModelUnavailable):
            raise
        except Exception as exc:  # this reference only
            out.failed[reference.reference_id] = f"{type(exc).__name__}: {exc}"
            continue
        out.vectors[reference.reference_id] = vector_to_bytes(embedded[0].embedding)
    return out


def _decode(store: BlobStore, key: str, max_pixels: int, limits: DecodeLimits) -> DecodedImage:
    return decode(store.get(key), max_pixels=max_pixels, limits=limits)
