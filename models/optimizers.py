"""Keras 2.2.4 optimizers as raw TF1 graph ops (tf.compat.v1), no Keras.

The Keras-GAN blog scripts train with standalone Keras 2.2 optimizers
(`RMSprop(lr=0.00005)` in wgan.py / wgan_gp.py, `RMSprop(lr=2e-4, decay=6e-8)`
in InfoGAN, `Adam(0.0002, 0.5)` in CGAN / ACGAN). This module reproduces their
update rules exactly.

Keras 2.2.4 RMSprop, one step (`iterations` starts at 0, one accumulator `a`
per variable starting at 0; rho = 0.9, epsilon = K.epsilon() = 1e-7):

    lr_t  = lr / (1 + decay * iterations)        (only when decay > 0)
    a     = rho * a + (1 - rho) * g**2
    p     = p - lr_t * g / (sqrt(a) + epsilon)
    iterations += 1

TF1's `tf.train.RMSPropOptimizer` is a different optimizer: its mean-square
accumulator starts at 1.0 (not 0), epsilon sits inside the square root
(`g / sqrt(a + epsilon)`), it has no Keras-style lr decay, and its default
epsilon is 1e-10. Its first step is lr * g / sqrt(rho + (1 - rho) * g**2),
about lr * |g| for the small gradients of GAN weights, while Keras's first step
is about lr / sqrt(1 - rho) = 3.16 * lr per coordinate whatever the gradient's
scale; so it cannot stand in for the blogs' RMSprop.

Keras 2.2.4 Adam, one step (m, v start at 0; epsilon = 1e-7):

    lr    = lr / (1 + decay * iterations)        (only when decay > 0)
    t     = iterations + 1
    lr_t  = lr * sqrt(1 - beta2**t) / (1 - beta1**t)
    m     = beta1 * m + (1 - beta1) * g
    v     = beta2 * v + (1 - beta2) * g**2
    p     = p - lr_t * m / (sqrt(v) + epsilon)
    iterations += 1

With decay == 0 this is exactly `tf.train.AdamOptimizer(lr, beta1, beta2,
epsilon=1e-7)` (its "epsilon hat" form), which `keras_adam` then uses; with
decay > 0 it builds the rule above itself.

Both functions compute every gradient before any variable changes, skip
variables whose gradient is None (they keep their value) and raise ValueError
when no variable in `var_list` gets a gradient. Their state (accumulators,
moments, the iteration counter) lives in non-trainable GLOBAL_VARIABLES, so
`tf.global_variables_initializer()` initialises it and `tf.train.Saver()`
checkpoints it; it is created under `tf.init_scope()`, so building the train
op inside a caller's `tf.control_dependencies([...])` is safe.
"""

from tf_compat import tf

__all__ = ["keras_rmsprop", "keras_adam"]


def _gradients(loss, var_list):
    """[(grad, var)] for the variables of var_list that get a gradient."""
    if var_list is None:
        var_list = tf.trainable_variables()
    var_list = list(var_list)
    if not var_list:
        raise ValueError("var_list is empty: no variables to optimise.")
    grads = tf.gradients(loss, var_list)
    pairs = [(tf.convert_to_tensor(g), v) for g, v in zip(grads, var_list) if g is not None]
    if not pairs:
        raise ValueError("No gradients for any variable of var_list (%s): the loss %s does not "
                         "depend on them." % ([v.op.name for v in var_list], loss))
    return pairs


def _slot(var, suffix):
    """A non-trainable zeros variable shaped like var, named <scope>/<var.op.name>/<suffix>.

    Call under tf.init_scope() and the optimizer's name scope."""
    shape = var.get_shape()
    if not shape.is_fully_defined():
        raise ValueError("Variable %s needs a fully defined shape, got %s." % (var.op.name, shape))
    dtype = var.dtype.base_dtype
    return tf.Variable(tf.zeros(shape, dtype), trainable=False, dtype=dtype,
                       name="%s/%s" % (var.op.name, suffix))


def _keras_update(loss, var_list, name, slot_names, step):
    """Build a Keras-style train op.

    step(iterations_float, grad, var_value, slot_values, dtype) returns
    (new_var_value, [new_slot_values]) from values read before any update.
    """
    with tf.name_scope(None, default_name=name):
        pairs = _gradients(loss, var_list)
        with tf.init_scope():
            iterations = tf.Variable(tf.constant(0, tf.int64), trainable=False,
                                     name="iterations")
            slots = [[_slot(v, s) for s in slot_names] for _, v in pairs]
        with tf.control_dependencies([g for g, _ in pairs]):
            it = tf.identity(iterations)
            targets, values = [], []
            for (g, v), v_slots in zip(pairs, slots):
                dtype = v.dtype.base_dtype
                new_v, new_slots = step(tf.cast(it, dtype), tf.cast(g, dtype),
                                        tf.identity(v), [tf.identity(s) for s in v_slots], dtype)
                targets += [v] + v_slots
                values += [new_v] + list(new_slots)
        # Every new value is computed before any variable is assigned.
        with tf.control_dependencies(values + [it]):
            assigns = [tf.assign(t, x) for t, x in zip(targets, values)]
            assigns.append(tf.assign_add(iterations, tf.constant(1, tf.int64)))
            return tf.group(*assigns, name="update")


def _decayed(lr, decay, iterations, dtype):
    lr = tf.constant(lr, dtype)
    if decay > 0:
        lr = lr * (1.0 / (1.0 + tf.constant(decay, dtype) * iterations))
    return lr


def keras_rmsprop(loss, var_list, lr, rho=0.9, epsilon=1e-7, decay=0.0, name="RMSprop"):
    """Train op doing one Keras 2.2.4 `RMSprop(lr, rho, epsilon, decay)` step on var_list.

    State: `<name>/<var.op.name>/accumulator` per variable and `<name>/iterations`
    (int64), all non-trainable global variables; a repeated name gets a `_1`,
    `_2`... suffix. lr decays with the iteration count before the step's increment.
    """
    if decay < 0:
        raise ValueError("decay must be >= 0, got %r" % decay)

    def step(iterations, g, p, slots, dtype):
        (a,) = slots
        lr_t = _decayed(lr, decay, iterations, dtype)
        new_a = rho * a + (1.0 - rho) * tf.square(g)
        new_p = p - lr_t * g / (tf.sqrt(new_a) + epsilon)
        return new_p, [new_a]

    return _keras_update(loss, var_list, name, ["accumulator"], step)


def keras_adam(loss, var_list, lr, beta1=0.9, beta2=0.999, epsilon=1e-7, decay=0.0, name="Adam"):
    """Train op doing one Keras 2.2.4 `Adam(lr, beta1, beta2, epsilon, decay)` step on var_list.

    decay == 0: `tf.train.AdamOptimizer(lr, beta1, beta2, epsilon, name=name)
    .minimize(loss, var_list=var_list)` (the same math; its usual slot names
    `<var>/<name>`, `<var>/<name>_1`, `beta1_power`, `beta2_power`).
    decay > 0: the Keras rule with the lr decay, built here; state
    `<name>/<var.op.name>/m`, `.../v` and `<name>/iterations`.
    """
    if decay < 0:
        raise ValueError("decay must be >= 0, got %r" % decay)
    if decay == 0:
        if var_list is not None and not list(var_list):
            raise ValueError("var_list is empty: no variables to optimise.")
        return tf.train.AdamOptimizer(lr, beta1, beta2, epsilon, name=name).minimize(
            loss, var_list=var_list)

    def step(iterations, g, p, slots, dtype):
        m, v = slots
        t = iterations + 1.0
        lr_t = (_decayed(lr, decay, iterations, dtype)
                * tf.sqrt(1.0 - tf.pow(tf.constant(beta2, dtype), t))
                / (1.0 - tf.pow(tf.constant(beta1, dtype), t)))
        new_m = beta1 * m + (1.0 - beta1) * g
        new_v = beta2 * v + (1.0 - beta2) * tf.square(g)
        new_p = p - lr_t * new_m / (tf.sqrt(new_v) + epsilon)
        return new_p, [new_m, new_v]

    return _keras_update(loss, var_list, name, ["m", "v"], step)
