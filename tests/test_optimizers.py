"""models/optimizers.py against hand NumPy computations of Keras 2.2.4's update rules."""

import numpy as np
import pytest

from models import optimizers
from tf_compat import tf

W0 = np.array([[0.5, -1.0, 2.0], [0.1, -0.3, 1.5]], np.float32)
B0 = np.array([0.2, -0.7, 0.05], np.float32)
CW = np.array([[1.0, 0.5, 2.0], [0.25, 3.0, 1.0]], np.float32)
CB = np.array([0.3, 1.0, 2.0], np.float32)
DW = np.array([[0.1, -0.2, 0.3], [0.0, 0.4, -0.5]], np.float32)
DB = np.array([0.5, -0.1, 0.2], np.float32)
STEPS = 3


def _problem(dtype=tf.float32):
    """loss = sum(cw * w^2) + sum(dw * w) + sum(cb * b^2) + sum(db * b); returns (loss, [w, b])."""
    w = tf.get_variable("net/w", initializer=tf.constant(W0, dtype))
    b = tf.get_variable("net/b", initializer=tf.constant(B0, dtype))
    cw, dw, cb, db = (tf.constant(x, dtype) for x in (CW, DW, CB, DB))
    loss = tf.reduce_sum(cw * w * w) + tf.reduce_sum(dw * w) + tf.reduce_sum(cb * b * b) \
        + tf.reduce_sum(db * b)
    return loss, [w, b]


def _grads(params):
    w, b = params
    return [2 * CW * w + DW, 2 * CB * b + DB]


def _as_graph(dtype, *constants):
    """Constants as a graph of that dtype holds them (float32: 1 - 0.999 is off by 1e-5)."""
    np_dtype = np.float32 if dtype == tf.float32 else np.float64
    return [float(np_dtype(x)) for x in constants]


def _numpy_rmsprop(lr, rho=0.9, epsilon=1e-7, decay=0.0, steps=STEPS, dtype=tf.float32):
    lr, rho, epsilon, decay = _as_graph(dtype, lr, rho, epsilon, decay)
    params = [W0.astype(np.float64), B0.astype(np.float64)]
    acc = [np.zeros_like(p) for p in params]
    history = []
    for it in range(steps):
        lr_t = lr * (1.0 / (1.0 + decay * it)) if decay > 0 else lr
        grads = _grads(params)
        acc = [rho * a + (1 - rho) * g * g for a, g in zip(acc, grads)]
        params = [p - lr_t * g / (np.sqrt(a) + epsilon) for p, g, a in zip(params, grads, acc)]
        history.append(params)
    return history, acc


def _numpy_adam(lr, beta1=0.9, beta2=0.999, epsilon=1e-7, decay=0.0, steps=STEPS,
                dtype=tf.float32):
    lr, beta1, beta2, epsilon, decay = _as_graph(dtype, lr, beta1, beta2, epsilon, decay)
    params = [W0.astype(np.float64), B0.astype(np.float64)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    history = []
    for it in range(steps):
        lr_d = lr * (1.0 / (1.0 + decay * it)) if decay > 0 else lr
        t = it + 1
        lr_t = lr_d * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        grads = _grads(params)
        m = [beta1 * a + (1 - beta1) * g for a, g in zip(m, grads)]
        v = [beta2 * a + (1 - beta2) * g * g for a, g in zip(v, grads)]
        params = [p - lr_t * a / (np.sqrt(b) + epsilon) for p, a, b in zip(params, m, v)]
        history.append(params)
    return history


def _train(build, steps=STEPS, dtype=tf.float32):
    """Build the train op on the problem in a fresh graph; parameter values after each step."""
    with tf.Graph().as_default():
        loss, params = _problem(dtype)
        train = build(loss, params)
        history = []
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(steps):
                sess.run(train)
                history.append(sess.run(params))
    return history


def _assert_history(got, want, lr, dtype=tf.float32):
    """float64 graphs: 1e-6 relative. float32 graphs: also 1e-6 relative, or 1e-4 of one
    step's size lr (float32 rounding, e.g. 1 - 0.999**t loses 5 digits to cancellation)."""
    assert len(got) == len(want)
    atol = 1e-12 if dtype == tf.float64 else 1e-4 * lr
    for step_got, step_want in zip(got, want):
        for g, w in zip(step_got, step_want):
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=atol)


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("lr,decay", [(0.01, 0.0), (2e-4, 6e-8), (0.05, 0.5)])
def test_rmsprop_matches_keras_rule(lr, decay, dtype):
    got = _train(lambda loss, params: optimizers.keras_rmsprop(loss, params, lr, decay=decay),
                 dtype=dtype)
    want, _ = _numpy_rmsprop(lr, decay=decay, dtype=dtype)
    _assert_history(got, want, lr, dtype)
    # the parameters did move (the test is not vacuous)
    assert np.abs(got[-1][0] - W0).max() > 2 * lr


def test_rmsprop_big_decay_is_visible():
    """With decay 0.5 the later steps are clearly smaller than without decay."""
    with_decay, _ = _numpy_rmsprop(0.05, decay=0.5)
    without, _ = _numpy_rmsprop(0.05)
    assert np.abs(with_decay[-1][0] - without[-1][0]).max() > 0.01
    got = _train(lambda loss, params: optimizers.keras_rmsprop(loss, params, 0.05, decay=0.5))
    assert np.abs(got[-1][0] - without[-1][0]).max() > 0.01


def test_rmsprop_differs_from_tf1_rmsprop():
    """TF1's RMSPropOptimizer starts its accumulator at 1 and puts epsilon under the sqrt."""
    lr = 0.01
    keras = _train(lambda loss, params: optimizers.keras_rmsprop(loss, params, lr))
    tf1 = _train(lambda loss, params: tf.train.RMSPropOptimizer(lr, decay=0.9, epsilon=1e-7)
                 .minimize(loss, var_list=params))
    g = _grads([W0.astype(np.float64), B0.astype(np.float64)])[0]
    # Keras: a = 0.1 g^2, so the first step is lr / sqrt(0.1) = 3.16 lr whatever g is.
    np.testing.assert_allclose(W0 - keras[0][0], lr * g / (np.sqrt(0.1 * g * g) + 1e-7), rtol=1e-4)
    np.testing.assert_allclose(np.abs(W0 - keras[0][0]), lr / np.sqrt(0.1), rtol=1e-4)
    # TF1: a = 1.0 * 0.9 + 0.1 g^2 and epsilon under the sqrt: the step depends on |g|.
    np.testing.assert_allclose(W0 - tf1[0][0], lr * g / np.sqrt(0.9 + 0.1 * g * g + 1e-7),
                               rtol=1e-4)
    small = np.abs(g) < 1  # e.g. g = 0.25 at w[1, 0]: TF1 moves ~13x less than Keras
    assert small.any()
    assert np.all(np.abs(W0 - tf1[0][0])[small] < 0.5 * np.abs(W0 - keras[0][0])[small])
    assert np.abs(keras[-1][0] - tf1[-1][0]).max() > lr


def test_rmsprop_state_variables(tmp_path):
    with tf.Graph().as_default():
        loss, params = _problem()
        train = optimizers.keras_rmsprop(loss, params, 0.01)
        trainable = set(v.op.name for v in tf.trainable_variables())
        state = [v for v in tf.global_variables() if v.op.name.startswith("RMSprop/")]
        names = sorted(v.op.name for v in state)
        assert names == ["RMSprop/iterations", "RMSprop/net/b/accumulator",
                         "RMSprop/net/w/accumulator"]
        assert trainable == {"net/w", "net/b"}
        iterations = [v for v in state if v.op.name == "RMSprop/iterations"][0]
        accs = [v for v in state if v.op.name.endswith("accumulator")]
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert sess.run(iterations) == 0
            for a in sess.run(accs):
                assert not a.any()
            for _ in range(STEPS):
                sess.run(train)
            assert sess.run(iterations) == STEPS
            path = saver.save(sess, str(tmp_path / "model"))
            saved_accs = sess.run(accs)
        _, want_acc = _numpy_rmsprop(0.01)
        by_name = dict(zip((a.op.name for a in accs), saved_accs))
        np.testing.assert_allclose(by_name["RMSprop/net/w/accumulator"], want_acc[0], rtol=1e-5)
        np.testing.assert_allclose(by_name["RMSprop/net/b/accumulator"], want_acc[1], rtol=1e-5)
    saved = dict(tf.train.list_variables(path))
    assert {"RMSprop/iterations", "RMSprop/net/w/accumulator",
            "RMSprop/net/b/accumulator", "net/w", "net/b"} <= set(saved)
    assert tuple(saved["RMSprop/net/w/accumulator"]) == (2, 3)
    assert tf.train.load_variable(path, "RMSprop/iterations") == STEPS


def test_rmsprop_two_optimizers_do_not_collide():
    with tf.Graph().as_default():
        loss, params = _problem()
        optimizers.keras_rmsprop(loss, params[:1], 0.01)
        optimizers.keras_rmsprop(loss, params, 0.01)
        names = [v.op.name for v in tf.global_variables()]
        assert len(names) == len(set(names))
        assert "RMSprop_1/net/w/accumulator" in names
        assert "RMSprop_1/iterations" in names


def test_adam_matches_keras_rule():
    lr, beta1 = 0.0002, 0.5
    # float32 only: TF1's AdamOptimizer keeps lr, betas and beta powers in float32 even for
    # float64 variables, so a float64 graph would not match a float64 hand computation.
    got = _train(lambda loss, params: optimizers.keras_adam(loss, params, lr, beta1))
    _assert_history(got, _numpy_adam(lr, beta1), lr)
    assert np.abs(got[-1][0] - W0).max() > 2 * lr


def test_adam_is_tf1_adam_with_keras_epsilon():
    """The claim behind keras_adam: with decay 0, TF1's AdamOptimizer(epsilon=1e-7) is Keras
    Adam."""
    with tf.Graph().as_default():
        loss, params = _problem()
        optimizers.keras_adam(loss, params, 0.001, name="Adam")
        slots = sorted(v.op.name for v in tf.global_variables() if v not in params)
        assert slots == ["Adam/iterations", "Adam/net/b/m", "Adam/net/b/v", "Adam/net/w/m",
                         "Adam/net/w/v"]
    for lr, beta1 in [(0.01, 0.9), (0.05, 0.5)]:
        got = _train(lambda loss, params, lr=lr, beta1=beta1:
                     tf.train.AdamOptimizer(lr, beta1, epsilon=1e-7)
                     .minimize(loss, var_list=params))
        _assert_history(got, _numpy_adam(lr, beta1), lr)
    # and epsilon 1e-7 matters: TF1's default 1e-8 gives another result on a tiny gradient
    with tf.Graph().as_default():
        z = tf.get_variable("z", initializer=tf.constant(1.0))
        loss = 1e-7 * z
        trains = [optimizers.keras_adam(loss, [z], 0.1, name="Keras"),
                  tf.train.AdamOptimizer(0.1, name="TF1").minimize(loss, var_list=[z])]
        moved = []
        with tf.Session() as sess:
            for train in trains:
                sess.run(tf.global_variables_initializer())
                sess.run(train)
                moved.append(1.0 - sess.run(z))
    # step 1, gradient g = 1e-7: lr * sqrt(1 - beta2) * g / (sqrt(1 - beta2) * g + epsilon)
    s = np.sqrt(0.001) * 1e-7
    assert moved[0] == pytest.approx(0.1 * s / (s + 1e-7), rel=1e-3)  # 0.0031
    assert moved[1] == pytest.approx(0.1 * s / (s + 1e-8), rel=1e-3)  # 0.024


def test_adam_with_decay_matches_keras_rule():
    lr, decay = 0.01, 0.5
    for dtype in (tf.float32, tf.float64):
        got = _train(lambda loss, params: optimizers.keras_adam(loss, params, lr, 0.5, decay=decay),
                     dtype=dtype)
        want = _numpy_adam(lr, 0.5, decay=decay, dtype=dtype)
        _assert_history(got, want, lr, dtype)
    assert np.abs(np.asarray(want[-1][0]) - _numpy_adam(lr, 0.5)[-1][0]).max() > 1e-3


@pytest.mark.parametrize("which", ["rmsprop", "adam", "adam_decay"])
def test_unused_variable_keeps_its_value_and_all_none_raises(which):
    build = {"rmsprop": lambda loss, vs: optimizers.keras_rmsprop(loss, vs, 0.01),
             "adam": lambda loss, vs: optimizers.keras_adam(loss, vs, 0.01),
             "adam_decay": lambda loss, vs: optimizers.keras_adam(loss, vs, 0.01, decay=0.1)}[which]
    with tf.Graph().as_default():
        loss, params = _problem()
        unused = tf.get_variable("unused", initializer=tf.constant([1.5, -2.5]))
        train = build(loss, params + [unused])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(2):
                sess.run(train)
            np.testing.assert_array_equal(sess.run(unused), [1.5, -2.5])
            assert not np.allclose(sess.run(params[0]), W0)
        with pytest.raises(ValueError):
            build(loss, [unused])


@pytest.mark.parametrize("which", ["rmsprop", "adam", "adam_decay"])
def test_built_inside_callers_control_dependencies(which):
    build = {"rmsprop": lambda loss, vs: optimizers.keras_rmsprop(loss, vs, 0.01),
             "adam": lambda loss, vs: optimizers.keras_adam(loss, vs, 0.01),
             "adam_decay": lambda loss, vs: optimizers.keras_adam(loss, vs, 0.01, decay=0.1)}[which]
    with tf.Graph().as_default():
        loss, params = _problem()
        counter = tf.get_variable("counter", initializer=tf.constant(0.0), trainable=False)
        bump = tf.assign_add(counter, 1.0)
        with tf.control_dependencies([bump]):
            train = build(loss, params)
        with tf.Session() as sess:
            # initialising must not run (or need) the caller's dependency
            sess.run(tf.global_variables_initializer())
            assert sess.run(counter) == 0.0
            sess.run(train)
            assert sess.run(counter) == 1.0  # the train op does wait for the dependency
            assert not np.allclose(sess.run(params[0]), W0)


def test_gradients_are_taken_before_any_update():
    """Two variables whose gradients read each other: the step must use the old values."""
    lr = 0.1
    with tf.Graph().as_default():
        x = tf.get_variable("x", initializer=tf.constant(1.0))
        y = tf.get_variable("y", initializer=tf.constant(2.0))
        train = optimizers.keras_rmsprop(x * y, [x, y], lr)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(20):  # repeat: a race would show up in some run
                sess.run(tf.global_variables_initializer())
                sess.run(train)
                got = sess.run([x, y])
                # g_x = y = 2, g_y = x = 1: each moves by lr / (sqrt(0.1) + 1e-7)
                step = lr * 1.0 / (np.sqrt(0.1) + 1e-7)
                np.testing.assert_allclose(got, [1.0 - step, 2.0 - step], rtol=1e-6)


def test_bad_arguments():
    with tf.Graph().as_default():
        loss, params = _problem()
        with pytest.raises(ValueError):
            optimizers.keras_rmsprop(loss, params, 0.01, decay=-1.0)
        with pytest.raises(ValueError):
            optimizers.keras_rmsprop(loss, [], 0.01)
        with pytest.raises(ValueError):
            optimizers.keras_adam(loss, [], 0.01)


# ---- one state stepped by several updates (a compiled Keras model), shared counters --------

def test_shared_rmsprop_state_steps_in_turn():
    init = np.array([[0.5, -1.5], [2.0, 0.25]], np.float32)
    target = np.array([[1.0, 2.0], [-1.0, 0.5]], np.float32)
    with tf.Graph().as_default():
        a = tf.Variable(init, name="a")
        b = tf.Variable(init, name="b")
        shared = optimizers.KerasRMSprop([a], lr=0.1, name="shared")
        first = shared.update(tf.reduce_sum(tf.square(a - target)))
        with tf.control_dependencies([first]):
            second = shared.update(tf.reduce_sum(tf.abs(a) * target))
        one = optimizers.keras_rmsprop(tf.reduce_sum(tf.square(b - target)), [b], lr=0.1)
        names = sorted(v.op.name for v in tf.global_variables())
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(one)
            one_step = sess.run(b)
            sess.run(second)
            a_after, acc, it = sess.run([a, shared.slots[0][0], shared.iterations])
    assert names == ["RMSprop/b/accumulator", "RMSprop/iterations", "a", "b",
                     "shared/a/accumulator", "shared/iterations"]
    # the first update is keras_rmsprop's step
    g1 = 2 * (init - target)
    acc1 = np.float32(0.1) * g1 ** 2
    np.testing.assert_allclose(one_step, init - 0.1 * g1 / (np.sqrt(acc1) + 1e-7), rtol=1e-6)
    # the second starts from the weights and the accumulator the first left
    g2 = np.sign(one_step) * target
    acc2 = 0.9 * acc1 + 0.1 * g2 ** 2
    np.testing.assert_allclose(acc, acc2, rtol=1e-6)
    np.testing.assert_allclose(a_after, one_step - 0.1 * g2 / (np.sqrt(acc2) + 1e-7), rtol=1e-6)
    assert it == 2


@pytest.mark.parametrize("decay", [0.0, 0.1])
def test_shared_adam_counter_drives_both_bias_corrections(decay):
    """One Keras Adam object compiled into two models: separate moments, one counter."""
    with tf.Graph().as_default():
        x = tf.get_variable("x", initializer=tf.constant(1.0))
        y = tf.get_variable("y", initializer=tf.constant(1.0))
        counter = tf.Variable(tf.constant(0, tf.int64), trainable=False, name="Adam/iterations")
        opt_x = optimizers.KerasAdam([x], 0.1, 0.5, decay=decay, iterations=counter, name="dx")
        opt_y = optimizers.KerasAdam([y], 0.1, 0.5, decay=decay, iterations=counter, name="dy")
        step_x, step_y = opt_x.update(2.0 * x), opt_y.update(3.0 * y)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(2):
                sess.run(step_x)
            sess.run(step_y)
            got_x, got_y, count = sess.run([x, y, counter])
    assert count == 3
    # a constant gradient g: m_t / sqrt(v_t) = (1 - b1^t) / sqrt(1 - b2^t) * sign(g) and the
    # bias correction cancels it: each step moves lr_decayed * sign(g) (up to epsilon)
    lrs = [0.1 / (1.0 + decay * it) for it in range(3)]
    np.testing.assert_allclose(got_x, 1.0 - lrs[0] - lrs[1], rtol=1e-5)
    # y's first update runs at t = 3: its fresh moments give m/sqrt(v) = 0.5 / sqrt(0.001),
    # corrected by sqrt(1 - 0.999^3) / (1 - 0.5^3), not by t = 1's factors
    t = 3
    move = lrs[2] * np.sqrt(1 - 0.999 ** t) / (1 - 0.5 ** t) * 0.5 / np.sqrt(0.001)
    np.testing.assert_allclose(got_y, 1.0 - move, rtol=1e-4)


def test_update_needs_a_gradient_for_every_variable():
    with tf.Graph().as_default():
        x = tf.get_variable("x", initializer=tf.constant(1.0))
        unused = tf.get_variable("unused", initializer=tf.constant(1.0))
        with pytest.raises(ValueError, match="unused"):
            optimizers.KerasRMSprop([x, unused], 0.1).update(2.0 * x)
        with pytest.raises(ValueError, match="empty"):
            optimizers.KerasAdam([], 0.1)
