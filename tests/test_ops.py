"""ops.py: the blog's layer functions: shapes, variable names, initializers."""

import numpy as np
import pytest

from ops import (_zero_debiased_average, ancestors, batch_norm, bn, bn_updates, conv, conv2d,
                 conv_transpose, deconv2d, dense, dropout, embedding, keras22_batch_norm,
                 leaky_relu, linear, lrelu, upsample2x, zero_pad)
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
        assert sorted(v.op.name for v in tf.trainable_variables()) == ["Linear/Matrix",
                                                                       "Linear/bias"]
        m, b = _values(g, [_var("Linear/Matrix"), _var("Linear/bias")])
    assert abs(m.std() - 0.02) < 0.001 and np.all(b == 0.5)


def test_bn_blog_arguments_and_moving_average_updated_by_the_run():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [4, 3])
        y_train = bn(x, is_training=True, scope="g_bn1")
        with tf.variable_scope(tf.get_variable_scope(), reuse=True):
            y_test = bn(x, is_training=False, scope="g_bn1")
        names = sorted(v.op.name for v in tf.global_variables())
        assert names == ["g_bn1/beta", "g_bn1/gamma", "g_bn1/moving_mean", "g_bn1/moving_variance"]
        assert sorted(v.op.name for v in tf.trainable_variables()) == ["g_bn1/beta", "g_bn1/gamma"]
        assert sorted(v.op.name for v in tf.model_variables()) == names       # slim's collections
        assert not tf.get_collection(tf.GraphKeys.UPDATE_OPS)     # updates_collections=None
        moving_mean = _var("g_bn1/moving_mean")
        batch = np.array([[1, 2, 3], [3, 4, 5], [1, 2, 3], [3, 4, 5]], np.float32)
        with tf.Session(graph=g) as sess:
            sess.run(tf.global_variables_initializer())
            out, _ = sess.run([y_train, bn_updates(y_train)], {x: batch})
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


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_bn_updates_of_a_run_are_those_of_its_calls_in_build_order(dtype):
    """D on real, fake and interpolated batches in one session run (the D update): the
    run's updates of the moving statistics apply in build order, each write of a
    variable after the one before (in place and unordered, they raced: DRAGAN's D
    statistics varied from run to run). A run that computes only the second call (the G
    update's D on the fake batch) updates with it alone and computes no other call."""
    g = tf.Graph()
    with g.as_default():
        xs = [tf.placeholder(dtype, [4, 3]) for _ in range(3)]
        outs = []
        for i, x in enumerate(xs):
            with tf.variable_scope(tf.get_variable_scope(), reuse=i > 0):
                outs.append(bn(x, is_training=True, scope="d_bn"))
        moving = [_var("d_bn/moving_mean"), _var("d_bn/moving_variance")]
        handles = {v.handle.op for v in moving}

        def accesses(ops):      # the reads and writes of the statistics among `ops`
            return [op for op in ops if op.type in ("AssignSubVariableOp", "ReadVariableOp")
                    and op.inputs[0].op in handles]

        every, second = bn_updates(outs), bn_updates([outs[1]])
        assert len(every) == 6 and len(second) == 2
        run = ancestors(every)
        writes = [op for op in accesses(run) if op.type == "AssignSubVariableOp"]
        assert len(writes) == 6
        for a in accesses(run):     # no unordered read/write pair of one variable
            for b in writes:
                if a is not b and a.inputs[0].op is b.inputs[0].op:
                    assert a in ancestors([b]) or b in ancestors([a]), (a.name, b.name)
        alone = ancestors(second)
        assert len([op for op in accesses(alone) if op.type == "AssignSubVariableOp"]) == 2
        assert alone.isdisjoint({outs[0].op, outs[2].op} | {x.op for x in (xs[0], xs[2])})
        assert not bn_updates(xs)                                 # no bn call computed
        rng = np.random.default_rng(0)
        batches = [rng.normal(size=(4, 3)) * (i + 1) + i for i in range(3)]
        with tf.Session(graph=g) as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(outs, dict(zip(xs, batches)))                # outputs only: no update
            np.testing.assert_array_equal(sess.run(moving), [np.zeros(3), np.ones(3)])
            sess.run(second, {xs[1]: batches[1]})
            mean_second, variance_second = sess.run(moving)
            sess.run(tf.global_variables_initializer())
            sess.run(every, dict(zip(xs, batches)))
            mean, variance = sess.run(moving)
    np.testing.assert_allclose(mean_second, batches[1].mean(0) * 0.1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(variance_second, 0.9 + batches[1].var(0, ddof=1) * 0.1,
                               rtol=1e-5)
    expected_mean, expected_variance = np.zeros(3), np.ones(3)
    for batch in batches:                                         # in build order
        expected_mean += (batch.mean(0) - expected_mean) * 0.1
        expected_variance += (batch.var(0, ddof=1) - expected_variance) * 0.1
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(variance, expected_variance, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(8, 5), (6, 3, 3, 4)])
def test_bn_training_call_is_slims_bit_for_bit(shape):
    """float32 training mode: slim.batch_norm's output (the blog's call, in place) and its
    updated moving statistics, bit for bit, from the fused call and `bn_updates`."""
    from tf_compat import slim
    x0 = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    results = []
    for ours in (True, False):
        g = tf.Graph()
        with g.as_default():
            x = tf.placeholder(tf.float32, shape)
            if ours:
                y = bn(x, is_training=True, scope="bn")
                fetches = [y, bn_updates(y)]
            else:
                fetches = [slim.batch_norm(x, decay=0.9, updates_collections=None, scale=True,
                                           epsilon=1.001e-5, is_training=True, scope="bn")]
            moving = [_var("bn/moving_mean"), _var("bn/moving_variance")]
            with tf.Session(graph=g) as sess:
                sess.run(tf.global_variables_initializer())
                results.append([sess.run(fetches, {x: x0})[0]] + sess.run(moving))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


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


@pytest.mark.parametrize("leak", [0.2, 0.3])
def test_lrelu_gradients_are_tensorflows_for_max_bit_for_bit(leak):
    """lrelu's one-op float32 gradient (and its gradient, as a penalty takes it) gives
    the bits of TensorFlow's gradient of max(x, leak * x), the tie x = 0 going to x."""
    rng = np.random.default_rng(0)
    xv = np.concatenate([[-3.0, -0.0, 0.0, 2.0, 1e-40, -1e-40],
                         rng.standard_normal(500)]).astype(np.float32)
    wv = rng.standard_normal(len(xv)).astype(np.float32)
    with tf.Graph().as_default() as g:
        x, w = tf.placeholder(tf.float32, [None]), tf.placeholder(tf.float32, [None])
        outs = []
        for y in (lrelu(x, leak), tf.maximum(x, leak * x)):
            first = tf.gradients(tf.reduce_sum(w * y), x)[0]
            penalty = tf.reduce_sum(tf.square(first * x))
            outs.append([y, first, tf.gradients(tf.reduce_sum(w * y * y), x)[0]]
                        + tf.gradients(penalty, [w, x]))
        ours, theirs = _values(g, outs, {x: xv, w: wv})
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ours[1][1:3], wv[1:3])     # x = -0 and 0: the tie goes to x


# --- Keras-equivalent layers ---------------------------------------------------


def _n_params(variables):
    return sum(int(np.prod(v.get_shape().as_list())) for v in variables)


def _glorot_limit(fan_in, fan_out):
    return np.sqrt(6.0 / (fan_in + fan_out))


def _np_conv_same(x, w, stride):
    """Direct NHWC convolution (cross-correlation) with TF's SAME padding."""
    n, h, wd, _ = x.shape
    k_h, k_w, _, c_out = w.shape
    out_h, out_w = -(-h // stride), -(-wd // stride)
    pad_h = max((out_h - 1) * stride + k_h - h, 0)
    pad_w = max((out_w - 1) * stride + k_w - wd, 0)
    xp = np.pad(x, [(0, 0), (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2),
                    (0, 0)])
    out = np.zeros((n, out_h, out_w, c_out), np.float64)
    for i in range(out_h):
        for j in range(out_w):
            patch = xp[:, i * stride:i * stride + k_h, j * stride:j * stride + k_w, :]
            out[:, i, j, :] = np.tensordot(patch, w, axes=([1, 2, 3], [0, 1, 2]))
    return out


def _np_conv_transpose_same(x, w, stride):
    """Transposed convolution by scattering: kernel w [k, k, out, in], output
    size in * stride, cropped as TF's SAME (the gradient of a SAME conv)."""
    n, h, wd, _ = x.shape
    k_h, k_w, c_out, _ = w.shape
    out_h, out_w = h * stride, wd * stride
    pad_top = max(k_h - stride, 0) // 2
    pad_left = max(k_w - stride, 0) // 2
    full = np.zeros((n, out_h + k_h + stride, out_w + k_w + stride, c_out), np.float64)
    for i in range(h):
        for j in range(wd):
            contrib = np.tensordot(x[:, i, j, :], w, axes=([1], [3]))   # [n, k_h, k_w, out]
            full[:, i * stride:i * stride + k_h, j * stride:j * stride + k_w, :] += contrib
    return full[:, pad_top:pad_top + out_h, pad_left:pad_left + out_w, :]


def test_dense_names_shape_params_and_glorot_uniform():
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(10)
        x = tf.placeholder(tf.float32, [None, 400])
        y = dense(x, 300, name="fc")
        y2 = dense(y, 7, use_bias=False, name="fc2")
        assert y.get_shape().as_list() == [None, 300] and y2.get_shape().as_list() == [None, 7]
        assert sorted(v.op.name for v in tf.trainable_variables()) == ["fc/bias", "fc/kernel",
                                                                       "fc2/kernel"]
        assert _n_params(tf.trainable_variables()) == 400 * 300 + 300 + 300 * 7
        k, b = _values(g, [_var("fc/kernel"), _var("fc/bias")])
    limit = _glorot_limit(400, 300)
    assert k.shape == (400, 300) and np.all(b == 0)
    assert np.abs(k).max() <= limit and np.abs(k).max() > 0.99 * limit
    assert abs(k.std() - limit / np.sqrt(3)) < 0.01 * limit / np.sqrt(3)
    assert abs(k.mean()) < 0.001


def test_conv_shape_names_params_glorot_and_forward_matches_numpy():
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(11)
        img = tf.placeholder(tf.float32, [None, 28, 28, 1])
        y = conv(img, 64, 5, strides=2, name="c1")
        assert y.get_shape().as_list() == [None, 14, 14, 64]
        assert sorted(v.op.name for v in tf.trainable_variables()) == ["c1/bias", "c1/kernel"]
        assert _n_params(tf.trainable_variables()) == 1664   # Keras: Conv2D(64, 5) on 1 channel
        y_valid = conv(img, 8, 3, padding="valid", use_bias=False, name="c2")
        assert y_valid.get_shape().as_list() == [None, 26, 26, 8]
        big = conv(tf.placeholder(tf.float32, [None, 8, 8, 64]), 128, 5, name="c3")
        assert big.get_shape().as_list() == [None, 8, 8, 128]
        small_in = tf.placeholder(tf.float32, [2, 5, 5, 3])
        small = conv(small_in, 4, 3, strides=2, name="c4")
        k_var, b_var = _var("c4/kernel"), _var("c4/bias")
        rng = np.random.RandomState(0)
        xv = rng.randn(2, 5, 5, 3).astype(np.float32)
        kv = rng.randn(3, 3, 3, 4).astype(np.float32)
        bv = rng.randn(4).astype(np.float32)
        with tf.Session(graph=g) as sess:
            sess.run(tf.global_variables_initializer())
            k3 = sess.run(_var("c3/kernel"))
            sess.run([k_var.assign(kv), b_var.assign(bv)])
            out = sess.run(small, {small_in: xv})
    limit = _glorot_limit(5 * 5 * 64, 5 * 5 * 128)
    assert np.abs(k3).max() <= limit
    assert abs(k3.std() - limit / np.sqrt(3)) < 0.01 * limit / np.sqrt(3)
    assert out.shape == (2, 3, 3, 4)
    np.testing.assert_allclose(out, _np_conv_same(xv, kv, 2) + bv, rtol=1e-4, atol=1e-4)


def test_conv_transpose_shape_params_glorot_and_dynamic_batch():
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(12)
        x = tf.placeholder(tf.float32, [None, 7, 7, 256])
        y = conv_transpose(x, 128, 5, strides=1, use_bias=False, name="ct1")
        assert y.get_shape().as_list() == [None, 7, 7, 128]
        assert [v.op.name for v in tf.trainable_variables()] == ["ct1/kernel"]
        assert _var("ct1/kernel").get_shape().as_list() == [5, 5, 128, 256]   # [k, k, out, in]
        assert _n_params(tf.trainable_variables()) == 819200
        y2 = conv_transpose(y, 64, 5, strides=2, name="ct2")
        assert y2.get_shape().as_list() == [None, 14, 14, 64]
        assert _var("ct2/bias").get_shape().as_list() == [64]
        fixed = conv_transpose(tf.placeholder(tf.float32, [3, 4, 4, 2]), 5, 3, strides=2,
                               name="ct3")
        assert fixed.get_shape().as_list() == [3, 8, 8, 5]
        with tf.Session(graph=g) as sess:
            sess.run(tf.global_variables_initializer())
            k, out = sess.run([_var("ct1/kernel"), y2], {x: np.ones((2, 7, 7, 256), np.float32)})
    assert out.shape == (2, 14, 14, 64)
    limit = _glorot_limit(5 * 5 * 128, 5 * 5 * 256)
    assert np.abs(k).max() <= limit and np.abs(k).max() > 0.99 * limit
    assert abs(k.std() - limit / np.sqrt(3)) < 0.01 * limit / np.sqrt(3)


@pytest.mark.parametrize("kernel_size, stride", [(5, 2), (4, 2), (3, 1)])
def test_conv_transpose_forward_matches_numpy_scatter(kernel_size, stride):
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(13)  # op determinism (enabled process-wide) needs it
        x = tf.placeholder(tf.float32, [None, 2, 2, 3])
        y = conv_transpose(x, 2, kernel_size, strides=stride, name="ct")
        rng = np.random.RandomState(kernel_size)
        xv = rng.randn(2, 2, 2, 3).astype(np.float32)
        kv = rng.randn(kernel_size, kernel_size, 2, 3).astype(np.float32)
        bv = np.array([0.5, -1.0], np.float32)
        with tf.Session(graph=g) as sess:
            sess.run(tf.global_variables_initializer())
            sess.run([_var("ct/kernel").assign(kv), _var("ct/bias").assign(bv)])
            out = sess.run(y, {x: xv})
    assert out.shape == (2, 2 * stride, 2 * stride, 2)
    np.testing.assert_allclose(out, _np_conv_transpose_same(xv, kv, stride) + bv,
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 3, 2)])
def test_batch_norm_training_normalises_and_updates_moving_stats(shape):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, shape)
        y = batch_norm(x, training=True, name="bn")
        names = sorted(v.op.name for v in tf.global_variables())
        assert names == ["bn/beta", "bn/gamma", "bn/moving_mean", "bn/moving_variance"]
        assert sorted(v.op.name for v in tf.trainable_variables()) == ["bn/beta", "bn/gamma"]
        assert not tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        xv = (np.random.RandomState(1).randn(*shape) * 3 + 2).astype(np.float32)
        with tf.Session(graph=g) as sess:
            sess.run(tf.global_variables_initializer())
            out = sess.run(y, {x: xv})
            mm, mv = sess.run([_var("bn/moving_mean"), _var("bn/moving_variance")])
    axes = tuple(range(len(shape) - 1))
    batch_mean, batch_var = xv.mean(axes), xv.var(axes)     # biased variance
    np.testing.assert_allclose(out.mean(axes), 0, atol=1e-5)
    np.testing.assert_allclose(out.var(axes), batch_var / (batch_var + 1e-3), rtol=1e-4)
    np.testing.assert_allclose(out.var(axes), 1, atol=1e-3)
    np.testing.assert_allclose(mm, 0.01 * batch_mean, rtol=1e-4)
    np.testing.assert_allclose(mv, 0.99 + 0.01 * batch_var, rtol=1e-5)


def test_batch_norm_without_update_and_inference_uses_moving_stats():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [4, 2])
        y_frozen = batch_norm(x, training=True, update_moving=False, name="bn")
        with tf.variable_scope(tf.get_variable_scope(), reuse=True):
            y_test = batch_norm(x, training=False, name="bn")
        mm_var, mv_var = _var("bn/moving_mean"), _var("bn/moving_variance")
        xv = np.array([[1, 2], [3, 6], [1, 2], [3, 6]], np.float32)
        with tf.Session(graph=g) as sess:
            sess.run(tf.global_variables_initializer())
            frozen = sess.run(y_frozen, {x: xv})
            assert np.all(sess.run(mm_var) == 0) and np.all(sess.run(mv_var) == 1)
            sess.run([mm_var.assign([1.0, 2.0]), mv_var.assign([4.0, 9.0])])
            sess.run([_var("bn/gamma").assign([2.0, 1.0]), _var("bn/beta").assign([0.5, 0.0])])
            test = sess.run(y_test, {x: xv})
            assert np.all(sess.run(mm_var) == [1, 2]) and np.all(sess.run(mv_var) == [4, 9])
    np.testing.assert_allclose(frozen[:, 0], [-1, 1, -1, 1], atol=1e-3)   # batch stats, eps 1e-3
    # moving stats: (x - mean) / sqrt(var + 1e-3) * gamma + beta
    np.testing.assert_allclose(test[1],
                               [2 * (3 - 1) / np.sqrt(4.001) + 0.5, (6 - 2) / np.sqrt(9.001)],
                               rtol=1e-6)


def test_batch_norm_rejects_tensor_training():
    with tf.Graph().as_default():
        with pytest.raises(TypeError, match="Python bool"):
            batch_norm(tf.zeros([2, 3]), training=tf.constant(True))


def test_dropout_reproducible_from_fed_seed_and_salted_per_layer():
    g = tf.Graph()
    with g.as_default():
        seed = tf.placeholder(tf.int64, [2])
        x = tf.placeholder(tf.float32, [None, 100, 100])
        y_a = dropout(x, 0.3, seed, salt=1)
        y_b = dropout(x, 0.3, seed, salt=2)
        assert dropout(x, 0.3, seed, salt=3, training=False) is x
        assert dropout(x, 0.0, seed, salt=4) is x
        xv = np.full((2, 100, 100), 2.0, np.float32)
        with tf.Session(graph=g) as sess:
            a1, b1 = sess.run([y_a, y_b], {x: xv, seed: [7, 11]})
            a2 = sess.run(y_a, {x: xv, seed: [7, 12]})
        with tf.Session(graph=g) as sess:
            a1_again = sess.run(y_a, {x: xv, seed: [7, 11]})
    np.testing.assert_array_equal(a1, a1_again)            # same seed pair, new session
    assert (a1 != a2).mean() > 0.2                         # other pair, other mask
    assert (a1 != b1).mean() > 0.2                         # other salt, other mask
    assert set(np.unique(a1)) == {0.0, np.float32(2.0 / 0.7)}
    assert abs((a1 != 0).mean() - 0.7) < 0.01


def test_upsample2x_is_nearest_neighbour_repeat():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 3, 4, 2])
        y = upsample2x(x)
        assert y.get_shape().as_list() == [None, 6, 8, 2]
        assert not tf.global_variables()
        xv = np.arange(2 * 3 * 4 * 2, dtype=np.float32).reshape(2, 3, 4, 2)
        out = _values(g, y, {x: xv})
    np.testing.assert_array_equal(out, np.repeat(np.repeat(xv, 2, 1), 2, 2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_upsample2x_has_tf_repeats_gradient_bit_for_bit(dtype):
    rng = np.random.default_rng(1)
    with tf.Graph().as_default():
        x = tf.constant(rng.normal(size=(2, 3, 4, 5)).astype(dtype))
        upstream = tf.constant(1e3 * rng.normal(size=(2, 6, 8, 5)).astype(dtype))
        ours, theirs = upsample2x(x), tf.repeat(tf.repeat(x, 2, axis=1), 2, axis=2)
        grads = tf.gradients(ours, x, upstream)[0], tf.gradients(theirs, x, upstream)[0]
        with tf.Session() as sess:
            values, grads = sess.run([(ours, theirs), grads])
    assert np.array_equal(*values) and np.array_equal(*grads)


def test_zero_pad_bottom_right():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 7, 7, 3])
        y = zero_pad(x, bottom=1, right=1)
        assert y.get_shape().as_list() == [None, 8, 8, 3]
        y2 = zero_pad(x, 1, 2, 3, 4)
        assert y2.get_shape().as_list() == [None, 10, 14, 3]
        xv = np.ones((2, 7, 7, 3), np.float32)
        out, out2 = _values(g, [y, y2], {x: xv})
    np.testing.assert_array_equal(out[:, :7, :7], xv)
    assert np.all(out[:, 7, :] == 0) and np.all(out[:, :, 7] == 0)
    np.testing.assert_array_equal(out2[:, 1:8, 3:10], xv)
    assert out2.sum() == xv.sum()


def test_embedding_shape_init_and_lookup():
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(13)
        ids = tf.placeholder(tf.int32, [None])
        y = embedding(ids, 10, 100, name="emb")
        assert y.get_shape().as_list() == [None, 100]
        assert [v.op.name for v in tf.trainable_variables()] == ["emb/embeddings"]
        table_var = _var("emb/embeddings")
        assert table_var.get_shape().as_list() == [10, 100]
        table, out = _values(g, [table_var, y], {ids: [3, 0, 3, 9]})
    assert np.abs(table).max() <= 0.05 and np.abs(table).max() > 0.049
    assert abs(table.std() - 0.1 / np.sqrt(12)) < 0.003
    np.testing.assert_array_equal(out, table[[3, 0, 3, 9]])


def test_leaky_relu_keras_default_slope():
    with tf.Graph().as_default() as g:
        out = _values(g, leaky_relu(tf.constant([-2.0, 0.0, 3.0])))
    np.testing.assert_allclose(out, [-0.6, 0.0, 3.0], rtol=1e-6)


@pytest.mark.parametrize("shape", [(4, 3, 3, 2), (36, 2)], ids=["conv", "dense"])
def test_keras22_batch_norm_moving_statistics_are_zero_debiased_and_bessel_corrected(shape):
    rng = np.random.default_rng(0)
    batches = [rng.normal(m, s, shape).astype(np.float32)
               for m, s in [(1.0, 2.0), (-0.5, 0.5), (3.0, 1.0)]]
    axes = tuple(range(len(shape) - 1))
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, shape)
        y = keras22_batch_norm(x, True, 0.8, 1e-3, True, name="bn")
        frozen = keras22_batch_norm(x, True, 0.8, 1e-3, False, name="bn2")
        with tf.variable_scope("bn", reuse=True):
            mean_var = tf.get_variable("moving_mean")
            var_var = tf.get_variable("moving_variance")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            seen = []
            for batch in batches:
                out = sess.run(y, {x: batch})
                seen.append(sess.run([mean_var, var_var]))
            sess.run(frozen, {x: batches[0]})
            frozen_stats = sess.run(tf.global_variables(scope="bn2/"))
            with tf.variable_scope(tf.get_variable_scope(), reuse=True):
                inference = sess.run(keras22_batch_norm(x, False, 0.8, 1e-3, name="bn"),
                                     {x: batches[0]})
    n = 36
    # Keras 2.2 takes 4-D inputs through the fused kernel, whose variance is already
    # Bessel-corrected; 2-D inputs through tf.nn.moments (biased)
    bessel = n / (n - 1) if len(shape) == 4 else 1.0
    biased_m = np.zeros(2)
    biased_v = np.zeros(2)
    for t, (batch, (mm, mv)) in enumerate(zip(batches, seen), start=1):
        mean = batch.mean(axis=axes)
        var = batch.var(axis=axes) * bessel * n / (n - 1.001)
        biased_m = 0.8 * biased_m + 0.2 * mean
        biased_v = 0.8 * biased_v + 0.2 * var
        np.testing.assert_allclose(mm, biased_m / (1 - 0.8 ** t), rtol=1e-5)
        np.testing.assert_allclose(mv, biased_v / (1 - 0.8 ** t), rtol=1e-5)
    np.testing.assert_allclose(seen[0][0], batches[0].mean(axis=axes), rtol=1e-5)  # t = 1
    # normalised with the (biased) batch statistics, as Keras's training phase
    last = batches[-1]
    expected = (last - last.mean(axis=axes)) / np.sqrt(last.var(axis=axes) + 1e-3)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    # inference: the moving statistics
    mm, mv = seen[-1]
    np.testing.assert_allclose(inference, (batches[0] - mm) / np.sqrt(mv + 1e-3), rtol=1e-4,
                               atol=1e-5)
    assert [s.tolist() for s in frozen_stats[2:]] == [[0.0, 0.0], [1.0, 1.0]]   # not updated


def test_keras22_zero_debiased_average_names_its_shadows_as_tensorflow():
    graph = tf.Graph()
    with graph.as_default():
        with tf.variable_scope("layer"):
            v = tf.get_variable("moving_mean", [3], initializer=tf.zeros_initializer())
            _zero_debiased_average(v, tf.ones([3]), 0.9)
    names = sorted(x.op.name for x in graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES))
    assert names == ["layer/moving_mean", "layer/moving_mean/biased",
                     "layer/moving_mean/local_step"]


# ---- second derivatives of batch norm (gradient penalties differentiate through it) -------

def _moments_batch_norm(x, scope):
    """The form a gradient penalty must not use: `tf.nn.moments` (its stop_gradient on the
    mean inside the variance) with `tf.nn.batch_normalization`."""
    with tf.variable_scope(scope):
        gamma = tf.get_variable("gamma", [int(x.shape[-1])], x.dtype, tf.ones_initializer())
        beta = tf.get_variable("beta", [int(x.shape[-1])], x.dtype, tf.zeros_initializer())
        mean, variance = tf.nn.moments(x, axes=list(range(x.shape.ndims - 1)))
        return tf.nn.batch_normalization(x, mean, variance, beta, gamma, 1e-3)


_BATCH_NORMS = {
    "bn (slim, float64 form)": lambda x, scope: bn(x, True, scope),
    "keras22_batch_norm (float64 form)": lambda x, scope: keras22_batch_norm(
        x, True, 0.8, 1e-3, False, name=scope),
    "keras22_batch_norm with updates": lambda x, scope: keras22_batch_norm(
        x, True, 0.8, 1e-3, True, name=scope),
}


def _hessian_vector_check(norm, shape):
    """(analytic, finite-difference) Hessian-vector product of f(x) = sum(w * tanh(BN(x)))
    in float64: d/dx (v . df/dx) against (df/dx(x + h v) - df/dx(x - h v)) / 2h."""
    rng = np.random.default_rng(3)
    x0, w0, v0 = (rng.standard_normal(shape) for _ in range(3))
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float64, shape)
        y = norm(x, "norm")
        grad = tf.gradients(tf.reduce_sum(tf.constant(w0) * tf.tanh(y)), x)[0]
        hvp = tf.gradients(tf.reduce_sum(grad * tf.constant(v0)), x)[0]
        with tf.Session(graph=g) as sess:
            sess.run(tf.global_variables_initializer())
            h = 1e-5
            analytic = sess.run(hvp, {x: x0})
            numeric = ((sess.run(grad, {x: x0 + h * v0}) - sess.run(grad, {x: x0 - h * v0}))
                       / (2 * h))
    return analytic, numeric


# (keras22_batch_norm keeps Keras 2.2's tf.nn.moments for 2-D batch statistics, as the
# blogs ran it; no model here has a 2-D batch norm under a penalty: 4-D only for it)
@pytest.mark.parametrize("name,shape", [(name, shape) for name in sorted(_BATCH_NORMS)
                                        for shape in [(6, 3, 3, 4), (8, 5)]
                                        if "keras22" not in name or len(shape) == 4])
def test_batch_norm_second_derivative_matches_finite_differences(name, shape):
    analytic, numeric = _hessian_vector_check(_BATCH_NORMS[name], shape)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_tf_nn_moments_gets_the_second_derivative_wrong():
    """What the check above catches: the form WGAN-GP's critic had."""
    analytic, numeric = _hessian_vector_check(_moments_batch_norm, (6, 3, 3, 4))
    assert np.abs(analytic - numeric).max() > 1e-3 * np.abs(numeric).max()


@pytest.mark.parametrize("norm", ["bn", "keras22"])
def test_float32_fused_batch_norm_and_the_float64_form_agree_to_second_order(norm):
    """The float32 kernels (slim's fused batch norm, tf.nn.fused_batch_norm) and the
    float64 forms: outputs, first and second derivatives, moving statistics."""
    rng = np.random.default_rng(5)
    x0, w0, v0 = (rng.standard_normal((8, 4, 4, 3)) for _ in range(3))
    out = {}
    for dtype in (tf.float32, tf.float64):
        g = tf.Graph()
        with g.as_default():
            x = tf.placeholder(dtype, x0.shape)
            if norm == "bn":
                y = bn(x, True, "bn")
                moving = [_var("bn/moving_mean"), _var("bn/moving_variance")]
            else:
                y = keras22_batch_norm(x, True, 0.8, 1e-3, True, name="bn")
                moving = [_var("bn/moving_mean"), _var("bn/moving_variance")]
            grad = tf.gradients(tf.reduce_sum(tf.cast(w0, dtype) * tf.tanh(y)), x)[0]
            hvp = tf.gradients(tf.reduce_sum(grad * tf.cast(v0, dtype)), x)[0]
            updates = bn_updates(y)       # empty for keras22_batch_norm (in place)
            with tf.Session(graph=g) as sess:
                sess.run(tf.global_variables_initializer())
                values, _ = sess.run([[y, grad, hvp], updates], {x: x0})
                out[dtype] = values + sess.run(moving)
        if dtype == tf.float32:
            assert any(op.type.startswith("FusedBatchNorm") for op in g.get_operations())
        else:
            assert not any(op.type.startswith("FusedBatchNorm") for op in g.get_operations())
    for a, b in zip(out[tf.float32], out[tf.float64]):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5 * np.abs(b).max())


def test_bn_epsilon_is_the_blogs_effective_one():
    """The blog passes 1e-5; TF 1.x's fused batch norm raised it to 1.001e-5."""
    from ops import BLOG_BN_EPSILON
    assert BLOG_BN_EPSILON == 1.001e-5
    g = tf.Graph()
    with g.as_default():
        bn(tf.placeholder(tf.float32, [4, 3]), True, "bn")
        eps = [op.get_attr("epsilon") for op in g.get_operations()
               if op.type.startswith("FusedBatchNorm")]
    assert eps and all(abs(e - 1.001e-5) < 1e-12 for e in eps)


def test_initial_values_depend_on_the_variable_name_not_on_the_ops_before_it():
    def weights(extra_ops):
        g = tf.Graph()
        with g.as_default():
            tf.set_random_seed(7)
            x = tf.placeholder(tf.float32, [2, 5])
            for _ in range(extra_ops):
                x = x * 1.0
            dense(x, 3, name="a")
            dense(tf.cast(x, tf.float64), 3, name="b")
            return _values(g, [_var("a/kernel"), _var("b/kernel")])
    a0, b0 = weights(0)
    a1, b1 = weights(5)
    np.testing.assert_array_equal(a0, a1)
    np.testing.assert_array_equal(b0, b1)
    assert b0.dtype == np.float64 and not np.array_equal(a0, b0)
