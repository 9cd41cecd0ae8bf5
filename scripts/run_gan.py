#!/usr/bin/env python
"""Train the DRAGAN blog's plain GAN: `python scripts/run_gan.py --help`."""

import sys

from models.cli import main
from models.gan import GAN

if __name__ == "__main__":
    sys.exit(main(GAN))
