"""The ``photosift`` command itself: --version, help text for every command, one-line usage errors."""

from __future__ import annotations

import pytest

from photosift import __version__
from photosift.cli import main

COMMANDS = ["serve", "blur", "detect", "compare", "find", "analyze"]


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"photosift {__version__}"


def test_main_help_lists_commands_and_exit_codes(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(command in out for command in COMMANDS)
    assert "Exit codes" in out and "--version" in out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_text_without_markup(capsys, monkeypatch, command):
    monkeypatch.setenv("COLUMNS", "100")
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    usage, description = out.split("\n\n")[:2]
    assert usage.startswith(f"usage: photosift {command}")
    assert len(description.split()) >= 12  # a description, not just the usage line
    assert "``" not in out and ":func:" not in out
    assert max(len(line) for line in out.splitlines()) <= 100  # wrapped to the terminal


@pytest.mark.parametrize("command", ["blur", "detect", "compare", "find", "analyze"])
def test_command_help_shows_examples_and_exit_codes(capsys, command):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert f"  photosift {command} " in out and "Exit codes" in out


@pytest.mark.parametrize("argv", [[], ["nosuch"], ["find", "me.jpg"], ["blur", "--threshold", "x", "a.jpg"]])
def test_usage_errors_are_one_line_with_exit_2(capsys, argv):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("photosift") and "--help" in line


def test_an_unknown_recognizer_is_one_line_and_exit_2(tmp_path):
    import os
    import subprocess
    import sys

    env = dict(os.environ, PHOTOSIFT_RECOGNIZER="facenet", PHOTOSIFT_DATA_DIR=str(tmp_path))
    for command in (["compare", "a.jpg", "b.jpg"], ["serve", "--port", "0"]):
        done = subprocess.run([sys.executable, "-m", "photosift", *command], capture_output=True, text=True, env=env,
                              timeout=120)
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip().splitlines() == [
            "photosift: PHOTOSIFT_RECOGNIZER='facenet' is not a recogniser; "
            "choose one of w600k_mbf, sface, sface-yunet"]


def test_an_altered_model_file_stops_a_face_command(monkeypatch, capsys):
    from dataclasses import replace

    from photosift.faces import models

    monkeypatch.setattr(models, "_verified", {})
    monkeypatch.setitem(models.MODELS, "scrfd_500m", replace(models.MODELS["scrfd_500m"], sha256="0" * 64))
    assert main(["compare", "a.jpg", "b.jpg"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "scrfd_500m" in err[0] and "refusing to load it" in err[0]


def test_batch_commands_load_none_of_the_servers_libraries():
    """Every command's process and its workers import what ``photosift.cli`` imports: the service's settings
    (pydantic) and event loop (asyncio) cost a batch command ~50 ms of its start-up for nothing."""
    import subprocess
    import sys

    script = ("import sys, photosift.cli, photosift.cli.faces; "
              "print(sorted(m for m in ('pydantic', 'asyncio', 'fastapi', 'sqlalchemy') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stderr
