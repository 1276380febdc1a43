"""SCRFD-500M (InsightFace, with five landmarks) through onnxruntime: faces and landmarks of an RGB image.

The network sees the image letterboxed into a canvas whose sides are multiples of 32, normalised as
``(x - 127.5) / 128``. Each of its three strides (8, 16, 32) predicts, for two anchors per grid cell, a score, the
box as distances from the cell centre, and the five landmarks as offsets from it (all in units of the stride).
"""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np

from photosift.faces.onnx import session
from photosift.imaging import fit_to

STRIDES = (8, 16, 32)
ANCHORS_PER_CELL = 2
NMS_IOU = 0.4


class Scrfd:
    """SCRFD-500M: ``detect(rgb)`` -> boxes ``(n, 4)`` as ``(l, t, w, h)``, scores ``(n,)`` 0-1, landmarks
    ``(n, 5, 2)``."""

    def __init__(self) -> None:
        self._session = session("scrfd_500m")
        self._input = self._session.get_inputs()[0].name
        self._outputs = [o.name for o in self._session.get_outputs()]
        self._centres: dict[tuple[int, int, int], np.ndarray] = {}

    def detect(self, rgb: np.ndarray, canvas: int, min_score: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Faces of ``rgb`` (pixels of ``rgb``) scoring ``min_score`` or more, the image fitted into a ``canvas`` x
        ``canvas`` square."""
        resized, scale = fit_to(rgb, canvas)  # the first pass's image, reduced beforehand, as it is
        height, width = _up32(resized.shape[0]), _up32(resized.shape[1])
        blob = _blob(resized, height, width)
        outputs = dict(zip(self._outputs, self._session.run(self._outputs, {self._input: blob}), strict=True))
        boxes, scores, points = [], [], []
        for stride in STRIDES:
            score = outputs[f"score_{stride}"].reshape(-1)
            keep = np.flatnonzero(score >= min_score)
            if len(keep) == 0:
                continue
            centres = self._grid(height // stride, width // stride, stride)[keep]
            dist = outputs[f"bbox_{stride}"].reshape(-1, 4)[keep] * stride
            kps = outputs[f"kps_{stride}"].reshape(-1, 5, 2)[keep] * stride
            boxes.append(np.hstack([centres - dist[:, :2], dist[:, :2] + dist[:, 2:]]))
            scores.append(score[keep])
            points.append(centres[:, None, :] + kps)
        if not boxes:
            return np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2))
        box, score, point = np.vstack(boxes), np.concatenate(scores), np.vstack(points)
        kept = np.asarray(cv2.dnn.NMSBoxes(box.tolist(), score.tolist(), min_score, NMS_IOU), int).reshape(-1)
        return box[kept] / scale, score[kept], point[kept] / scale

    def _grid(self, rows: int, cols: int, stride: int) -> np.ndarray:
        """Cell centres (anchor points) of one stride, ``ANCHORS_PER_CELL`` times each, row by row."""
        key = (rows, cols, stride)
        if key not in self._centres:
            ys, xs = np.mgrid[:rows, :cols]
            centres = np.stack([xs, ys], axis=-1).reshape(-1, 2).astype(np.float32) * stride
            self._centres[key] = np.repeat(centres, ANCHORS_PER_CELL, axis=0)
        return self._centres[key]


@cache
def shared() -> Scrfd:
    """The process's one SCRFD session, shared by the detector and the landmark refiner (thread-safe)."""
    return Scrfd()


def _blob(rgb: np.ndarray, height: int, width: int) -> np.ndarray:
    """SCRFD's input: ``rgb`` as ``(1, 3, height, width)`` float32 ``(x - 127.5) / 128``, its margin 0 (mid-grey).

    Written plane by plane into one buffer: a normalised copy padded afterwards costs twice the time (3.7 ms more
    at 1024x768)."""
    h, w = rgb.shape[:2]
    blob = np.empty((1, 3, height, width), np.float32)
    blob[0, :, h:, :] = 0.0
    blob[0, :, :h, w:] = 0.0
    inside = blob[0, :, :h, :w]
    for channel, plane in enumerate(cv2.split(rgb)):
        np.multiply(plane, np.float32(1 / 128), out=inside[channel], casting="unsafe")
    inside -= np.float32(127.5 / 128)
    return blob


def _up32(n: int) -> int:
    return max(32, -(-n // 32) * 32)
