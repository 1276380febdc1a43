"""``python -m photosift``: the command line (guarded: worker processes started with "spawn" import this module)."""

import sys

from photosift.cli import main

if __name__ == "__main__":
    sys.exit(main())
