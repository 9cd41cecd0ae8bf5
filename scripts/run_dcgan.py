#!/usr/bin/env python
"""Train the blog's DCGAN on MNIST (TF DCGAN tutorial): `python scripts/run_dcgan.py --help`."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from models.cli import main  # noqa: E402
from models.dcgan import DCGAN  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(DCGAN))
