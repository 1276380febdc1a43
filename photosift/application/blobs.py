"""Photo bytes: checking uploads, content-addressed storage, thumbnails, and deleting blobs nobody uses."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from photosift import imaging  # noqa: F401 - registers the HEIF opener with Pillow
from photosift.application.context import Services
from photosift.catalog import photos
from photosift.errors import ImageTooLarge, InvalidImage, NotFound
from photosift.imaging import CaptureTime, DecodeLimits, capture_time
from photosift.integrity import check_complete

log = logging.getLogger("photosift.blobs")

PHOTO_PREFIX = "photos"
THUMBNAIL_SIZES = (128, 256, 512, 1024, 2048)  # 2048: the display version of a photo (any format as JPEG)
_CONTENT_TYPES = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp",
                  "HEIF": "image/heic", "GIF": "image/gif", "BMP": "image/bmp", "TIFF": "image/tiff"}


@dataclass(frozen=True)
class StoredBlob:
    """An upload that passed the checks and is in the store."""

    key: str
    sha256: str
    content_type: str
    size: int
    taken: CaptureTime | None = None  # the capture time in its EXIF, if any


@dataclass(frozen=True)
class ImageInfo:
    """What ``inspect_image`` learnt of an upload."""

    content_type: str
    taken: CaptureTime | None


def sniff(data: bytes | BinaryIO, limits: DecodeLimits) -> str:
    """The content type of an image upload (see ``inspect_image``)."""
    return inspect_image(data, limits).content_type


def inspect_image(data: bytes | BinaryIO, limits: DecodeLimits) -> ImageInfo:
    """Check an image upload (bytes, or a seekable binary file read from its start) without decoding its pixels:
    its header, that the file is whole (``photosift.integrity``: a few ms for a 12 MP JPEG, read in chunks), and
    its EXIF capture time.

    Raises ``ImageTooLarge`` over the byte or pixel limit and ``InvalidImage`` when the bytes are not an image
    photosift reads or the file is cut short. Corruption inside intact picture data still fails in analysis.
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
            taken = capture_time(image)
    except UnidentifiedImageError as exc:
        raise InvalidImage("not a recognised image format (expected JPEG, PNG, WebP, HEIC, ...)") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise InvalidImage(f"cannot read image header: {exc}") from exc
    if width * height > limits.max_pixels:
        raise ImageTooLarge(f"image is {width}x{height} = {width * height} pixels; the limit is {limits.max_pixels}")
    if width == 0 or height == 0:
        raise InvalidImage(f"image has no pixels ({width}x{height})")
    check_complete(file, fmt)
    return ImageInfo(_CONTENT_TYPES.get(fmt, f"image/{fmt.lower() or 'octet-stream'}"), taken)


def store_upload(svc: Services, data: bytes | BinaryIO) -> StoredBlob:
    """Check an upload (``sniff``) and store it under its content address (once, however often uploaded).

    ``data``: the bytes, or a seekable binary file (e.g. the request's spooled temporary file), which is hashed and
    copied to the store in chunks: memory does not grow with the file's size. Raises ``InvalidInput`` subclasses for
    a refused file, ``InsufficientStorage`` / ``StoreUnavailable`` when the store fails.
    """
    file = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    info = inspect_image(file, svc.limits)
    size = file.seek(0, os.SEEK_END)
    key, digest = svc.store.put_content_file(file, PHOTO_PREFIX)
    return StoredBlob(key=key, sha256=digest, content_type=info.content_type, size=size, taken=info.taken)


def thumbnail_key(blob_key: str, size: int, square: bool = False) -> str:
    kind = f"{size}sq" if square else str(size)
    return f"thumbnails/{kind}/{blob_key.rsplit('/', 2)[-2]}/{blob_key.rsplit('/', 1)[-1]}.jpg"


def cached_thumbnail(svc: Services, blob_key: str, size: int, square: bool = False) -> bytes | None:
    """The thumbnail ``make_thumbnail`` cached before, or ``None`` (a store read: no decoding)."""
    try:
        return svc.store.get(thumbnail_key(blob_key, size, square))
    except NotFound:
        return None


def make_thumbnail(svc: Services, blob_key: str, size: int, *, square: bool = False,
                   faces: Sequence[Sequence[int]] = (), cache: bool = True) -> bytes:
    """An upright JPEG of the photo (any input format), cached in the store beside it when ``cache``.

    The whole photo at most ``size`` px on its longer side; or with ``square``, a square of at most ``size`` px
    cut across the photo's whole shorter side, placed to keep the ``faces`` (boxes ``[left, top, width, height]``
    in pixels of the upright original) in frame: all of them when they fit, else as many (by area) as fit.
    """
    if cache and (cached := cached_thumbnail(svc, blob_key, size, square)) is not None:
        return cached
    # Decode about twice the output's side (4x its pixels; a square crop needs the photo's longer side too).
    decoded = imaging.decode(svc.store.get(blob_key), max_pixels=(8 if square else 4) * size * size,
                             limits=svc.limits)
    image = Image.fromarray(decoded.pixels)
    if square:
        scale = decoded.scale
        boxes = [[v * scale for v in box] for box in faces]
        left, top, side = square_window(image.width, image.height, boxes)
        image = image.crop((left, top, left + side, top + side))
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    data = out.getvalue()
    if cache:
        svc.store.put(thumbnail_key(blob_key, size, square), data)
    return data


def square_window(width: int, height: int, faces: Sequence[Sequence[float]], margin: float = 0.15
                  ) -> tuple[int, int, int]:
    """``(left, top, side)`` of the square across the whole shorter side of a ``width`` x ``height`` image that
    holds the most face area whole (each box with ``margin`` of its size around it), centred on those faces;
    centred on the image when there are none."""
    side = min(width, height)
    span = max(width, height)
    along_x = width >= height
    intervals = []
    for left, top, w, h in faces:
        start, length = (left, w) if along_x else (top, h)
        pad = margin * length
        intervals.append((max(0.0, start - pad), min(float(span), start + length + pad), w * h))
    fitting = [iv for iv in intervals if iv[1] - iv[0] <= side]
    best: list[tuple[float, float, float]] = []
    for start in sorted({a for a, _, _ in fitting} | {b - side for _, b, _ in fitting}):  # ties: leftmost
        start = min(max(start, 0.0), span - side)
        inside = [iv for iv in fitting if iv[0] >= start - 1e-6 and iv[1] <= start + side + 1e-6]
        if sum(iv[2] for iv in inside) > sum(iv[2] for iv in best):
            best = inside
    if best:
        centre = (min(iv[0] for iv in best) + max(iv[1] for iv in best)) / 2
    elif intervals:  # no face fits whole (a face larger than the square): centre on the largest one
        largest = max(intervals, key=lambda iv: iv[2])
        centre = (largest[0] + largest[1]) / 2
    else:
        centre = span / 2
    offset = int(round(min(max(centre - side / 2, 0.0), span - side)))
    return (offset, 0, side) if along_x else (0, offset, side)


def delete_unreferenced(svc: Services, keys: Iterable[str]) -> int:
    """Delete each blob of ``keys`` (and its thumbnails) that no photo or reference of any album still uses."""
    deleted = 0
    for key in keys:
        with svc.catalog.read() as session:
            used = photos.blob_used(session, blob_key=key)
        if used:
            continue
        try:
            for size in THUMBNAIL_SIZES:
                svc.store.delete(thumbnail_key(key, size))
                svc.store.delete(thumbnail_key(key, size, square=True))
            svc.store.delete(key)
            deleted += 1
        except Exception:  # an orphan blob is harmless; a failed request over it is not
            log.exception("could not delete blob %s", key)
    return deleted


__all__ = ["PHOTO_PREFIX", "THUMBNAIL_SIZES", "ImageInfo", "StoredBlob", "cached_thumbnail", "delete_unreferenced",
           "inspect_image", "make_thumbnail", "sniff", "square_window", "store_upload", "thumbnail_key"]
