#!/usr/bin/env python
"""Train Keras-GAN's ACGAN (the blog "One Day One GAN", day 4).

`python scripts/run_acgan.py --help` lists the settings.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from models.cli import main  # noqa: E402
from models.acgan import ACGAN  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(ACGAN))
