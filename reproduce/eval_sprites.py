"""How close the Pokemon DCGAN's samples come to the sprites, with nothing downloaded.

There is no judge for sprites (no labels, no pretrained network offline), so the
measure lives in pixel space. The sprites the run trained on (all of them: the blog
used every one) are cut once, by a fixed seeded permutation, into a reference half R
and a second half H. Images are flattened (40x40x3 in [0, 1]) and projected on the
first `COMPONENTS` principal components of R. Then:

- pixel-PCA Frechet distance: the Frechet distance between the Gaussians fitted to the
  projections of a set and of R. The generator's score uses |H| samples (the same count
  as H, so both carry the same small-sample bias), drawn `DRAWS` times with different
  seeds (mean and std). The floor is H's own distance to R: two halves of the real
  sprites, what a sampler of the sprites' distribution would score. The model saw H
  during training too: H is held out from the reference, not from training.
- nearest-neighbour RMS: for each image, the root-mean-square pixel distance to its
  nearest sprite of R; the median over the samples beside the median over H. Samples
  much closer to R than real sprites are (a ratio well below 1) copy training sprites;
  a ratio well above 1 means they sit away from every sprite.

What it can tell: whether samples have the sprites' colours, white background, centred
blob and its layout and variety, and whether they copy training sprites. What it
cannot: whether a sample looks like a creature; pixel statistics reward blurry averages
that no one would call a Pokemon. Look at the grid beside it.
"""

import numpy as np

from reproduce import metrics

COMPONENTS = 50
DRAWS = 5
SPLIT_SEED = 547


def halves(images, seed=SPLIT_SEED):
    """(reference half R, second half H) of `images` [N, ...] by a seeded permutation."""
    order = np.random.default_rng(seed).permutation(len(images))
    cut = (len(images) + 1) // 2
    return images[order[:cut]], images[order[cut:]]


def pca_basis(reference, components=COMPONENTS):
    """(mean [D], basis [D, k]) of the flattened `reference` images."""
    flat = np.asarray(reference, np.float64).reshape(len(reference), -1)
    mean = flat.mean(axis=0)
    _, _, vt = np.linalg.svd(flat - mean, full_matrices=False)
    return mean, vt[:min(components, len(vt))].T


def project(images, basis):
    mean, vectors = basis
    return (np.asarray(images, np.float64).reshape(len(images), -1) - mean) @ vectors


def nearest_rms(images, reference):
    """Per image of `images`, the RMS pixel distance to its nearest image of `reference`."""
    a = np.asarray(images, np.float64).reshape(len(images), -1)
    b = np.asarray(reference, np.float64).reshape(len(reference), -1)
    d2 = (a ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(d2.min(axis=1), 0.0) / a.shape[1])


def measure(reference, held_out, sample_sets):
    """Every number of the module docstring: `sample_sets` are `DRAWS` arrays of |H|
    samples each, all images [n, H, W, C] in [0, 1]."""
    basis = pca_basis(reference)
    ref_features = project(reference, basis)
    floor_fd = metrics.frechet_distance_of(project(held_out, basis), ref_features)
    fds = [metrics.frechet_distance_of(project(s, basis), ref_features) for s in sample_sets]
    floor_nn = float(np.median(nearest_rms(held_out, reference)))
    sample_nn = float(np.median(nearest_rms(sample_sets[0], reference)))
    return dict(components=int(basis[1].shape[1]), reference=int(len(reference)),
                held_out=int(len(held_out)), draws=len(sample_sets),
                pca_fd=float(np.mean(fds)), pca_fd_std=float(np.std(fds, ddof=1))
                if len(fds) > 1 else 0.0, pca_fd_draws=[float(x) for x in fds],
                floor_pca_fd=float(floor_fd), nn_rms_median=sample_nn,
                floor_nn_rms_median=floor_nn, nn_ratio=sample_nn / floor_nn)


def evaluate(model, draw_samples, seed=0):
    """The measure of a restored sprite model; `draw_samples(model, n, seed)` gives
    samples in [0, 1] (reproduce.evaluate's)."""
    reference, held_out = halves(model.dataset.images)
    sets = [draw_samples(model, len(held_out), seed + i)[0] for i in range(DRAWS)]
    result = measure(reference, held_out, sets)
    result.update(split_seed=SPLIT_SEED, sample_seeds=[seed + i for i in range(DRAWS)],
                  source=model.dataset.source)
    return result
