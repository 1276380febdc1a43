"""The ``photosift`` command: one sub-command per module in this package."""

from __future__ import annotations

import argparse
import sys
import textwrap

from photosift import __version__
from photosift.cli import analyze, blur, faces, serve, worker
from photosift.cli.output import EXIT_CODES
from photosift.errors import PhotosiftError


class HelpFormatter(argparse.HelpFormatter):
    """Wraps each paragraph of a description or epilog to the terminal; indented lines (examples) stay as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = []
        for paragraph in text.strip("\n").split("\n\n"):
            if paragraph.startswith(" "):
                paragraphs.append("\n".join(indent + line for line in paragraph.splitlines()))
            else:
                paragraphs.append(textwrap.fill(" ".join(paragraph.split()), width, initial_indent=indent,
                                                subsequent_indent=indent))
        return "\n\n".join(paragraphs)


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (exit code 2), like every other failure."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {' '.join(message.split())} (see '{self.prog} --help')\n")


FACE_COMMANDS = {"analyze", "detect", "compare", "find", "worker"}
"""Commands that load the face models (``serve`` checks them when it builds the app)."""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="photosift",
        description="Self-hosted photo analysis: blur, faces and face comparison on the command line, and the "
                    "HTTP service (web UI, REST API, Rekognition-compatible endpoint). 'photosift COMMAND --help' "
                    "describes a command.",
        epilog=EXIT_CODES,
    )
    parser.add_argument("--version", action="version", version=f"photosift {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (serve, worker, blur, faces, analyze):
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) and usage errors (2, already reported)
        return int(exc.code or 0)
    try:
        if args.command in FACE_COMMANDS:
            from photosift.faces import verify_models

            verify_models()  # an unknown PHOTOSIFT_RECOGNIZER or an altered model file: one line, exit 2
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("photosift: interrupted", file=sys.stderr)
        return 130
    except PhotosiftError as exc:  # e.g. ModelUnavailable (a model file missing or altered), InvalidSetting
        print(f"photosift: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
