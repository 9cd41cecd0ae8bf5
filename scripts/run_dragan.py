#!/usr/bin/env python
"""Train DRAGAN with the blog's defaults: `python scripts/run_dragan.py --help`."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from models.cli import main  # noqa: E402
from models.dragan import DRAGAN  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(DRAGAN))
