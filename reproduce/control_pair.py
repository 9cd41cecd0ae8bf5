"""A CycleGAN control pair whose truth is learnable: B = a fixed global recolour of A.

    python -m reproduce.control_pair OUT [--source DIR] [--hue DEGREES]

Regular <-> shiny sprites have no domain-wide mapping (each species has its own shiny
palette), so no unpaired model can be expected to reach their paired PSNR. This writes a
domain B in which one mapping exists: every sprite of the source folder (default: the
regular sprites, $GAN_DATA_DIR/pokemon/regular) with its RGB rotated about the grey axis
by --hue degrees (default 120), alpha kept, under the same file name. Greys (the white
background among them) stay as they are. Training on A = the source folder and B = OUT
stays unpaired (CycleGAN shuffles each domain on its own); `reproduce.eval_cyclegan`
then measures the translation against the true pairs, which here a model can learn.
Exit status: 0, 1 (no source images, OUT unwritable), 2 (bad flags).
"""

import argparse
import os
import sys

import numpy as np
from PIL import Image

import data as data_lib
from errors import DataError, GanReproError, report

PROG = "python -m reproduce.control_pair"


def hue_matrix(degrees):
    """The 3x3 matrix rotating RGB about the grey axis (1, 1, 1) by `degrees`."""
    t = np.deg2rad(degrees)
    cross = np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], np.float64) / np.sqrt(3.0)
    return np.cos(t) * np.eye(3) + (1 - np.cos(t)) / 3.0 * np.ones((3, 3)) + np.sin(t) * cross


def recolour(rgba, degrees):
    """`rgba` uint8 [H, W, 4] with its RGB hue-rotated by `degrees` (clipped to 0..255)."""
    rgb = rgba[..., :3].astype(np.float64) @ hue_matrix(degrees).T
    out = rgba.copy()
    out[..., :3] = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    return out


def write_pair(source, out, degrees):
    """Write every image of `source` recoloured into `out`; the number written."""
    names = sorted(n for n in os.listdir(source)
                   if os.path.splitext(n)[1].lower() in data_lib.IMAGE_EXTENSIONS
                   and not n.startswith("."))
    if not names:
        raise DataError("no images in %s: point --source at a folder of sprites" % source)
    os.makedirs(out, exist_ok=True)
    for name in names:
        with Image.open(os.path.join(source, name)) as image:
            rgba = np.asarray(image.convert("RGBA"))
        target = os.path.join(out, os.path.splitext(name)[0] + ".png")
        tmp = target + ".tmp.png"
        Image.fromarray(recolour(rgba, degrees), "RGBA").save(tmp)
        os.replace(tmp, target)
    return len(names)


def main(argv=None):
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.strip(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", metavar="OUT", help="the folder domain B is written to")
    parser.add_argument("--source", metavar="DIR", default=None,
                        help="domain A [default: the regular sprites]")
    parser.add_argument("--hue", type=float, default=120.0, metavar="DEGREES",
                        help="the hue rotation [default: 120]")
    args = parser.parse_args(argv)
    try:
        source = args.source or data_lib.locate_named_folder("pokemon")
        n = write_pair(os.path.abspath(source), args.out, args.hue)
    except (GanReproError, OSError) as e:
        return report(PROG, e)
    print("wrote %d sprites of %s hue-rotated by %g degrees into %s" % (n, source, args.hue,
                                                                       args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
