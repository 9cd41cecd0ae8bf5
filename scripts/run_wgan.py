#!/usr/bin/env python
"""Train Keras-GAN's WGAN (the blog "WGAN与DCGAN的区别"): `python scripts/run_wgan.py --help`."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from models.cli import main  # noqa: E402
from models.wgan import WGAN  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(WGAN))
