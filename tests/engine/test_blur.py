"""Blur engine: verdicts on real photos and their blurred copies, scale invariance, the subject rule, references."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from photosift import blur
from photosift.errors import InvalidImage

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return data.astronaut()


def motion(rgb: np.ndarray, length: int, angle: float = 0.0) -> np.ndarray:
    """Linear motion blur of ``length`` px at ``angle`` degrees (0 = horizontal)."""
    size = length | 1
    kernel = np.zeros((size, size), np.float32)
    kernel[size // 2, (size - length) // 2 : (size - length) // 2 + length] = 1.0
    if angle:
        turn = cv2.getRotationMatrix2D((size // 2, size // 2), angle, 1.0)
        kernel = cv2.warpAffine(kernel, turn, (size, size), flags=cv2.INTER_LINEAR)
    return cv2.filter2D(rgb, -1, kernel / kernel.sum())


def resize_long(rgb: np.ndarray, long_side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    factor = long_side / max(h, w)
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return cv2.resize(rgb, (round(w * factor), round(h * factor)), interpolation=interpolation)


def test_sharp_photo_is_sharp(astronaut: np.ndarray) -> None:
    result = blur.assess(astronaut)
    assert result == blur.BlurResult(result.sharpness, False, "salient", result.region_box, "default")
    assert 0.0 <= result.sharpness <= 100.0
    assert result.sharpness >= blur.DEFAULT_THRESHOLD + 10


@pytest.mark.parametrize(
    "make",
    [
        lambda rgb: cv2.GaussianBlur(rgb, (0, 0), 3.0),
        lambda rgb: motion(rgb, 15),
        lambda rgb: motion(np.ascontiguousarray(rgb.transpose(1, 0, 2)), 15),  # vertical motion
    ],
    ids=["gaussian", "motion-horizontal", "motion-vertical"],
)
def test_blurred_copies_are_blurry(astronaut: np.ndarray, make) -> None:
    sharp = blur.assess(astronaut).sharpness
    result = blur.assess(make(astronaut))
    assert result.blurry
    assert result.sharpness < sharp - 20


def test_sharpness_falls_with_blur_strength(astronaut: np.ndarray) -> None:
    scores = [blur.assess(cv2.GaussianBlur(astronaut, (0, 0), s)).sharpness for s in (0.5, 1.5, 3.0, 6.0)]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > scores[-1] + 40


def test_same_verdict_and_close_score_at_1000_and_4000_px(astronaut: np.ndarray) -> None:
    for image in (astronaut, cv2.GaussianBlur(astronaut, (0, 0), 3.0)):
        small = blur.assess(resize_long(image, 1000))
        large = blur.assess(resize_long(image, 4000))
        assert small.blurry == large.blurry
        assert abs(small.sharpness - large.sharpness) < 10


@pytest.mark.parametrize(
    "make",
    [
        lambda rgb: cv2.GaussianBlur(rgb, (0, 0), 0.003 * max(rgb.shape[:2])),  # sigma 0.3 % of the long side
        lambda rgb: motion(rgb, round(0.012 * max(rgb.shape[:2]))),  # 1.2 % of the long side: 6 px at 512 px
        lambda rgb: motion(rgb, round(0.012 * max(rgb.shape[:2])), angle=22.5),  # between two orientation bins
        lambda rgb: motion(rgb, round(0.012 * max(rgb.shape[:2])), angle=90),
    ],
    ids=["gaussian-0.3%", "motion-1.2%", "motion-1.2%-22.5deg", "motion-1.2%-vertical"],
)
def test_mild_blur_is_blurry(astronaut: np.ndarray, make) -> None:
    assert blur.assess(make(astronaut)).blurry


@pytest.mark.parametrize("sigma_percent", [0.0, 0.4])
def test_same_verdict_at_every_rendition_from_400_to_4000_px(astronaut: np.ndarray, sigma_percent: float) -> None:
    image = astronaut if not sigma_percent else cv2.GaussianBlur(astronaut, (0, 0), sigma_percent / 100 * 512)
    results = [blur.assess(resize_long(image, side)) for side in (400, 800, 1600, 4000)]
    assert len({r.blurry for r in results}) == 1 and results[0].blurry == bool(sigma_percent)
    scores = [r.sharpness for r in results]
    assert max(scores) - min(scores) < 8


def levels_spanning(rgb: np.ndarray, span: float, veil: float) -> np.ndarray:
    """``rgb`` with its levels (1st-99th percentile of its gray) spread over ``span`` levels from ``veil`` up."""
    low, high = np.percentile(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), [1, 99])
    return np.clip(veil + (rgb.astype(np.float32) - low) * span / (high - low), 0, 255).astype(np.uint8)


@pytest.mark.parametrize(("share", "veil"), [(0.5, 20.0), (0.25, 150.0), (0.1, 5.0), (0.1, 100.0)])
def test_low_contrast_photos_are_judged_as_at_typical_contrast(
    astronaut: np.ndarray, share: float, veil: float
) -> None:
    typical = levels_spanning(astronaut, blur.CONTRAST_LEVELS, 37.0)
    low = levels_spanning(astronaut, blur.CONTRAST_LEVELS * share, veil)  # underexposed, or through haze
    face = [(165, 40, 110, 130)]
    for boxes in ([], face):
        assert abs(blur.assess(low, boxes).sharpness - blur.assess(typical, boxes).sharpness) < 8
    assert not blur.assess(low).blurry
    assert blur.assess(cv2.GaussianBlur(low, (0, 0), 2.0)).blurry


def test_directional_peak() -> None:
    def peak(per_orientation: list[float]) -> float:
        return float(blur._peak(*blur._directional_fit(np.array(per_orientation))))

    assert peak([1.5, 1.5, 1.5, 1.5]) == pytest.approx(1.5)
    # one bin more blurred: mean 1.75 + amplitude 1.5 of the squares (the fit smooths a single bin)
    assert peak([2.0, 1.0, 1.0, 1.0]) == pytest.approx(np.sqrt(3.25))
    # motion half-way between two bins reads more than either bin
    assert peak([1.8, 1.8, 1.0, 1.0]) > 1.8


def test_the_gradient_is_read_at_its_peak_across_the_edge(astronaut: np.ndarray) -> None:
    magnitude = np.zeros((5, 9), np.float32)
    magnitude[2, 6] = 9.0  # the image's gradient peaks two pixels right of the edge point (4, 2)
    points = (np.array([4]), np.array([2]))
    assert blur._across_edge_peak(magnitude, *points, np.array([1.0]), np.array([0.0]), reach=2)[0] == 9.0
    assert blur._across_edge_peak(magnitude, *points, np.array([1.0]), np.array([0.0]), reach=1)[0] == 0.0
    assert blur._across_edge_peak(magnitude, *points, np.array([0.0]), np.array([1.0]), reach=2)[0] == 0.0  # along
    gray = resize_long(cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY), 400)

    def median_sigma(image: np.ndarray, peak: bool) -> float:
        return float(np.median(blur._edge_blur(image, 2, 2.0, strong=True, peak=peak)[0]))

    # sharp edges read sharper (off their peak they looked blurred); blurred edges read the blur they have
    assert median_sigma(gray, peak=True) < 0.8 * median_sigma(gray, peak=False)
    for sigma in (1.5, 2.0):
        assert median_sigma(cv2.GaussianBlur(gray, (0, 0), sigma), peak=True) == pytest.approx(sigma, rel=0.06)


def test_camera_shake_is_blur_along_the_regions_common_direction() -> None:
    along = np.array([[1.0, 0.0], [0.8, 0.1], [0.9, -0.1]])  # directional parts (b, c) of three regions
    assert blur._common_shake(along) == pytest.approx(np.sqrt(2 * 0.8), abs=0.01)
    # regions blurred along their own directions (where a sharp subject meets a blurred background): no shake
    assert blur._common_shake(np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])) == 0.0
    # two regions 45 degrees apart: blurred along the direction between them, by less than either
    assert blur._common_shake(np.array([[1.0, 0.0], [0.0, 1.0]])) == pytest.approx(np.sqrt(2 * np.sqrt(0.5)))


def subject(
    direction: tuple[float, float], median: tuple[float, float] | None = None, median_mean: float = 0.3
) -> blur._Subject:
    """A subject with directional part ``direction`` and, given ``median``, that of its median edges (faces) with
    their mean squared blur ``median_mean``."""
    median_direction = None if median is None else np.array(median)
    return blur._Subject(0.5, (0, 0, 10, 10), np.array(direction), median_direction, median_mean)


def read(directions: np.ndarray, mean: float = 0.5) -> blur._Subject:
    """The salient region's reading of regions with directional parts ``directions`` (rows), each with mean squared
    blur ``mean``."""
    return blur._Subject(0.5, (0, 0, 10, 10), np.zeros(2), region_directions=directions,
                         region_means=np.full(len(directions), mean))


def test_coherent_shake_is_the_typical_region_unless_the_subject_stays_sharp() -> None:
    # five regions blurred along one direction, one of them (by noise) not at all: the least reads no shake
    regions = np.array([[0.0, 0.0], [0.4, 0.02], [0.5, -0.02], [0.45, 0.0], [0.5, 0.01]])
    assert blur._common_shake(regions) == 0.0
    # they agree all but perfectly (coherence 0.9995): scored against all but CERTAIN_SHAKE_MID
    typical = np.sqrt(2 * 0.45) * blur.SIGMA_MID / blur.CERTAIN_SHAKE_MID
    assert blur._shake(read(regions), subject((0.3, 0.0))) == pytest.approx(typical, rel=0.01)
    # the subject shows no blur along it (a panning shot: the camera followed a sharp subject): the least decides
    assert blur._shake(read(regions), subject((0.0, 0.0))) == 0.0
    # regions that agree less (coherence 0.86: a long smear across a small photo) count when the subject shares more
    loose = np.array([[0.0, 0.0], [0.5, 0.0], [0.35, 0.35], [0.4, -0.35], [0.5, 0.1]])
    along = np.median(loose @ blur._common_direction(loose))
    assert blur._shake(read(loose), subject((0.3, 0.0))) == pytest.approx(
        np.sqrt(2 * along) * blur.SIGMA_MID / blur.COHERENT_SHAKE_MID)
    assert blur._shake(read(loose), subject((0.15, 0.0))) == 0.0  # enough for regions that agree, not for these
    assert blur._shake(read(regions), subject((0.15, 0.0))) > 0.0
    # regions blurred along their own directions (a soft background): not camera shake
    scattered = np.array([[0.5, 0.0], [-0.5, 0.1], [0.0, 0.5], [0.1, -0.5], [0.3, 0.3]])
    least = blur._common_shake(scattered) * blur.SIGMA_MID / blur.SHAKE_MID
    assert blur._shake(read(scattered), subject((0.3, 0.0))) == pytest.approx(least)


def test_the_more_the_regions_agree_the_less_shake_it_takes() -> None:
    assert blur._coherent_shake_mid(blur.LOOSE_COHERENCE) == blur.COHERENT_SHAKE_MID
    assert blur._coherent_shake_mid(blur.CERTAIN_COHERENCE) == blur.COHERENT_SHAKE_MID
    assert blur._coherent_shake_mid(1.0) == pytest.approx(blur.CERTAIN_SHAKE_MID)
    halfway = (blur.CERTAIN_COHERENCE + 1.0) / 2
    assert blur._coherent_shake_mid(halfway) == pytest.approx((blur.COHERENT_SHAKE_MID + blur.CERTAIN_SHAKE_MID) / 2)
    # regions along x (one of them sharp: the least reads no shake), spread a little (coherence 0.977) and not at
    # all (1): the same typical blur reads as more shake where they agree more
    spread = np.array([[0.0, 0.0], [0.5, 0.12], [0.5, -0.12], [0.5, 0.1], [0.5, -0.1]])
    aligned = np.array([[0.0, 0.0], [0.5, 0.0], [0.5, 0.0], [0.5, 0.0], [0.5, 0.0]])
    assert blur._common_shake(spread) == blur._common_shake(aligned) == 0.0
    along = blur._one_way_blur(0.5) * blur.SIGMA_MID
    assert blur._shake(read(aligned), subject((0.3, 0.0))) == pytest.approx(along / blur.CERTAIN_SHAKE_MID)
    spread_shake = blur._shake(read(spread), subject((0.3, 0.0)))
    assert along / blur.COHERENT_SHAKE_MID < spread_shake < along / blur.CERTAIN_SHAKE_MID


def test_no_shake_where_the_faces_median_edges_are_sharp_along_the_move() -> None:
    # every region blurred along x; a face's sharpest tenth shares it, its median edges do not (FOLLOWED_SHARE)
    # (the sharpest salient region is no such evidence: chosen as the least blurred, it may read under it)
    regions = np.array([[0.5, 0.0], [0.45, 0.02], [0.55, -0.02], [0.5, 0.01]])
    assert blur._shake(read(regions), subject((0.3, 0.0), (0.3, 0.0))) > blur.SIGMA_MID
    assert blur._shake(read(regions), subject((0.3, 0.0), (0.05, 0.0))) == 0.0
    assert blur._shake(read(regions), subject((0.3, 0.0), (0.0, 0.3))) == 0.0  # blurred across the move, not along it
    assert blur._shake(read(regions), subject((0.3, 0.0))) > blur.SIGMA_MID
    # a face whose own anisotropy lies against the move (its median edges' directional part across it) but whose
    # edges are, all told, as blurred along it as the regions' (FOLLOWED_BLUR): shaken with the camera, not followed
    assert blur._shake(read(regions), subject((0.3, 0.0), (-0.1, 0.0), median_mean=1.0)) > blur.SIGMA_MID
    assert blur._shake(read(regions), subject((0.3, 0.0), (-0.1, 0.0), median_mean=0.3)) == 0.0


@pytest.mark.parametrize("angle", [0.0, 45.0, 90.0])
def test_a_panning_shot_of_a_sharp_face_is_sharp(astronaut: np.ndarray, angle: float) -> None:
    # the background blurred along one direction (3 % of the long side), the face the camera followed sharp
    mask = np.zeros(astronaut.shape[:2], np.uint8)
    mask[10:220, 140:310] = 1
    panned = np.where(mask[..., None] == 1, astronaut, motion(astronaut, round(0.03 * 512), angle))
    result = blur.assess(panned, [(165, 40, 110, 130)])
    assert result.region == "faces" and not result.blurry


@pytest.mark.parametrize("angle", [0.0, 22.5, 135.0])
def test_a_background_smeared_around_a_followed_head_costs_the_face_nothing(
    astronaut: np.ndarray, angle: float
) -> None:
    # the head alone kept sharp (a soft-edged mask), the rest moved by 2 % along one direction: the face's sharpest
    # edges share a little of the move, its median edges do not; the release before took 7-18 points for shake
    mask = np.zeros(astronaut.shape[:2], np.float32)
    mask[25:200, 160:290] = 1.0
    mask = cv2.GaussianBlur(mask, (0, 0), 3.0)[..., None]
    panned = (astronaut * mask + motion(astronaut, round(0.02 * 512), angle) * (1 - mask)).astype(np.uint8)
    face = [(165, 40, 110, 130)]
    assert blur.assess(panned, face).sharpness == pytest.approx(blur.assess(astronaut, face).sharpness, abs=1.0)


@pytest.mark.parametrize("angle", [0.0, 22.5, 45.0, 90.0])
def test_mild_camera_shake_is_blurry_when_faces_decide(astronaut: np.ndarray, angle: float) -> None:
    # 1.2 % of the long side; the face's sharpest edges alone pass (at 45 degrees an earlier release read it sharp,
    # vertically the release before scored it 49.2)
    result = blur.assess(motion(astronaut, round(0.012 * 512), angle), [(165, 40, 110, 130)])
    assert result.region == "faces" and result.blurry


def shaken_after_a_rest(rgb: np.ndarray, length: int, rest: float, angle: float) -> np.ndarray:
    """The camera still for ``rest`` of the exposure, then moving ``length`` px along ``angle`` degrees."""
    size = 2 * length + 3
    centre = size // 2
    kernel = np.zeros((size, size), np.float32)
    for step in np.linspace(0.0, length, 4 * length):
        x, y = centre + step * np.cos(np.radians(angle)), centre + step * np.sin(np.radians(angle))
        kernel[round(y), round(x)] += (1.0 - rest) / (4 * length)
    kernel[centre, centre] += rest
    return cv2.filter2D(rgb, -1, kernel / kernel.sum())


def analysed(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` as the default measure reads it."""
    return blur._analysis_image(blur._gray(rgb))[0]


def smear(rgb: np.ndarray) -> float:
    return blur._one_sided_smear(analysed(rgb))


@pytest.mark.parametrize(("rest", "angle"), [(0.5, 0.0), (0.5, 60.0), (0.3, 120.0)])
def test_a_camera_shaken_after_a_rest_is_blurry(astronaut: np.ndarray, rest: float, angle: float) -> None:
    # the scene once sharp under a fainter smear (3 % of the long side): every edge keeps a sharp step, which the
    # edge-width estimate reads as sharp (58 for the first without the smear's cost), with the smear on one side
    shaken = shaken_after_a_rest(astronaut, round(0.03 * 512), rest, angle)
    reading = smear(shaken)
    assert reading > 1.5 * blur.SMEAR_FREE
    assert blur.assess(shaken, [(165, 40, 110, 130)]).blurry
    assert blur._smear_penalty(analysed(shaken)) == pytest.approx(blur.SMEAR_WEIGHT * (reading - blur.SMEAR_FREE))


def test_only_a_one_sided_smear_costs_sharpness(astronaut: np.ndarray) -> None:
    assert smear(astronaut) < blur.SMEAR_FREE  # shading and texture: either side of an edge (no cost)
    assert smear(motion(astronaut, round(0.03 * 512))) < blur.SMEAR_FREE  # a smear either side (caught as blur)
    assert smear(cv2.GaussianBlur(astronaut, (0, 0), 2.0)) < blur.SMEAR_FREE
    assert blur._one_sided_smear(np.full((300, 400), 128.0, np.float32)) == 0.0  # no edges


def test_a_sharp_face_on_a_soft_background_is_not_taken_for_shake(astronaut: np.ndarray) -> None:
    soft = cv2.GaussianBlur(astronaut, (0, 0), 5.0)
    mask = np.zeros(astronaut.shape[:2], np.uint8)
    mask[10:220, 140:310] = 1
    composed = np.where(mask[..., None] == 1, astronaut, soft)
    result = blur.assess(composed, [(165, 40, 110, 130)])
    assert result.region == "faces" and not result.blurry


def test_small_photos_are_judged_in_their_own_pixels_with_an_allowance() -> None:
    # continuous at the analysis size (renditions from 400 px up are judged alike), a 250 px photo's midpoint 1.11 px
    assert blur._small_photo_allowance((300, 400)) == blur._small_photo_allowance((3000, 4000)) == 1.0
    assert blur._small_photo_allowance((399, 399)) == pytest.approx(1.0, abs=0.01)
    assert blur.SIGMA_MID * blur._small_photo_allowance((250, 250)) == pytest.approx(1.11, abs=0.01)


def test_crop_blur_keeps_its_pixel_scale(astronaut: np.ndarray) -> None:
    # face quality (FaceTooBlurred, grouping's relative blur) is calibrated on these numbers
    score, sigma = blur.crop_blur(astronaut[40:170, 165:275])
    assert score == 60.38 and sigma == pytest.approx(1.2961, abs=1e-3)


def test_sharp_subject_on_soft_background_is_not_blurry(astronaut: np.ndarray) -> None:
    # keep the face (about x 160-290, y 20-200 in the 512 px photo) sharp, blur everything else strongly
    soft = cv2.GaussianBlur(astronaut, (0, 0), 5.0)
    mask = np.zeros(astronaut.shape[:2], np.uint8)
    mask[10:220, 140:310] = 1
    composed = np.where(mask[..., None] == 1, astronaut, soft)
    assert blur.assess(soft).blurry
    result = blur.assess(composed)
    assert not result.blurry
    assert result.region == "salient"
    left, top, width, height = result.region_box
    assert left < 310 and left + width > 140 and top < 220  # the region that decided overlaps the sharp subject


def test_faces_decide_when_given(astronaut: np.ndarray) -> None:
    face = (165, 40, 110, 130)  # left, top, width, height of the astronaut's face
    soft_face = astronaut.copy()
    x, y, w, h = face
    soft_face[y : y + h, x : x + w] = cv2.GaussianBlur(astronaut, (0, 0), 5.0)[y : y + h, x : x + w]
    sharp_result = blur.assess(astronaut, [face])
    assert sharp_result.region == "faces" and sharp_result.region_box == face and not sharp_result.blurry
    assert blur.assess(soft_face, [face]).blurry  # the background stays sharp, but the subject is not
    assert not blur.assess(soft_face).blurry  # without faces the sharpest salient region decides


def test_faces_decide_together_and_a_sharp_one_still_speaks_for_them(astronaut: np.ndarray) -> None:
    # two people side by side, the second out of focus (depth of field): the edges of both faces are pooled, and the
    # sharp face gives the pool its sharpest tenth
    pair = np.hstack([astronaut, cv2.GaussianBlur(astronaut, (0, 0), 4.0)])
    faces = [(165, 40, 110, 130), (512 + 165, 40, 110, 130)]
    result = blur.assess(pair, faces)
    assert result.region == "faces" and not result.blurry
    assert result.region_box == (165, 40, 512 + 110, 130)  # the box around the faces that decided
    assert blur.assess(cv2.GaussianBlur(pair, (0, 0), 4.0), faces).blurry


def test_a_much_larger_soft_face_does_not_leave_a_prominent_sharp_face_out(astronaut: np.ndarray) -> None:
    # a blurred person in the foreground (or a detector's false face on a soft patch) more than twice as wide as the
    # astronaut's sharp face (86 px at the 400 px analysis size): both are judged, and the sharp one speaks for them
    x, y, w, h = big = (0, 272, 240, 240)
    scene = astronaut.copy()
    scene[y : y + h, x : x + w] = cv2.GaussianBlur(astronaut, (0, 0), 6.0)[y : y + h, x : x + w]
    face = (165, 40, 110, 130)
    assert blur.assess(scene, [big]).blurry  # the soft one alone
    result = blur.assess(scene, [face, big])
    assert result.region == "faces" and not result.blurry
    assert result.region_box == (0, 40, 275, 472)  # the box around both


@pytest.mark.parametrize("angle", [0.0, 30.0, 90.0])
def test_camera_shake_is_blurry_even_when_faces_decide(astronaut: np.ndarray, angle: float) -> None:
    shaken = motion(astronaut, 11, angle)  # 2.2 % of the long side: the face's sharpest edges alone may pass
    result = blur.assess(shaken, [(165, 40, 110, 130)])
    assert result.region == "faces" and result.blurry


def small_person_scene(astronaut: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A person further away: the astronaut at 0.4x (face 44 px: 22 px at the 400 px analysis size) before a strongly
    blurred 800 x 600 background; the scene and the face's box."""
    background = cv2.GaussianBlur(cv2.resize(data.coffee(), (800, 600), interpolation=cv2.INTER_CUBIC), (0, 0), 8.0)
    person = cv2.resize(astronaut, (205, 205), interpolation=cv2.INTER_AREA)
    scene = background.copy()
    scene[300:505, 420:625] = person
    return scene, (420 + 66, 300 + 16, 44, 52)


def test_a_small_sharp_person_before_a_soft_background_is_judged_with_its_body(astronaut: np.ndarray) -> None:
    scene, face = small_person_scene(astronaut)
    result = blur.assess(scene, [face])
    assert result.region == "faces" and not result.blurry
    left, top, width, height = result.region_box
    assert top == face[1] and top + height > face[1] + 2 * face[3]  # head and upper body
    assert left < face[0] and left + width > face[0] + face[2]


def test_a_mildly_blurred_small_person_is_blurry(astronaut: np.ndarray) -> None:
    scene, face = small_person_scene(astronaut)
    result = blur.assess(cv2.GaussianBlur(scene, (0, 0), 2.4), [face])  # 0.3 % of the long side
    assert result.region == "faces" and result.blurry


def test_tiny_faces_fall_back_to_salient(astronaut: np.ndarray) -> None:
    assert blur.assess(astronaut, [(10, 10, 5, 5)]).region == "salient"


def test_flat_image_has_no_sharp_region() -> None:
    result = blur.assess(np.full((300, 400, 3), 128, np.uint8))
    assert result.region == "whole" and result.region_box is None
    assert result.sharpness == 0.0 and result.blurry


def test_threshold_override(astronaut: np.ndarray) -> None:
    score = blur.assess(astronaut).sharpness
    assert blur.assess(astronaut, threshold=min(100.0, score + 1)).blurry
    assert not blur.assess(astronaut, threshold=max(0.0, score - 1)).blurry


@pytest.mark.parametrize("measure", ["laplacian_variance", "strong_edges"])
def test_reference_measures(astronaut: np.ndarray, measure: str) -> None:
    sharp = blur.assess(astronaut, measure=measure)
    soft = blur.assess(cv2.GaussianBlur(astronaut, (0, 0), 3.0), measure=measure)
    assert sharp.measure == measure and sharp.region == "whole"
    assert sharp.sharpness > soft.sharpness
    assert soft.blurry


def test_reference_measures_known_values() -> None:
    stripes = np.zeros((20, 20), np.uint8)
    stripes[:, ::2] = 100  # |Laplacian| = 200 at every pixel inside
    assert blur.laplacian_variance(np.zeros((8, 8), np.uint8)) == 0.0
    assert blur.strong_edge_share(stripes) == 1.0


def test_sharpness_of_crop(astronaut: np.ndarray) -> None:
    crop = astronaut[40:170, 165:275]
    assert blur.sharpness_of(crop) > blur.sharpness_of(cv2.GaussianBlur(crop, (0, 0), 3.0)) + 20


def test_gray_and_rgba_inputs(astronaut: np.ndarray) -> None:
    gray = cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)
    rgba = np.dstack([astronaut, np.full(gray.shape, 255, np.uint8)])
    assert blur.assess(gray).sharpness == blur.assess(rgba).sharpness == blur.assess(astronaut).sharpness


@pytest.mark.parametrize("bad", [np.zeros((0, 0, 3), np.uint8), np.zeros((4, 4, 2), np.uint8), np.zeros(5)])
def test_malformed_arrays_raise(bad: np.ndarray) -> None:
    with pytest.raises(InvalidImage):
        blur.assess(bad)


def test_unknown_measure_raises(astronaut: np.ndarray) -> None:
    with pytest.raises(ValueError):
        blur.assess(astronaut, measure="fft")


def test_assess_path_reports_original_size_and_box(tmp_path: Path, astronaut: np.ndarray) -> None:
    big = resize_long(astronaut, 2000)
    path = tmp_path / "big.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(big, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
    found = blur.assess_path(path)
    assert found.original_size == (2000, 2000)
    left, top, width, height = found.result.region_box
    assert 0 <= left < 2000 and 0 <= top < 2000 and left + width <= 2000 and top + height <= 2000
    assert width > 2000 * 0.15  # in original pixels, not analysis pixels


def test_assess_path_asks_the_face_detector(tmp_path: Path, astronaut: np.ndarray) -> None:
    path = tmp_path / "a.png"
    cv2.imwrite(str(path), cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR))

    class Box:
        box = (165, 40, 110, 130)

    class Detector:
        name = "fixed"

        def detect(self, rgb: np.ndarray) -> list[Box]:
            assert rgb.shape == astronaut.shape
            return [Box()]

    assert blur.assess_path(path, face_detector=Detector()).result.region == "faces"


@pytest.mark.skipif(not (DATA / "blur_kwentar" / "labels.csv").is_file(), reason="no ../shared/data")
def test_kwentar_accuracy_and_renditions_at_default_threshold(tmp_path: Path) -> None:
    # held out; issue 25's bar, 0.95: judged right as shipped (1600 px), the same verdict at 400 px (README: 15 of 15)
    folder = DATA / "blur_kwentar"
    with open(folder / "labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    hits, agree = [], []
    for row in rows:
        verdict = blur.assess_path(folder / row["path"]).result.blurry
        hits.append(verdict == (row["is_blurry"] == "1"))
        rgb = cv2.cvtColor(cv2.imread(str(folder / row["path"])), cv2.COLOR_BGR2RGB)
        small = tmp_path / "small.jpg"
        cv2.imwrite(str(small), cv2.cvtColor(resize_long(rgb, 400), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
        agree.append(blur.assess_path(small).result.blurry == verdict)
    assert sum(hits) / len(hits) >= 0.95
    assert sum(agree) / len(agree) >= 0.95
