#!/usr/bin/env python
"""Train Keras-GAN's CGAN (the blog "CGAN与GAN的区别"): `python scripts/run_cgan.py --help`."""

import sys

from models.cli import main
from models.cgan import CGAN

if __name__ == "__main__":
    sys.exit(main(CGAN))
