"""photosift faces -> Rekognition response shapes (the only place pixel boxes become ratios).

Boxes and landmarks are ratios of the upright image's width and height, as AWS reports them (boxes may extend
slightly past 0..1 only if the detector's box does; ours are clipped to the image). Landmark names follow AWS, which
names them by image side: ``eyeLeft`` is the eye on the image's left (the subject's right eye).
Similarities are the engine's calibrated 0-100 score, re-anchored so that AWS's default threshold (80) sits on
photosift's default threshold (``photosift.faces.DEFAULT_THRESHOLD``); identity when both are 80.
"""

from __future__ import annotations

from typing import Any

from photosift.application.face_images import Face
from photosift.application.scoring import DEFAULT_THRESHOLD

AWS_DEFAULT_THRESHOLD = 80.0  # AWS's documented default of its threshold parameters (its own scale: detail.py)
# Face.landmarks order (subject's right eye, left eye, nose, right mouth corner, left mouth corner) -> AWS types.
LANDMARK_TYPES = ("eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight")
# Attributes we compute; every other FaceDetail attribute (AgeRange, Emotions, Gender, ...) is never returned.
SUPPORTED_ATTRIBUTES = ("BoundingBox", "Confidence", "Landmarks", "Pose", "Quality")

Size = tuple[int, int]


def bounding_box(box: tuple[float, float, float, float], size: Size) -> dict[str, float]:
    """``(left, top, width, height)`` pixels of an image of ``size`` (width, height) -> AWS BoundingBox ratios."""
    left, top, width, height = box
    img_w, img_h = size
    return {"Width": _r(width / img_w), "Height": _r(height / img_h), "Left": _r(left / img_w), "Top": _r(top / img_h)}


def landmarks(face: Face, size: Size) -> list[dict[str, Any]]:
    """The five landmarks as AWS ``Landmark`` entries (ratios of width/height)."""
    img_w, img_h = size
    return [{"Type": kind, "X": _r(x / img_w), "Y": _r(y / img_h)}
            for kind, (x, y) in zip(LANDMARK_TYPES, face.landmarks, strict=False)]


def pose(face: Face) -> dict[str, float]:
    """AWS ``Pose`` (degrees, clamped to the model's -180..180)."""
    return {"Roll": _deg(face.pose.roll), "Yaw": _deg(face.pose.yaw), "Pitch": _deg(face.pose.pitch)}


def quality(face: Face) -> dict[str, float]:
    """AWS ``ImageQuality``: photosift's brightness and sharpness of the face crop, 0-100."""
    return {"Brightness": _pct(face.quality.brightness), "Sharpness": _pct(face.quality.sharpness)}


def face_detail(face: Face, size: Size) -> dict[str, Any]:
    """AWS ``FaceDetail`` with every attribute photosift computes (the DEFAULT set; ALL adds nothing more)."""
    return {
        "BoundingBox": bounding_box(face.box, size),
        "Landmarks": landmarks(face, size),
        "Pose": pose(face),
        "Quality": quality(face),
        "Confidence": _pct(face.confidence),
    }


def compared_face(face: Face, size: Size) -> dict[str, Any]:
    """AWS ``ComparedFace`` (CompareFaces matches and unmatched faces)."""
    return face_detail(face, size)


def source_face(face: Face, size: Size) -> dict[str, Any]:
    """AWS ``ComparedSourceImageFace``."""
    return {"BoundingBox": bounding_box(face.box, size), "Confidence": _pct(face.confidence)}


ROUNDING_SLACK = 5e-5
"""Half the resolution of reported similarities (4 decimals): engine scores this close below a threshold report as
reaching it."""


def to_aws_similarity(similarity: float, default_threshold: float = DEFAULT_THRESHOLD) -> float:
    """Engine similarity 0-100 -> the reported 0-100, piecewise linear with ``default_threshold`` -> 80."""
    t = min(max(default_threshold, 1e-6), 100 - 1e-6)
    s = min(max(float(similarity), 0.0), 100.0)
    if s <= t:
        out = s / t * AWS_DEFAULT_THRESHOLD
    else:
        out = AWS_DEFAULT_THRESHOLD + (s - t) / (100 - t) * (100 - AWS_DEFAULT_THRESHOLD)
    return round(out, 4)


def to_engine_threshold(aws_threshold: float, default_threshold: float = DEFAULT_THRESHOLD) -> float:
    """The inverse of :func:`to_aws_similarity` for thresholds."""
    t = min(max(default_threshold, 1e-6), 100 - 1e-6)
    a = min(max(float(aws_threshold), 0.0), 100.0)
    if a <= AWS_DEFAULT_THRESHOLD:
        return a / AWS_DEFAULT_THRESHOLD * t
    return t + (a - AWS_DEFAULT_THRESHOLD) / (100 - AWS_DEFAULT_THRESHOLD) * (100 - t)


def _r(value: float) -> float:
    return round(float(value), 6)


def _pct(value: float) -> float:
    return round(min(max(float(value), 0.0), 100.0), 4)


def _deg(value: float) -> float:
    return round(min(max(float(value), -180.0), 180.0), 4)
