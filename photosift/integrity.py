"""Cheap checks that an image file is whole, without decoding its pixels (for uploads, before they are stored).

A file whose header reads fine can still be cut short (an interrupted transfer) or hold no picture at all; decoding
it to find out costs 50-100 ms for a 12 MP photo. These checks walk the file's container structure instead, reading
it in ``CHUNK``-byte pieces (memory does not grow with the file), in a few milliseconds:

- JPEG: the marker segments, and every entropy-coded scan up to the End Of Image marker (data after it, e.g. a
  phone's motion-photo video, is allowed). A file without EOI is cut short.
- PNG: every chunk and its CRC, up to IEND (Pillow's ``verify``).
- WebP: the RIFF chunks fill the size the RIFF header declares.
- HEIC/HEIF/AVIF: the top-level ISO-BMFF boxes fill the file (a cut file's last box, the picture data, overruns it).
- Any other format (GIF, BMP, TIFF, ...: rare and small): a full decode.

Corruption inside the compressed picture data that keeps the structure intact is not found here; analysis still
reports it (``InvalidImage``) as before.
"""

from __future__ import annotations

import os
import struct
import warnings
from typing import BinaryIO

import numpy as np
from PIL import Image

from photosift.errors import InvalidImage

CHUNK = 1 << 20

_STANDALONE = frozenset({0x01, *range(0xD0, 0xDA)})  # TEM, RSTn, SOI, EOI: no length field
_SOS, _EOI = 0xDA, 0xD9
_SOF = frozenset({*range(0xC0, 0xC4), *range(0xC5, 0xC8), *range(0xC9, 0xCC), *range(0xCD, 0xD0)})


def check_complete(file: BinaryIO, fmt: str) -> None:
    """Raise ``InvalidImage`` when ``file`` (seekable, read from its start) of Pillow format ``fmt`` is cut short
    or structurally broken (see the module docstring). Leaves the file position unspecified."""
    size = file.seek(0, os.SEEK_END)
    file.seek(0)
    if fmt in ("JPEG", "MPO"):
        _check_jpeg(file, size)
    elif fmt == "PNG":
        _check_by_pillow(file, verify=True)
    elif fmt == "WEBP":
        _check_riff(file, size)
    elif fmt in ("HEIF", "AVIF"):
        _check_bmff(file, size)
    else:
        _check_by_pillow(file, verify=False)


def _cut(what: str) -> InvalidImage:
    return InvalidImage(f"image data is truncated or corrupt: {what}")


def _read_exact(file: BinaryIO, n: int, what: str) -> bytes:
    data = file.read(n)
    if len(data) != n:
        raise _cut(f"the file ends inside {what}")
    return data


def _check_jpeg(file: BinaryIO, size: int) -> None:
    if _read_exact(file, 2, "the JPEG header") != b"\xff\xd8":
        raise _cut("no JPEG start marker")
    pos, frame = 2, False
    while True:
        file.seek(pos)
        head = file.read(2)
        if len(head) < 2:
            raise _cut("the file ends before the JPEG end marker (EOI): it was cut short")
        if head[0] != 0xFF:  # extraneous bytes before a marker: libjpeg skips them too
            pos = _next_marker(file, pos, size)
            continue
        marker = head[1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == _EOI:
            if not frame:
                raise _cut("the JPEG has no frame header (SOF)")
            return
        if marker in _STANDALONE:
            pos += 2
            continue
        (length,) = struct.unpack(">H", _read_exact(file, 2, "a JPEG segment header"))
        end = pos + 2 + length
        if length < 2 or end > size:
            raise _cut("a JPEG segment runs past the end of the file: it was cut short")
        frame = frame or marker in _SOF
        if marker == _SOS:
            if not frame:
                raise _cut("a JPEG scan comes before its frame header (SOF)")
            pos = _next_marker(file, end, size)
        else:
            pos = end


def _next_marker(file: BinaryIO, pos: int, size: int) -> int:
    """The position of the first marker at or after ``pos`` in entropy-coded data: a 0xFF followed by a byte other
    than 0x00 (a stuffed 0xFF), 0xD0-0xD7 (restart markers) or 0xFF (fill)."""
    while pos < size:
        file.seek(pos)
        chunk = file.read(CHUNK + 1)  # one byte of overlap: the byte after a 0xFF at the chunk's end
        if len(chunk) < 2:
            break
        data = np.frombuffer(chunk, np.uint8)
        ff = np.flatnonzero(data[:-1] == 0xFF)
        after = data[ff + 1]
        marker = ff[(after != 0) & ((after < 0xD0) | (after > 0xD7)) & (after != 0xFF)]
        if marker.size:
            return pos + int(marker[0])
        pos += len(chunk) - 1
    raise _cut("the file ends inside the JPEG picture data, before its end marker (EOI): it was cut short")


def _check_riff(file: BinaryIO, size: int) -> None:
    header = _read_exact(file, 12, "the WebP header")
    declared = struct.unpack("<I", header[4:8])[0] + 8
    if header[:4] != b"RIFF" or header[8:12] != b"WEBP":
        raise _cut("not a RIFF/WebP container")
    if declared > size:
        raise _cut(f"the WebP declares {declared} bytes but the file has {size}: it was cut short")
    pos = 12
    while pos < declared:
        file.seek(pos)
        chunk = _read_exact(file, 8, "a WebP chunk header")
        length = struct.unpack("<I", chunk[4:8])[0]
        pos += 8 + length + (length & 1)
    if pos > declared + 1:  # the last chunk's padding byte may be missing
        raise _cut("a WebP chunk runs past the end of the image")


def _check_bmff(file: BinaryIO, size: int) -> None:
    pos = 0
    while pos < size:
        file.seek(pos)
        header = _read_exact(file, 8, "a HEIF box header")
        length = struct.unpack(">I", header[:4])[0]
        if length == 1:
            length = struct.unpack(">Q", _read_exact(file, 8, "a HEIF box header"))[0]
        elif length == 0:  # the last box runs to the end of the file
            return
        if length < 8:
            raise _cut(f"a HEIF box at byte {pos} has an invalid size ({length})")
        pos += length
    if pos > size:
        raise _cut("the last HEIF box runs past the end of the file: it was cut short")


def _check_by_pillow(file: BinaryIO, *, verify: bool) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(file) as image:
                if verify:
                    image.verify()
                else:
                    image.load()
    except Exception as exc:  # Pillow's plugins raise OSError, ValueError, SyntaxError, struct.error, ...
        raise _cut(str(exc) or type(exc).__name__) from exc


__all__ = ["CHUNK", "check_complete"]
