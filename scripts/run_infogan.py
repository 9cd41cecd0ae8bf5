#!/usr/bin/env python
"""Train the blog's InfoGAN (Atienza's Keras book): `python scripts/run_infogan.py --help`."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from models.cli import main  # noqa: E402
from models.infogan import InfoGAN  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(InfoGAN))
