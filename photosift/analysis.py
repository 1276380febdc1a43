"""One photo in, one :class:`PhotoAnalysis` out: decode once, find and embed faces, judge blur on the faces."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from photosift import blur, faces, imaging
from photosift.faces.types import EmbeddedFace
from photosift.imaging import DecodeLimits

FACE_MAX_PIXELS = 3_000_000
"""Decode budget: a 12 MP JPEG is decoded at libjpeg's 1/2 scale (2000x1500), enough for faces of ~40 px in the
original to reach the detector's tiled pass; larger sources are shrunk to this many pixels."""


@dataclass(frozen=True)
class PhotoAnalysis:
    """Everything photosift knows about one photo. Boxes (faces, ``blur.region_box``) are in original pixels."""

    width: int
    height: int
    blur: blur.BlurResult
    faces: list[EmbeddedFace]


def analyze(
    source: bytes | str | Path,
    *,
    limits: DecodeLimits = DecodeLimits(),
    blur_threshold: float | None = None,
    detect: bool = True,
    reference: bool = False,
) -> PhotoAnalysis:
    """Decode ``source`` once at reduced scale, find and embed its faces (``detect``; ``reference``: a reference
    photo's, see ``faces.embed_faces``), judge blur on them.

    Raises ``InvalidImage`` / ``ImageTooLarge`` for unreadable or oversize inputs. A photo without faces has
    ``faces == []`` and its blur is judged on the salient region instead.
    """
    image = imaging.decode(source, max_pixels=FACE_MAX_PIXELS if detect else blur.ANALYSIS_MAX_PIXELS, limits=limits)
    found = faces.find_faces(image, reference) if detect else []
    # the blur measure reduces the decode to its analysis size itself, in one area average (as eval/blur.py judges)
    boxes = [imaging.scale_box(f.face.box, image.scale) for f in found]
    verdict = blur.in_original_pixels(blur.assess(image.pixels, boxes, threshold=blur_threshold), image.scale)
    width, height = image.original_size
    return PhotoAnalysis(width=width, height=height, blur=verdict, faces=found)

