"""Human tables of the CLI at any terminal width: headers are never broken inside a word, lines never exceed the
width; a table too wide for that becomes one record per row."""

from __future__ import annotations

import re

import pytest

from photosift.cli import main
from photosift.cli.output import column_widths, print_table

DETECT = ["path", "face", "box [l, t, w, h]", "confidence", "yaw/pitch/roll", "sharpness", "brightness"]
ROWS = [["/photos/2026 Jeju trip/day 1/IMG_0001.jpg", 1, [180, 60, 92, 119], 99.7, "+1/-16/+4", 56.6, 61.3],
        ["/photos/2026 Jeju trip/day 1/IMG_0002.jpg", 2, [1135, 310, 131, 165], 99.8, "+0/-20/+1", 49.6, 61.6],
        ["/photos/missing.jpg", "-", "cannot read /photos/missing.jpg: No such file or directory", "", "", "", ""]]


def tokens(text: str) -> set[str]:
    """The words of printed text, table borders taken for spaces."""
    return set(re.split(r"[\s\u2500-\u257f]+", text))


def printed(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, width: int, columns: list[str],
            rows: list[list]) -> str:
    monkeypatch.setenv("COLUMNS", str(width))
    print_table(columns, rows)
    return capsys.readouterr().out


@pytest.mark.parametrize("width", [24, 40, 60, 80, 100, 140, 200])
def test_headers_stay_whole_and_lines_fit_the_terminal(capsys, monkeypatch, width: int) -> None:
    out = printed(capsys, monkeypatch, width, DETECT, ROWS)
    assert max(map(len, out.splitlines())) <= width, out
    words = tokens(out)
    assert {word for header in DETECT for word in header.split()} <= words, out
    assert {"99.7", "56.6", "61.3", "49.6", "+1/-16/+4", "directory"} <= words, out  # short values stay whole
    assert all(line == line.rstrip() for line in out.splitlines())


def test_wide_terminals_get_a_table_narrow_ones_records(capsys, monkeypatch) -> None:
    wide = printed(capsys, monkeypatch, 140, DETECT, ROWS)
    assert wide.splitlines()[2].startswith("\u2521")  # the headers take one line
    assert "/photos/2026 Jeju trip/day 1/IMG_0001.jpg" in printed(capsys, monkeypatch, 200, DETECT, ROWS)
    narrow = printed(capsys, monkeypatch, 80, DETECT, ROWS)
    assert "\u2503" not in narrow
    first = narrow.split("\n\n")[0].splitlines()
    assert [line.split("  ")[0] for line in first] == DETECT
    assert first[0].endswith("/photos/2026 Jeju trip/day 1/IMG_0001.jpg") and first[2].endswith("[180, 60, 92, 119]")
    assert len(narrow.split("\n\n")) == len(ROWS)


def test_column_widths() -> None:
    rows = [[str(c) for c in row] for row in ROWS[:2]]
    assert column_widths(DETECT, rows, 80) is None  # 7 headers and a path need more than 80 cells
    widths = column_widths(DETECT, rows, 100)
    assert widths is not None and sum(widths) + 3 * len(DETECT) + 1 <= 100
    assert all(w >= max(map(len, header.split())) for w, header in zip(widths, DETECT, strict=True))
    assert column_widths(["a", "b"], [], 80) == [1, 1]


@pytest.fixture()
def photos(tmp_path, astronaut, make_group_photo, write_jpeg):
    folder = tmp_path / "photos"
    folder.mkdir()
    write_jpeg(astronaut, folder / "astronaut.jpg")
    write_jpeg(make_group_photo(1200, 800, [300, 240, 200]), folder / "group.jpg")
    return folder


@pytest.mark.parametrize("width", [80, 60])
def test_detect_at_80_and_60_columns(photos, capsys, monkeypatch, width: int) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    assert main(["detect", str(photos / "astronaut.jpg"), str(photos / "group.jpg")]) == 0
    out = capsys.readouterr().out
    assert max(map(len, out.splitlines())) <= width, out
    assert {"confidence", "yaw/pitch/roll", "sharpness", "brightness", "box", "[l,", "h]"} <= tokens(out), out
    assert out.count("confidence") == 4  # a record per face: astronaut's and the group's three
