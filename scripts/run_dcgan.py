#!/usr/bin/env python
"""Train the blog's DCGAN on MNIST (TF DCGAN tutorial): `python scripts/run_dcgan.py --help`."""

import sys

from models.cli import main
from models.dcgan import DCGAN

if __name__ == "__main__":
    sys.exit(main(DCGAN))
