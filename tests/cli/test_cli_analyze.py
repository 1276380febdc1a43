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


def one_line_error(capsys) -> str:
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    (line,) = captured.err.strip().splitlines()
    return line


def test_output_that_is_a_folder_is_refused(photos, tmp_path, capsys):
    assert main(["analyze", "--output", str(tmp_path), str(photos / "blank.jpg")]) == 2
    assert "is a folder" in one_line_error(capsys)


def test_output_in_a_missing_folder_is_refused(photos, tmp_path, capsys):
    target = tmp_path / "missing" / "results.jsonl"
    assert main(["analyze", "--output", str(target), str(photos / "blank.jpg")]) == 2
    assert "does not exist" in one_line_error(capsys) and not target.parent.exists()


@pytest.mark.parametrize("content", [b"my notes\n", b'{"name": "not a record"}\n', b"\xff\xfe\x00binary"])
def test_an_unrelated_existing_file_is_not_appended_to(photos, tmp_path, capsys, content):
    notes = tmp_path / "notes.txt"
    notes.write_bytes(content)
    assert main(["analyze", "--output", str(notes), str(photos / "blank.jpg")]) == 2
    assert "not an output of photosift analyze" in one_line_error(capsys)
    assert notes.read_bytes() == content


def test_an_empty_existing_file_is_used(photos, tmp_path, capsys):
    output = tmp_path / "results.jsonl"
    output.write_text("")
    assert main(["analyze", "--output", str(output), str(photos / "blank.jpg")]) == 0
    (line,) = output.read_text().splitlines()
    assert json.loads(line)["path"] == str(photos / "blank.jpg")


def test_is_analyze_output():
    from photosift.cli.analyze import is_analyze_output

    record = json.dumps({"path": "a.jpg", "width": 1, "height": 1, "faces": []})
    error = json.dumps({"path": "b.jpg", "error": "broken", "error_type": "InvalidImage"})
    assert is_analyze_output("") and is_analyze_output(f"{record}\n{error}\n")
    assert is_analyze_output(f'{record}\n{{"path": "cut sho\n{error}\n')  # a line cut short by a crash
    assert not is_analyze_output(f"{record}\nhello\n")
    assert not is_analyze_output('{"path": "a.jpg", "sharpness": 50}\n')  # blur's output, not analyze's
    assert not is_analyze_output("[1, 2]\n")
