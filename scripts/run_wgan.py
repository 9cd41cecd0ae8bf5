#!/usr/bin/env python
"""Train Keras-GAN's WGAN (the blog "WGAN与DCGAN的区别"): `python scripts/run_wgan.py --help`."""

import sys

from models.cli import main
from models.wgan import WGAN

if __name__ == "__main__":
    sys.exit(main(WGAN))
