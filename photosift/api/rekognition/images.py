"""Rekognition ``Image`` inputs: ``Bytes`` (<= 5 MB) or ``S3Object`` (<= 15 MB) -> detected, embedded faces."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from photosift import errors
from photosift.api.rekognition.context import Context
from photosift.api.rekognition.errors import AwsError, invalid_parameter
from photosift.faces.types import Face
from photosift.imaging import DecodeLimits

MAX_BYTES = 5 * 1024 * 1024
MAX_S3_BYTES = 15 * 1024 * 1024


# Which detected faces (largest first) to embed: their indices. Embedding is the costly step; skip what is not used.
Selector = Callable[[Sequence[Face]], Sequence[int]]


@dataclass(frozen=True)
class AnalysedImage:
    """The faces of one image, largest first; ``size`` is the upright image's (width, height) in pixels.

    ``embeddings`` maps the index of each face that was asked for (see ``Selector``) to its embedding.
    """

    size: tuple[int, int]
    faces: list[Face]
    embeddings: dict[int, np.ndarray] = field(default_factory=dict)


async def analyse(ctx: Context, image: dict[str, Any], embed: Selector | None = None) -> AnalysedImage:
    """Read and decode ``image`` (an AWS ``Image`` structure), detect faces, embed those ``embed`` selects."""
    data, limit = await read(ctx, image)
    limits = DecodeLimits(max_bytes=limit, max_pixels=getattr(ctx.settings, "max_pixels", DecodeLimits.max_pixels))
    return await ctx.compute(_analyse, data, limits, embed)


async def read(ctx: Context, image: dict[str, Any]) -> tuple[bytes, int]:
    """The image bytes and the byte limit that applies to their source."""
    has_bytes, has_s3 = image.get("Bytes") is not None, image.get("S3Object") is not None
    if has_bytes == has_s3:
        raise invalid_parameter("Image must have exactly one of Bytes or S3Object")
    if has_bytes:
        data = image["Bytes"]
        if len(data) > MAX_BYTES:
            raise AwsError("ImageTooLargeException", f"Image.Bytes is {len(data)} bytes; the limit is {MAX_BYTES}")
        return data, MAX_BYTES
    s3 = image["S3Object"]
    bucket, name, version = s3.get("Bucket"), s3.get("Name"), s3.get("Version")
    if not bucket or not name:
        raise AwsError("InvalidS3ObjectException", "S3Object needs Bucket and Name")
    try:
        data = await ctx.io(ctx.store.get_object, bucket, name, version)
    except errors.NotFound as exc:
        raise AwsError("InvalidS3ObjectException", f"Unable to get object metadata from S3. {exc}") from exc
    except (errors.AccessDenied, errors.InvalidInput) as exc:
        raise AwsError("InvalidS3ObjectException", f"Unable to get object from S3: {exc}") from exc
    except errors.PhotosiftError as exc:
        if isinstance(exc, errors.Busy):
            raise
        # the store could not read it (S3 refused access, or is unreachable): what AWS reports for unreadable objects
        raise AwsError("InvalidS3ObjectException", "Unable to get object metadata from S3. Check object key, region "
                       f"and/or access permissions. ({exc})") from exc
    if len(data) > MAX_S3_BYTES:
        raise AwsError("ImageTooLargeException", f"S3 object is {len(data)} bytes; the limit is {MAX_S3_BYTES}")
    return data, MAX_S3_BYTES


def _analyse(data: bytes, limits: DecodeLimits, embed: Selector | None) -> AnalysedImage:
    from photosift import faces, imaging  # the engine; imported when first needed (model loading is slow)
    from photosift.analysis import FACE_MAX_PIXELS

    decoded = imaging.decode(data, max_pixels=FACE_MAX_PIXELS, limits=limits)  # reduced decode, as for album photos
    found = sorted(faces.detect_faces(decoded), key=lambda f: f.box[2] * f.box[3], reverse=True)
    chosen = list(embed(found)) if embed and found else []
    embedded = faces.embed_faces(decoded, [found[i] for i in chosen]) if chosen else []
    vectors = {i: np.asarray(e.embedding, dtype=np.float32) for i, e in zip(chosen, embedded, strict=True)}
    return AnalysedImage(size=decoded.original_size, faces=found, embeddings=vectors)
