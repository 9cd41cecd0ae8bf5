#!/usr/bin/env python
"""Train the blog's DCGAN on 40x40 Pokemon sprites (MSE loss).

`python scripts/run_dcgan_pokemon.py --help`
"""

import sys

from models.cli import main
from models.dcgan import DCGANPokemon

if __name__ == "__main__":
    sys.exit(main(DCGANPokemon))
