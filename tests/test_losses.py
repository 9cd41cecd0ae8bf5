"""models/losses.py against hand computations in NumPy."""

import numpy as np
import pytest

from models import losses
from tf_compat import tf


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


def _sigmoid_ce(logits, target):
    return np.mean(np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits))))


def test_gan_losses_match_hand_computed_cross_entropy():
    real = np.array([[2.0], [-1.0], [0.5]], np.float32)
    fake = np.array([[-3.0], [0.0], [1.5]], np.float32)
    with tf.Graph().as_default():
        out = _run(losses.gan_losses(tf.constant(real), tf.constant(fake)))
    assert out["d_loss_real"] == pytest.approx(_sigmoid_ce(real, 1), rel=1e-6)
    assert out["d_loss_fake"] == pytest.approx(_sigmoid_ce(fake, 0), rel=1e-6)
    assert out["d_loss"] == pytest.approx(_sigmoid_ce(real, 1) + _sigmoid_ce(fake, 0), rel=1e-6)
    assert out["g_loss"] == pytest.approx(_sigmoid_ce(fake, 1), rel=1e-6)
    # by hand for one value: CE(0, 1) = log 2
    with tf.Graph().as_default():
        assert _run(losses.sigmoid_cross_entropy(tf.zeros([1, 1]), 1)) == pytest.approx(np.log(2))


# A tiny discriminator whose input gradient is known in closed form:
#   logit(x) = sum(0.5 * W * x**2)  =>  d logit / dx = W * x.
SHAPE = (3, 4, 5, 2)   # [batch, h, w, c]


def _setup(seed):
    rng = np.random.default_rng(seed)
    x = rng.random(SHAPE).astype(np.float32)
    x_p = (x + 0.5 * x.std() * rng.random(SHAPE)).astype(np.float32)
    weights = rng.uniform(0.5, 2.0, SHAPE[1:]).astype(np.float32)
    return rng, x, x_p, weights


def _numpy_penalty(x, x_p, alpha, weights, norm):
    interp = x + alpha * (x_p - x)
    grad = weights * interp
    if norm == "blog":
        slopes = np.sqrt(np.sum(grad ** 2, axis=1))          # [batch, w, c]
    else:
        slopes = np.sqrt(np.sum(grad ** 2, axis=(1, 2, 3)))  # [batch]
    return np.mean((slopes - 1.0) ** 2), slopes


@pytest.mark.parametrize("norm,alpha_per", [("blog", "pixel"), ("sample", "sample"),
                                            ("blog", "sample"), ("sample", "pixel")])
def test_dragan_penalty_matches_numpy(norm, alpha_per):
    rng, x, x_p, weights = _setup(1)
    alpha = rng.random(SHAPE if alpha_per == "pixel" else (SHAPE[0], 1, 1, 1)).astype(np.float32)
    with tf.Graph().as_default():
        w = tf.constant(weights)

        def logit_fn(images):
            return tf.reduce_sum(0.5 * w * images ** 2, axis=[1, 2, 3])

        gp, slopes = losses.dragan_penalty(logit_fn, tf.constant(x), tf.constant(x_p),
                                           tf.constant(alpha), norm=norm)
        gp_value, slopes_value = _run([gp, slopes])
    want_gp, want_slopes = _numpy_penalty(x, x_p, alpha, weights, norm)
    assert slopes_value.shape == want_slopes.shape
    np.testing.assert_allclose(slopes_value, want_slopes, rtol=1e-5)
    assert gp_value == pytest.approx(want_gp, rel=1e-5)


def test_blog_and_paper_norms_differ_and_blog_keeps_columns():
    _, x, x_p, weights = _setup(2)
    alpha = np.full(SHAPE, 0.5, np.float32)
    blog, blog_slopes = _numpy_penalty(x, x_p, alpha, weights, "blog")
    paper, paper_slopes = _numpy_penalty(x, x_p, alpha, weights, "sample")
    assert blog_slopes.shape == (3, 5, 2) and paper_slopes.shape == (3,)
    assert abs(blog - paper) > 1e-3


def test_linear_discriminator_penalty_is_independent_of_alpha():
    # logit = sum(W * x): the gradient is W everywhere, so the penalty is
    # mean((||W|| - 1)^2) whatever x, x_p and alpha are.
    rng, x, x_p, weights = _setup(3)
    with tf.Graph().as_default():
        w = tf.constant(weights)
        alpha = tf.constant(rng.random(SHAPE).astype(np.float32))
        gp, _ = losses.dragan_penalty(lambda t: tf.reduce_sum(w * t, axis=[1, 2, 3]),
                                      tf.constant(x), tf.constant(x_p), alpha, norm="sample")
        value = _run(gp)
    assert value == pytest.approx((np.sqrt(np.sum(weights ** 2)) - 1) ** 2, rel=1e-5)


def test_unknown_norm_is_rejected():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="norm"):
            losses.gradient_slopes(tf.zeros([2, 3]), "l1")


def test_least_squares_losses_match_hand_computed_mse():
    real = np.array([[2.0], [-1.0], [0.5]], np.float32)
    fake = np.array([[-3.0], [0.0], [1.5]], np.float32)
    with tf.Graph().as_default():
        out = _run(losses.least_squares_losses(tf.constant(real), tf.constant(fake)))
    # by hand: mean((2-1)^2, (-1-1)^2, (.5-1)^2) = (1 + 4 + .25) / 3
    assert out["d_loss_real"] == pytest.approx(5.25 / 3, rel=1e-6)
    assert out["d_loss_fake"] == pytest.approx((9 + 0 + 2.25) / 3, rel=1e-6)
    assert out["d_loss"] == pytest.approx(5.25 / 3 + 11.25 / 3, rel=1e-6)
    assert out["g_loss"] == pytest.approx((16 + 1 + 0.25) / 3, rel=1e-6)


def test_wasserstein_is_target_times_mean_output():
    out = np.array([[2.0], [-1.0], [0.5], [3.0]], np.float32)
    with tf.Graph().as_default():
        real, fake = _run([losses.wasserstein(tf.constant(out), -1),
                           losses.wasserstein(tf.constant(out), 1)])
    assert real == pytest.approx(-1.125) and fake == pytest.approx(1.125)


def test_clip_weights_clips_every_variable_and_leaves_inside_values():
    with tf.Graph().as_default():
        a = tf.Variable([[0.5, -0.003], [0.009, -2.0]])
        b = tf.Variable([0.01, -0.01, 0.0])
        clip = losses.clip_weights([a, b], 0.01)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(clip)
            va, vb = sess.run([a, b])
    np.testing.assert_allclose(va, [[0.01, -0.003], [0.009, -0.01]])
    np.testing.assert_allclose(vb, [0.01, -0.01, 0.0])


def test_wgan_gp_penalty_matches_numpy_with_per_sample_alpha():
    rng, x, fake, weights = _setup(3)
    alpha = rng.random((SHAPE[0], 1, 1, 1)).astype(np.float32)
    with tf.Graph().as_default():
        w = tf.constant(weights)
        penalty, slopes, interp = losses.wgan_gp_penalty(
            lambda v: tf.reduce_sum(0.5 * w * tf.square(v), axis=[1, 2, 3]),
            tf.constant(x), tf.constant(fake), tf.constant(alpha))
        got_penalty, got_slopes, got_interp = _run([penalty, slopes, interp])
    want_interp = alpha * x + (1 - alpha) * fake
    want_slopes = np.sqrt(np.sum((weights * want_interp) ** 2, axis=(1, 2, 3)))
    np.testing.assert_allclose(got_interp, want_interp, rtol=1e-6)
    np.testing.assert_allclose(got_slopes, want_slopes, rtol=1e-5)
    assert got_penalty == pytest.approx(np.mean((want_slopes - 1) ** 2), rel=1e-5)


def test_cyclegan_cycle_and_identity_losses_of_identity_generators_are_zero():
    rng = np.random.default_rng(2)
    a, b = (rng.uniform(-1, 1, (1, 16, 16, 3)).astype(np.float32) for _ in range(2))
    d_a, d_b = (rng.normal(size=(1, 1, 1, 1)).astype(np.float32) for _ in range(2))
    with tf.Graph().as_default(), tf.Session() as sess:
        A, B = tf.constant(a), tf.constant(b)
        same = sess.run(losses.cycle_generator_losses(tf.constant(d_a), tf.constant(d_b), A, B,
                                                      A, B, A, B, 10.0, 1.0))
        off = sess.run(losses.cycle_generator_losses(tf.constant(d_a), tf.constant(d_b), A, B,
                                                     A + 0.1, B - 0.2, A + 0.3, B, 10.0, 1.0))
    assert same["g_cycle"] == 0 and same["g_identity"] == 0
    adv = (d_a - 1) ** 2 + (d_b - 1) ** 2
    np.testing.assert_allclose(same["g_loss"], adv.sum(), rtol=1e-6)
    # weights [1, 1, lambda_cycle, lambda_cycle, lambda_id, lambda_id]
    np.testing.assert_allclose(off["g_loss"], adv.sum() + 10 * (0.1 + 0.2) + 1 * 0.3, rtol=1e-5)
    np.testing.assert_allclose([off["g_cycle"], off["g_identity"]], [0.15, 0.15], rtol=1e-5)


@pytest.mark.parametrize("epsilon", [0.0, 1e-12])
def test_penalty_epsilon_keeps_a_dead_samples_gradient_finite(epsilon):
    """logit(x) = sum(relu(w * x)), w = [1, 1]: sample 0 ([-1, -2]) has a zero input
    gradient (every unit dead), sample 1 ([3, 0.5]) the gradient w. By hand:
    slopes = [sqrt(epsilon), sqrt(2 + epsilon)], penalty = mean((slopes - 1)^2),
    d penalty / d w = (sqrt(2) - 1) / sqrt(2) * [1, 1] (sample 0's slope does not move with
    w) with epsilon > 0; with epsilon = 0 sample 0's slope derivative is 0/0: NaN."""
    x = np.array([[-1.0, -2.0], [3.0, 0.5]])
    with tf.Graph().as_default():
        w = tf.constant([1.0, 1.0], tf.float64)
        penalty, slopes = losses.interpolate_penalty(
            lambda v: tf.reduce_sum(tf.nn.relu(w * v), axis=1), tf.constant(x),
            norm="sample", epsilon=epsilon)
        got_penalty, got_slopes, got_grad = _run([penalty, slopes, tf.gradients(penalty, w)[0]])
    want_slopes = np.sqrt([epsilon, 2.0 + epsilon])
    np.testing.assert_allclose(got_slopes, want_slopes, rtol=1e-12)
    assert got_penalty == pytest.approx(np.mean((want_slopes - 1) ** 2), rel=1e-12)
    if epsilon:
        np.testing.assert_allclose(got_grad, (np.sqrt(2) - 1) / np.sqrt(2) * np.ones(2),
                                   rtol=1e-9)
    else:
        assert np.all(np.isnan(got_grad))


def test_gradient_slopes_epsilon_for_both_norms():
    g = np.zeros((2, 3, 1), np.float64)
    g[1, :, 0] = [1.0, 2.0, 2.0]                           # norm 3 over axis 1
    with tf.Graph().as_default():
        blog = losses.gradient_slopes(tf.constant(g), "blog", epsilon=1e-12)
        sample = losses.gradient_slopes(tf.constant(g), "sample", epsilon=1e-12)
        got_blog, got_sample = _run([blog, sample])
    np.testing.assert_allclose(got_blog, [[1e-6], [3.0]], rtol=1e-9)
    np.testing.assert_allclose(got_sample, [1e-6, 3.0], rtol=1e-9)
