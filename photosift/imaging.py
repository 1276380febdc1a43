"""Image decoding: bytes or a path in, an upright RGB ``uint8`` array out.

JPEG, PNG, WebP, GIF, BMP, TIFF and HEIC/HEIF are read by content, never by file extension. EXIF orientation is
honoured, every pixel mode (16-bit, CMYK, palette, alpha) becomes 8-bit RGB, and byte and pixel limits guard against
oversize files and decompression bombs. Large JPEGs can be decoded at reduced scale with libjpeg's DCT scaling.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pillow_heif
import simplejpeg
from PIL import Image, UnidentifiedImageError

from photosift.errors import ImageTooLarge, InvalidImage

pillow_heif.register_heif_opener()
# photosift enforces its own pixel limit (DecodeLimits.max_pixels) before decoding; Pillow's global one would turn
# large-but-allowed photos into warnings or errors with a less useful message.
Image.MAX_IMAGE_PIXELS = None

ImageSource = bytes | str | Path

_JPEG_FORMATS = {"JPEG", "MPO"}  # MPO: a camera's JPEG with more pictures after the first (decoded alone)
_SWAPS_AXES = {5, 6, 7, 8}  # EXIF orientations that rotate by 90 degrees
_EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class DecodeLimits:
    """Refuse inputs larger than these (bytes of the file, pixels of the full-resolution image)."""

    max_bytes: int = 50 * 1024 * 1024
    max_pixels: int = 100_000_000


@dataclass(frozen=True)
class DecodedImage:
    """An upright RGB image and how it relates to the full-resolution original.

    ``pixels`` is ``(height, width, 3) uint8`` RGB, or ``(height, width) uint8`` luma when decoded with ``gray``.
    ``original_size`` is ``(width, height)`` of the upright original; ``scale`` = decoded width / original width
    (1.0 unless a reduced decode was asked for). Multiply a coordinate in ``pixels`` by ``1 / scale`` to get the
    original's pixel coordinate.
    """

    pixels: np.ndarray
    original_size: tuple[int, int]
    format: str

    @property
    def scale(self) -> float:
        return self.pixels.shape[1] / self.original_size[0]


def read_bytes(source: ImageSource, limits: DecodeLimits = DecodeLimits()) -> bytes:
    """The bytes of ``source`` (returned as is when already bytes), refusing files over ``limits.max_bytes``."""
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise InvalidImage(f"cannot read {path}: {exc.strerror or exc}") from exc
        if path.is_dir():
            raise InvalidImage(f"{path} is a directory, not an image")
        if size > limits.max_bytes:
            raise ImageTooLarge(f"{path} is {size} bytes; the limit is {limits.max_bytes}")
        data = path.read_bytes()
    if len(data) > limits.max_bytes:
        raise ImageTooLarge(f"image is {len(data)} bytes; the limit is {limits.max_bytes}")
    if not data:
        raise InvalidImage("image is empty (0 bytes)")
    return data


def decode(
    source: ImageSource,
    *,
    max_pixels: int | None = None,
    gray: bool = False,
    fit: bool = True,
    limits: DecodeLimits = DecodeLimits(),
) -> DecodedImage:
    """Decode ``source`` to an upright RGB image.

    ``max_pixels``: when given, the result has at most that many pixels. JPEGs are then decoded directly at the
    smallest DCT scale (1/2, 1/4, 1/8) that still has at least that many pixels and resized down, which is several
    times faster than a full decode. ``fit=False``: not resized down (a JPEG stays at that DCT scale, other formats
    at their size), for a caller that reduces the pixels itself. Raises ``InvalidImage`` or ``ImageTooLarge``.
    """
    data = read_bytes(source, limits)
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as exc:
        raise InvalidImage("not a recognised image format (expected JPEG, PNG, WebP, HEIC, ...)") from exc
    except (OSError, ValueError) as exc:
        raise InvalidImage(f"cannot read image header: {exc}") from exc
    with image:
        width, height = image.size
        if width * height > limits.max_pixels:
            raise ImageTooLarge(
                f"image is {width}x{height} = {width * height} pixels; the limit is {limits.max_pixels}"
            )
        if width == 0 or height == 0:
            raise InvalidImage(f"image has no pixels ({width}x{height})")
        orientation = _orientation(image)
        jpeg = image.format in _JPEG_FORMATS
        denominator = _dct_denominator(image.size, max_pixels) if max_pixels and jpeg else 1
        rgb = _turbo_decode(data, image, denominator, gray) if jpeg else None
        if rgb is None:
            rgb = _pillow_decode(image, denominator, gray)
        fmt = image.format or "unknown"
    if gray and rgb.ndim == 3:
        rgb = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if orientation and orientation != 1:
        rgb = _apply_orientation(rgb, orientation)
    original = (height, width) if orientation in _SWAPS_AXES else (width, height)
    if max_pixels and fit:
        rgb = fit_pixels(rgb, max_pixels)
    return DecodedImage(pixels=rgb, original_size=original, format=fmt)


def fit_pixels(rgb: np.ndarray, max_pixels: int) -> np.ndarray:
    """``rgb`` (color or gray) shrunk (area interpolation, aspect kept) to at most ``max_pixels`` pixels.

    Returned unchanged when it fits already.
    """
    h, w = rgb.shape[:2]
    if h * w <= max_pixels:
        return rgb
    factor = math.sqrt(max_pixels / (h * w))
    size = (max(1, int(w * factor)), max(1, int(h * factor)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)  # not ``shrink``: blur is judged on these pixels


def shrink(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``pixels`` reduced to ``size`` (width, height; neither larger than the image's) by area averaging, for the
    face detector (blur is judged on ``fit_pixels``' exact area averages: on these, ``eval/blur.py`` read a few more
    blurred photos as sharp).

    OpenCV averages areas fast only at whole factors (2000x1500 to 1000x750 in 0.9 ms, to 924x693 in 11.6 ms), so
    the image is first reduced by the whole part of each factor (pairs of pixels averaged by linear interpolation,
    which at exactly 2 is that average; larger whole factors by area), and the rest (less than 2) is interpolated
    linearly: 1.8 ms for the same 924x693."""
    h, w = pixels.shape[:2]
    steps = (max(1, w // size[0]), max(1, h // size[1]))
    if steps != (1, 1):
        method = cv2.INTER_LINEAR if max(steps) <= 2 else cv2.INTER_AREA
        pixels = cv2.resize(pixels, None, fx=1 / steps[0], fy=1 / steps[1], interpolation=method)
    if pixels.shape[1] == size[0] and pixels.shape[0] == size[1]:
        return pixels
    return cv2.resize(pixels, size, interpolation=cv2.INTER_LINEAR)


def fit_within(pixels: np.ndarray, side: float) -> np.ndarray:
    """``pixels`` reduced (:func:`shrink`, aspect kept) until their longer side is at most ``side``; as they are
    when they fit."""
    return fit_to(pixels, side)[0] if max(pixels.shape[:2]) > side else pixels


def fit_to(pixels: np.ndarray, side: float) -> tuple[np.ndarray, float]:
    """``pixels`` resized (aspect kept) so that their longer side is ``side`` — reduced by :func:`shrink` (which
    returns an image that already has the size as it is), enlarged linearly — and the scale applied: a detection
    network's input before its canvas."""
    h, w = pixels.shape[:2]
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if scale <= 1:
        return shrink(pixels, size), scale
    return cv2.resize(pixels, size, interpolation=cv2.INTER_LINEAR), scale


def scale_box(box: tuple[int, int, int, int], factor: float) -> tuple[int, int, int, int]:
    """A ``(left, top, width, height)`` pixel box of an image scaled by ``factor``, rounded to whole pixels."""
    left, top, width, height = box
    return round(left * factor), round(top * factor), round(width * factor), round(height * factor)


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(_EXIF_ORIENTATION, 1) or 1)
    except Exception:  # a broken EXIF block must not make a readable photo unreadable
        return 1


@dataclass(frozen=True)
class CaptureTime:
    """When a photo was taken, from its EXIF: ``local`` is the camera's clock (naive), ``offset`` its UTC offset when
    the photo records one (``OffsetTimeOriginal``), else ``None`` (the time zone is unknown)."""

    local: datetime
    offset: timedelta | None

    @property
    def utc(self) -> datetime:
        """The moment in UTC; without a recorded offset, the camera's clock read as if it were UTC."""
        return (self.local - (self.offset or timedelta())).replace(tzinfo=UTC)


_EXIF_IFD = 0x8769
# (date, UTC offset, sub-seconds) tags: DateTimeOriginal first, then DateTimeDigitized.
_CAPTURE_TAGS = ((0x9003, 0x9011, 0x9291), (0x9004, 0x9012, 0x9292))
_EXIF_DATE = re.compile(r"(\d{4})[:\-/](\d{2})[:\-/](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_EXIF_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})")


def capture_time(image: Image.Image) -> CaptureTime | None:
    """The capture time recorded in an opened image's EXIF (``DateTimeOriginal`` with ``OffsetTimeOriginal`` and
    ``SubSecTimeOriginal``, else ``DateTimeDigitized``), or ``None`` when absent or unreadable. Reads the header
    only (no pixel decoding)."""
    try:
        exif = image.getexif().get_ifd(_EXIF_IFD)
    except Exception:  # a broken EXIF block is no capture time, not an unreadable photo
        return None
    for date_tag, offset_tag, subsec_tag in _CAPTURE_TAGS:
        local = _exif_datetime(exif.get(date_tag), exif.get(subsec_tag))
        if local is not None:
            return CaptureTime(local, _exif_offset(exif.get(offset_tag)))
    return None


def _exif_text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value).strip("\x00 ") if value is not None else ""


def _exif_datetime(value: object, subsec: object) -> datetime | None:
    found = _EXIF_DATE.match(_exif_text(value))
    if found is None:
        return None
    try:
        year, month, day, hour, minute, second = (int(part) for part in found.groups())
        moment = datetime(year, month, day, hour, minute, second)  # "0000:00:00 00:00:00" (unset) fails here
    except ValueError:
        return None
    digits = _exif_text(subsec)
    if digits.isdigit():
        moment = moment.replace(microsecond=int(digits[:6].ljust(6, "0")))
    return moment


def _exif_offset(value: object) -> timedelta | None:
    found = _EXIF_OFFSET.fullmatch(_exif_text(value))
    if found is None:
        return None
    sign, hours, minutes = found.groups()
    offset = timedelta(hours=int(hours), minutes=int(minutes)) * (-1 if sign == "-" else 1)
    return offset if abs(offset) <= timedelta(hours=14) and int(minutes) < 60 else None


def _dct_denominator(size: tuple[int, int], max_pixels: int) -> int:
    """The coarsest DCT scale 1/d (d in 8, 4, 2) whose output still has >= ``max_pixels`` pixels, else 1."""
    width, height = size
    return next((d for d in (8, 4, 2) if (width // d) * (height // d) >= max_pixels), 1)


def _turbo_decode(data: bytes, image: Image.Image, denominator: int, gray: bool) -> np.ndarray | None:
    """A JPEG's pixels decoded straight into an array by libjpeg-turbo (``simplejpeg``) at 1/``denominator`` scale:
    the same pixels as Pillow's decoder (both run libjpeg-turbo's exact DCT and smooth chroma upsampling), without
    Pillow's copy of the image into bytes and then into the array (a 12 MP photo at half size: 12 instead of 16 ms).
    None for what it does not decode cleanly (CMYK, a warning such as a truncated file, a header whose size is not
    the one Pillow read and the pixel limit was checked on), which :func:`_pillow_decode` then accepts or refuses as
    it always has."""
    if image.mode not in ("RGB", "L"):
        return None
    width, height = image.size
    # luma straight from the decoder only where Pillow's ``draft`` gives it (a reduced decode); else RGB, as there
    colorspace = "GRAY" if gray and denominator > 1 else "RGB"
    try:
        if simplejpeg.decode_jpeg_header(data)[:2] != (height, width):  # the size the pixel limit was checked on
            return None
        pixels = simplejpeg.decode_jpeg(data, colorspace, min_width=-(-width // denominator),
                                        min_height=-(-height // denominator))
    except ValueError:
        return None
    return pixels[:, :, 0] if colorspace == "GRAY" else pixels  # luma comes as (h, w, 1)


def _pillow_decode(image: Image.Image, denominator: int, gray: bool) -> np.ndarray:
    """``image``'s pixels decoded by Pillow (a JPEG at 1/``denominator`` scale) as RGB, or luma with ``gray``.
    Raises ``InvalidImage`` when they are corrupt or truncated."""
    if denominator > 1:
        # Pillow's ``draft`` picks the largest scale s with ``size // requested >= s``: ask for the exact 1/s size
        image.draft("L" if gray else "RGB", (image.size[0] // denominator, image.size[1] // denominator))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image.load()
            return np.asarray(image) if gray and image.mode == "L" else _to_rgb(image)
    except (OSError, ValueError, SyntaxError) as exc:
        raise InvalidImage(f"image data is corrupt or truncated: {exc}") from exc


def _to_rgb(image: Image.Image) -> np.ndarray:
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        values = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
        gray = np.clip(values / peak * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.stack([gray] * 3, axis=-1))
    if mode == "F":
        values = np.asarray(image, dtype=np.float64)
        gray = np.clip(values / max(values.max(initial=0), 1.0) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.stack([gray] * 3, axis=-1))
    has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(background, rgba).convert("RGB"))
    return np.asarray(image.convert("RGB") if mode != "RGB" else image)


def _apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Rotate/flip an array (RGB or luma) as ``ImageOps.exif_transpose`` turns the image, with OpenCV: a portrait
    phone photo at 2000x1500 turns in 3-5 ms instead of 9-10 through a Pillow image and back."""
    if orientation == 2:
        return cv2.flip(pixels, 1)
    if orientation == 3:
        return cv2.rotate(pixels, cv2.ROTATE_180)
    if orientation == 4:
        return cv2.flip(pixels, 0)
    if orientation == 5:
        return cv2.transpose(pixels)
    if orientation == 6:
        return cv2.rotate(pixels, cv2.ROTATE_90_CLOCKWISE)
    if orientation == 7:
        return cv2.rotate(cv2.transpose(pixels), cv2.ROTATE_180)
    if orientation == 8:
        return cv2.rotate(pixels, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return pixels


__all__ = ["CaptureTime", "DecodeLimits", "DecodedImage", "ImageSource", "capture_time", "decode", "fit_pixels",
           "read_bytes"]
