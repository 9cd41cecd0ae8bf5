"""Pure metric functions of the evaluation (NumPy only, no TensorFlow, no SciPy).

- `frechet_distance` / `frechet_distance_of`: the Frechet distance of two Gaussians
  fitted to features (Heusel et al. 2017's FID formula; here on the project's own
  classifier's penultimate features, not Inception's: "classifier FID").
- `classifier_score`: exp(E_x KL(p(y|x) || p(y))), the Inception-score form
  (Salimans et al. 2016) on the project's classifier; at most the number of classes.
- `class_histogram`, `kl_to_uniform`: mode coverage of samples sorted by a classifier.
- `best_matching`, `matching_accuracy`: the best one-to-one matching of cluster ids
  (InfoGAN's c1) to classes, exact (dynamic programming over subsets of classes).
- `per_class_accuracy`: accuracy on the requested label, per class (conditional GANs).
- `binarise`, `class_mean_images`, `psnr`, `psnr_per_class`: the DRAGAN blog's
  evaluation (mean binarised image per digit, PSNR between real and generated means;
  the blog takes peak 255 on mean images in [0, 1], blog quirk 7).
- `toy_*`: the 2-D mode-collapse study's data and metrics (modes covered, share of
  high-quality samples, reverse KL over modes).
"""

import math

import numpy as np


# ---- Frechet distance -------------------------------------------------------------

def feature_moments(features):
    """(mean [d], covariance [d, d]) of features [n, d] in float64 (covariance with n - 1)."""
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError("features must be [n >= 2, d], got shape %s" % (features.shape,))
    return features.mean(axis=0), np.cov(features, rowvar=False).reshape(
        features.shape[1], features.shape[1])


def _sqrt_psd(matrix):
    """Symmetric square root of a symmetric positive semi-definite matrix."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)) of two Gaussians.

    tr((S1 S2)^(1/2)) is computed as tr((S1^(1/2) S2 S1^(1/2))^(1/2)) (the same
    eigenvalues, but of a symmetric PSD matrix: no complex parts, no SciPy). The result
    is clipped at 0 (rounding can make a distance of a set with itself -1e-12).
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2).astype(
        np.float64)
    root1 = _sqrt_psd(sigma1)
    middle = root1 @ sigma2 @ root1
    covmean_trace = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2.0),
                                           0.0, None)))
    value = float(np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2)
                  - 2.0 * covmean_trace)
    return max(value, 0.0)


def frechet_distance_of(features_a, features_b):
    """Frechet distance between Gaussians fitted to two feature sets [n, d], [m, d]."""
    return frechet_distance(*feature_moments(features_a), *feature_moments(features_b))


# ---- classifier score and mode coverage -----------------------------------------------

def classifier_score(probs, eps=1e-12):
    """exp(mean_x KL(p(y|x) || p(y))) with p(y) the mean prediction (probs [n, k]).

    1 when every sample gets the same prediction; k for confident (one-hot)
    predictions spread evenly over k classes.
    """
    probs = np.asarray(probs, np.float64)
    marginal = probs.mean(axis=0, keepdims=True)
    kl = np.sum(probs * (np.log(probs + eps) - np.log(marginal + eps)), axis=1)
    return float(np.exp(np.mean(kl)))


def class_histogram(labels, num_classes):
    """Counts [num_classes] of integer labels."""
    return np.bincount(np.asarray(labels, np.int64), minlength=num_classes)[:num_classes]


def kl_to_uniform(counts):
    """KL(p || uniform) in nats of the histogram `counts`: 0 for an even spread, log k
    when every sample is in one class (empty classes add 0)."""
    counts = np.asarray(counts, np.float64)
    p = counts / counts.sum()
    nonzero = p > 0
    return float(np.sum(p[nonzero] * np.log(p[nonzero] * len(p))))


def per_class_accuracy(predicted, requested, num_classes):
    """(overall accuracy, accuracy [num_classes] per requested class; nan where none)."""
    predicted, requested = np.asarray(predicted), np.asarray(requested)
    correct = predicted == requested
    per_class = np.array([correct[requested == c].mean() if np.any(requested == c) else np.nan
                          for c in range(num_classes)])
    return float(correct.mean()), per_class


# ---- one-to-one matching (InfoGAN's c1 as a classifier) --------------------------------

MAX_MATCHING_COLUMNS = 20


def best_matching(weights):
    """The one-to-one assignment of rows to columns with the largest total weight.

    Exact, by dynamic programming over subsets of columns (2^cols * rows states: tiny
    for 10 x 10).

    Args:
      weights: [rows, cols] with rows <= cols <= MAX_MATCHING_COLUMNS, e.g. a
        confusion matrix (row: c1 value, column: digit).
    Returns:
      (assignment: int array [rows], column of each row; total weight).
    """
    weights = np.asarray(weights, np.float64)
    rows, cols = weights.shape
    if rows > cols:
        raise ValueError("best_matching needs rows <= cols, got %dx%d (transpose it)"
                         % (rows, cols))
    if cols > MAX_MATCHING_COLUMNS:
        raise ValueError("best_matching handles at most %d columns, got %d"
                         % (MAX_MATCHING_COLUMNS, cols))
    # best[mask]: the largest total of rows 0..popcount(mask)-1 matched to the columns in mask.
    size = 1 << cols
    best = np.full(size, -np.inf)
    choice = np.full(size, -1, np.int64)
    best[0] = 0.0
    popcount = np.array([bin(m).count("1") for m in range(size)])
    for mask in range(size):
        row = popcount[mask]
        if row >= rows or best[mask] == -np.inf:
            continue
        for col in range(cols):
            bit = 1 << col
            if mask & bit:
                continue
            value = best[mask] + weights[row, col]
            if value > best[mask | bit]:
                best[mask | bit] = value
                choice[mask | bit] = col
    full = [m for m in range(size) if popcount[m] == rows]
    mask = max(full, key=lambda m: best[m])
    total = best[mask]
    assignment = np.empty(rows, np.int64)
    for row in range(rows - 1, -1, -1):
        col = choice[mask]
        assignment[row] = col
        mask &= ~(1 << col)
    return assignment, float(total)


def confusion_matrix(rows_ids, cols_ids, num_rows, num_cols):
    """counts [num_rows, num_cols] of the pairs (rows_ids[i], cols_ids[i])."""
    matrix = np.zeros((num_rows, num_cols), np.int64)
    np.add.at(matrix, (np.asarray(rows_ids, np.int64), np.asarray(cols_ids, np.int64)), 1)
    return matrix


def matching_accuracy(cluster_ids, labels, num_clusters, num_classes):
    """Accuracy of cluster ids as a classifier under the best one-to-one matching.

    Returns:
      (accuracy, mapping: int array [num_clusters], the class each cluster stands for).
    """
    confusion = confusion_matrix(cluster_ids, labels, num_clusters, num_classes)
    mapping, total = best_matching(confusion)
    return total / max(len(np.asarray(labels)), 1), mapping


# ---- the DRAGAN blog's PSNR ---------------------------------------------------------

def to_uint8(images):
    """Images in [0, 1] -> uint8 0..255 (rounded), as a saved grid's tiles."""
    return np.round(np.clip(np.asarray(images, np.float64), 0.0, 1.0) * 255.0).astype(np.uint8)


def tiles_from_grid(grid, tile_h=28, tile_w=28, pad=0):
    """Cut a grid [H, W] or [H, W, C] into tiles [n, tile_h, tile_w(, C)], row-major."""
    grid = np.asarray(grid)
    rows = (grid.shape[0] + pad) // (tile_h + pad)
    cols = (grid.shape[1] + pad) // (tile_w + pad)
    return np.stack([grid[r * (tile_h + pad):r * (tile_h + pad) + tile_h,
                          c * (tile_w + pad):c * (tile_w + pad) + tile_w]
                     for r in range(rows) for c in range(cols)])


def binarise(images_uint8, threshold=128):
    """The blog's binarisation: pixels <= threshold -> 0, the rest -> 1 (float64)."""
    return (np.asarray(images_uint8) > threshold).astype(np.float64)


def class_mean_images(images, labels, num_classes):
    """Mean image per class: [num_classes, ...]; NaN for a class without images."""
    images = np.asarray(images, np.float64)
    labels = np.asarray(labels)
    out = np.full((num_classes,) + images.shape[1:], np.nan)
    for c in range(num_classes):
        if np.any(labels == c):
            out[c] = images[labels == c].mean(axis=0)
    return out


def psnr(a, b, peak=255.0):
    """10 log10(peak^2 / MSE(a, b)); inf for identical images, NaN if either has NaNs.

    The blog's form takes peak 255 on mean images in [0, 1] (quirk 7), which adds
    20 log10(255) = 48.13 dB to the PSNR with the images' own peak 1.
    """
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    if math.isnan(mse):
        return float("nan")
    if mse == 0.0:
        return float("inf")
    return 10.0 * math.log10(peak ** 2 / mse)


def psnr_per_class(means_a, means_b, peak=255.0):
    """PSNR [num_classes] between two stacks of class mean images (see `psnr`)."""
    return np.array([psnr(a, b, peak) for a, b in zip(means_a, means_b)])


# ---- 2-D toy data and mode metrics ------------------------------------------------------

TOY_DATASETS = ("ring8", "grid25", "swissroll")
# The same three as WGAN-GP's toy code (gan_toy.py in igul222/improved_wgan_training)
# scales them: each divided by about its std (the toy study's `--setting gan_toy`).
GANTOY_DATASETS = ("swissroll_gantoy", "ring8_gantoy", "grid25_gantoy")
_GANTOY_SCALE = dict(ring8_gantoy=1.414, grid25_gantoy=2.828)   # gan_toy.py's divisors
_SWISSROLL_SCALE = 7.5      # WGAN-GP's toy code: make_swiss_roll(noise=0.25)[:, [0, 2]] / 7.5
_SWISSROLL_T = (1.5 * math.pi, 4.5 * math.pi)
SWISSROLL_NOISE = 0.25
SWISSROLL_SEGMENTS = 20     # the roll's "modes": equal pieces of its parameter t


def toy_spec(name):
    """(centres [k, 2] or None, std) of a toy data set.

    ring8: 8 Gaussians on a circle of radius 2, std 0.02 (the mode-collapse test of
      Metz et al. 2017 / WGAN-GP's toy code, unscaled). grid25: 25 Gaussians at
      {-4, -2, 0, 2, 4}^2, std 0.05 (PacGAN, VEEGAN). swissroll: sklearn's swiss roll
      (noise 0.25) in the (x, z) plane / 7.5, as WGAN-GP's and DRAGAN's toy figures:
      no centres, its std is the noise's, 0.25 / 7.5.
    ring8_gantoy, grid25_gantoy: ring8 and grid25 divided by gan_toy.py's 1.414 and
      2.828 (centres and std alike). swissroll_gantoy: the swiss roll as above (its
      samples are drawn in 3-D, `swiss_roll`; the (x, z) plane has the same law).
    """
    if name in _GANTOY_SCALE:
        centres, std = toy_spec(name[:-len("_gantoy")])
        return centres / _GANTOY_SCALE[name], std / _GANTOY_SCALE[name]
    if name == "swissroll_gantoy":
        return toy_spec("swissroll")
    if name == "ring8":
        angles = 2 * np.pi * np.arange(8) / 8
        return 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1), 0.02
    if name == "grid25":
        axis = np.arange(-4.0, 5.0, 2.0)
        return np.array([(x, y) for x in axis for y in axis]), 0.05
    if name == "swissroll":
        return None, 0.25 / _SWISSROLL_SCALE
    raise ValueError("unknown toy data set %r: use one of %s" % (
        name, ", ".join(TOY_DATASETS + GANTOY_DATASETS)))


def swissroll_curve(points=2000):
    """(curve [points, 2], t [points]): the noise-free roll, scaled as the data."""
    t = np.linspace(_SWISSROLL_T[0], _SWISSROLL_T[1], points)
    return np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / _SWISSROLL_SCALE, t


def swiss_roll(n, rng, noise=0.0):
    """[n, 3] float64 points of scikit-learn's `make_swiss_roll` by its definition (not
    its random stream: every draw comes from NumPy Generator rng):
    t = 1.5 pi (1 + 2 u), x = t cos t, y = 21 v, z = t sin t (u, v ~ U[0, 1)), then
    N(0, noise^2) added to each of the three coordinates."""
    t = 1.5 * math.pi * (1.0 + 2.0 * rng.random(n))
    y = 21.0 * rng.random(n)
    points = np.stack([t * np.cos(t), y, t * np.sin(t)], axis=1)
    return points + noise * rng.standard_normal((n, 3))


def toy_sample(name, n, rng):
    """n points [n, 2] float32 of toy data set `name`, drawn from NumPy Generator rng.

    swissroll_gantoy is gan_toy.py's: `swiss_roll(noise=0.25)`'s columns 0 and 2 (x, z),
    divided by 7.5.
    """
    if name == "swissroll_gantoy":
        return (swiss_roll(n, rng, SWISSROLL_NOISE)[:, [0, 2]]
                / _SWISSROLL_SCALE).astype(np.float32)
    centres, std = toy_spec(name)
    if centres is not None:
        which = rng.integers(0, len(centres), n)
        return (centres[which] + std * rng.standard_normal((n, 2))).astype(np.float32)
    t = _SWISSROLL_T[0] + (_SWISSROLL_T[1] - _SWISSROLL_T[0]) * rng.random(n)
    points = np.stack([t * np.cos(t), t * np.sin(t)], axis=1)
    points = points + 0.25 * rng.standard_normal((n, 2))
    return (points / _SWISSROLL_SCALE).astype(np.float32)


def toy_modes(name, samples):
    """(mode index [n] of each sample, distance [n] to it, number of modes, std).

    Gaussian mixtures: the nearest centre. Swiss roll: the segment (of
    SWISSROLL_SEGMENTS equal pieces of t) of the nearest point on the noise-free curve.
    """
    samples = np.asarray(samples, np.float64)
    centres, std = toy_spec(name)
    if centres is None:
        curve, t = swissroll_curve()
        segment = np.minimum(((t - t[0]) / (t[-1] - t[0]) * SWISSROLL_SEGMENTS).astype(int),
                             SWISSROLL_SEGMENTS - 1)
        centres, owner = curve, segment
        k = SWISSROLL_SEGMENTS
    else:
        owner, k = np.arange(len(centres)), len(centres)
    nearest = np.empty(len(samples), np.int64)
    distance = np.empty(len(samples))
    for start in range(0, len(samples), 4096):
        chunk = samples[start:start + 4096]
        d2 = np.sum((chunk[:, None, :] - centres[None, :, :]) ** 2, axis=2)
        idx = np.argmin(d2, axis=1)
        nearest[start:start + len(chunk)] = idx
        distance[start:start + len(chunk)] = np.sqrt(d2[np.arange(len(chunk)), idx])
    return owner[nearest], distance, k, std


def toy_metrics(name, samples, quality_stds=3.0, min_count=None):
    """Mode-collapse metrics of generated 2-D samples.

    - high_quality: share of samples within `quality_stds` stds of a mode centre (of the
      roll's curve for the swiss roll);
    - modes_covered: modes holding at least `min_count` high-quality samples (default:
      PacGAN's 20 of 2,500, scaled to n: ceil(0.008 n));
    - reverse_kl: KL(generated || data) of the distributions over modes, every sample
      assigned to its nearest mode (the data's is uniform); 0 for an even spread, log k
      for all samples in one mode.

    Returns:
      dict modes_covered, num_modes, high_quality, reverse_kl, counts (list, per mode,
      high-quality samples).
    """
    samples = np.asarray(samples, np.float64)
    n = len(samples)
    finite = np.all(np.isfinite(samples), axis=1)
    mode, distance, k, std = toy_modes(name, np.where(finite[:, None], samples, 1e6))
    good = finite & (distance <= quality_stds * std)
    if min_count is None:
        min_count = max(1, math.ceil(0.008 * n))
    hq_counts = np.bincount(mode[good], minlength=k)
    all_counts = np.bincount(mode[finite], minlength=k)
    reverse_kl = kl_to_uniform(all_counts) if all_counts.sum() else float("nan")
    return dict(modes_covered=int(np.sum(hq_counts >= min_count)), num_modes=int(k),
                high_quality=float(good.mean()) if n else float("nan"),
                reverse_kl=reverse_kl, counts=hq_counts.tolist())


def sample_std(values):
    """Sample standard deviation over seeds (ddof 1; 0 for a single value): the spread the
    results page and the toy study report."""
    values = np.asarray(values, np.float64)
    return float(values.std(ddof=1)) if len(values) > 1 else 0.0
