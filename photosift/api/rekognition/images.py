"""Rekognition ``Image`` inputs: ``Bytes`` (<= 5 MB) or ``S3Object`` (<= 15 MB) -> detected, embedded faces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from photosift import errors
from photosift.api.rekognition.context import Context
from photosift.api.rekognition.errors import AwsError, invalid_parameter
from photosift.faces.types import EmbeddedFace
from photosift.imaging import DecodeLimits

MAX_BYTES = 5 * 1024 * 1024
MAX_S3_BYTES = 15 * 1024 * 1024


@dataclass(frozen=True)
class AnalysedImage:
    """The faces of one image, largest first, and the upright image's ``size`` (width, height) in pixels."""

    size: tuple[int, int]
    faces: list[EmbeddedFace]


async def analyse(ctx: Context, image: dict[str, Any]) -> AnalysedImage:
    """Read, decode and run face detection + embedding on ``image`` (an AWS ``Image`` structure)."""
    data, limit = await read(ctx, image)
    limits = DecodeLimits(max_bytes=limit, max_pixels=getattr(ctx.settings, "max_pixels", DecodeLimits.max_pixels))
    return await ctx.compute(_analyse, data, limits)


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
    except errors.AccessDenied as exc:
        raise AwsError("InvalidS3ObjectException", f"Access denied to S3 object: {exc}") from exc
    if len(data) > MAX_S3_BYTES:
        raise AwsError("ImageTooLargeException", f"S3 object is {len(data)} bytes; the limit is {MAX_S3_BYTES}")
    return data, MAX_S3_BYTES


def _analyse(data: bytes, limits: DecodeLimits) -> AnalysedImage:
    from photosift import faces, imaging  # the engine; imported when first needed (model loading is slow)

    decoded = imaging.decode(data, limits=limits)
    found = faces.find_faces(decoded)
    found = sorted(found, key=lambda f: f.face.box[2] * f.face.box[3], reverse=True)
    return AnalysedImage(size=decoded.original_size, faces=found)
