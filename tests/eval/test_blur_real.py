"""``eval/blur.py``'s reports: real photos judged by the folder they are in (``--real``), as ``photosift blur``
judges them, the synthetic kinds made of photos you have (``--sharp``), the synthetic kinds shown per source data
set, rolled photos by how far their subject moved, and the kernel of a camera shaken after a rest."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "eval"))

import blur as blur_eval  # noqa: E402


def _write(path: Path, rgb) -> None:  # noqa: ANN001 - an RGB array
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def test_real_photos_are_judged_by_their_folder(tmp_path: Path) -> None:
    sharp = data.astronaut()
    _write(tmp_path / "sharp" / "1_PHONE_S.jpg", sharp)
    _write(tmp_path / "defocused_blurred" / "1_PHONE_F.jpg", cv2.GaussianBlur(sharp, (0, 0), 6.0))
    _write(tmp_path / "motion_blurred" / "trip" / "1_PHONE_M.png", cv2.blur(sharp, (25, 1)))  # (nested folders too)
    (tmp_path / "sharp" / "notes.txt").write_text("not a photo")

    found = blur_eval.real_photos(tmp_path)
    assert [(p.name, kind, blurry) for p, kind, blurry in found] == [
        ("1_PHONE_S.jpg", "sharp", False),
        ("notes.txt", "sharp", False),
        ("1_PHONE_F.jpg", "defocused_blurred", True),
        ("1_PHONE_M.png", "motion_blurred", True),
    ]
    report = blur_eval.judge_real(tmp_path, near=0.0)
    for kind in ("sharp", "defocused_blurred", "motion_blurred"):
        assert f"| {kind} | 1 | 1.000 |" in report
    assert "ROC AUC 1.000" in report
    assert "WRONG" not in report
    assert "unreadable sharp/notes.txt" in report  # listed, not counted and not fatal


def test_a_photo_judged_wrong_is_listed(tmp_path: Path) -> None:
    _write(tmp_path / "sharp" / "soft.jpg", cv2.GaussianBlur(data.astronaut(), (0, 0), 6.0))
    report = blur_eval.judge_real(tmp_path)
    assert "| sharp | 1 | 0.000 |" in report
    assert "- WRONG sharp/soft.jpg (sharp): " in report


def test_a_folder_without_the_layout_is_refused(tmp_path: Path) -> None:
    _write(tmp_path / "photos" / "a.jpg", data.astronaut())
    with pytest.raises(FileNotFoundError, match="sharp, defocused_blurred, motion_blurred"):
        blur_eval.real_photos(tmp_path)


def test_the_synthetic_kinds_are_made_of_photos_you_have(tmp_path: Path) -> None:
    _write(tmp_path / "trip" / "astronaut.png", data.astronaut())  # 512 px: every kind, the mild ones included
    (tmp_path / "notes.txt").write_text("not a photo")
    report = blur_eval.judge_sharp(tmp_path).splitlines()
    rows = {line.split(" | ")[0][2:]: line for line in report[2:] if line.startswith("| ")}
    kinds = ("original", "bokeh >= 400 px", "panning", "gaussian", "mild gaussian 0.3%", "mild motion 1.2%",
             "shake (curved path)", "roll", "shake after a rest")
    assert set(kinds) <= set(rows)
    assert rows["original"] == "| original | 1 | 1.000 | 1 | 1.000 | 1.000 (n=1) |"  # called sharp as taken
    assert rows["gaussian"] == "| gaussian | 1 | 1.000 | 1 | 1.000 | 1.000 (n=1) |"
    assert rows["roll"] == "| roll | 1 | 1.000 | 1 | 1.000 | - |"  # (the rendition set's kinds only)
    assert "Same verdict at 400-4000 px, every kind: 1.000 (n=6)" in report
    assert "- unreadable notes.txt: " in report[-1]  # listed, not counted and not fatal


def test_a_soft_photo_counts_apart_from_those_sharp_as_taken(tmp_path: Path) -> None:
    _write(tmp_path / "soft.png", cv2.GaussianBlur(data.astronaut(), (0, 0), 6.0))
    rows = blur_eval.judge_sharp(tmp_path).splitlines()
    assert "| original | 1 | 0.000 | 0 | - | 1.000 (n=1) |" in rows
    assert "| gaussian | 1 | 1.000 | 0 | - | 1.000 (n=1) |" in rows


def test_an_empty_folder_of_sharp_photos_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no photos under"):
        blur_eval.judge_sharp(tmp_path)
    assert blur_eval.main(["--sharp", str(tmp_path)]) == 2


def test_each_kind_is_shown_per_source_data_set() -> None:
    pixels = np.zeros((2, 2, 3), np.uint8)
    samples = [
        blur_eval.Sample("lfw/a.jpg", pixels, False, "original"),
        blur_eval.Sample("lfw/b.jpg", pixels, False, "original"),
        blur_eval.Sample("wider/c.jpg", pixels, False, "original"),
        blur_eval.Sample("wider/c.jpg", pixels, True, "roll"),
    ]
    table = blur_eval.source_table(samples, np.array([True, False, True, False])).splitlines()
    assert table[0] == "| kind | all | lfw | wider | least |"
    assert table[2] == "| original | 0.667 | 0.500 (n=2) | 1.000 (n=1) | 0.500 |"
    assert table[3] == "| roll | 0.000 | - | 0.000 (n=1) | 0.000 |"


def test_a_rolled_photo_records_how_far_its_subject_moved() -> None:
    rgb = data.astronaut()  # 512 x 512
    span = 12.0
    pivot_rng = np.random.default_rng(3)
    pivot = pivot_rng.uniform(-0.2, 1.2) * 512, pivot_rng.uniform(-0.2, 1.2) * 512
    farthest = max(np.hypot(pivot[0] - x, pivot[1] - y) for x in (0, 512) for y in (0, 512))
    _, at_pivot = blur_eval._rolled(rgb, np.random.default_rng(3), span, pivot)
    _, at_corner = blur_eval._rolled(rgb, np.random.default_rng(3), span, (0.0, 0.0))
    assert at_pivot == pytest.approx(0.0, abs=1e-9)
    assert at_corner == pytest.approx(span * np.hypot(*pivot) / farthest)
    assert blur_eval._subject_point(rgb.shape, []) == (256.0, 256.0)
    assert blur_eval._subject_point(rgb.shape, [(10, 10, 4, 4), (100, 40, 60, 80)]) == (130.0, 80.0)


def test_rolled_photos_are_shown_by_how_far_their_subject_moved() -> None:
    pixels = np.zeros((2, 2, 3), np.uint8)
    samples = [
        blur_eval.Sample("wider/a.jpg", pixels, True, "roll", 0.3),
        blur_eval.Sample("wider/b.jpg", pixels, True, "roll", 0.9),
        blur_eval.Sample("wider/c.jpg", pixels, True, "roll", 2.0),
        blur_eval.Sample("wider/d.jpg", pixels, True, "roll", 1.2),
        blur_eval.Sample("wider/d.jpg", pixels, True, "shake (curved path)"),  # not rolled: in no band
    ]
    table = blur_eval.roll_by_subject(samples, np.array([False, True, True, False, True])).splitlines()
    assert table[2:] == ["| under 0.6 % | 1 | 0.000 |", "| 0.6-1.2 % | 1 | 1.000 |", "| 1.2 % or more | 2 | 0.500 |"]


def test_a_shake_after_a_rest_leaves_the_scene_once_at_the_rest_share() -> None:
    path = np.column_stack([np.linspace(0.0, 1.0, 41), np.zeros(41)])  # a straight move to the right
    moving = blur_eval._path_kernel(path, 8.0)
    rested = blur_eval._path_kernel(path, 8.0, rest=0.4)
    assert rested.sum() == pytest.approx(1.0)
    assert moving.shape == rested.shape
    # the path starts at cell (1, 1) (one cell in from the kernel's edge): 0.4 of the light lands there at once
    assert rested[1, 1] == pytest.approx(0.6 * moving[1, 1] + 0.4)
    elsewhere = np.ones(moving.shape, bool)
    elsewhere[1, 1] = False
    assert np.allclose(rested[elsewhere], 0.6 * moving[elsewhere])  # the smear carries the rest
    assert np.array_equal(blur_eval._path_kernel(path, 8.0, rest=0.0), moving)


def test_only_faces_not_marked_blurred_are_kept_sharp() -> None:
    shape = (416, 416, 3)
    blurred, clear = (60, 60, 20, 24), (300, 60, 16, 20)  # small people: 3-8 % of the long side
    people = blur_eval._people_mask(shape, [blurred, clear], [clear])
    assert people is not None
    assert people[150, 308, 0] > 0.99  # the clear face's body
    assert people[150, 70, 0] < 0.01  # the blurred face's body stays in the background
    assert blur_eval._people_mask(shape, [blurred, clear], []) is None
    large = (150, 100, 60, 72)  # at least 8 % of the long side
    assert blur_eval._subject_mask(shape, [], is_lfw=False) is None
    kept = blur_eval._subject_mask(shape, [large], is_lfw=False)
    assert kept is not None and kept[130, 180, 0] > 0.99


def test_an_lfw_subject_is_its_whole_head() -> None:
    left, top, width, height = (share * 250 for share in blur_eval.LFW_FACE)  # where _sources puts LFW's face
    mask = blur_eval._subject_mask((250, 250, 3), [(left, top, width, height)], is_lfw=True)
    assert mask is not None
    for x, y in ((left + 0.1 * width, top + 0.9 * height), (left + 0.9 * width, top + 0.1 * height)):
        assert mask[round(y), round(x), 0] > 0.99  # the face box's corners: jaw and hair are as sharp as the face
    assert mask[125, 10, 0] < 0.01  # the background beside the head
