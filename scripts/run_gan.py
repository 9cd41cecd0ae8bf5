#!/usr/bin/env python
"""Train the DRAGAN blog's plain GAN: `python scripts/run_gan.py --help`."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from models.cli import main  # noqa: E402
from models.gan import GAN  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(GAN))
