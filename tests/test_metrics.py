"""reproduce/metrics.py against hand-computed and closed-form values."""

import itertools
import math

import numpy as np
import pytest

from reproduce import metrics


# ---- Frechet distance -------------------------------------------------------------

def test_fid_of_a_set_with_itself_is_zero():
    feats = np.random.default_rng(0).standard_normal((500, 16)) @ np.diag(np.arange(1, 17))
    assert metrics.frechet_distance_of(feats, feats) == pytest.approx(0.0, abs=1e-6)


def test_fid_of_two_shifted_gaussians_matches_the_closed_form():
    # Same covariance, means `shift` apart: FID = ||shift||^2 exactly (trace terms cancel).
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4000, 8)) @ rng.standard_normal((8, 8))
    shift = np.arange(8) * 0.5
    assert metrics.frechet_distance_of(a, a + shift) == pytest.approx(np.sum(shift ** 2), rel=1e-9)


def test_fid_of_two_given_gaussians_matches_the_closed_form():
    # Diagonal covariances: FID = |mu1 - mu2|^2 + sum (sqrt(s1) - sqrt(s2))^2.
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    s1, s2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    expected = 1 + 0 + 4 + (1 - 2) ** 2 + (2 - 1) ** 2 + (3 - 1) ** 2
    value = metrics.frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2))
    assert value == pytest.approx(expected, rel=1e-12)


def test_fid_with_a_non_commuting_covariance_matches_the_matrix_square_root():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    s1, s2 = a @ a.T + 0.1 * np.eye(4), b @ b.T + 0.1 * np.eye(4)
    # tr((S1 S2)^(1/2)) = sum of sqrt(eigenvalues of S1 S2) (real, non-negative).
    trace_root = np.sum(np.sqrt(np.linalg.eigvals(s1 @ s2).real))
    expected = np.trace(s1) + np.trace(s2) - 2 * trace_root
    assert metrics.frechet_distance(np.zeros(4), s1, np.zeros(4), s2) == pytest.approx(expected,
                                                                                       rel=1e-9)


# ---- score, histogram, KL --------------------------------------------------------

@pytest.mark.parametrize("k", [1, 2, 7, 10])
def test_score_of_even_one_hot_predictions_over_k_classes_is_k(k):
    probs = np.eye(10)[np.arange(100 * k) % k]
    assert metrics.classifier_score(probs) == pytest.approx(k, rel=1e-9)


def test_score_of_identical_predictions_is_one():
    probs = np.tile([0.2, 0.3, 0.5], (50, 1))
    assert metrics.classifier_score(probs) == pytest.approx(1.0)


def test_class_histogram_and_kl_to_uniform():
    counts = metrics.class_histogram([0, 0, 1, 3, 3, 3], 5)
    assert counts.tolist() == [2, 1, 0, 3, 0]
    assert metrics.kl_to_uniform([5, 5, 5, 5]) == pytest.approx(0.0)
    assert metrics.kl_to_uniform([9, 0, 0]) == pytest.approx(math.log(3))
    # p = (1/2, 1/2, 0, 0): sum p log(4p) = log 2.
    assert metrics.kl_to_uniform([3, 3, 0, 0]) == pytest.approx(math.log(2))


def test_per_class_accuracy():
    overall, per_class = metrics.per_class_accuracy([0, 1, 1, 2], [0, 1, 2, 2], 4)
    assert overall == 0.75
    assert per_class[:3].tolist() == [1.0, 1.0, 0.5] and math.isnan(per_class[3])


# ---- matching ---------------------------------------------------------------------

def test_matching_recovers_a_known_permutation():
    rng = np.random.default_rng(3)
    perm = rng.permutation(10)             # c1 value i stands for digit perm[i]
    labels = rng.integers(0, 10, 5000)
    codes = np.argsort(perm)[labels]       # the code of each sample's digit
    noisy = codes.copy()
    flip = rng.random(5000) < 0.2          # 20 % wrong codes
    noisy[flip] = rng.integers(0, 10, flip.sum())
    accuracy, mapping = metrics.matching_accuracy(noisy, labels, 10, 10)
    assert mapping.tolist() == perm.tolist()
    assert accuracy == pytest.approx(np.mean(perm[noisy] == labels))
    exact, mapping = metrics.matching_accuracy(codes, labels, 10, 10)
    assert exact == 1.0 and mapping.tolist() == perm.tolist()


def test_matching_is_the_best_assignment_by_brute_force():
    rng = np.random.default_rng(4)
    for rows, cols in [(4, 4), (5, 5), (3, 6)]:
        weights = rng.integers(0, 20, (rows, cols)).astype(float)
        assignment, total = metrics.best_matching(weights)
        brute = max(sum(weights[r, c] for r, c in enumerate(p))
                    for p in itertools.permutations(range(cols), rows))
        assert total == brute
        assert len(set(assignment.tolist())) == rows
        assert sum(weights[r, c] for r, c in enumerate(assignment)) == total


def test_matching_refuses_more_rows_than_columns():
    with pytest.raises(ValueError, match="rows <= cols"):
        metrics.best_matching(np.ones((3, 2)))


# ---- the blog's PSNR ----------------------------------------------------------------

def test_blog_psnr_of_identical_mean_images_is_infinite():
    mean = np.random.default_rng(5).random((28, 28))
    assert metrics.psnr(mean, mean) == float("inf")
    per_digit = metrics.psnr_per_class(np.stack([mean, mean]), np.stack([mean, 1 - mean]))
    assert per_digit[0] == float("inf") and np.isfinite(per_digit[1])


def test_blog_psnr_uses_peak_255_on_images_in_0_1():
    a, b = np.zeros((2, 2)), np.full((2, 2), 0.1)      # MSE 0.01
    assert metrics.psnr(a, b) == pytest.approx(10 * math.log10(255 ** 2 / 0.01))
    assert metrics.psnr(a, b, peak=1.0) == pytest.approx(20.0)
    assert math.isnan(metrics.psnr(a, np.full((2, 2), np.nan)))


def test_binarise_tiles_and_class_means():
    tiles = np.array([[[0, 128], [129, 255]]], np.uint8)
    assert metrics.binarise(tiles).tolist() == [[[0.0, 0.0], [1.0, 1.0]]]
    grid = np.arange(4 * 6).reshape(4, 6)
    cut = metrics.tiles_from_grid(grid, 2, 3)
    assert cut.shape == (4, 2, 3) and cut[1].tolist() == [[3, 4, 5], [9, 10, 11]]
    means = metrics.class_mean_images(np.array([[1.0], [3.0], [5.0]]), [0, 0, 2], 3)
    assert means[0].tolist() == [2.0] and np.isnan(means[1]).all() and means[2].tolist() == [5.0]


# ---- toy metrics --------------------------------------------------------------------

def test_toy_metrics_count_modes_on_hand_made_samples():
    centres, std = metrics.toy_spec("ring8")
    # 100 samples on each of modes 0, 2, 5 (exactly at the centre or 2 std off),
    # 5 on mode 7 (too few), 45 far from every mode.
    samples = np.concatenate([np.repeat(centres[[0]], 100, 0),
                              np.repeat(centres[[2]] + [2 * std, 0], 100, 0),
                              np.repeat(centres[[5]], 100, 0),
                              np.repeat(centres[[7]], 5, 0),
                              np.zeros((45, 2))])
    m = metrics.toy_metrics("ring8", samples, min_count=20)
    assert m["modes_covered"] == 3 and m["num_modes"] == 8
    assert m["high_quality"] == pytest.approx(305 / 350)
    assert m["counts"] == [100, 0, 100, 0, 0, 100, 0, 5]


def test_toy_metrics_of_the_data_itself_cover_every_mode():
    rng = np.random.default_rng(6)
    for name, modes in [("ring8", 8), ("grid25", 25), ("swissroll", metrics.SWISSROLL_SEGMENTS)]:
        m = metrics.toy_metrics(name, metrics.toy_sample(name, 5000, rng))
        assert m["modes_covered"] == modes, name
        assert m["high_quality"] > 0.97, name
        assert m["reverse_kl"] < 0.05, name


def test_toy_reverse_kl_of_one_collapsed_mode_is_log_k():
    centres, _ = metrics.toy_spec("grid25")
    m = metrics.toy_metrics("grid25", np.repeat(centres[[12]], 500, 0))
    assert m["modes_covered"] == 1
    assert m["reverse_kl"] == pytest.approx(math.log(25))
    nan = metrics.toy_metrics("ring8", np.full((10, 2), np.nan))
    assert nan["modes_covered"] == 0 and nan["high_quality"] == 0.0
