"""The ``photosift`` command: one sub-command per module in this package."""

from __future__ import annotations

import argparse
import sys

from photosift.cli import analyze, blur, faces, serve


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="photosift", description="Self-hosted photo analysis.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (serve, blur, faces, analyze):
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("photosift: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
