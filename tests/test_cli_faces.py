"""The detect / compare / find commands: JSON lines, CompareFaces semantics, per-row errors, exit codes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from photosift.cli import main


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture()
def photos(tmp_path, astronaut, blank_photo, make_group_photo, write_jpeg):
    """astronaut.jpg (1 face), group.jpg (3 faces incl. mirrored), blank.jpg (none), corrupt.jpg."""
    folder = tmp_path / "photos"
    folder.mkdir()
    write_jpeg(astronaut, folder / "astronaut.jpg")
    write_jpeg(make_group_photo(1200, 800, [300, 240, 200]), folder / "group.jpg")
    write_jpeg(blank_photo, folder / "blank.jpg")
    (folder / "corrupt.jpg").write_bytes(b"\xff\xd8\xff garbage")
    return folder


def test_detect_json(photos, capsys):
    code = main(["detect", "--json", str(photos / "astronaut.jpg"), str(photos / "blank.jpg"),
                 str(photos / "corrupt.jpg")])
    records = json_lines(capsys.readouterr().out)
    assert code == 1  # one item failed
    astro, blank, corrupt = records
    assert astro["path"].endswith("astronaut.jpg") and (astro["width"], astro["height"]) == (512, 512)
    (face,) = astro["faces"]
    assert set(face) >= {"box", "confidence", "landmarks", "pose", "quality"}
    assert len(face["box"]) == 4 and len(face["landmarks"]) == 5
    assert set(face["pose"]) == {"yaw", "pitch", "roll"} and set(face["quality"]) == {"sharpness", "brightness"}
    assert blank["faces"] == []
    assert corrupt["error_type"] == "InvalidImage" and "faces" not in corrupt


def test_compare_matches_every_copy_of_the_face(photos, capsys):
    code = main(["compare", "--json", str(photos / "astronaut.jpg"), str(photos / "group.jpg")])
    assert code == 0
    (record,) = json_lines(capsys.readouterr().out)
    assert len(record["matches"]) == 3 and record["unmatched"] == []
    scores = [m["similarity"] for m in record["matches"]]
    assert scores == sorted(scores, reverse=True) and min(scores) >= 80
    assert record["source_face"]["box"][2] > 50


def test_compare_unmatched_with_a_high_threshold(photos, capsys):
    assert main(["compare", "--json", "--threshold", "100", str(photos / "astronaut.jpg"),
                 str(photos / "group.jpg")]) == 0
    (record,) = json_lines(capsys.readouterr().out)
    assert record["matches"] == [] and len(record["unmatched"]) == 3


def test_compare_without_a_source_face_exits_2(photos, capsys):
    code = main(["compare", str(photos / "blank.jpg"), str(photos / "astronaut.jpg")])
    err = capsys.readouterr().err
    assert code == 2 and "no face" in err and "blank.jpg" in err and len(err.strip().splitlines()) == 1


def test_compare_pairs_echoes_csv_paths_and_reports_rows_without_faces(photos, capsys):
    csv_file = photos / "pairs.csv"
    csv_file.write_text("img1,img2,same\nastronaut.jpg,group.jpg,1\n./astronaut.jpg,blank.jpg,0\n"
                        "group.jpg,corrupt.jpg,0\n")
    code = main(["compare", "--json", "--pairs", str(csv_file), "--root", str(photos)])
    rows = json_lines(capsys.readouterr().out)
    assert code == 1
    assert [(r["img1"], r["img2"]) for r in rows] == [
        ("astronaut.jpg", "group.jpg"), ("./astronaut.jpg", "blank.jpg"), ("group.jpg", "corrupt.jpg")]
    assert rows[0]["match"] is True and rows[0]["similarity"] >= 80
    assert rows[1]["similarity"] is None and rows[1]["match"] is None and "blank.jpg" in rows[1]["error"]
    assert rows[1]["error_type"] == "NoFaceFound" and rows[2]["error_type"] == "InvalidImage"


def test_compare_pairs_bad_csv(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("only-one-column\n")
    assert main(["compare", "--pairs", str(bad)]) == 2
    assert "fewer than two" in capsys.readouterr().err


def test_find_lists_matching_photos_best_first(photos, tmp_path, astronaut, write_jpeg, capsys):
    reference = write_jpeg(np.ascontiguousarray(astronaut[:, ::-1]), tmp_path / "ref.jpg")
    code = main(["find", "--json", str(reference), "--in", str(photos)])
    records = json_lines(capsys.readouterr().out)
    hits = [r for r in records if "error" not in r]
    assert code == 1  # corrupt.jpg is reported
    assert {r["path"].rsplit("/", 1)[-1] for r in hits} == {"astronaut.jpg", "group.jpg"}
    assert [r["similarity"] for r in hits] == sorted((r["similarity"] for r in hits), reverse=True)
    assert all(len(r["box"]) == 4 for r in hits)
    assert [r["path"].rsplit("/", 1)[-1] for r in records if "error" in r] == ["corrupt.jpg"]


def test_find_with_a_faceless_reference_exits_2(photos, capsys):
    assert main(["find", str(photos / "blank.jpg"), "--in", str(photos)]) == 2
    assert "no face" in capsys.readouterr().err
