"""``photosift blur``: JSON lines, per-file errors, folders, threshold, human table."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
from skimage import data

from photosift.cli import main


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """A folder with a sharp photo, a blurred copy (in a sub-folder), a broken JPEG and a text file."""
    rgb = data.astronaut()
    cv2.imwrite(str(tmp_path / "sharp.jpg"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    (tmp_path / "sub").mkdir()
    soft = cv2.GaussianBlur(rgb, (0, 0), 4.0)
    cv2.imwrite(str(tmp_path / "sub" / "soft.png"), cv2.cvtColor(soft, cv2.COLOR_RGB2BGR))
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (tmp_path / "notes.txt").write_text("not an image")
    return tmp_path


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict]]:
    code = main(["blur", "--json", *args])
    lines = capsys.readouterr().out.splitlines()
    return code, [json.loads(line) for line in lines]


def test_json_lines_for_a_folder(photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, records = run_json(capsys, str(photos))
    by_name = {Path(r["path"]).name: r for r in records}
    assert set(by_name) == {"sharp.jpg", "soft.png", "broken.jpg"}  # recursive, images only
    assert code == 1  # one file failed
    sharp, soft = by_name["sharp.jpg"], by_name["soft.png"]
    assert set(sharp) == {"path", "sharpness", "blurry", "region", "width", "height"}
    assert sharp["path"] == str(photos / "sharp.jpg")  # absolute because the argument was absolute
    assert (sharp["width"], sharp["height"]) == (512, 512)
    assert sharp["blurry"] is False and soft["blurry"] is True
    assert sharp["sharpness"] > soft["sharpness"]
    assert sharp["region"] in ("salient", "whole", "faces")
    assert set(by_name["broken.jpg"]) == {"path", "error", "error_type"} and by_name["broken.jpg"]["error"]
    assert by_name["broken.jpg"]["error_type"] == "InvalidImage"


def test_relative_paths_are_echoed_as_given(
    photos: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(photos)
    code, records = run_json(capsys, "sharp.jpg", "missing.jpg")
    assert code == 1
    assert records[0]["path"] == "sharp.jpg" and "sharpness" in records[0]
    assert records[1]["path"] == "missing.jpg" and "error" in records[1]


def test_threshold_override(photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, records = run_json(capsys, "--threshold", "100", str(photos / "sharp.jpg"))
    assert code == 0 and records[0]["blurry"] is True
    code, records = run_json(capsys, "--threshold", "0", str(photos / "sub"))
    assert code == 0 and records[0]["blurry"] is False


def test_bad_threshold_is_a_one_line_error(photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["blur", "--threshold", "150", str(photos)]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0


def test_human_table(photos: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(photos)
    code = main(["blur", "sharp.jpg", "sub/soft.png"])
    out = capsys.readouterr().out
    assert code == 0
    assert "sharp.jpg" in out and "soft.png" in out and "blurry" in out and "sharp" in out


def test_no_images_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["blur", str(tmp_path)]) == 2
    assert "no images" in capsys.readouterr().err


def test_many_files_progress_does_not_pollute_stdout(photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sharp = str(photos / "sharp.jpg")
    code, records = run_json(capsys, *([sharp] * 5))
    assert code == 0 and len(records) == 5
    assert len({r["sharpness"] for r in records}) == 1
