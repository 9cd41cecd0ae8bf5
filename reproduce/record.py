"""Regenerate recorded reference trajectories (the only command that writes them).

    python -m reproduce.record dragan        # rewrite reproduce/reference/dragan.json
    python -m reproduce.record --check dragan  # compare a fresh run, write nothing
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from errors import GanReproError  # noqa: E402
from reproduce import reference  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m reproduce.record", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="+", choices=reference.recipe_names(),
                        help="recipes to record")
    parser.add_argument("--check", action="store_true",
                        help="compare with the recorded file instead of writing it")
    parser.add_argument("--data-dir", default=None, help="where MNIST is (default: the usual "
                        "lookup: $GAN_DATA_DIR, the cache, a download)")
    args = parser.parse_args(argv)
    status = 0
    try:
        for name in args.names:
            if args.check:
                exact, worst = reference.compare(reference.load(name)["losses"],
                                                 reference.run(name, args.data_dir))
                ok = worst <= reference.RTOL
                print("%s: %s (max relative difference %.3g, tolerance %g)"
                      % (name, "bit-exact" if exact else ("within tolerance" if ok else "DIFFERS"),
                         worst, reference.RTOL))
                status |= 0 if ok else 1
            else:
                losses = reference.record(name, args.data_dir)
                print("%s: recorded %d steps into %s" % (name, len(losses["d_loss"]),
                                                          reference.path(name)))
    except GanReproError as e:
        print("record: error: %s" % e, file=sys.stderr)
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
