#!/usr/bin/env python
"""Train Keras-GAN's WGAN-GP (the blog "WGAN-GP与WGAN的区别"):
`python scripts/run_wgan_gp.py --help`."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from models.cli import main  # noqa: E402
from models.wgan_gp import WGANGP  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(WGANGP))
