"""Rekognition's ``QualityFilter`` (NONE, AUTO, LOW, MEDIUM, HIGH) on photosift faces.

AWS does not publish its bars; these are photosift's, stated here and in the README. A face fails a level for each
reason whose bar it misses (AUTO = MEDIUM; NONE filters nothing):

| level  | confidence | abs(yaw), abs(pitch) | sharpness | brightness | size (``FaceQuality.size``, analysed px) |
|--------|-----------:|---------------------:|----------:|-----------:|------------------------------------------|
| LOW    |       < 50 |                 > 75 |      < 5  |      < 5   | < 16 (``too_small``)                     |
| MEDIUM |       < 70 |                 > 60 |      < 10 |      < 10  | < 24                                     |
| HIGH   |       < 90 |                 > 45 |      < 20 |      < 20  | < 40                                     |

A collection's faces are compared with each other (``SearchFaces``), and small faces look alike to each other:
pairs of WIDER's crowd faces of different photos (strangers) score 80 in 1.1 % of pairs when the smaller face is
16-24 px, 0.8 % at 24-32 px and 0.3 % at 32-40 px and above. MEDIUM (the default of ``IndexFaces``) keeps the 24 px
of the releases that compared faces from 24 px; HIGH asks for the size people are grouped from
(``grouping.GROUP_MIN_SIZE``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from photosift.application.face_images import Face
from photosift.application.grouping import GROUP_MIN_SIZE
from photosift.faces.detectors import MIN_RELIABLE_FACE

LEVELS = ("NONE", "AUTO", "LOW", "MEDIUM", "HIGH")


@dataclass(frozen=True)
class Bar:
    """Minimum confidence, maximum abs(yaw)/abs(pitch) in degrees, minimum sharpness and brightness (0-100), and
    minimum size (px, in the analysed pixels; a face smaller than ``MIN_RELIABLE_FACE`` fails every level)."""

    confidence: float
    max_angle: float
    sharpness: float
    brightness: float
    size: float


BARS: dict[str, Bar] = {
    "LOW": Bar(confidence=50, max_angle=75, sharpness=5, brightness=5, size=MIN_RELIABLE_FACE),
    "MEDIUM": Bar(confidence=70, max_angle=60, sharpness=10, brightness=10, size=24),
    "HIGH": Bar(confidence=90, max_angle=45, sharpness=20, brightness=20, size=GROUP_MIN_SIZE),
}
BARS["AUTO"] = BARS["MEDIUM"]


def reasons(face: Face, level: str) -> list[str]:
    """The AWS ``Reason`` values for which ``face`` fails ``level`` (empty: it passes)."""
    bar = BARS.get(level)
    if bar is None:
        return []
    out = []
    if face.too_small or (face.quality.size is not None and face.quality.size < bar.size):
        out.append("SMALL_BOUNDING_BOX")
    if face.confidence < bar.confidence:
        out.append("LOW_CONFIDENCE")
    if abs(face.pose.yaw) > bar.max_angle or abs(face.pose.pitch) > bar.max_angle:
        out.append("EXTREME_POSE")
    if face.quality.sharpness < bar.sharpness:
        out.append("LOW_SHARPNESS")
    if face.quality.brightness < bar.brightness:
        out.append("LOW_BRIGHTNESS")
    return out


def passing(faces: Sequence[Face], level: str, limit: int | None = None) -> list[int]:
    """Indices of the faces that pass ``level``, in order, at most ``limit`` of them."""
    keep = [i for i, face in enumerate(faces) if not reasons(face, level)]
    return keep if limit is None else keep[:limit]


def largest(level: str) -> Callable[[Sequence[Face]], list[int]]:
    """A selector for the first (largest) face passing ``level``."""
    return lambda faces: passing(faces, level, 1)


def every(level: str, limit: int | None = None) -> Callable[[Sequence[Face]], list[int]]:
    """A selector for every face passing ``level`` (at most ``limit``)."""
    return lambda faces: passing(faces, level, limit)
