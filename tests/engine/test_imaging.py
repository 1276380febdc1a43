"""Decoding: formats, orientation, pixel modes, reduced-scale decoding, limits and broken input."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from photosift.errors import ImageTooLarge, InvalidImage
from photosift.imaging import DecodeLimits, decode, fit_pixels, fit_to, shrink


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.fixture
def gradient() -> Image.Image:
    """A 64x48 image whose left half is red and right half blue, so orientation is checkable."""
    array = np.zeros((48, 64, 3), np.uint8)
    array[:, :32] = (220, 20, 20)
    array[:, 32:] = (20, 20, 220)
    return Image.fromarray(array)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF", "BMP", "TIFF", "GIF"])
def test_decodes_common_formats(gradient: Image.Image, fmt: str) -> None:
    decoded = decode(encode(gradient, fmt))
    assert decoded.pixels.shape == (48, 64, 3)
    assert decoded.pixels.dtype == np.uint8
    assert decoded.original_size == (64, 48)
    left, right = decoded.pixels[24, 8], decoded.pixels[24, 56]
    assert left[0] > 150 > left[2] and right[2] > 150 > right[0]


@pytest.mark.parametrize(
    ("orientation", "shape", "red_at"),
    [(1, (48, 64), (24, 8)), (3, (48, 64), (24, 56)), (6, (64, 48), (8, 24)), (8, (64, 48), (56, 24))],
)
def test_exif_orientation_is_honoured(gradient: Image.Image, orientation, shape, red_at) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    decoded = decode(encode(gradient, "JPEG", exif=exif.tobytes(), quality=95))
    assert decoded.pixels.shape[:2] == shape
    assert decoded.original_size == (shape[1], shape[0])
    assert decoded.pixels[red_at][0] > 150, "red half should end where the rotation puts it"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_turns_as_pillow_does(orientation: int) -> None:
    array = np.random.default_rng(orientation).integers(0, 255, (30, 40, 3), np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(Image.fromarray(array), "PNG", exif=exif.tobytes())
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))))
    assert np.array_equal(decode(data).pixels, expected)
    assert np.array_equal(decode(data, gray=True).pixels, cv2.cvtColor(expected, cv2.COLOR_RGB2GRAY))


def pillow_pixels(data: bytes, reduce: int = 1, mode: str = "RGB") -> np.ndarray:
    """What Pillow's own JPEG decoder gives (at 1/``reduce`` scale)."""
    image = Image.open(io.BytesIO(data))
    if reduce > 1:
        image.draft(mode, (image.width // reduce, image.height // reduce))
    return np.asarray(image.convert(mode))


@pytest.mark.parametrize("options", [{"subsampling": 0}, {"subsampling": 1}, {"subsampling": 2},
                                     {"progressive": True}, {"mode": "L"}])
def test_jpeg_pixels_are_pillows_at_every_scale(options: dict) -> None:
    rng = np.random.default_rng(1)
    photo = cv2.GaussianBlur(rng.integers(0, 255, (400, 600, 3), np.uint8), (0, 0), 2)
    image = Image.fromarray(photo).convert(options.pop("mode", "RGB"))
    data = encode(image, "JPEG", quality=90, **options)
    assert np.array_equal(decode(data).pixels, pillow_pixels(data))
    for reduce, budget in ((2, 60_000), (4, 15_000), (8, 3_000)):
        assert np.array_equal(decode(data, max_pixels=budget, fit=False).pixels, pillow_pixels(data, reduce))
        assert np.array_equal(decode(data, max_pixels=budget, fit=False, gray=True).pixels,
                              pillow_pixels(data, reduce, "L"))


def test_a_jpeg_with_a_recoverable_fault_decodes_as_pillow_reads_it(gradient: Image.Image) -> None:
    data = encode(gradient.resize((320, 240)), "JPEG")
    faulty = data[:-2] + b"\x00\x00\x00" + data[-2:]  # stray bytes before the end marker: libjpeg warns, goes on
    assert np.array_equal(decode(faulty).pixels, pillow_pixels(faulty))


def test_damaged_jpegs_decode_as_pillow_reads_them_or_are_refused() -> None:
    rng = np.random.default_rng(7)
    photo = cv2.GaussianBlur(rng.integers(0, 255, (240, 320, 3), np.uint8), (0, 0), 2)
    data = encode(Image.fromarray(photo), "JPEG", quality=85)
    outcomes = {"decoded": 0, "refused": 0}
    for k in range(200):
        damaged = bytearray(data)
        if k % 4:  # bytes changed
            for at in rng.integers(2, len(data), rng.integers(1, 4)):
                damaged[at] = rng.integers(0, 256)
        else:  # cut short
            damaged = damaged[: rng.integers(len(data) // 2, len(data))]
        try:
            pixels = decode(bytes(damaged), max_pixels=15_000, fit=False).pixels
        except InvalidImage:
            outcomes["refused"] += 1
            continue
        outcomes["decoded"] += 1
        assert np.array_equal(pixels, pillow_pixels(bytes(damaged), 2))
    assert min(outcomes.values()) >= 20, outcomes


def test_an_mpo_is_decoded_at_reduced_scale_as_a_jpeg(gradient: Image.Image) -> None:
    first = gradient.resize((800, 600))
    buffer = io.BytesIO()
    first.save(buffer, "MPO", save_all=True, append_images=[gradient.resize((800, 600)).rotate(180)])
    decoded = decode(buffer.getvalue(), max_pixels=120_000, fit=False)
    assert decoded.format == "MPO" and decoded.original_size == (800, 600)
    assert np.array_equal(decoded.pixels, pillow_pixels(buffer.getvalue(), 2))


def test_sixteen_bit_png_keeps_its_range() -> None:
    array = np.linspace(0, 65535, 32 * 32, dtype=np.uint16).reshape(32, 32)
    decoded = decode(encode(Image.fromarray(array), "PNG"))  # Pillow picks mode I;16
    assert decoded.pixels[0, 0, 0] == 0 and decoded.pixels[-1, -1, 0] == 255
    assert 100 < decoded.pixels[16, 0, 0] < 160


def test_cmyk_jpeg_becomes_rgb(gradient: Image.Image) -> None:
    decoded = decode(encode(gradient.convert("CMYK"), "JPEG"))
    assert decoded.pixels.shape == (48, 64, 3)
    assert decoded.pixels[24, 8, 0] > 150


def test_palette_and_alpha_composite_over_white() -> None:
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[:, :10] = (0, 0, 0, 255)  # opaque black left, transparent right
    decoded = decode(encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert decoded.pixels[10, 2].tolist() == [0, 0, 0]
    assert decoded.pixels[10, 15].tolist() == [255, 255, 255]
    palette = Image.fromarray(rgba, "RGBA").convert("P")
    assert decode(encode(palette, "PNG")).pixels.shape == (20, 20, 3)
    assert decode(encode(Image.fromarray(rgba[..., [0, 3]], "LA"), "PNG")).pixels[10, 15].tolist() == [255] * 3


def test_reduced_decode_of_large_jpeg_respects_pixel_budget() -> None:
    rng = np.random.default_rng(0)
    big = Image.fromarray(rng.integers(0, 255, (1200, 1600, 3), dtype=np.uint8))
    data = encode(big, "JPEG")
    decoded = decode(data, max_pixels=120_000)
    h, w = decoded.pixels.shape[:2]
    assert h * w <= 120_000 and h * w > 100_000
    assert decoded.original_size == (1600, 1200)
    assert decoded.scale == pytest.approx(w / 1600)
    assert abs(w / h - 4 / 3) < 0.01


def test_reduced_decode_maps_orientation_to_original_size() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(Image.new("RGB", (800, 400), "gray"), "JPEG", exif=exif.tobytes())
    decoded = decode(data, max_pixels=20_000)
    assert decoded.original_size == (400, 800)
    assert decoded.pixels.shape[0] > decoded.pixels.shape[1]


def test_fit_pixels_leaves_small_images_alone() -> None:
    small = np.zeros((10, 10, 3), np.uint8)
    assert fit_pixels(small, 1000) is small


@pytest.mark.parametrize("size", [(100, 75), (93, 70), (200, 37), (31, 23), (1, 1), (200, 150)])
def test_shrink_averages_areas(size: tuple[int, int]) -> None:
    # the detector's reduction: the size asked for, by area averages (exactly OpenCV's at whole factors of 2 or 1),
    # the picture kept: on a gradient of one grey level per pixel, within a reduced pixel's width of OpenCV's
    yy, xx = np.mgrid[0:150, 0:200]
    image = np.dstack([xx, yy, (xx + yy) // 2]).astype(np.uint8)
    small = shrink(image, size)
    assert small.shape == (size[1], size[0], 3) and small.dtype == np.uint8
    area = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    if size in ((100, 75), (200, 150)):
        assert np.array_equal(small, area)
    assert np.abs(small.astype(int) - area).max() <= max(200 / size[0], 150 / size[1])


def test_paths_are_read_and_extension_is_ignored(tmp_path: Path, gradient: Image.Image) -> None:
    lying = tmp_path / "photo.jpg"
    lying.write_bytes(encode(gradient, "PNG"))
    assert decode(lying).format == "PNG"
    assert decode(str(lying)).pixels.shape == (48, 64, 3)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"hello, this is plain text and not a picture", "not a recognised image"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "not a recognised image"),  # JPEG magic, garbage after
    ],
)
def test_broken_bytes_raise_invalid_image(data: bytes, message: str) -> None:
    with pytest.raises(InvalidImage, match=message):
        decode(data)


def test_truncated_jpeg_raises_invalid_image(gradient: Image.Image) -> None:
    data = encode(gradient.resize((640, 480)), "JPEG")
    with pytest.raises(InvalidImage, match="corrupt or truncated"):
        decode(data[: len(data) // 2])


def test_text_file_with_image_extension(tmp_path: Path) -> None:
    fake = tmp_path / "holiday.jpg"
    fake.write_text("not really a jpeg")
    with pytest.raises(InvalidImage):
        decode(fake)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidImage, match="cannot read"):
        decode(tmp_path / "nope.jpg")
    with pytest.raises(InvalidImage, match="directory"):
        decode(tmp_path)


def test_limits(gradient: Image.Image, tmp_path: Path) -> None:
    data = encode(gradient, "PNG")
    with pytest.raises(ImageTooLarge, match="pixels"):
        decode(data, limits=DecodeLimits(max_pixels=1000))
    with pytest.raises(ImageTooLarge, match="bytes"):
        decode(data, limits=DecodeLimits(max_bytes=10))
    path = tmp_path / "a.png"
    path.write_bytes(data)
    with pytest.raises(ImageTooLarge, match="bytes"):
        decode(path, limits=DecodeLimits(max_bytes=10))


def test_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = encode(Image.new("1", (12_000, 12_000)), "PNG")  # ~20 KB of file, 144 MP of pixels
    assert len(bomb) < 100_000
    with pytest.raises(ImageTooLarge, match="144000000 pixels"):
        decode(bomb)


def test_gray_decode_returns_luma(gradient: Image.Image) -> None:
    for fmt in ("JPEG", "PNG"):
        decoded = decode(encode(gradient, fmt), gray=True)
        assert decoded.pixels.shape == (48, 64)
        expected = 0.299 * 220 + 0.587 * 20 + 0.114 * 20
        assert abs(int(decoded.pixels[24, 8]) - expected) < 6


def test_gray_reduced_decode_keeps_orientation() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(Image.new("RGB", (800, 400), "gray"), "JPEG", exif=exif.tobytes())
    decoded = decode(data, max_pixels=20_000, gray=True)
    assert decoded.original_size == (400, 800)
    assert decoded.pixels.ndim == 2 and decoded.pixels.shape[0] > decoded.pixels.shape[1]


def test_fit_to_brings_the_longer_side_to_the_size_asked_either_way():
    image = np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    reduced, scale = fit_to(image, 200)
    assert reduced.shape == (150, 200, 3) and scale == 0.5
    np.testing.assert_array_equal(reduced, shrink(image, (200, 150)))  # reduced by area, as every pass reduces
    enlarged, scale = fit_to(image, 800)
    assert enlarged.shape == (600, 800, 3) and scale == 2.0
    same, scale = fit_to(image, 400)
    assert same is image and scale == 1.0
