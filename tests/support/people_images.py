"""Generated album photos of two real people (scikit-image's astronaut and cameraman) for the people tests.

Each "shot" is a different crop, scale, mirror and placement of the same source photo on a generated background, so
the face engine sees the same person at new positions and sizes; ``group`` puts both people in one photo.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter
from service_support import jpeg

from photosift.application.suggestions import SUGGEST_LOG_ODDS

# Crops (left, top, right, bottom) of the 512x512 sources that keep the whole face, the scale (never up: an
# upscaled photo is soft, and the blur check would rightly call it blurry) and whether to mirror it.
_SHOTS = [((0, 0, 512, 512), 1.0, False), ((60, 0, 420, 360), 1.0, True), ((30, 0, 470, 380), 0.9, False),
          ((80, 0, 400, 320), 0.95, True), ((0, 20, 480, 500), 0.85, False)]


def _sources() -> dict[str, np.ndarray]:
    from skimage import data

    # The cameraman photo is soft around the face: sharpened so that his shots are not (rightly) judged blurry.
    camera = Image.fromarray(data.camera()).filter(ImageFilter.UnsharpMask(radius=2, percent=160, threshold=2))
    return {"astronaut": data.astronaut(), "cameraman": np.stack([np.asarray(camera)] * 3, axis=-1)}


def _canvas(width: int, height: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    base = np.zeros((height, width, 3), np.uint8)
    base[:] = rng.integers(60, 200, 3, dtype=np.uint8)
    base[:, :, 2] = np.linspace(40, 220, width, dtype=np.uint8)[None, :]
    return Image.fromarray(base)


def shot(who: str, k: int) -> bytes:
    """Photo number ``k`` (0-4) of ``who`` (``astronaut`` or ``cameraman``): a new framing on a new background."""
    box, scale, mirror = _SHOTS[k % len(_SHOTS)]
    image = Image.fromarray(_sources()[who]).crop(box)
    if scale != 1.0:
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    if mirror:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    image = ImageEnhance.Brightness(image).enhance(0.9 + 0.05 * k)
    canvas = _canvas(image.width + 300, image.height + 160, seed=k + (0 if who == "astronaut" else 50))
    canvas.paste(image, (60 + 40 * k, 80))
    return jpeg(np.asarray(canvas))


def near_miss() -> bytes:
    """The astronaut's second shot softened (Gaussian blur of 2.5 px, still worth grouping): against her selfie it
    scores about 99.5, not 99.98 as the sharp shot does, where the API's two decimals are too coarse for
    :func:`just_above` to place a threshold between the face's score and the suggestions' floor."""
    image = Image.open(io.BytesIO(shot("astronaut", 1))).filter(ImageFilter.GaussianBlur(2.5))
    return jpeg(np.asarray(image))


def group() -> bytes:
    """One photo showing both people side by side (two faces that are different people)."""
    sources = _sources()
    left = Image.fromarray(sources["astronaut"]).resize((480, 480), Image.Resampling.LANCZOS)
    right = Image.fromarray(sources["cameraman"]).resize((480, 480), Image.Resampling.LANCZOS)
    canvas = _canvas(1040, 560, seed=99)
    canvas.paste(left, (20, 40))
    canvas.paste(right, (540, 40))
    return jpeg(np.asarray(canvas))


def group_crop() -> bytes:
    """The astronaut's half of :func:`group` saved again: her face from that very photo (a crop shared again)."""
    return jpeg(np.asarray(Image.open(io.BytesIO(group())))[:, :530])


def just_above(score: float) -> float:
    """An album threshold a little above ``score``, so that a face of that score is a suggestion there."""
    log_odds = math.log(score / (100.0 - score)) + SUGGEST_LOG_ODDS / 2
    return round(100.0 / (1.0 + math.exp(-log_odds)), 3)
