"""``photosift.integrity``: whole files of every format pass, files cut short are refused, motion-photo trailers
and odd-but-valid JPEG layouts are accepted, and a check never reads more than a chunk at a time."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from photosift import imaging  # noqa: F401 - registers the HEIF opener
from photosift.errors import InvalidImage
from photosift.integrity import CHUNK, check_complete


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut()).resize((320, 320))


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def formats(photo: Image.Image) -> dict[str, tuple[str, bytes]]:
    """name -> (Pillow format, bytes)."""
    return {
        "jpeg": ("JPEG", encode(photo, "JPEG", quality=90)),
        "progressive jpeg": ("JPEG", encode(photo, "JPEG", progressive=True)),
        "jpeg with restart markers": ("JPEG", encode(photo, "JPEG", restart_marker_blocks=1)),
        "cmyk jpeg": ("JPEG", encode(photo.convert("CMYK"), "JPEG")),
        "png": ("PNG", encode(photo, "PNG")),
        "webp": ("WEBP", encode(photo, "WEBP", quality=80)),
        "lossless webp": ("WEBP", encode(photo, "WEBP", lossless=True)),
        "heic": ("HEIF", encode(photo, "HEIF", quality=80)),
        "gif": ("GIF", encode(photo, "GIF")),
        "tiff": ("TIFF", encode(photo, "TIFF")),
    }


def test_whole_files_pass(photo: Image.Image) -> None:
    for name, (fmt, data) in formats(photo).items():
        assert Image.open(io.BytesIO(data)).format == fmt, name
        check_complete(io.BytesIO(data), fmt)


@pytest.mark.parametrize("keep", [0.98, 0.6, 0.2])
def test_files_cut_short_are_refused(photo: Image.Image, keep: float) -> None:
    for name, (fmt, data) in formats(photo).items():
        if fmt == "GIF" and keep > 0.9:
            continue  # a GIF missing its last bytes (the trailer) still decodes whole: accepting it is right
        cut = data[: int(len(data) * keep)]
        with pytest.raises(InvalidImage, match="truncated or corrupt"):
            check_complete(io.BytesIO(cut), fmt)
            pytest.fail(f"{name} cut to {keep:.0%} passed")


def test_jpeg_without_its_end_marker_is_refused_as_pillow_would(photo: Image.Image) -> None:
    data = encode(photo, "JPEG")
    assert data.endswith(b"\xff\xd9")
    with pytest.raises(OSError):
        Image.open(io.BytesIO(data[:-2])).load()  # analysis would fail on it later
    with pytest.raises(InvalidImage, match="end marker"):
        check_complete(io.BytesIO(data[:-2]), "JPEG")


def test_jpeg_trailers_and_extraneous_bytes_are_accepted(photo: Image.Image) -> None:
    data = encode(photo, "JPEG")
    motion_photo = data + b"\x00\x00\x00\x18ftypmp42" + bytes(3000)  # a phone's video after the picture
    check_complete(io.BytesIO(motion_photo), "JPEG")
    check_complete(io.BytesIO(motion_photo[: len(data) + 100]), "JPEG")  # a cut trailer: the picture is whole
    after_app0 = 4 + int.from_bytes(data[4:6], "big")
    padded = data[:after_app0] + b"\x00\x00" + data[after_app0:]  # bytes before a marker: skipped by decoders
    Image.open(io.BytesIO(padded)).load()
    check_complete(io.BytesIO(padded), "JPEG")


def test_a_marker_split_across_chunks_is_found() -> None:
    """Entropy-coded data a chunk long, then an EOI whose 0xFF is the last byte the first read sees."""
    header = (b"\xff\xd8" + b"\xff\xc0\x00\x0b\x08\x00\x10\x00\x10\x01\x01\x11\x00"  # SOI, SOF0
              + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00")  # SOS header
    scan = np.random.default_rng(3).integers(0, 0xFE, CHUNK, dtype=np.uint8).tobytes() + b"\xff"  # no 0xFF inside
    check_complete(io.BytesIO(header + scan + b"\xd9"), "JPEG")
    with pytest.raises(InvalidImage, match="cut short"):
        check_complete(io.BytesIO(header + scan + b"\x00"), "JPEG")  # a stuffed 0xFF, then the file ends
