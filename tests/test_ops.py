"""ops.py: the blog's layer functions: shapes, variable names, initializers."""

import numpy as np
import pytest

from ops import bn, conv2d, deconv2d, linear, lrelu
from tf_compat import tf


def _var(name):
    """The variable called `name` in the current default graph."""
    return [v for v in tf.global_variables() if v.op.name == name][0]


def _values(graph, fetches, feed=None):
    with tf.Session(graph=graph) as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


def test_conv2d_shape_names_and_truncated_normal_init():
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(1)
        x = tf.placeholder(tf.float32, [3, 28, 28, 16])
        y = conv2d(x, 256, 4, 4, 2, 2, stddev=0.02, name="d_conv1")
        assert y.get_shape().as_list() == [3, 14, 14, 256]
        names = sorted(v.op.name for v in tf.trainable_variables())
        assert names == ["d_conv1/biases", "d_conv1/w"]
        w, b = _values(g, [_var("d_conv1/w"), _var("d_conv1/biases")])
    assert w.shape == (4, 4, 16, 256) and np.all(b == 0)
    # truncated at 2 std: nothing beyond 0.04, std of N(0, .02) truncated = 0.02 * 0.8796
    assert np.abs(w).max() <= 0.04 + 1e-7
    assert abs(w.std() - 0.02 * 0.8796) < 0.001 and abs(w.mean()) < 0.001


def test_deconv2d_shape_names_random_normal_init_and_dynamic_batch():
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(2)
        x = tf.placeholder(tf.float32, [None, 7, 7, 128])
        y, w_var, b_var = deconv2d(x, [None, 14, 14, 64], 4, 4, 2, 2, name="g_dc3", with_w=True)
        assert y.get_shape().as_list() == [None, 14, 14, 64]
        assert w_var.op.name == "g_dc3/w" and b_var.op.name == "g_dc3/biases"
        assert w_var.get_shape().as_list() == [4, 4, 64, 128]   # [k_h, k_w, out, in]
        out, w = _values(g, [y, w_var], {x: np.ones((5, 7, 7, 128), np.float32)})
    assert out.shape == (5, 14, 14, 64)
    assert abs(w.std() - 0.02) < 0.001 and np.abs(w).max() > 0.05   # not truncated


def test_linear_names_init_and_bias_start():
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(3)
        x = tf.placeholder(tf.float32, [2, 500])
        y = linear(x, 300, bias_start=0.5)
        assert y.get_shape().as_list() == [2, 300]
        assert sorted(v.op.name for v in tf.trainable_variables()) == ["Linear/Matrix", "Linear/bias"]
        m, b = _values(g, [_var("Linear/Matrix"), _var("Linear/bias")])
    assert abs(m.std() - 0.02) < 0.001 and np.all(b == 0.5)


def test_bn_blog_arguments_and_in_place_moving_average():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [4, 3])
        y_train = bn(x, is_training=True, scope="g_bn1")
        with tf.variable_scope(tf.get_variable_scope(), reuse=True):
            y_test = bn(x, is_training=False, scope="g_bn1")
        names = sorted(v.op.name for v in tf.global_variables())
        assert names == ["g_bn1/beta", "g_bn1/gamma", "g_bn1/moving_mean", "g_bn1/moving_variance"]
        assert not tf.get_collection(tf.GraphKeys.UPDATE_OPS)     # updates_collections=None
        moving_mean = _var("g_bn1/moving_mean")
        batch = np.array([[1, 2, 3], [3, 4, 5], [1, 2, 3], [3, 4, 5]], np.float32)
        with tf.Session(graph=g) as sess:
            sess.run(tf.global_variables_initializer())
            out = sess.run(y_train, {x: batch})
            mm = sess.run(moving_mean)
            test_out = sess.run(y_test, {x: batch})
    # is_training=False uses the moving averages: mean as above, variance
    # 0.9 * 1 + 0.1 * 4/3 (the fused kernel's moving variance is Bessel-corrected)
    moving_var = 0.9 + 0.1 * 4.0 / 3.0
    np.testing.assert_allclose(test_out[0], (batch[0] - mm) / np.sqrt(moving_var + 1e-5), rtol=1e-5)
    # normalised with batch statistics, eps 1e-5
    np.testing.assert_allclose(out[:, 0], [-1, 1, -1, 1], atol=1e-4)
    # decay 0.9: moving mean moved 10% of the way to the batch mean [2, 3, 4]
    np.testing.assert_allclose(mm, [0.2, 0.3, 0.4], rtol=1e-5)


def test_bn_rejects_tensor_is_training():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [4, 3])
        with pytest.raises(TypeError, match="Python bool"):
            bn(x, is_training=tf.constant(True), scope="bn")


def test_lrelu_is_max_of_x_and_leak_x():
    with tf.Graph().as_default() as g:
        x = tf.constant([-2.0, -0.5, 0.0, 3.0])
        out = _values(g, lrelu(x, 0.2))
    np.testing.assert_allclose(out, [-0.4, -0.1, 0.0, 3.0], rtol=1e-6)
