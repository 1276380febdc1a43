"""One image in, its faces out: decode, detect (largest first) and embed the faces a caller selects, as the
Rekognition operations need them. The API layer reaches the face engine only through here, ``face_quality`` and
``scoring`` (``Face``: the engine's detected face, as these modules hand it out)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from photosift.faces.types import Face
from photosift.imaging import DecodeLimits

Selector = Callable[[Sequence[Face]], Sequence[int]]
"""Which detected faces (largest first) to embed: their indices. Embedding is the costly step; skip what is unused."""


@dataclass(frozen=True)
class AnalysedImage:
    """The faces of one image, largest first; ``size`` is the upright image's (width, height) in pixels.

    ``embeddings`` maps the index of each face that was asked for (see ``Selector``) to its embedding.
    """

    size: tuple[int, int]
    faces: list[Face]
    embeddings: dict[int, np.ndarray] = field(default_factory=dict)


def analyse_image(data: bytes, max_bytes: int, max_pixels: int, embed: Selector | None,
                  reference: bool = True) -> AnalysedImage:
    """Decode ``data`` (refused beyond ``max_bytes`` or ``max_pixels``) at the album photos' face budget, detect its
    faces and embed those ``embed`` selects (``reference``: as faces others are looked for with, which a collection's
    faces and every query face are; ``faces.embed_faces``)."""
    from photosift import faces, imaging  # the engine; imported when first needed (model loading is slow)
    from photosift.analysis import FACE_MAX_PIXELS

    limits = DecodeLimits(max_bytes=max_bytes, max_pixels=max_pixels)
    decoded = imaging.decode(data, max_pixels=FACE_MAX_PIXELS, limits=limits)  # reduced decode, as for album photos
    found = sorted(faces.detect_faces(decoded), key=lambda f: f.box[2] * f.box[3], reverse=True)
    chosen = list(embed(found)) if embed and found else []
    embedded = faces.embed_faces(decoded, [found[i] for i in chosen], reference) if chosen else []
    vectors = {i: np.asarray(e.embedding, dtype=np.float32) for i, e in zip(chosen, embedded, strict=True)}
    return AnalysedImage(size=decoded.original_size, faces=found, embeddings=vectors)


__all__ = ["AnalysedImage", "Face", "Selector", "analyse_image"]
