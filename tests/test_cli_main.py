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
