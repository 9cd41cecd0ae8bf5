#!/usr/bin/env python
"""Train the blog's InfoGAN (Atienza's Keras book): `python scripts/run_infogan.py --help`."""

import sys

from models.cli import main
from models.infogan import InfoGAN

if __name__ == "__main__":
    sys.exit(main(InfoGAN))
