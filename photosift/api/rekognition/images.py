"""Rekognition ``Image`` inputs: ``Bytes`` (<= 5 MB) or ``S3Object`` (<= 15 MB) -> detected, embedded faces."""

from __future__ import annotations

from typing import Any

from photosift import errors
from photosift.api.rekognition.context import Context
from photosift.api.rekognition.errors import AwsError, invalid_parameter
from photosift.application.face_images import AnalysedImage, Selector, analyse_image

MAX_BYTES = 5 * 1024 * 1024
MAX_S3_BYTES = 15 * 1024 * 1024


async def analyse(ctx: Context, image: dict[str, Any], embed: Selector | None = None,
                  reference: bool = True) -> AnalysedImage:
    """Read and decode ``image`` (an AWS ``Image`` structure), detect faces, embed those ``embed`` selects
    (``reference``: see ``analyse_image``; False for the faces CompareFaces looks for its source among)."""
    data, limit = await read(ctx, image)
    return await ctx.compute(analyse_image, data, limit, ctx.settings.max_pixels, embed, reference)


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
