"""Alignment landmarks: the detection network's five points, found again on a crop around a detected face.

The recognisers were trained on faces aligned by SCRFD-style landmarks. The detector's own points are found at half
the analysed resolution or less; found again at the face's own scale they align better (with the yuface detector of
earlier releases, CFP frontal-profile pairs at one threshold went from 89.8 % to 94.5 %; with SCRFD's own points,
same-person pairs at similarity 99 from 51.6 % to 63.2 %). The crop is a square of ``CROP_FACTOR`` x the box's
longer side about its centre, seen by the network at ``CANVAS`` px; the detection that overlaps the box best gives the
points, else the detector's are kept.
"""

from __future__ import annotations

import cv2
import numpy as np

from photosift.faces.detectors import NETWORKS
from photosift.faces.geometry import iou
from photosift.faces.types import Face, FacePlace

CROP_FACTOR = 2.0
CANVAS = 192
MIN_OVERLAP = 0.3  # IoU with the detector's box below which the network found another face
MIN_CONFIDENCE = 60.0  # of a face on its own crop (SCRFD's score 0.3): the detector found it already


class LandmarkRefiner:
    """``points(rgb, face)``: the five alignment points of ``face`` (pixels of ``rgb``), found by ``network``
    (``detectors.NETWORKS``)."""

    def __init__(self, network: str = "scrfd") -> None:
        spec = NETWORKS[network]
        self._network, self._min_score = spec.load(), spec.score_at(MIN_CONFIDENCE)

    def points(self, rgb: np.ndarray, face: Face | FacePlace) -> np.ndarray:
        left, top, width, height = (float(v) for v in face.box)
        fallback = np.asarray(face.landmarks, np.float64).reshape(5, 2)
        side = round(CROP_FACTOR * max(width, height))
        if side < 8:
            return fallback
        x0, y0 = round(left + width / 2 - side / 2), round(top + height / 2 - side / 2)
        h, w = rgb.shape[:2]
        crop = rgb[max(0, y0) : max(0, y0 + side), max(0, x0) : max(0, x0 + side)]
        if crop.size == 0:
            return fallback
        crop = cv2.copyMakeBorder(crop, max(0, -y0), max(0, y0 + side - h), max(0, -x0), max(0, x0 + side - w),
                                  cv2.BORDER_CONSTANT)
        boxes, _, points = self._network.detect(crop, CANVAS, self._min_score)
        if len(boxes) == 0:
            return fallback
        overlap = iou(np.array([left - x0, top - y0, width, height]), boxes)[0]
        best = int(np.argmax(overlap))
        if overlap[best] < MIN_OVERLAP:
            return fallback
        return points[best].astype(np.float64) + np.array([x0, y0], np.float64)
