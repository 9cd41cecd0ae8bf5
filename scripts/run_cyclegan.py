#!/usr/bin/env python
"""Train Keras-GAN's CycleGAN (Pokemon regular <-> shiny by default):
`python scripts/run_cyclegan.py --help`.

Evaluate a trained run against the true pairs with `python -m reproduce.eval_cyclegan`
and the same flags.
"""

import sys

from models.cli import main
from models.cyclegan import CycleGAN

if __name__ == "__main__":
    sys.exit(main(CycleGAN))
