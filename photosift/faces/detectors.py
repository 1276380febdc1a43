"""Face detectors: ``yuface`` (libfacedetection CNN, default) and SCRFD-500M (fallback where yuface cannot install).

Both return :class:`~photosift.faces.types.Face` objects in pixels of the RGB array they are given. yuface runs a
coarse pass at ~960 px. A thorough detection adds two passes, merged with non-maximum suppression: small faces are
found at twice the coarse resolution (for a small image: an upscaled copy, at most 2x), and faces that look narrower
than the network expects (heads turned away, photos resized without keeping their aspect ratio) on a copy squeezed
to half its height.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from photosift.faces.geometry import clip_box, estimate_pose, iou
from photosift.faces.types import Face, FaceQuality

FINE_PASS_FACTOR = 2.0  # resolution of the small-face pass relative to the coarse one (1.5x: ~40 % faster, but
# faces of ~30 px in a 2000 px photo are lost)
NARROW_PASS_SQUEEZE = 2.0  # the narrow-face pass sees the coarse image at 1/this of its height
NARROW_PASS_DISCOUNT = 10.0  # confidence points its detections lose: a distorted copy gives more false faces
COARSE_PASS_FACE = 40  # px at the coarse pass: faces at least this large are found there reliably
NMS_OVERLAP = 0.35  # IoU above which two detections are one face
MIN_RELIABLE_FACE = 32  # px (shorter box side, in the analysed pixels): below this comparisons are unreliable


@dataclass(frozen=True)
class RawDetection:
    """A detector's output before pose/quality: float box ``(l, t, w, h)``, confidence 0-100, (5, 2) landmarks."""

    box: np.ndarray
    confidence: float
    landmarks: np.ndarray


def face_quality(rgb: np.ndarray, box: tuple[int, int, int, int]) -> FaceQuality:
    """Sharpness (``photosift.blur.sharpness_of`` of the crop) and brightness (mean luma) of a face, both 0-100."""
    from photosift import blur  # engine sibling; imported late to keep the faces package importable on its own

    left, top, width, height = box
    crop = rgb[top : top + height, left : left + width]
    if crop.size == 0:
        return FaceQuality(sharpness=0.0, brightness=0.0)
    luma = crop.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    sharpness = float(blur.sharpness_of(crop)) if min(crop.shape[:2]) >= 8 else 0.0
    return FaceQuality(sharpness=round(sharpness, 1), brightness=round(float(luma.mean()) / 2.55, 1))


def to_face(rgb: np.ndarray, raw: RawDetection) -> Face:
    """A :class:`Face` (integer box clipped to the image, pose, quality, too-small flag) from a raw detection."""
    h, w = rgb.shape[:2]
    box = clip_box(tuple(raw.box), w, h)
    landmarks = tuple((round(float(x), 1), round(float(y), 1)) for x, y in raw.landmarks)
    return Face(
        box=box,
        confidence=round(float(raw.confidence), 1),
        landmarks=landmarks,
        pose=estimate_pose(raw.landmarks),
        quality=face_quality(rgb, box),
        too_small=bool(min(raw.box[2], raw.box[3]) < MIN_RELIABLE_FACE),
    )


def non_max_suppression(detections: list[RawDetection], overlap: float = NMS_OVERLAP) -> list[RawDetection]:
    """Keep the most confident of overlapping detections (IoU > ``overlap`` or one mostly inside the other)."""
    kept: list[RawDetection] = []
    for det in sorted(detections, key=lambda d: -d.confidence):
        if not _overlaps_any(det, kept, overlap):
            kept.append(det)
    return kept


def _overlaps_any(det: RawDetection, others: list[RawDetection], overlap: float = NMS_OVERLAP) -> bool:
    """Whether ``det`` overlaps one of ``others`` (IoU > ``overlap`` or one mostly inside the other)."""
    if not others:
        return False
    boxes = np.stack([o.box for o in others])
    return bool((iou(det.box, boxes) > overlap).any() or (_inside_fraction(det.box, boxes) > 0.7).any())


def _inside_fraction(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Fraction of the smaller box's area covered by the intersection, against each of ``others``."""
    l1, t1, w1, h1 = box
    ix = np.clip(np.minimum(l1 + w1, others[:, 0] + others[:, 2]) - np.maximum(l1, others[:, 0]), 0, None)
    iy = np.clip(np.minimum(t1 + h1, others[:, 1] + others[:, 3]) - np.maximum(t1, others[:, 1]), 0, None)
    smaller = np.minimum(w1 * h1, others[:, 2] * others[:, 3])
    return ix * iy / np.maximum(smaller, 1e-9)


class YuFaceDetector:
    """libfacedetection (``yuface``): a fast CNN with five landmarks; thread-safe, and other threads run meanwhile.

    ``min_confidence`` 0-100: 60 keeps phantom faces rare (WIDER: 0.67 per crowded image at 60, 1.35 at 50) for
    a small loss of recall (``eval/faces.py``). ``pass_side``: longest side of the coarse pass. ``thorough``: add
    the small-face pass (``FINE_PASS_FACTOR``, capped at ``max_upscale`` x the input) so faces of ~20-40 px are
    found, and the narrow-face pass (``NARROW_PASS_SQUEEZE``).
    """

    name = "yuface"

    def __init__(
        self, min_confidence: float = 60.0, pass_side: int = 960, thorough: bool = True, max_upscale: float = 2.0
    ) -> None:
        from photosift.faces import libfacedetection

        self._detect = libfacedetection.load()  # ImportError here, at construction, when the wheel is missing
        self.min_confidence = min_confidence
        self.pass_side = pass_side
        self.thorough = thorough
        self.max_upscale = max_upscale

    def detect(self, rgb: np.ndarray, thorough: bool | None = None) -> list[Face]:
        return [to_face(rgb, d) for d in self.detect_raw(rgb, thorough)]

    def detect_raw(self, rgb: np.ndarray, thorough: bool | None = None) -> list[RawDetection]:
        """Raw detections over all passes, merged, in pixels of ``rgb``. ``thorough`` overrides the instance's
        setting (False: the coarse pass only, for callers that want the largest face)."""
        bgr = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)
        h, w = bgr.shape[:2]
        scale = min(self.pass_side / max(h, w), self.max_upscale)
        found = self._pass(bgr, scale, scale, self.min_confidence)
        if not (self.thorough if thorough is None else thorough):
            return non_max_suppression(found)
        fine = min(FINE_PASS_FACTOR * scale, self.max_upscale)
        if fine > scale * 1.2:
            # the fine pass is for faces too small for the coarse one; a large face only it sees is a phantom
            found += [
                d for d in self._pass(bgr, fine, fine, self.min_confidence) if min(d.box[2:]) * scale < COARSE_PASS_FACE
            ]
        found = non_max_suppression(found)
        # the narrow pass only adds faces: where it overlaps a regular detection, the regular box fits better
        narrow = self._pass(bgr, scale, scale / NARROW_PASS_SQUEEZE, self.min_confidence, NARROW_PASS_DISCOUNT)
        return found + [d for d in non_max_suppression(narrow) if not _overlaps_any(d, found)]

    def _pass(
        self, bgr: np.ndarray, sx: float, sy: float, min_confidence: float, discount: float = 0.0
    ) -> list[RawDetection]:
        """One detector run on ``bgr`` resized by ``sx`` x ``sy``; detections in pixels of ``bgr`` with at least
        ``min_confidence`` once ``discount`` points are taken off."""
        h, w = bgr.shape[:2]
        size = (max(1, round(w * sx)), max(1, round(h * sy)))
        interpolation = cv2.INTER_AREA if sx * sy < 1 else cv2.INTER_LINEAR
        scaled = bgr if size == (w, h) else cv2.resize(bgr, size, interpolation=interpolation)
        result = self._detect(np.ascontiguousarray(scaled))
        if result is None or len(result) == 0:
            return []
        # yuface reports int16 (older builds: uint16) values; negative coordinates wrap around in uint16.
        values = np.asarray(result).astype(np.uint16).view(np.int16).astype(np.float64)
        to_input = np.array([1 / sx, 1 / sy])
        found = []
        for row in values:
            confidence = row[0] - discount
            if confidence < min_confidence:
                continue
            left, top, width, height = row[1:5]
            if width <= 1 or height <= 1:
                continue
            box = np.array([left, top, width, height]) * np.tile(to_input, 2)
            landmarks = row[5:15].reshape(5, 2) * to_input
            found.append(RawDetection(box=box, confidence=float(min(confidence, 100.0)), landmarks=landmarks))
        return found


class ScrfdDetector:
    """SCRFD-500M over the whole image (canvas ``canvas`` px): the fallback where the yuface wheel cannot install.

    One pass; ``thorough`` is accepted for the common interface."""

    name = "scrfd"

    def __init__(self, min_confidence: float = 50.0, canvas: int = 640) -> None:
        from photosift.faces.scrfd import Scrfd

        self._scrfd = Scrfd(min_score=min_confidence / 100.0)
        self.canvas = canvas

    def detect(self, rgb: np.ndarray, thorough: bool | None = None) -> list[Face]:
        return [to_face(rgb, d) for d in self.detect_raw(rgb)]

    def detect_raw(self, rgb: np.ndarray, thorough: bool | None = None) -> list[RawDetection]:
        """Detections in pixels of ``rgb``."""
        boxes, scores, points = self._scrfd.detect(rgb, self.canvas)
        return [RawDetection(box=b.astype(np.float64), confidence=float(100.0 * s), landmarks=p.astype(np.float64))
                for b, s, p in zip(boxes, scores, points, strict=True)]
