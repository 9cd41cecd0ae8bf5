#!/usr/bin/env python
"""Train Keras-GAN's ACGAN (the blog "One Day One GAN", day 4).

`python scripts/run_acgan.py --help` lists the settings.
"""

import sys

from models.cli import main
from models.acgan import ACGAN

if __name__ == "__main__":
    sys.exit(main(ACGAN))
