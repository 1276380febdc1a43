"""``photosift analyze``: one record per image (size, blur, faces), per-item errors, resumable with --output."""

from __future__ import annotations

import json

import pytest

from photosift.cli import main


@pytest.fixture()
def photos(tmp_path, astronaut, blank_photo, write_jpeg):
    folder = tmp_path / "photos"
    folder.mkdir()
    write_jpeg(astronaut, folder / "astronaut.jpg")
    write_jpeg(blank_photo, folder / "blank.jpg")
    (folder / "corrupt.jpg").write_bytes(b"\xff\xd8\xff garbage")
    return folder


def test_analyze_records_and_errors(photos, capsys):
    code = main(["analyze", "--json", str(photos)])
    records = {r["path"].rsplit("/", 1)[1]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert code == 1 and set(records) == {"astronaut.jpg", "blank.jpg", "corrupt.jpg"}
    astro = records["astronaut.jpg"]
    assert (astro["width"], astro["height"]) == (512, 512) and len(astro["faces"]) == 1
    assert astro["region"] == "faces" and astro["blurry"] is False and 0 <= astro["sharpness"] <= 100
    assert records["blank.jpg"]["faces"] == [] and records["blank.jpg"]["region"] != "faces"
    assert records["corrupt.jpg"]["error_type"] == "InvalidImage"


def test_analyze_resumes_from_its_output(photos, tmp_path, capsys):
    output = tmp_path / "results.jsonl"
    main(["analyze", "--output", str(output), str(photos / "astronaut.jpg")])
    output.write_text(output.read_text() + '{"path": "cut short')  # a crash mid-line
    capsys.readouterr()
    main(["analyze", "--json", "--output", str(output), str(photos / "astronaut.jpg"), str(photos / "blank.jpg")])
    fresh = [json.loads(line)["path"] for line in capsys.readouterr().out.splitlines()]
    assert fresh == [str(photos / "blank.jpg")]  # the astronaut was already done
    lines = output.read_text().splitlines()
    assert lines[1] == '{"path": "cut short'
    assert [json.loads(line)["path"] for line in lines[:1] + lines[2:]] == [str(photos / n) for n in
                                                                           ("astronaut.jpg", "blank.jpg")]


def test_analyze_without_images_is_a_one_line_error(tmp_path, capsys):
    assert main(["analyze", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
