"""``photosift.imaging.capture_time``: the EXIF capture time (with its UTC offset when recorded) of JPEG and HEIC
photos, ``DateTimeDigitized`` as a fallback, and nothing for missing, unset or malformed values."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from photosift.imaging import capture_time

EXIF_IFD = 0x8769


def photo_with(fmt: str = "JPEG", **tags: str) -> Image.Image:
    """A small photo whose Exif IFD holds ``tags`` (by name: original, offset, subsec, digitized)."""
    numbers = {"original": 0x9003, "offset": 0x9011, "subsec": 0x9291, "digitized": 0x9004}
    exif = Image.Exif()
    ifd = exif.get_ifd(EXIF_IFD)
    for name, value in tags.items():
        ifd[numbers[name]] = value
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (90, 120, 150)).save(out, fmt, exif=exif)
    return Image.open(io.BytesIO(out.getvalue()))


@pytest.mark.parametrize("fmt", ["JPEG", "HEIF"])
def test_capture_time_with_offset_and_subseconds(fmt: str) -> None:
    taken = capture_time(photo_with(fmt, original="2024:07:01 14:03:22", offset="+09:00", subsec="25"))
    assert taken is not None
    assert taken.local == datetime(2024, 7, 1, 14, 3, 22, 250000)
    assert taken.offset == timedelta(hours=9)
    assert taken.utc == datetime(2024, 7, 1, 5, 3, 22, 250000, tzinfo=UTC)


def test_capture_time_without_offset_is_the_cameras_clock() -> None:
    taken = capture_time(photo_with(original="2023:12:31 23:59:59"))
    assert taken is not None and taken.offset is None
    assert taken.utc == datetime(2023, 12, 31, 23, 59, 59, tzinfo=UTC)


def test_digitized_time_is_the_fallback_and_a_negative_offset_is_read() -> None:
    taken = capture_time(photo_with(digitized="2022:02:03 04:05:06", offset="-05:30"))
    assert taken is not None and taken.local == datetime(2022, 2, 3, 4, 5, 6)
    assert taken.offset is None  # OffsetTimeOriginal belongs to DateTimeOriginal, not to the digitized time
    taken = capture_time(photo_with(original="2022:02:03 04:05:06", offset="-05:30"))
    assert taken is not None and taken.offset == -timedelta(hours=5, minutes=30)


@pytest.mark.parametrize("value", ["0000:00:00 00:00:00", "    :  :     :  :  ", "yesterday", "2024:13:01 00:00:00"])
def test_unset_or_malformed_times_are_none(value: str) -> None:
    assert capture_time(photo_with(original=value)) is None


def test_a_malformed_offset_is_dropped_not_the_time() -> None:
    taken = capture_time(photo_with(original="2024:07:01 14:03:22", offset="+25:00"))
    assert taken is not None and taken.offset is None


def test_no_exif_is_none() -> None:
    assert capture_time(Image.new("RGB", (8, 8))) is None
