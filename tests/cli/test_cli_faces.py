"""The detect / compare / find commands: JSON lines, CompareFaces semantics, per-row errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from processes import all_ended

from photosift.cli import main
from photosift.cli.faces import WORKERS


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


def test_find_compares_no_face_too_small_to_compare(tmp_path, astronaut, write_jpeg, capsys):
    """As in an album, a face flagged too_small is never matched: at threshold 0 every compared face would be a
    hit, and the photo whose only face is too small is not one."""
    import cv2

    folder = tmp_path / "photos"
    folder.mkdir()
    write_jpeg(astronaut, folder / "large.jpg")
    write_jpeg(cv2.resize(astronaut, (72, 72), interpolation=cv2.INTER_AREA), folder / "tiny.jpg")
    assert main(["detect", "--json", str(folder / "tiny.jpg")]) == 0
    assert [f["too_small"] for f in json_lines(capsys.readouterr().out)[0]["faces"]] == [True]
    reference = write_jpeg(np.ascontiguousarray(astronaut[:, ::-1]), tmp_path / "ref.jpg")
    assert main(["find", "--json", "--threshold", "0", str(reference), "--in", str(folder)]) == 0
    assert [r["path"].rsplit("/", 1)[-1] for r in json_lines(capsys.readouterr().out)] == ["large.jpg"]


def test_find_with_a_faceless_reference_exits_2(photos, capsys):
    assert main(["find", str(photos / "blank.jpg"), "--in", str(photos)]) == 2
    assert "no face" in capsys.readouterr().err


@pytest.mark.skipif(WORKERS < 2, reason="one core: a batch runs in this process")
def test_find_leaves_the_models_to_its_workers(photos, tmp_path):
    """The reference is checked in the worker processes, ahead of the photos: the command's own process loads no
    model (start-up once, not twice, and its memory stays small)."""
    script = ("import sys; from photosift.cli import main; from photosift.faces import engine; "
              f"code = main(['find', '--json', {str(photos / 'astronaut.jpg')!r}, '--in', {str(photos)!r}]); "
              "print('engine loaded here:', engine.loaded()); sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr  # corrupt.jpg is reported
    assert "engine loaded here: False" in done.stdout
    assert {r["path"].rsplit("/", 1)[-1] for r in json_lines(done.stdout.split("engine loaded")[0])} >= {
        "astronaut.jpg", "group.jpg"}


@pytest.mark.skipif(WORKERS < 2, reason="one core: a batch runs in this process")
def test_a_batch_s_worker_processes_are_stopped_when_it_ends():
    """Not shut down gracefully (each would finish its call, then tear its models down): the batch ends at once, a
    call still running (a batch that ended early) included, and its processes with it."""
    from photosift.cli.faces import image_workers

    processes = []

    def batch() -> None:
        with image_workers(10) as workers:
            assert list(workers.map(abs, [-1, 2])) == [1, 2]
            running = workers.submit(time.sleep, 120)
            while not running.running():
                time.sleep(0.05)
            time.sleep(0.3)  # taken by a worker process
            processes.extend(workers._processes.values())  # type: ignore[attr-defined]

    ending = threading.Thread(target=batch, daemon=True)
    ending.start()
    ending.join(30)
    assert not ending.is_alive(), "the batch waited for its running call"
    assert len(processes) == WORKERS
    assert all_ended([p.pid for p in processes])


def test_a_batch_too_small_for_workers_runs_here():
    from photosift.cli.faces import image_workers

    with image_workers(2) as workers:
        assert list(workers.map(abs, [-1, 2])) == [1, 2]
        failed = workers.submit(int, "not a number")
        with pytest.raises(ValueError):
            failed.result()


@pytest.mark.parametrize("command", ["compare", "find"])
@pytest.mark.parametrize("threshold", ["120", "-5", "nan"])
def test_threshold_outside_0_100_is_a_one_line_usage_error(photos, capsys, command, threshold):
    args = [str(photos / "astronaut.jpg"), str(photos / "group.jpg")] if command == "compare" else [
        str(photos / "astronaut.jpg"), "--in", str(photos)]
    assert main([command, "--threshold", threshold, *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert "--threshold" in captured.err and "between 0 and 100" in captured.err


def test_compare_target_without_a_face_is_reported_with_exit_1(photos, capsys):
    code = main(["compare", "--json", str(photos / "astronaut.jpg"), str(photos / "blank.jpg")])
    (record,) = json_lines(capsys.readouterr().out)
    assert code == 1
    assert record["matches"] == [] and record["unmatched"] == [] and record["source_face"]["box"][2] > 50
    assert record["error_type"] == "NoFaceFound" and record["error"].startswith(str(photos / "blank.jpg"))

    assert main(["compare", str(photos / "astronaut.jpg"), str(photos / "blank.jpg")]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert "blank.jpg" in line and "no face" in line


def test_compare_unreadable_target_is_reported_with_exit_1(photos, capsys):
    assert main(["compare", "--json", str(photos / "astronaut.jpg"), str(photos / "corrupt.jpg")]) == 1
    (record,) = json_lines(capsys.readouterr().out)
    assert record["error_type"] == "InvalidImage" and "corrupt.jpg" in record["error"]


def test_compare_source_with_several_faces_warns_which_face_is_used(photos, capsys):
    code = main(["compare", "--json", str(photos / "group.jpg"), str(photos / "astronaut.jpg")])
    captured = capsys.readouterr()
    (record,) = json_lines(captured.out)
    assert code == 0 and len(record["matches"]) == 1
    (warning,) = captured.err.strip().splitlines()
    assert "warning" in warning and "group.jpg" in warning and "3 faces" in warning and "largest" in warning
    assert str(record["source_face"]["box"]) in warning  # the face actually used: the largest (300 px paste)
    assert record["source_face"]["box"][3] > 130


def test_compare_single_face_source_gives_no_warning(photos, capsys):
    assert main(["compare", str(photos / "astronaut.jpg"), str(photos / "group.jpg")]) == 0
    assert capsys.readouterr().err == ""


@pytest.fixture()
def blurred_reference(tmp_path, astronaut, write_jpeg):
    """The astronaut blurred until her face is detected but too soft to compare (face sharpness ~4)."""
    import cv2

    return write_jpeg(cv2.GaussianBlur(astronaut, (0, 0), 8), tmp_path / "blurred.jpg")


@pytest.fixture()
def small_reference(tmp_path, make_group_photo, write_jpeg):
    """One astronaut face pasted 30 px tall: detected, but about 13 px (below the reliable size)."""
    return write_jpeg(make_group_photo(400, 300, [30]), tmp_path / "small.jpg")


@pytest.mark.parametrize(("reference", "message", "error_type"), [
    ("blurred_reference", "too blurred", "FaceTooBlurred"), ("small_reference", "too small", "FaceTooSmall")])
def test_unusable_reference_face_is_a_one_line_error(photos, capsys, request, reference, message, error_type):
    from photosift import errors, imaging
    from photosift.cli.faces import checked_reference

    path = request.getfixturevalue(reference)
    with pytest.raises(getattr(errors, error_type)) as raised:
        checked_reference(imaging.decode(path))
    assert type(raised.value).__name__ == error_type

    for args in (["compare", str(path), str(photos / "astronaut.jpg")], ["find", str(path), "--in", str(photos)]):
        assert main(args) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        (line,) = captured.err.strip().splitlines()
        assert path.name in line and message in line


def test_sharp_reference_passes_the_checks(photos):
    from photosift import imaging
    from photosift.cli.faces import checked_reference

    reference, count = checked_reference(imaging.decode(photos / "astronaut.jpg"))
    assert count == 1 and reference.face.quality.sharpness > 20  # well above the least sharpness (10)
    reference, count = checked_reference(imaging.decode(photos / "group.jpg"))
    assert count == 3 and reference.face.box[3] > 130


def test_find_reference_with_several_faces_warns(photos, capsys):
    assert main(["find", "--json", str(photos / "group.jpg"), "--in", str(photos)]) == 1  # corrupt.jpg
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "group.jpg" in warnings[0] and "3 faces" in warnings[0]


def test_compare_pairs_table_says_yes_and_no(photos, capsys):
    csv_file = photos / "pairs.csv"
    csv_file.write_text("img1,img2\nastronaut.jpg,group.jpg\nastronaut.jpg,blank.jpg\n")
    assert main(["compare", "--pairs", str(csv_file), "--threshold", "100"]) == 1
    assert main(["compare", "--pairs", str(csv_file)]) == 1
    first, second = capsys.readouterr().out.split("┏")[1:]
    assert " no " in first and " yes " in second
    assert "True" not in first + second and "False" not in first + second
