"""The face engine of a process: one detector and one recogniser, loaded once and shared.

Boxes and landmarks go in and out in pixels of the upright ORIGINAL image; the engine converts to and from the
(possibly reduced) decoded pixels it works on.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from photosift.faces import calibration
from photosift.faces.detectors import FaceDetector
from photosift.faces.geometry import estimate_pose
from photosift.faces.landmarks import LandmarkRefiner
from photosift.faces.recognizers import RECOGNIZERS, Recognizer, active_recognizer
from photosift.faces.types import Box, Detector, EmbeddedFace, Face, FacePlace
from photosift.imaging import DecodedImage, scale_box

Placed = TypeVar("Placed", Face, FacePlace)

MIRROR_YAW = 25.0
"""Degrees of yaw from which a face that is not a reference is averaged with its mirror image, as references always
are; below it and unmasked (``MIRROR_MASK``), one forward instead of two (7.4 ms less per face). Measured on the
shared data (reference against such a face, as a comparison or an album match makes them): every pair set's
accuracy and the members' albums exactly as with the mirror image everywhere (LFW members' recall 0.989 -> 1.000);
10 % of LFW faces, 30 % of CFP's and 55 % of MFR2's still get it. Between two such faces (people grouping) MFR2 pairs
read 97.5 instead of 98.5 % and CFP frontal-profile 95.6 instead of 96.4 % (README "How fast")."""
MIRROR_MASK = 0.3
"""The calibration's mask probability from which a face counts as masked here: 86 % of MFR2's masked faces and 4 %
of LFW's unmasked ones reach it (at 0.5: 57 % and none, and a masked member's photo was lost in ``eval/members.py``)."""


class FaceEngine:
    """Detect, embed and compare faces with a fixed detector and recogniser (thread-safe)."""

    def __init__(self, detector: Detector, recognizer: Recognizer) -> None:
        self.detector, self.recognizer = detector, recognizer
        self.landmarks = LandmarkRefiner(detector.name)

    def detect(self, image: DecodedImage) -> list[Face]:
        """Faces of ``image``, largest first, in original pixels."""
        return self._in_original_pixels(image, self.detector.detect(image.pixels))

    def reference_candidates(self, image: DecodedImage) -> list[Face]:
        """The faces of ``image`` a reference could be (original pixels), largest first. A reference photo's face is
        large: the coarse passes find it; the thorough ones run only when they do not."""
        return self._in_original_pixels(image, self.detector.detect(image.pixels, thorough=None))

    def largest(self, image: DecodedImage) -> Face | None:
        """The largest of :meth:`reference_candidates`, or None."""
        candidates = self.reference_candidates(image)
        return candidates[0] if candidates else None

    def comparable(self, image: DecodedImage) -> list[tuple[Box, np.ndarray]]:
        """The box (original pixels) and vector of every face of ``image`` large enough to compare, largest first,
        embedded as ``embed`` embeds album faces: what an album matches, without the measures a ``Face`` carries."""
        places = self._in_original_pixels(image, self.detector.place(image.pixels))
        places = [p for p in places if not p.too_small]
        return list(zip([p.box for p in places], self._vectors(image, places, reference=False), strict=True))

    @staticmethod
    def _in_original_pixels(image: DecodedImage, faces: list[Placed]) -> list[Placed]:
        """``faces`` largest first, in original pixels."""
        faces.sort(key=lambda f: -(f.box[2] * f.box[3]))
        return [_rescale(f, 1.0 / image.scale) for f in faces]

    def embed(self, image: DecodedImage, faces: Sequence[Face], reference: bool = False) -> list[EmbeddedFace]:
        """Embeddings of ``faces`` (original pixels) of ``image``.

        ``reference``: the faces are what others are looked for with (a member's selfie, a comparison's source):
        every one is averaged with its mirror image. Other faces (album photos, a comparison's targets) only when
        turned (``MIRROR_YAW``) or masked (``MIRROR_MASK``), where the mirror image pays (see ``MIRROR_YAW``)."""
        vectors = self._vectors(image, faces, reference)
        return [EmbeddedFace(face=f, embedding=v) for f, v in zip(faces, vectors, strict=True)]

    def _vectors(self, image: DecodedImage, faces: Sequence[Placed], reference: bool) -> np.ndarray:
        """The vectors ``embed`` gives ``faces`` (original pixels) of ``image``, one row each."""
        if not faces:
            return np.zeros((0, self.recognizer.dim + 1), np.float32)
        points = [self.landmarks.points(image.pixels, _rescale(f, image.scale)) for f in faces]
        # the pose from the alignment points: found at the face's scale, they see side views better
        yaws = np.array([estimate_pose(p).yaw for p in points])
        vectors = self.recognizer.embed(image.pixels, points, None if reference else self._turned_or_masked(yaws))
        poses = np.array([[calibration.pose_value(yaw)] for yaw in yaws], np.float32)
        return np.hstack([vectors, poses])

    def _turned_or_masked(self, yaws: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        """Which faces of these ``yaws``, given their own vectors, get the mirror image (``MIRROR_YAW``)."""
        mask = calibration.load(self.recognizer.name).mask_probability
        return lambda own: (np.abs(yaws) >= MIRROR_YAW) | (mask([own]) >= MIRROR_MASK)


def _rescale(face: Placed, factor: float) -> Placed:
    if abs(factor - 1.0) < 1e-9:
        return face
    landmarks = tuple((round(x * factor, 1), round(y * factor, 1)) for x, y in face.landmarks)
    return dataclasses.replace(face, box=scale_box(face.box, factor), landmarks=landmarks)


def default_detector(recognizer: str | None = None) -> Detector:
    """The detector that finds and aligns faces for ``recognizer`` (default: this process's;
    ``RecognizerSpec.detector``)."""
    return FaceDetector(RECOGNIZERS[recognizer or active_recognizer()].detector)


def build_engine(recognizer: str) -> FaceEngine:
    """``recognizer`` with its detector (model files verified first)."""
    return FaceEngine(default_detector(recognizer), Recognizer(recognizer))


_engine: FaceEngine | None = None
_engine_lock = threading.Lock()


def loaded() -> bool:
    """Whether this process has built its engine."""
    return _engine is not None


def get_engine() -> FaceEngine:
    """The process-wide engine, built on first use."""
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                _engine = build_engine(active_recognizer())
    return _engine
