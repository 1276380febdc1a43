"""The face detector: a detection network with five landmarks (:data:`NETWORKS`: SCRFD-500M, InsightFace's, by
default; YuNet, MIT, for a stack without InsightFace's models) run in several passes.

The first pass sees the image fitted into a canvas of half its longer side (at least ``MIN_CANVAS``, at most
``MAX_CANVAS``): faces of ``FIRST_PASS_FACE`` px reach the network at ~16 px, where SCRFD sees them, if only
faintly (smaller ones, down to ``MIN_RELIABLE_FACE``, the smallest the product compares, mostly through cues). The
fine pass spends full resolution only where the first pass points: each small detection too faint to keep (a *cue*)
is looked at again on its own tile, where the face is ~48 px.
That costs a few milliseconds per cue instead of a second pass over the whole frame at twice the size (4x the cost).
The first pass also misses faces that fill much of the frame (an ID photo, a selfie): a pass at ``LARGE_CANVAS``
adds those, at a tenth of its cost. On images small enough for the smallest canvas (``NARROW_PASS_MAX_CANVAS``),
a pass on a copy squeezed to half its height finds faces narrower than the network expects: those of renditions
resized without keeping their aspect ratio (WIDER's 416x416 files). The extra passes only add faces the first one
missed. Faces come in pixels of the RGB array given.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, replace
from typing import Protocol, cast

import numpy as np

from photosift.faces.geometry import clip_box, estimate_pose, iou
from photosift.faces.types import Face, FacePlace, FaceQuality
from photosift.imaging import fit_within, shrink

GRID_SIGMA = 1.3
"""px: the edge blur the estimator reads on a face that is as sharp as its pixels allow (unblurred LFW faces made
30-60 px tall read 1.2-1.4)."""
MIN_RELIABLE_FACE = 16
"""px (shorter box side, in the analysed pixels): smaller faces are ``too_small`` and never compared. With
``w600k_mbf`` a face's size changes how often its own person is found, not how often a stranger's reference is: LFW
and CFP faces shrunk to 32 / 24 / 20 / 16 / 12 px match their person's reference at 80 in 0.973 / 0.925 / 0.877 /
0.705 / 0.445 of pairs, and strangers' references in 0.5-1.4e-4 of pairs at every size (WIDER's crowd faces under
20 px: 3 in 260,169 pairs). Small real faces look alike to *each other*, though: an album groups people only from
larger faces (``FaceQuality.size``; ``photosift.application.grouping.GROUP_MIN_SIZE``)."""
FIRST_PASS_FACE = 32  # px (analysed pixels): the first pass's canvas brings faces this big to ``SMALLEST_FOUND``
SMALLEST_FOUND = 16  # px at the network's input: SCRFD's smallest anchor
MIN_CANVAS, MAX_CANVAS = 640, 1024  # px: the first pass's canvas (a 2000 px analysis image gets 1000)
LARGE_CANVAS = 320  # px: the large-face pass (faces over LARGE_FACE px at the first pass's canvas)
LARGE_FACE = 200  # px at the first pass's canvas: larger faces are missed there (SCRFD's largest anchors are 256-512)
CUE_SCORE = 0.05  # a first-pass detection this confident (0-1) but below ``min_confidence`` may be a small face
CUE_MAX_SIZE = 48  # px at the first pass's canvas: larger doubtful detections are not small faces
MAX_CUES = 24  # tiles looked at again per image, most confident cues first
CUE_TILE = 4.0  # a cue's tile is this many times its box's longer side, square about its centre
CUE_CANVAS = 192  # px: the network sees a cue's tile at this size (the face at ~48 px)
NARROW_PASS_SQUEEZE = 2.0  # the narrow-face pass sees the image at 1/this of its height
NARROW_PASS_DISCOUNT = 15.0  # confidence points its detections lose: a distorted copy gives more false faces
NARROW_PASS_MAX_CANVAS = MIN_CANVAS
"""The narrow pass runs where the first pass's canvas is at most this (images up to 1280 px): stretched renditions
are made for small sizes (thumbnails, a model's 416x416 input), a camera's photo is not stretched. The same 102 WIDER
crowds brought back to their own aspect ratio gave it no face of their 2,373 (nor a phantom) at 640, 1024 or
2000 px (on the stretched files themselves it adds faces, ``eval/faces.py``); on a 12 MP photo it cost 20 ms."""
NMS_OVERLAP = 0.35  # IoU above which two detections are one face


class Network(Protocol):
    """A detection network: faces of an RGB image fitted into a ``canvas`` square, scoring ``min_score`` (0-1) or
    more, as boxes ``(n, 4)`` ``(l, t, w, h)``, scores ``(n,)`` and landmarks ``(n, 5, 2)`` in pixels of ``rgb``."""

    def detect(self, rgb: np.ndarray, canvas: int, min_score: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ...


@dataclass(frozen=True)
class NetworkSpec:
    """A detection network and what its scores mean.

    A detection's confidence is ``100 * sigmoid(a * score + b)`` of the network's score, ``(a, b)`` =
    ``score_to_logit``: the share of detections with that score that are faces, fitted on every detection in WIDER's
    and Face Mask's photos (a face: it overlaps an annotated face or its centre lies inside one;
    ``eval/detector_confidence.py``). ``min_confidence``: the least confidence of a face kept."""

    model: str  # its file (``photosift.faces.models``)
    module: str  # its wrapper, whose ``shared()`` is the process's instance
    score_to_logit: tuple[float, float]
    min_confidence: float

    def load(self) -> Network:
        """The process's shared instance of the network."""
        return cast(Network, importlib.import_module(self.module).shared())

    def confidence(self, scores: np.ndarray) -> np.ndarray:
        """Confidences 0-100 of the network's ``scores``."""
        a, b = self.score_to_logit
        return 100.0 / (1.0 + np.exp(-(a * np.asarray(scores, np.float64) + b)))

    def score_at(self, confidence: float) -> float:
        """The network's score of ``confidence`` (0-100)."""
        a, b = self.score_to_logit
        return (math.log(confidence / (100.0 - confidence)) - b) / a


NETWORKS: dict[str, NetworkSpec] = {
    "scrfd": NetworkSpec("scrfd_500m", "photosift.faces.scrfd", (10.59, -2.77), 81.0),
    "yunet": NetworkSpec("yunet", "photosift.faces.yunet", (7.25, -2.43), 85.0),
}
"""SCRFD-500M's scores 0.4 / 0.5 / 0.6 / 0.8 are 82 / 92 / 97 / 99.7 (0.77 / 0.92 / 0.98 / 1.00 of detections in bins
around them were faces); its 81 (score 0.4) finds as many faces of >= 40 px in WIDER's crowds as the yuface
detector of earlier releases with fewer phantom faces (``eval/faces.py``). YuNet's 85 (score 0.57): 0.885 of those faces
found with 0.86 phantoms per WIDER photo (``eval/faces.py``); in a sweep of the bar, 81 found no more faces with
1.5 times the phantoms, and 90 half of them but lost a Face Mask face."""


@dataclass(frozen=True)
class RawDetection:
    """A detector's output before pose/quality: float box ``(l, t, w, h)``, confidence 0-100, (5, 2) landmarks."""

    box: np.ndarray
    confidence: float
    landmarks: np.ndarray


def face_quality(rgb: np.ndarray, box: tuple[int, int, int, int]) -> FaceQuality:
    """Sharpness (``photosift.blur.crop_blur`` of the crop) and brightness (mean luma) of a face, both 0-100, and
    its blur relative to its size (:class:`FaceQuality`): the edge blur sigma with the estimator's floor on a sharp
    pixel grid (``GRID_SIGMA``) taken out in quadrature, over the face's height."""
    from photosift import blur  # engine sibling; imported late to keep the faces package importable on its own

    left, top, width, height = box
    crop = rgb[top : top + height, left : left + width]
    if crop.size == 0:
        return FaceQuality(sharpness=0.0, brightness=0.0, relative_blur=100.0)
    luma = crop.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    brightness = round(float(luma.mean()) / 2.55, 1)
    sharpness, sigma = blur.crop_blur(crop) if min(crop.shape[:2]) >= 8 else (0.0, None)
    relative = 100.0 if sigma is None else min(100.0, 100.0 * math.sqrt(max(sigma**2 - GRID_SIGMA**2, 0.0))
                                               / crop.shape[0])
    return FaceQuality(sharpness=round(float(sharpness), 1), brightness=brightness, relative_blur=round(relative, 2))


def to_place(rgb: np.ndarray, raw: RawDetection) -> FacePlace:
    """A :class:`FacePlace` (integer box clipped to the image, landmarks to 0.1 px, too-small flag) from a raw
    detection."""
    h, w = rgb.shape[:2]
    return FacePlace(box=clip_box(tuple(raw.box), w, h),
                     landmarks=tuple((round(float(x), 1), round(float(y), 1)) for x, y in raw.landmarks),
                     too_small=bool(_size(raw) < MIN_RELIABLE_FACE))


def to_face(rgb: np.ndarray, raw: RawDetection) -> Face:
    """A :class:`Face` (:func:`to_place`'s box, landmarks and too-small flag; pose, quality with the size the
    too-small flag reads) from a raw detection."""
    place = to_place(rgb, raw)
    quality = replace(face_quality(rgb, place.box), size=round(_size(raw), 1))
    return Face(box=place.box, confidence=round(float(raw.confidence), 1), landmarks=place.landmarks,
                pose=estimate_pose(raw.landmarks), quality=quality, too_small=place.too_small)


def _size(raw: RawDetection) -> float:
    """The shorter side of ``raw``'s box (px, unclipped): what ``too_small`` and ``FaceQuality.size`` read."""
    return float(min(raw.box[2], raw.box[3]))


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


class FaceDetector:
    """The passes of the module docstring over ``network`` (:data:`NETWORKS`); thread-safe, and it releases the GIL
    while it computes.

    ``min_confidence`` 0-100 (the network's own by default, see :class:`NetworkSpec`).
    ``thorough``: True (default) every pass; False the first and large-face passes only (large faces); None those
    two, and the fine and narrow ones only when they find nothing (a reference photo's face: large, or else looked
    for everywhere) — what ``detect(rgb, False) or detect(rgb)`` finds, each pass run once."""

    def __init__(self, network: str = "scrfd", min_confidence: float | None = None, narrow: bool = True) -> None:
        self.spec = NETWORKS[network]
        self.name, self._network = network, self.spec.load()
        self.min_confidence = self.spec.min_confidence if min_confidence is None else min_confidence
        self.narrow = narrow

    def detect(self, rgb: np.ndarray, thorough: bool | None = True) -> list[Face]:
        return [to_face(rgb, d) for d in self.detect_raw(rgb, thorough)]

    def place(self, rgb: np.ndarray) -> list[FacePlace]:
        return [to_place(rgb, d) for d in self.detect_raw(rgb)]

    def detect_raw(self, rgb: np.ndarray, thorough: bool | None = True) -> list[RawDetection]:
        """Detections in pixels of ``rgb``, merged over the passes (the first on ``canvas_for`` the image)."""
        canvas = canvas_for(rgb.shape[:2])
        base = fit_within(rgb, canvas)  # every pass but the fine one sees at most this: one reduction of the photo
        to_rgb = (rgb.shape[1] / base.shape[1], rgb.shape[0] / base.shape[0])
        first = self._pass(base, canvas, to_rgb)
        found = [d for d in first if d.confidence >= self.min_confidence]
        if thorough:
            found += self._fine_faces(rgb, first, found, canvas)
        large_in_image = LARGE_FACE * max(rgb.shape[:2]) / canvas
        large = [d for d in self._pass(base, LARGE_CANVAS, to_rgb)
                 if d.confidence >= self.min_confidence and max(d.box[2:]) >= large_in_image]
        found += [d for d in non_max_suppression(large) if not _overlaps_any(d, found)]
        if thorough is False or (thorough is None and found):
            return found
        if thorough is None:  # nothing found so far: the fine pass after all (the large-face pass added nothing)
            found += self._fine_faces(rgb, first, found, canvas)
        if not self.narrow or canvas > NARROW_PASS_MAX_CANVAS:
            return found
        h, w = base.shape[:2]
        squeezed = shrink(base, (w, max(1, round(h / NARROW_PASS_SQUEEZE))))
        narrow = [d for d in self._pass(squeezed, canvas, (to_rgb[0], rgb.shape[0] / squeezed.shape[0]),
                                        NARROW_PASS_DISCOUNT)
                  if d.confidence >= self.min_confidence]
        return found + [d for d in non_max_suppression(narrow) if not _overlaps_any(d, found)]

    def _fine_faces(self, rgb: np.ndarray, first: list[RawDetection], found: list[RawDetection],
                    canvas: int) -> list[RawDetection]:
        """The fine pass's faces over the first pass's faint detections that no face ``found`` covers."""
        cues = [d for d in first if d.confidence < self.min_confidence and not _overlaps_any(d, found)]
        fine = self._fine_pass(rgb, cues, CUE_MAX_SIZE * max(rgb.shape[:2]) / canvas)
        return [d for d in fine if not _overlaps_any(d, found)]

    def _fine_pass(self, rgb: np.ndarray, cues: list[RawDetection], max_size: float) -> list[RawDetection]:
        """Faces found again on the tiles of small, faint first-pass detections (see the module docstring)."""
        added: list[RawDetection] = []
        small = [d for d in non_max_suppression(cues) if max(d.box[2:]) <= max_size][:MAX_CUES]
        h, w = rgb.shape[:2]
        for cue in small:
            side = round(CUE_TILE * max(cue.box[2:]))
            x0 = int(np.clip(round(cue.box[0] + cue.box[2] / 2 - side / 2), 0, max(0, w - side)))
            y0 = int(np.clip(round(cue.box[1] + cue.box[3] / 2 - side / 2), 0, max(0, h - side)))
            tile = rgb[y0 : y0 + side, x0 : x0 + side]
            if min(tile.shape[:2]) < 2:  # a cue at the edge of a sliver of an image: nothing to look at again
                continue
            offset = np.array([x0, y0], np.float64)
            for found in self._pass(tile, CUE_CANVAS):
                d = RawDetection(found.box + np.r_[offset, 0, 0], found.confidence, found.landmarks + offset)
                if (d.confidence >= self.min_confidence and iou(d.box, cue.box[None])[0, 0] > NMS_OVERLAP
                        and not _overlaps_any(d, added)):
                    added.append(d)
        return added

    def _pass(self, rgb: np.ndarray, canvas: int, to_image: tuple[float, float] = (1.0, 1.0),
              discount: float = 0.0) -> list[RawDetection]:
        """One network run; detections mapped back to an image ``to_image`` (x, y) times the size of ``rgb``."""
        boxes, scores, points = self._network.detect(rgb, canvas, CUE_SCORE)
        scale = np.array(to_image)
        confidences = self.spec.confidence(scores)
        return [RawDetection(box=box.astype(np.float64) * np.tile(scale, 2), confidence=float(c) - discount,
                             landmarks=p.astype(np.float64) * scale)
                for box, c, p in zip(boxes, confidences, points, strict=True)]


def canvas_for(shape: tuple[int, int]) -> int:
    """The first pass's canvas for an image of ``(height, width)``: faces of ``FIRST_PASS_FACE`` px reach
    ``SMALLEST_FOUND`` px."""
    return int(np.clip(max(shape) * SMALLEST_FOUND / FIRST_PASS_FACE, MIN_CANVAS, MAX_CANVAS))
