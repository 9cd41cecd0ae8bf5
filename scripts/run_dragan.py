#!/usr/bin/env python
"""Train DRAGAN with the blog's defaults: `python scripts/run_dragan.py --help`."""

import sys

from models.cli import main
from models.dragan import DRAGAN

if __name__ == "__main__":
    sys.exit(main(DRAGAN))
