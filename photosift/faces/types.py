"""Plain data the face engines return, and the two engine interfaces.

Coordinates are pixels of the upright, full-resolution original image; a box is ``(left, top, width, height)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

Box = tuple[int, int, int, int]
Point = tuple[float, float]


@dataclass(frozen=True)
class Pose:
    """Head pose in degrees, estimated from the five landmarks: yaw (left/right), pitch (up/down), roll (tilt)."""

    yaw: float
    pitch: float
    roll: float


@dataclass(frozen=True)
class FaceQuality:
    """Sharpness and brightness of the face crop, both 0-100; ``relative_blur``: the crop's edge blur beyond what
    its pixel grid explains, in % of the face's height (0: as sharp as its size allows; 100: no edges at all);
    ``size``: the shorter side of its box in the pixels it was analysed in, px (what detail it can have; None where
    unknown: a face rebuilt from the catalog's stored measures)."""

    sharpness: float
    brightness: float
    relative_blur: float = 0.0
    size: float | None = None


@dataclass(frozen=True)
class FacePlace:
    """Where a face is — its box and five landmarks (as :class:`Face`'s) and whether it is too small to compare —
    without the measures a :class:`Face` adds: what comparing faces needs."""

    box: Box
    landmarks: tuple[Point, ...]
    too_small: bool = False


@dataclass(frozen=True)
class Face:
    """One detected face.

    ``landmarks``: five points in order right eye, left eye, nose tip, right mouth corner, left mouth corner
    (the subject's right/left, i.e. the image's left/right for a frontal face). ``confidence`` is 0-100.
    ``too_small``: the face is below the size at which comparisons are reliable.
    """

    box: Box
    confidence: float
    landmarks: tuple[Point, ...]
    pose: Pose
    quality: FaceQuality
    too_small: bool = False

    def to_dict(self) -> dict:
        """JSON-ready form: box, confidence, landmarks ``[[x, y], ...]``, pose, quality, too_small."""
        return {
            "box": list(self.box),
            "confidence": self.confidence,
            "landmarks": [list(p) for p in self.landmarks],
            "pose": {"yaw": self.pose.yaw, "pitch": self.pose.pitch, "roll": self.pose.roll},
            "quality": {"sharpness": self.quality.sharpness, "brightness": self.quality.brightness},
            "too_small": self.too_small,
        }


@dataclass(frozen=True)
class EmbeddedFace:
    """A face and its embedding vector (opaque to callers; compare with ``photosift.faces.similarity``)."""

    face: Face
    embedding: np.ndarray = field(repr=False)


class Detector(Protocol):
    """Finds faces in an RGB image (``thorough=False``: the quick passes only, enough for large faces; ``None``: the
    quick passes, and the thorough ones only when those find nothing)."""

    name: str

    def detect(self, rgb: np.ndarray, thorough: bool | None = True) -> list[Face]: ...

    def place(self, rgb: np.ndarray) -> list[FacePlace]:
        """Where the faces ``detect`` finds are, without measuring them (their quality takes a crop's blur)."""
        ...
