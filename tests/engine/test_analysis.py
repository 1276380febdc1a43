"""analyze(): one decode, faces in original pixels, blur judged on the faces, typed errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest

from photosift import blur, faces, imaging
from photosift.analysis import FACE_MAX_PIXELS, PhotoAnalysis, analyze
from photosift.errors import ImageTooLarge, InvalidImage
from photosift.imaging import DecodeLimits


def test_analyze_a_large_photo_reports_original_pixels(tmp_path, astronaut, write_jpeg):
    big = np.ascontiguousarray(np.repeat(np.repeat(astronaut, 5, axis=0), 5, axis=1))  # 2560x2560, 6.5 MP
    result = analyze(write_jpeg(big, tmp_path / "big.jpg"))
    assert isinstance(result, PhotoAnalysis)
    assert (result.width, result.height) == (2560, 2560)
    assert len(result.faces) == 1
    left, top, width, height = result.faces[0].face.box
    assert 5 * 165 <= left <= 5 * 190 and 5 * 75 <= width <= 5 * 105
    assert result.faces[0].embedding.shape == (faces.EMBEDDING_DIM,)
    assert result.blur.region == "faces"
    bl, bt, bw, bh = result.blur.region_box
    assert bl < left + width and left < bl + bw and bt < top + height and top < bt + bh  # overlaps the face
    assert 0 <= result.blur.sharpness <= 100


def test_blur_is_judged_on_the_decode_as_assess_judges_it(tmp_path, astronaut, write_jpeg):
    """The analysis gives the blur measure the decode itself (the measure reduces it to its analysis size in one area
    average), so a photo's verdict is the one ``eval/blur.py`` measures for ``blur.assess`` on those pixels."""
    big = np.ascontiguousarray(np.repeat(np.repeat(astronaut, 5, axis=0), 5, axis=1))
    path = write_jpeg(big, tmp_path / "big.jpg")
    result = analyze(path)
    decoded = imaging.decode(path, max_pixels=FACE_MAX_PIXELS)
    boxes = [tuple(round(v * decoded.scale) for v in f.face.box) for f in result.faces]
    assert decoded.scale < 1 and boxes
    assert result.blur.sharpness == blur.assess(decoded.pixels, boxes).sharpness


def test_analyze_without_detection_and_without_faces(tmp_path, blank_photo, astronaut, write_jpeg):
    skipped = analyze(write_jpeg(astronaut, tmp_path / "a.jpg"), detect=False)
    assert skipped.faces == [] and skipped.blur.region != "faces"
    empty = analyze(write_jpeg(blank_photo, tmp_path / "blank.jpg"))
    assert empty.faces == [] and (empty.width, empty.height) == (640, 480)


def test_blur_threshold_is_passed_through(tmp_path, astronaut, write_jpeg):
    path = write_jpeg(astronaut, tmp_path / "a.jpg")
    assert analyze(path, blur_threshold=0.0, detect=False).blur.blurry is False
    assert analyze(path, blur_threshold=100.1, detect=False).blur.blurry is True


def test_bad_inputs_raise_typed_errors(tmp_path, astronaut, write_jpeg):
    with pytest.raises(InvalidImage):
        analyze(b"")
    truncated = write_jpeg(astronaut, tmp_path / "t.jpg").read_bytes()[:2000]
    with pytest.raises(InvalidImage):
        analyze(truncated)
    with pytest.raises(ImageTooLarge):
        analyze(write_jpeg(astronaut, tmp_path / "a.jpg"), limits=DecodeLimits(max_pixels=100_000))
