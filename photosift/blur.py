"""Blur detection: a 0-100 sharpness score and a ``blurry`` verdict for a photo, judged on its subject.

Default measure ("default"): estimated edge blur in pixels at a fixed analysis size.

1. The image is analysed at most ``ANALYSIS_MAX_PIXELS`` pixels (larger inputs are shrunk first), so a photo gives
   the same verdict whether it arrives at 1000 px or 4000 px: blur is judged at the scale a person views it.
2. At every edge pixel (Canny on a re-blurred copy) the blur width is estimated from the ratio of gradient magnitudes
   of the image and of the image re-blurred with a known Gaussian (Zhuo & Sim, "Defocus map estimation from a
   single image", 2011): for an edge blurred with sigma s, ``R = sqrt(s^2 + s0^2) / s``. The ratio does not depend on
   the edge's contrast, so dim scenes, low-contrast subjects and flat walls don't read as blurry.
3. Edges are pooled per region (a window of tiles) and per gradient orientation (4 bins); a region's blur is the
   median edge blur of its most blurred orientation, so linear motion blur, which leaves edges parallel to the
   motion sharp, is still caught.
4. The photo is judged on its subject: the sharpest face when face boxes are given (``region="faces"``; a face is
   soft by nature, so its sharpest third of edges — eyes, lashes, hairline — speaks for it), otherwise
   the sharpest salient region (regions with enough edges; sky and walls have none) (``region="salient"``), so a sharp
   subject in front of a soft background is not "blurry". With too few edges anywhere, the whole image decides.
5. The blur sigma maps to 0-100 by the fixed monotone ``100 / (1 + (sigma / SIGMA_MID) ** 2)``.

References (``measure=``): "laplacian_variance" (variance of the Laplacian) and "strong_edges" (the seed's measure:
the share of pixels whose absolute Laplacian exceeds a fixed level). Both are computed at the resolution given, so
their verdicts move with image size; each maps to 0-100 with a fixed monotone function whose midpoint (score 50) is
a customary fixed cut (variance 100; 1 % strong-edge pixels), not tuned per data set.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from photosift.errors import InvalidImage
from photosift.imaging import ImageSource, decode, fit_pixels

Box = tuple[int, int, int, int]

ANALYSIS_MAX_PIXELS = 640_000
"""Pixel budget of the default measure. 640k keeps a 12 MP JPEG at libjpeg's 1/4 DCT scale for any aspect ratio,
and makes a 1000 px and a 4000 px copy of the same photo land at the same analysis size."""

DEFAULT_THRESHOLD = 50.0
"""Sharpness below this is ``blurry`` (0-100 scale, every measure). For the default measure 50 = edge blur of
``SIGMA_MID`` px at analysis size."""

MEASURES = ("default", "laplacian_variance", "strong_edges")
REGIONS = ("faces", "salient", "whole")

SIGMA_MID = 1.6  # edge blur sigma (analysis px) that scores 50: chosen once on the synthetic set (see eval/blur.py)
_REBLUR_SIGMA = 2.0  # s0: the known Gaussian of the re-blurred copy; edges are found on that copy too
_CANNY_LOW, _CANNY_HIGH = 15.0, 30.0  # on the re-blurred copy's Sobel magnitude (about the step's contrast in levels)
_TILES_LONG_SIDE = 12  # tiles along the long side (a region is 1/4 of the long side: scale-free)
_WINDOW = 5  # a region is WINDOW x WINDOW tiles
_EDGE_QUANTILE = 0.5  # which edges of a region speak for it (0.5 = the median edge)
_FACE_EDGE_QUANTILE = 0.3  # faces are soft by nature (skin shading): their sharpest features speak for them
_MIN_ORIENTATIONS = 4  # a region counts only with edges in this many of the 4 orientations (motion blur)
_MIN_EDGES = 20  # edge pixels an orientation needs in a region to count
_MIN_FACE_PX = 24  # faces narrower than this at analysis size are too small to judge
_SIGMA_BINS = np.geomspace(0.25, 16.0, 193)  # histogram of per-edge sigma estimates

# Reference measures: raw value that scores 50 and the steepness of the logistic-in-log mapping.
_LAPLACIAN_VAR_MID = 100.0
_STRONG_EDGE_LEVEL = 40.0  # |Laplacian| above this is a "strong edge"
_STRONG_EDGE_MID = 0.01  # share of strong-edge pixels that scores 50


@dataclass(frozen=True)
class BlurResult:
    """Sharpness 0-100 (higher = sharper), the verdict at the threshold used, and the region that decided.

    ``region``: "faces" | "salient" | "whole"; ``region_box``: ``(left, top, width, height)`` in pixels of the array
    given to ``assess`` (None for "whole"). ``measure``: "default" | "laplacian_variance" | "strong_edges".
    """

    sharpness: float
    blurry: bool
    region: str
    region_box: Box | None
    measure: str


@dataclass(frozen=True)
class ImageBlur:
    """``assess_path``'s answer: the blur result and the upright original's ``(width, height)``."""

    result: BlurResult
    original_size: tuple[int, int]


def assess(
    rgb: np.ndarray,
    face_boxes: Sequence[Box] = (),
    *,
    threshold: float | None = None,
    measure: str = "default",
) -> BlurResult:
    """Judge the sharpness of ``rgb`` (``(H, W, 3) uint8`` RGB, or ``(H, W)`` gray).

    ``face_boxes``: ``(left, top, width, height)`` in ``rgb``'s pixels; when given, the sharpest face among the large
    ones decides (the default measure only). ``threshold``: 0-100, default ``DEFAULT_THRESHOLD``;
    ``blurry = sharpness < threshold``. Raises ``InvalidImage`` for an empty or malformed array, ``ValueError`` for an
    unknown measure.
    """
    gray = _gray(rgb)
    cut = DEFAULT_THRESHOLD if threshold is None else float(threshold)
    if measure == "default":
        sharpness, region, box = _default_measure(gray, face_boxes)
    elif measure == "laplacian_variance":
        sharpness, region, box = _score_log(laplacian_variance(gray), _LAPLACIAN_VAR_MID, 1.5), "whole", None
    elif measure == "strong_edges":
        sharpness, region, box = _score_log(strong_edge_share(gray), _STRONG_EDGE_MID, 1.5), "whole", None
    else:
        raise ValueError(f"unknown blur measure {measure!r}; expected one of {', '.join(MEASURES)}")
    sharpness = round(float(sharpness), 2)
    return BlurResult(sharpness=sharpness, blurry=sharpness < cut, region=region, region_box=box, measure=measure)


def sharpness_of(rgb: np.ndarray) -> float:
    """0-100 sharpness of a whole crop (e.g. a face crop), pooled over the crop with the default measure."""
    return crop_blur(rgb)[0]


def crop_blur(rgb: np.ndarray) -> tuple[float, float | None]:
    """``(sharpness_of(rgb), edge blur sigma in the crop's own pixels)``; the sigma is None when the crop has too
    few edges to tell."""
    gray = _gray(rgb)
    scale = _analysis_scale(gray.shape)
    sigma = _region_sigma_full(_resize(gray, scale), min_edges=_MIN_EDGES // 4)
    return round(_score_sigma(sigma), 2), None if sigma is None else sigma / scale


def assess_path(
    source: ImageSource,
    *,
    threshold: float | None = None,
    face_detector: object | None = None,
) -> ImageBlur:
    """Decode ``source`` (path or bytes) at ``ANALYSIS_MAX_PIXELS`` and judge it with the default measure.

    ``face_detector``: anything with ``detect(rgb) -> list[Face]`` (``photosift.faces.types.Detector``); its boxes on
    the decoded image make the faces decide. ``region_box`` is in pixels of the upright original. Raises
    ``InvalidImage`` / ``ImageTooLarge`` for unreadable inputs.
    """
    # without faces to find, luma is all the measure needs: JPEGs then skip chroma decoding (~40 % faster)
    decoded = decode(source, max_pixels=ANALYSIS_MAX_PIXELS, gray=face_detector is None)
    boxes: list[Box] = []
    if face_detector is not None:
        boxes = [tuple(face.box) for face in face_detector.detect(decoded.pixels)]  # type: ignore[attr-defined]
    result = assess(decoded.pixels, boxes, threshold=threshold)
    if result.region_box is not None and decoded.scale != 1.0:
        inv = 1.0 / decoded.scale
        left, top, width, height = result.region_box
        result = BlurResult(
            sharpness=result.sharpness,
            blurry=result.blurry,
            region=result.region,
            region_box=(round(left * inv), round(top * inv), round(width * inv), round(height * inv)),
            measure=result.measure,
        )
    return ImageBlur(result=result, original_size=decoded.original_size)


# ---------------------------------------------------------------- reference measures (native resolution)


def laplacian_variance(gray: np.ndarray) -> float:
    """Variance of the 3x3 Laplacian of an 8-bit gray image (the classic; grows with resolution and contrast)."""
    return float(cv2.Laplacian(gray, cv2.CV_32F).var())


def strong_edge_share(gray: np.ndarray) -> float:
    """The seed's measure: the share (0-1) of pixels whose absolute 3x3 Laplacian exceeds ``_STRONG_EDGE_LEVEL``."""
    lap = cv2.Laplacian(gray, cv2.CV_16S)
    return float(np.count_nonzero(np.abs(lap) > _STRONG_EDGE_LEVEL)) / lap.size


def _score_log(value: float, mid: float, slope: float) -> float:
    """Monotone map of a positive raw value to 0-100: 50 at ``mid``, logistic in ``log(value)``."""
    if value <= 0:
        return 0.0
    return 100.0 / (1.0 + (mid / value) ** slope)


# ---------------------------------------------------------------- default measure


def _score_sigma(sigma: float | None) -> float:
    if sigma is None:
        return 0.0
    return 100.0 / (1.0 + (sigma / SIGMA_MID) ** 2)


def _default_measure(gray: np.ndarray, face_boxes: Sequence[Box]) -> tuple[float, str, Box | None]:
    scale = _analysis_scale(gray.shape)
    small = _resize(gray, scale)
    sigma_est, orient, ys, xs = _edge_blur(small)
    if face_boxes:
        found = _judge_faces(face_boxes, scale, small.shape, sigma_est, orient, ys, xs)
        if found is not None:
            sigma, box = found
            return _score_sigma(sigma), "faces", box
    found = _judge_salient(small.shape, sigma_est, orient, ys, xs)
    if found is not None:
        sigma, (left, top, width, height) = found
        box = _to_input_box((left, top, width, height), scale, gray.shape)
        return _score_sigma(sigma), "salient", box
    sigma = _pooled_sigma(sigma_est, orient, min_edges=1)
    return _score_sigma(sigma), "whole", None


def _edge_blur(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per edge pixel: estimated blur sigma (analysis px), orientation bin 0-3, row, column."""
    image = gray.astype(np.float32)
    reblurred = cv2.GaussianBlur(image, (0, 0), _REBLUR_SIGMA)
    gx0 = cv2.Sobel(image, cv2.CV_32F, 1, 0)
    gy0 = cv2.Sobel(image, cv2.CV_32F, 0, 1)
    gx1 = cv2.Sobel(reblurred, cv2.CV_32F, 1, 0)
    gy1 = cv2.Sobel(reblurred, cv2.CV_32F, 0, 1)
    # the smoothed copy finds sharp and blurred edges alike; x4 keeps sub-level precision in int16 (|Sobel| of an
    # 8-bit image is at most 1020, so x4 cannot overflow)
    dx = (gx1 * 4).astype(np.int16)
    dy = (gy1 * 4).astype(np.int16)
    edges = cv2.Canny(dx, dy, _CANNY_LOW * 4, _CANNY_HIGH * 4, L2gradient=True)
    points = cv2.findNonZero(edges)  # much faster than np.nonzero on a mostly empty mask
    if points is None:
        empty = np.zeros(0, dtype=np.int64)
        return np.zeros(0, dtype=np.float32), empty, empty, empty
    points = points.reshape(-1, 2).astype(np.int64)
    xs, ys = points[:, 0], points[:, 1]
    ex1, ey1 = gx1[ys, xs], gy1[ys, xs]
    m0 = np.hypot(gx0[ys, xs], gy0[ys, xs])
    m1 = np.hypot(ex1, ey1)
    ratio = m0 / np.maximum(m1, 1e-6)
    sigma = _REBLUR_SIGMA / np.sqrt(np.maximum(ratio * ratio - 1.0, 1e-4))
    angle = np.arctan2(ey1, ex1)  # gradient direction, -pi..pi
    orient = (np.floor((angle + math.pi / 8) / (math.pi / 4)).astype(np.int64)) % 4
    return sigma.astype(np.float32), orient, ys, xs


def _sigma_hist(sigma: np.ndarray) -> np.ndarray:
    return np.clip(np.searchsorted(_SIGMA_BINS, sigma), 0, len(_SIGMA_BINS))


def _quantile_from_hist(hist: np.ndarray) -> np.ndarray:
    """The ``_EDGE_QUANTILE`` sigma per histogram (last axis = bins), via the cumulative counts."""
    counts = hist.sum(axis=-1, keepdims=True)
    cum = np.cumsum(hist, axis=-1)
    index = np.argmax(cum >= counts * _EDGE_QUANTILE, axis=-1)
    centers = np.concatenate([[_SIGMA_BINS[0]], np.sqrt(_SIGMA_BINS[1:] * _SIGMA_BINS[:-1]), [_SIGMA_BINS[-1]]])
    return centers[index]


def _judge_salient(
    shape: tuple[int, ...], sigma: np.ndarray, orient: np.ndarray, ys: np.ndarray, xs: np.ndarray
) -> tuple[float, Box] | None:
    """The sharpest region (WINDOW x WINDOW tiles) with enough edges: its blur sigma and box (analysis px)."""
    height, width = shape[:2]
    tile = max(8, math.ceil(max(height, width) / _TILES_LONG_SIDE))
    rows, cols = max(1, math.ceil(height / tile)), max(1, math.ceil(width / tile))
    nbins = len(_SIGMA_BINS) + 1
    key = ((ys // tile) * cols + xs // tile) * 4 + orient
    key = key * nbins + _sigma_hist(sigma)
    hist = np.bincount(key, minlength=rows * cols * 4 * nbins).reshape(rows, cols, 4, nbins)
    win_r, win_c = min(_WINDOW, rows), min(_WINDOW, cols)
    cum = np.cumsum(np.cumsum(np.pad(hist, ((1, 0), (1, 0), (0, 0), (0, 0))), axis=0), axis=1)
    windows = cum[win_r:, win_c:] - cum[:-win_r, win_c:] - cum[win_r:, :-win_c] + cum[:-win_r, :-win_c]
    counts = windows.sum(axis=-1)  # (R, C, 4)
    medians = _quantile_from_hist(windows)
    supported = counts >= _MIN_EDGES
    blur = np.where(supported, medians, -np.inf).max(axis=-1)  # most blurred supported orientation
    valid = supported.sum(axis=-1) >= _MIN_ORIENTATIONS
    if not valid.any():
        return None
    blur = np.where(valid, blur, np.inf)
    r, c = np.unravel_index(int(np.argmin(blur)), blur.shape)
    left, top = int(c) * tile, int(r) * tile
    box = (left, top, min(win_c * tile, width - left), min(win_r * tile, height - top))
    return float(blur[r, c]), box


def _pooled_sigma(
    sigma: np.ndarray, orient: np.ndarray, min_edges: int, quantile: float = _EDGE_QUANTILE
) -> float | None:
    """The ``quantile`` of edge sigma in the most blurred orientation with >= ``min_edges`` edges; None without
    any edge."""
    if sigma.size == 0:
        return None
    best: float | None = None
    for o in range(4):
        values = sigma[orient == o]
        if values.size >= min_edges:
            med = float(np.quantile(values, quantile))
            best = med if best is None else max(best, med)
    return best if best is not None else float(np.quantile(sigma, quantile))


def _region_sigma_full(gray: np.ndarray, min_edges: int) -> float | None:
    sigma, orient, _, _ = _edge_blur(gray)
    return _pooled_sigma(sigma, orient, min_edges)


def _judge_faces(
    face_boxes: Sequence[Box],
    scale: float,
    shape: tuple[int, ...],
    sigma: np.ndarray,
    orient: np.ndarray,
    ys: np.ndarray,
    xs: np.ndarray,
) -> tuple[float, Box] | None:
    """The sharpest of the large faces: its blur sigma and box (input px); None if no face is big enough."""
    height, width = shape[:2]
    boxes = [b for b in face_boxes if b[2] > 0 and b[3] > 0]
    if not boxes:
        return None
    largest = max(b[2] * scale for b in boxes)
    best: tuple[float, Box] | None = None
    for box in boxes:
        fw = box[2] * scale
        if fw < _MIN_FACE_PX or fw < 0.5 * largest:
            continue
        left, top = box[0] * scale, box[1] * scale
        x0, y0 = max(0, int(left)), max(0, int(top))
        x1, y1 = min(width, int(math.ceil(left + fw))), min(height, int(math.ceil(top + box[3] * scale)))
        inside = (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)
        if np.count_nonzero(inside) < 10:
            continue
        value = _pooled_sigma(sigma[inside], orient[inside], min_edges=10, quantile=_FACE_EDGE_QUANTILE)
        if value is not None and (best is None or value < best[0]):
            best = (value, tuple(int(v) for v in box))  # type: ignore[assignment]
    return best


# ---------------------------------------------------------------- helpers


def _gray(rgb: np.ndarray) -> np.ndarray:
    array = np.asarray(rgb)
    if array.ndim not in (2, 3) or array.size == 0 or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise InvalidImage(f"expected an (H, W, 3) RGB or (H, W) gray array, got shape {array.shape}")
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    if array.ndim == 2:
        return array
    if array.shape[2] == 1:
        return array[:, :, 0]
    code = cv2.COLOR_RGBA2GRAY if array.shape[2] == 4 else cv2.COLOR_RGB2GRAY
    return cv2.cvtColor(array, code)


def _analysis_scale(shape: tuple[int, ...]) -> float:
    height, width = shape[:2]
    if height * width <= ANALYSIS_MAX_PIXELS:
        return 1.0
    return math.sqrt(ANALYSIS_MAX_PIXELS / (height * width))


def _resize(gray: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return gray
    return fit_pixels(gray, ANALYSIS_MAX_PIXELS)


def _to_input_box(box: Box, scale: float, shape: tuple[int, ...]) -> Box:
    if scale == 1.0:
        return box
    height, width = shape[:2]
    left, top, w, h = (v / scale for v in box)
    left_i, top_i = min(width - 1, round(left)), min(height - 1, round(top))
    return left_i, top_i, min(width - left_i, round(w)), min(height - top_i, round(h))


__all__ = [
    "ANALYSIS_MAX_PIXELS",
    "DEFAULT_THRESHOLD",
    "MEASURES",
    "BlurResult",
    "ImageBlur",
    "assess",
    "assess_path",
    "laplacian_variance",
    "crop_blur",
    "sharpness_of",
    "strong_edge_share",
]
