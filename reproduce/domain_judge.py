"""The domain judge: tells CycleGAN's two domains apart, for the measure "translated A is
judged as B" (reproduce/quality.py's domain_* rows).

Form. Logistic regression (L2-penalised, fitted by Newton's method from zero weights: no
randomness, the same weights on every machine up to float rounding) on an image's colour
statistics: the histogram of its foreground pixels (a pixel is background when every
channel is >= FOREGROUND, the white the sprites are composited on) over LEVELS levels per
channel (6^3 = 216 colour bins for RGB), normalised to sum 1 and square-rooted (so a few
pixels of a rare colour count), each feature standardised on the training images. The
shape of a sprite is left out on purpose: the judge is to say which palette family a
sprite is drawn in, not which species it is.

A range check. A discriminative judge calls anything: on images unlike every sprite (an
untrained generator's noise) this one says "B" for nearly all of them, since colours
rare among regular sprites are what it learned shiny ones have. So a call counts only
for an image within the range of real sprites (`typical`): its colour features are no
farther (Euclidean, i.e. the Hellinger distance times sqrt 2) from the nearest training
sprite than the TYPICAL_PERCENTILE-th percentile of the distances from each training
sprite to its nearest training sprite of another species. Real held-out sprites pass
(about 98-100%), and so do blurred ones or ones with mild noise (sd 0.03); noise, and
sprites under heavy noise (sd 0.08), do not. A translation judged "B" must be typical.

Split by species. The names of the two folders are paired (the same file name in both);
a name's species is its first word ("charizard-mega-x.png": "charizard"), so the forms
of one species (and the few species whose names share a first word, e.g. "tapu-koko"
and "tapu-lele") fall on one side. A species is held out when a seeded draw keyed by its
name falls below TEST_SHARE: the split of a species does not depend on which other names
are in the folder. The judge trains on both domains' images of the other species and is
measured on the held-out ones, so it cannot learn a species' own shiny palette; the
measures on a model use the held-out species only.

Training on the 1,332 sprite pairs at 64x64 takes a few seconds on one CPU core, so the
judge is not cached on disk; quality.py keeps it for all the checkpoints of an evaluation.
Measured at 64x64 (seed 547: 275 held-out pairs of 200 species; the accuracy is the mean
of real A judged A and real B judged B): regular vs shiny 0.69 (real shiny judged shiny
0.63, untranslated regular judged shiny 0.24): the domains differ per species, not by one
palette, and a colour judge tells them apart only so far; the split moves it (seeds 548,
549: 0.59, 0.64). The control pair (B = A hue-rotated by 120 degrees,
reproduce/control_pair.py): 0.93 (0.91 and 0.04). See docs/evaluation.md.
"""

import os
import time

import numpy as np

import utils
from errors import DataError

FOREGROUND = 0.9        # a pixel with every channel at or above this is background
LEVELS = 6              # quantisation levels per channel of the colour histogram
L2 = 10.0               # the penalty on the (standardised) weights
TEST_SHARE = 0.25       # the share of species held out
TYPICAL_PERCENTILE = 99  # of the training sprites' nearest other-species distances
SEED = 547
NEWTON_STEPS = 50


def species(name):
    """The species of a sprite file name: the first word of its stem, lower case."""
    return os.path.splitext(os.path.basename(name))[0].split("-")[0].lower()


def species_split(names, seed=SEED, test_share=TEST_SHARE):
    """Boolean [n]: True for a name whose species is held out (a seeded draw per species)."""
    sides = {}
    for s in {species(n) for n in names}:
        sides[s] = utils.make_rng(seed, "domain-judge-split", s).random() < test_share
    return np.array([sides[species(n)] for n in names], bool)


def colour_features(images, levels=LEVELS, foreground=FOREGROUND):
    """[n, levels ** channels]: the square root of each image's normalised histogram of its
    foreground colours (zeros for an image with no foreground)."""
    images = np.asarray(images, np.float32)
    if images.ndim == 3:
        images = images[..., None]
    n, channels = len(images), images.shape[-1]
    pixels = images.reshape(n, -1, channels)
    fg = pixels.min(axis=2) < foreground
    q = np.clip((pixels * levels).astype(np.int64), 0, levels - 1)
    code = np.zeros(q.shape[:2], np.int64)
    for c in range(channels):
        code = code * levels + q[..., c]
    bins = levels ** channels
    # One bincount over (image, colour) pairs of the foreground pixels.
    flat = (np.arange(n)[:, None] * bins + code)[fg]
    hist = np.bincount(flat, minlength=n * bins).reshape(n, bins).astype(np.float64)
    hist /= np.maximum(fg.sum(axis=1), 1)[:, None]
    return np.sqrt(hist)


class DomainJudge:
    """P(domain B | image) by logistic regression on `colour_features`."""

    def __init__(self, weights, mean, scale, info=None, reference=None, radius=np.inf):
        self.weights, self.mean, self.scale = weights, mean, scale
        self.info = dict(info or {})
        self.held_out = None        # train(): the mask of the held-out pairs
        self.reference = reference  # the training sprites' features (the range check)
        self.radius = radius        # how far from the nearest of them an image may be

    @classmethod
    def fit(cls, features_a, features_b, l2=L2, steps=NEWTON_STEPS):
        """Fit on features of domain A (label 0) and domain B (label 1)."""
        x = np.concatenate([features_a, features_b]).astype(np.float64)
        y = np.concatenate([np.zeros(len(features_a)), np.ones(len(features_b))])
        if not len(features_a) or not len(features_b):
            raise DataError("the domain judge needs training images of both domains")
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[scale < 1e-8] = 1.0           # a colour no training image has
        z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
        penalty = l2 * np.eye(z.shape[1])
        penalty[-1, -1] = 0.0               # the bias is not penalised
        w = np.zeros(z.shape[1])
        for _ in range(steps):
            p = _sigmoid(z @ w)
            grad = z.T @ (p - y) + penalty @ w
            hess = (z * (p * (1.0 - p))[:, None]).T @ z + penalty
            step = np.linalg.solve(hess, grad)
            w -= step
            if np.abs(step).max() < 1e-9:
                break
        return cls(w, mean, scale)

    def prob_b(self, images):
        """P(B) of each image [n, h, w, c] in [0, 1]."""
        z = (colour_features(images) - self.mean) / self.scale
        return _sigmoid(z @ self.weights[:-1] + self.weights[-1])

    def calls_b(self, images):
        """True where the judge calls the image B (P(B) > 0.5)."""
        return self.prob_b(images) > 0.5

    def typical(self, images):
        """True where the image is within the range of the real sprites (see above)."""
        if self.reference is None:
            return np.ones(len(images), bool)
        return _nearest(colour_features(images), self.reference) <= self.radius

    def judged(self, images):
        """(judged A, judged B) [n] booleans: typical and called A, typical and called B."""
        typical, b = self.typical(images), self.calls_b(images)
        return typical & ~b, typical & b

    def close(self):
        """Nothing to release (quality.py closes every context it holds)."""


def _nearest(features, reference, exclude=None, batch=512):
    """The distance from each row of `features` to its nearest row of `reference`;
    `exclude` [n, m] bool: pairs not to count."""
    ref_sq = (reference ** 2).sum(axis=1)
    out = np.empty(len(features))
    for i in range(0, len(features), batch):
        f = features[i:i + batch]
        d2 = (f ** 2).sum(axis=1)[:, None] + ref_sq[None] - 2.0 * f @ reference.T
        if exclude is not None:
            d2[exclude[i:i + batch]] = np.inf
        out[i:i + batch] = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
    return out


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0)))


def train(names, images_a, images_b, seed=SEED, test_share=TEST_SHARE):
    """A judge trained on the pairs (`names`, `images_a`, `images_b`: the same name's image
    in each domain, in one order) of the species not held out.

    Returns:
      (DomainJudge with `info` [train/test pairs, held-out accuracy (typical and
      called right), seconds], its range check's reference and radius, and
      `held_out`, the held-out mask [n]; that mask).
    Raises:
      DataError: no species on one side of the split (too few names).
    """
    if not (len(names) == len(images_a) == len(images_b)):
        raise DataError("the domain judge needs paired images: %d names, %d A, %d B"
                        % (len(names), len(images_a), len(images_b)))
    test = species_split(names, seed, test_share)
    if test.all() or not test.any():
        raise DataError("the domain judge's species split left one side empty (%d names): "
                        "it needs sprites of several species" % len(names))
    start = time.time()
    fa, fb = colour_features(images_a), colour_features(images_b)
    judge = DomainJudge.fit(fa[~test], fb[~test])
    judge.held_out = test
    judge.reference = np.concatenate([fa[~test], fb[~test]])
    kinds = np.array([species(n) for n, t in zip(names, test) if not t] * 2)
    judge.radius = float(np.percentile(_nearest(judge.reference, judge.reference,
                                                kinds[:, None] == kinds[None]),
                                       TYPICAL_PERCENTILE))
    judge.info = dict(train_pairs=int((~test).sum()), test_pairs=int(test.sum()),
                      test_species=len({species(n) for n, t in zip(names, test) if t}),
                      seed=seed, radius=round(judge.radius, 4),
                      seconds=round(time.time() - start, 2))
    b_as_b = judge.judged(images_b[test])[1].mean()
    a_as_a = judge.judged(images_a[test])[0].mean()
    judge.info.update(test_accuracy=float((b_as_b + a_as_a) / 2.0),
                      test_a_judged_a=float(a_as_a), test_b_judged_b=float(b_as_b),
                      test_typical=float(np.mean(np.r_[judge.typical(images_a[test]),
                                                       judge.typical(images_b[test])])))
    return judge, test
