import sys

from photosift.cli import main

sys.exit(main())
