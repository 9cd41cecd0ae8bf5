#!/usr/bin/env python
"""Train Keras-GAN's WGAN-GP (the blog "WGAN-GP与WGAN的区别"):
`python scripts/run_wgan_gp.py --help`."""

import sys

from models.cli import main
from models.wgan_gp import WGANGP

if __name__ == "__main__":
    sys.exit(main(WGANGP))
