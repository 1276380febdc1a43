"""``photosift.application.validation``: the one check of names, file names, ids, lists and event ids."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from photosift.application import validation as v
from photosift.errors import InvalidInput


def test_names_are_stripped_and_bounded() -> None:
    assert v.check_name("  Ann  ") == "Ann"
    assert v.check_name("n" * 200) == "n" * 200
    assert v.check_name("Zoë 👩‍👩‍👧") == "Zoë 👩‍👩‍👧"  # joiners (format characters) are fine
    for bad in ("", "   ", "n" * 201, "a\x00b", "tab\there", "line\nbreak", "\x7f", "\ud800", "nel\x85inside"):
        with pytest.raises(InvalidInput):
            v.check_name(bad)


def test_file_names_keep_their_basename() -> None:
    assert v.check_filename("IMG_0001.JPG") == "IMG_0001.JPG"
    assert v.check_filename("holiday/day 1/a.jpg") == "a.jpg"
    assert v.check_filename("C:\\Users\\me\\b.heic") == "b.heic"
    assert v.check_filename("f" * 255) == "f" * 255
    assert v.check_filename("../" + "d" * 600 + "/c.jpg") == "c.jpg"
    assert v.check_filename(None) is None and v.check_filename("folder/") is None
    for bad in ("f" * 256, "a\x00.jpg", "new\nline.jpg", "\udcff.jpg"):
        with pytest.raises(InvalidInput):
            v.check_filename(bad)


def test_ids_and_id_lists() -> None:
    assert v.check_id("066192b4955ccd347896") == "066192b4955ccd347896"
    assert v.check_id("unknown") == "unknown"
    for bad in ("", "a" * 65, "a b", "a/b", "a\x00", "abc\n", "é"):
        with pytest.raises(InvalidInput):
            v.check_id(bad)
    assert v.check_ids(["b", "a", "b"]) == ["b", "a"]
    assert len(v.check_ids([f"f{i}" for i in range(v.MAX_LIST)])) == v.MAX_LIST
    for bad in ([], ["f"] * (v.MAX_LIST + 1), ["ok", "not ok"]):
        with pytest.raises(InvalidInput):
            v.check_ids(bad)


def test_thresholds() -> None:
    assert v.check_threshold(None) is None and v.check_threshold(0) == 0 and v.check_threshold(100) == 100
    for bad in (-0.1, 100.5, float("nan"), float("inf")):
        with pytest.raises(InvalidInput):
            v.check_threshold(bad)


def test_event_ids_are_ascii_digits_within_int64() -> None:
    assert v.check_event_id("0") == 0 and v.check_event_id(str(2**63 - 1)) == 2**63 - 1 and v.check_event_id(7) == 7
    for bad in (str(2**63), "9" * 5000, "\u0661\u0662", "-1", "1.0", "", "0x10", "1_000", -1, 2**63):
        with pytest.raises(InvalidInput):
            v.check_event_id(bad)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_a_name_or_a_clear_refusal(text: str) -> None:
    """Whatever a client sends, a name either passes as text both databases store, or is ``InvalidInput``."""
    try:
        name = v.check_name(text)
    except InvalidInput as exc:
        assert str(exc)
        return
    assert 1 <= len(name) <= v.MAX_NAME and "\x00" not in name
    name.encode("utf-8")  # no lone surrogates


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_text_is_an_event_id_or_a_clear_refusal(text: str) -> None:
    try:
        value = v.check_event_id(text)
    except InvalidInput:
        return
    assert 0 <= value <= v.MAX_EVENT_ID and text.strip().isascii()
