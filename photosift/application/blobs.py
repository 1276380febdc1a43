"""Photo bytes: sniffing uploads, content-addressed storage, thumbnails, and deleting blobs nobody uses."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select

from photosift import imaging  # noqa: F401 - registers the HEIF opener with Pillow
from photosift.application.context import Services
from photosift.catalog.models import Photo, Reference
from photosift.errors import ImageTooLarge, InvalidImage, NotFound
from photosift.imaging import DecodeLimits

log = logging.getLogger("photosift.blobs")

PHOTO_PREFIX = "photos"
THUMBNAIL_SIZES = (128, 256, 512)
_CONTENT_TYPES = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp",
                  "HEIF": "image/heic", "GIF": "image/gif", "BMP": "image/bmp", "TIFF": "image/tiff"}


@dataclass(frozen=True)
class StoredBlob:
    """An upload that passed the checks and is in the store."""

    key: str
    sha256: str
    content_type: str
    size: int


def sniff(data: bytes | BinaryIO, limits: DecodeLimits) -> str:
    """The content type of an image upload (bytes, or a seekable binary file read from its start), from its header
    only (fast: no pixel decoding, and a file is not read whole).

    Raises ``ImageTooLarge`` over the byte or pixel limit and ``InvalidImage`` when the bytes are not an image
    photosift reads. A file whose header is fine but whose pixel data is corrupt passes here and fails analysis.
    """
    file = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    size = file.seek(0, os.SEEK_END)
    if size > limits.max_bytes:
        raise ImageTooLarge(f"file is {size} bytes; the limit is {limits.max_bytes}")
    if not size:
        raise InvalidImage("file is empty (0 bytes)")
    file.seek(0)
    try:
        with Image.open(file) as image:
            width, height = image.size
            fmt = image.format or ""
    except UnidentifiedImageError as exc:
        raise InvalidImage("not a recognised image format (expected JPEG, PNG, WebP, HEIC, ...)") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise InvalidImage(f"cannot read image header: {exc}") from exc
    if width * height > limits.max_pixels:
        raise ImageTooLarge(f"image is {width}x{height} = {width * height} pixels; the limit is {limits.max_pixels}")
    if width == 0 or height == 0:
        raise InvalidImage(f"image has no pixels ({width}x{height})")
    return _CONTENT_TYPES.get(fmt, f"image/{fmt.lower() or 'octet-stream'}")


def store_upload(svc: Services, data: bytes | BinaryIO) -> StoredBlob:
    """Check an upload (``sniff``) and store it under its content address (once, however often uploaded).

    ``data``: the bytes, or a seekable binary file (e.g. the request's spooled temporary file), which is hashed and
    copied to the store in chunks: memory does not grow with the file's size. Raises ``InvalidInput`` subclasses for
    a refused file, ``InsufficientStorage`` / ``StoreUnavailable`` when the store fails.
    """
    file = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    content_type = sniff(file, svc.limits)
    # (a cheap decode check of the pixels would go here, before the bytes are stored)
    size = file.seek(0, os.SEEK_END)
    key, digest = svc.store.put_content_file(file, PHOTO_PREFIX)
    return StoredBlob(key=key, sha256=digest, content_type=content_type, size=size)


def thumbnail_key(blob_key: str, size: int) -> str:
    return f"thumbnails/{size}/{blob_key.rsplit('/', 2)[-2]}/{blob_key.rsplit('/', 1)[-1]}.jpg"


def cached_thumbnail(svc: Services, blob_key: str, size: int) -> bytes | None:
    """The thumbnail ``make_thumbnail`` made before, or ``None`` (a store read: no decoding)."""
    try:
        return svc.store.get(thumbnail_key(blob_key, size))
    except NotFound:
        return None


def make_thumbnail(svc: Services, blob_key: str, size: int) -> bytes:
    """A JPEG at most ``size`` px on its longer side (upright), cached in the store beside the photo."""
    key = thumbnail_key(blob_key, size)
    if (cached := cached_thumbnail(svc, blob_key, size)) is not None:
        return cached
    decoded = imaging.decode(svc.store.get(blob_key), max_pixels=4 * size * size, limits=svc.limits)
    image = Image.fromarray(decoded.pixels)
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    data = out.getvalue()
    svc.store.put(key, data)
    return data


def delete_unreferenced(svc: Services, keys: Iterable[str]) -> int:
    """Delete each blob of ``keys`` (and its thumbnails) that no photo or reference of any album still uses."""
    deleted = 0
    for key in keys:
        with svc.catalog.read() as session:
            used = session.scalar(select(Photo.id).where(Photo.blob_key == key).limit(1)) or session.scalar(
                select(Reference.id).where(Reference.blob_key == key).limit(1))
        if used:
            continue
        try:
            for size in THUMBNAIL_SIZES:
                svc.store.delete(thumbnail_key(key, size))
            svc.store.delete(key)
            deleted += 1
        except Exception:  # an orphan blob is harmless; a failed request over it is not
            log.exception("could not delete blob %s", key)
    return deleted


__all__ = ["PHOTO_PREFIX", "THUMBNAIL_SIZES", "StoredBlob", "cached_thumbnail", "delete_unreferenced",
           "make_thumbnail", "sniff", "store_upload", "thumbnail_key"]
