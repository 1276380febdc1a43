"""Five-point face alignment onto the 112x112 ArcFace template (what InsightFace's and OpenCV zoo's recognisers
were trained on): a similarity transform (rotation, uniform scale, translation) fitted by least squares (Umeyama)."""

from __future__ import annotations

import cv2
import numpy as np

ARCFACE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)
"""Where the five landmarks (image-left eye, image-right eye, nose tip, image-left and image-right mouth corner of a
frontal face) sit in a 112x112 aligned face."""


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 similarity matrix that maps points ``src`` (n, 2) onto ``dst`` (n, 2) with least squared error."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    covariance = dst_c.T @ src_c / len(src)
    u, s, vt = np.linalg.svd(covariance)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[1] = -1.0
    rotation = u @ np.diag(d) @ vt
    variance = (src_c**2).sum() / len(src)
    scale = float((s * d).sum() / variance) if variance > 0 else 1.0
    translation = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, translation[:, None]])


def align(rgb: np.ndarray, landmarks: np.ndarray, size: int = 112) -> np.ndarray:
    """The ``size`` x ``size`` face of ``rgb`` with its five ``landmarks`` (pixels of ``rgb``) on the template.

    A face much larger than ``size`` is first shrunk with area averaging (only the region around it), so the warp
    does not alias."""
    points = np.asarray(landmarks, np.float64).reshape(5, 2)
    template = ARCFACE_112 * (size / 112.0)
    matrix = similarity_transform(points, template)
    shrink = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    if shrink < 0.5:
        region, origin = _region(rgb, points)
        factor = 2.0 * shrink
        h, w = region.shape[:2]
        small = cv2.resize(region, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=cv2.INTER_AREA)
        points = (points - origin) * (np.array([small.shape[1] / w, small.shape[0] / h]))
        rgb, matrix = small, similarity_transform(points, template)
    return cv2.warpAffine(rgb, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _region(rgb: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The part of ``rgb`` around the landmarks that the aligned face can show, and its top-left corner."""
    centre = points.mean(axis=0)
    reach = 2.5 * max(float(np.ptp(points[:, 0])), float(np.ptp(points[:, 1])), 1.0)
    h, w = rgb.shape[:2]
    left, top = int(max(0, centre[0] - reach)), int(max(0, centre[1] - reach))
    right, bottom = int(min(w, centre[0] + reach + 1)), int(min(h, centre[1] + reach + 1))
    if right <= left or bottom <= top:
        return rgb, np.zeros(2)
    return rgb[top:bottom, left:right], np.array([left, top], np.float64)
