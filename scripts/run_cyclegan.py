#!/usr/bin/env python
"""Train Keras-GAN's CycleGAN (Pokemon regular <-> shiny by default):
`python scripts/run_cyclegan.py --help`.

Evaluate a trained run against the true pairs with `python -m reproduce.eval_cyclegan`
and the same flags.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from models.cli import main  # noqa: E402
from models.cyclegan import CycleGAN  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(CycleGAN))
