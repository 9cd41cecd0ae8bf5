"""Layer functions of the DRAGAN blog's `ops.py` (after carpedm20/DCGAN-tensorflow
and hwalsuklee/tensorflow-generative-model-collections), on tf.compat.v1.

Names, signatures, variable names and initializers are the blog's, so a reader of
the blog finds them: `conv2d` (`w` truncated-normal, `biases`), `deconv2d` (`w`
random-normal with shape [k_h, k_w, out, in], `biases`), `linear` (`Matrix`,
`bias`), `bn` (tf-slim batch norm, decay 0.9, eps 1e-5, scale, moving-average
updates) and `lrelu`.

Two extensions over the blog: `deconv2d` accepts `None` (or -1) as the batch
entry of `output_shape` and then takes the batch size from its input, so the
same generator can build a 64-sample grid while training on another batch size;
and `bn`'s moving-average updates, in place in the blog (racing when one run
calls a layer several times), are built per session run by `bn_updates`.

Second family (appended below, `dense` ... `leaky_relu`): raw-op equivalents of
the *Keras* layers used by the Keras-based blog scripts (TF DCGAN tutorial,
Keras-GAN wgan/wgan_gp/cgan/acgan, InfoGAN). Variable names (`kernel`, `bias`,
`gamma`, `beta`, `moving_mean`, `moving_variance`, `embeddings`), shapes,
parameter counts, initializers (glorot-uniform, zeros, uniform(-0.05, 0.05))
and forward math are Keras's: `dense`, `conv`, `conv_transpose`, `batch_norm`
(tf.keras: momentum 0.99, eps 1e-3, in-place moving updates), `keras22_batch_norm`
(standalone Keras 2.2 on TF1: zero-debiased, Bessel-corrected moving statistics),
`dropout` (reproducible: mask from a fed stateless seed pair), `upsample2x`,
`zero_pad`, `embedding`, `leaky_relu` (slope 0.3), and CycleGAN's `instance_norm`
(from `tf.nn.moments`). No Keras is imported.
"""

import math
import weakref
import zlib

from tf_compat import slim, tf

# The blog's `bn` passes epsilon=1e-5 to tf.contrib.layers.batch_norm, whose fused kernel
# TensorFlow 1.x's `tf.nn.fused_batch_norm` raised to at least 1.001e-5 (the cuDNN limit);
# TensorFlow 2.21 passes 1e-5 through. The blog therefore trained with 1.001e-5.
BLOG_BN_EPSILON = 1.001e-5


def seeded_initializer(make, name):
    """The initializer of variable `name` in the current variable scope.

    `make(seed)` returns a TF1 initializer; its op seed is a hash of the variable's full
    name (with the graph seed, the model's `seed`), so a variable's initial value depends on
    (seed, name) only, not on how many ops the graph built before it: the float64 graph,
    which builds other ops (e.g. its batch norm), starts from the same weights. The value
    is drawn in float32, as the blogs draw it, and widened to the variable's dtype.
    """
    scope = tf.get_variable_scope().name
    full = "%s/%s" % (scope, name) if scope else name
    base = make(zlib.crc32(full.encode("utf-8")) & 0x7FFFFFFF)

    def initializer(shape, dtype=None, partition_info=None):
        value = base(shape, dtype=tf.float32)
        dtype = tf.as_dtype(dtype or tf.float32).base_dtype
        return value if dtype == tf.float32 else tf.cast(value, dtype)
    return initializer


def _dtype(x):
    """The float type a layer computes in: its input's (float32, or float64 for the
    platform-independent reference runs)."""
    return x.dtype.base_dtype


def _static_or_dynamic_batch(input_, batch):
    """The batch entry for an output shape: `batch` if given, else the input's."""
    if batch is None or (isinstance(batch, int) and batch < 0):
        static = input_.get_shape().as_list()[0]
        return static if static is not None else tf.shape(input_)[0]
    return batch


def conv2d(input_, output_dim, k_h=5, k_w=5, d_h=2, d_w=2, stddev=0.02, name="conv2d"):
    """2-D convolution, SAME padding, with bias.

    Args:
      input_: [batch, h, w, in] tensor.
      output_dim: number of output channels.
    Returns:
      [batch, ceil(h / d_h), ceil(w / d_w), output_dim] tensor.
    """
    with tf.variable_scope(name):
        w = tf.get_variable(
            "w", [k_h, k_w, input_.get_shape()[-1], output_dim], _dtype(input_),
            initializer=seeded_initializer(
                lambda seed: tf.truncated_normal_initializer(stddev=stddev, seed=seed), "w"))
        conv = tf.nn.conv2d(input_, w, strides=[1, d_h, d_w, 1], padding="SAME")
        biases = tf.get_variable("biases", [output_dim], _dtype(input_),
                                 initializer=tf.constant_initializer(0.0))
        return tf.nn.bias_add(conv, biases)


def deconv2d(input_, output_shape, k_h=5, k_w=5, d_h=2, d_w=2, name="deconv2d",
             stddev=0.02, with_w=False):
    """Transposed 2-D convolution, SAME padding, with bias.

    Args:
      input_: [batch, h, w, in] tensor.
      output_shape: [batch, out_h, out_w, out]; batch may be None/-1 (taken
        from `input_`).
      with_w: also return the weight and bias variables.
    Returns:
      [batch, out_h, out_w, out] tensor (and `w`, `biases` if `with_w`).
    """
    out_shape = list(output_shape)
    out_shape[0] = _static_or_dynamic_batch(input_, out_shape[0])
    dynamic_batch = not isinstance(out_shape[0], int)
    with tf.variable_scope(name):
        w = tf.get_variable(
            "w", [k_h, k_w, out_shape[-1], input_.get_shape()[-1]], _dtype(input_),
            initializer=seeded_initializer(
                lambda seed: tf.random_normal_initializer(stddev=stddev, seed=seed), "w"))
        deconv = tf.nn.conv2d_transpose(
            input_, w, output_shape=tf.stack(out_shape) if dynamic_batch else out_shape,
            strides=[1, d_h, d_w, 1])
        if dynamic_batch:
            deconv.set_shape([None] + [int(d) for d in out_shape[1:]])
        biases = tf.get_variable("biases", [out_shape[-1]], _dtype(input_),
                                 initializer=tf.constant_initializer(0.0))
        out = tf.nn.bias_add(deconv, biases)
        if with_w:
            return out, w, biases
        return out


def lrelu(x, leak=0.2, name="lrelu"):
    """Leaky ReLU as the blog writes it: max(x, leak * x).

    In float32 its gradient is built as one op per use (`_lrelu_gradient`) instead of
    TensorFlow's five for `tf.maximum(x, leak * x)` (two selects, a comparison, a product
    and a sum), with the same bits: grad where x >= leak * x (x = 0 included), leak * grad
    elsewhere. float64, the checking type, keeps TensorFlow's own gradient.
    """
    if _dtype(x) != tf.float32:
        return tf.maximum(x, leak * x, name=name)
    with tf.get_default_graph().gradient_override_map({"Maximum": _lrelu_gradient(leak)}):
        return tf.maximum(x, leak * x, name=name)


_LRELU_GRADIENTS = {}   # leak -> name of the registered gradient of lrelu's float32 Maximum


def _lrelu_gradient(leak):
    """The name of `lrelu`'s float32 gradient for slope `leak` (registered once).

    For the op max(x, y), y = leak * x: d/dx = LeakyReluGrad(grad, side, leak), which is
    grad where side > 0 and grad * leak elsewhere (the product TensorFlow's form computes,
    leak * grad, in float32), with side = +1 where x >= y (TensorFlow's Maximum gradient
    gives the tie to x) and -1 elsewhere; nothing flows through y (its part is in the
    LeakyReluGrad). Differentiated again (a gradient penalty) it is one LeakyReluGrad
    too (TensorFlow's gradient of LeakyReluGrad), as TensorFlow's form gives:
    gradgrad where x >= y, leak * gradgrad elsewhere. One op, not a product: the form
    `grad * stop_gradient(slope)`, the same math, moved the float32 bits of DCGAN,
    DCGAN-Pokemon and WGAN-GP (Grappler rewrites chains of products).
    """
    name = _LRELU_GRADIENTS.get(leak)
    if name is None:
        name = "GanReproLrelu_%r" % (leak,)

        @tf.RegisterGradient(name)
        def _gradient(op, grad):
            x, y = op.inputs
            side = tf.stop_gradient(tf.where_v2(tf.greater_equal(x, y), tf.constant(1.0),
                                                tf.constant(-1.0)))
            return tf.raw_ops.LeakyReluGrad(gradients=grad, features=side, alpha=leak), None

        _LRELU_GRADIENTS[leak] = name
    return name


def linear(input_, output_size, scope=None, stddev=0.02, bias_start=0.0, with_w=False):
    """Fully connected layer `input_ @ Matrix + bias`.

    Args:
      input_: [batch, in] tensor.
      output_size: number of outputs.
      scope: variable scope (default "Linear").
    Returns:
      [batch, output_size] tensor (and `Matrix`, `bias` if `with_w`).
    """
    shape = input_.get_shape().as_list()
    with tf.variable_scope(scope or "Linear"):
        matrix = tf.get_variable("Matrix", [shape[1], output_size], _dtype(input_),
                                 seeded_initializer(lambda seed: tf.random_normal_initializer(
                                     stddev=stddev, seed=seed), "Matrix"))
        bias = tf.get_variable("bias", [output_size], _dtype(input_),
                               initializer=tf.constant_initializer(bias_start))
        out = tf.matmul(input_, matrix) + bias
        if with_w:
            return out, matrix, bias
        return out


def bn(x, is_training, scope, epsilon=BLOG_BN_EPSILON):
    """Batch norm with the blog's arguments (tf.contrib.layers.batch_norm == tf-slim:
    decay 0.9, `scale=True`, the fused kernel).

    The blog passes `updates_collections=None`: every training-mode call updates the
    layer's moving mean/variance in place, whenever a session run computes its output.
    Here a training-mode call records that update instead, and `bn_updates(fetches)`
    builds the updates a run of `fetches` makes: those of the calls the run computes,
    each layer's in build order. In place, the calls one session run makes (D on real,
    fake and, in DRAGAN, interpolated batches) race: each reads the statistics and
    subtracts from them, and which update read which value varied from run to run.
    Ordering them in place (each call after those built before it) would make a run of
    a later call compute the earlier ones too (a G update would run D on the real
    batch). `is_training` must be a Python bool. float32 runs slim's fused kernel as
    slim does (`_slim_fused_batch_norm_training`); float64 (no fused kernel) runs
    `_slim_fused_batch_norm_exact`, the same math with the same first and second
    derivatives.
    """
    if not isinstance(is_training, bool):
        raise TypeError("bn(): is_training must be a Python bool (tf-slim on TF 2.21 "
                        "cannot take a tensor here)")
    if _dtype(x) != tf.float32:
        return _slim_fused_batch_norm_exact(x, is_training, scope, decay=0.9, epsilon=epsilon)
    if not is_training:
        return slim.batch_norm(x, decay=0.9, updates_collections=None, epsilon=epsilon,
                               scale=True, is_training=False, scope=scope)
    return _slim_fused_batch_norm_training(x, scope, decay=0.9, epsilon=epsilon)


def _slim_fused_batch_norm_training(x, scope, decay, epsilon):
    """`slim.batch_norm(x, decay, scale=True, epsilon, is_training=True)` without its
    update: slim's variables (`slim.model_variable`, its names, initializers and
    collections) and its fused call (a 2-D input run as [N, 1, 1, C]); the update of the
    moving statistics (slim's `assign_moving_average`, no zero-debiasing, from the
    kernel's batch mean and Bessel-corrected variance) is recorded for `bn_updates`."""
    channels = int(x.get_shape()[-1])
    with tf.variable_scope(scope):
        beta = slim.model_variable("beta", [channels], tf.float32, tf.zeros_initializer())
        gamma = slim.model_variable("gamma", [channels], tf.float32, tf.ones_initializer())
        moving_mean = slim.model_variable("moving_mean", [channels], tf.float32,
                                          tf.zeros_initializer(), trainable=False)
        moving_variance = slim.model_variable("moving_variance", [channels], tf.float32,
                                              tf.ones_initializer(), trainable=False)
        shape = x.get_shape()
        inputs = x if shape.ndims == 4 else tf.reshape(x, [-1, 1, 1, channels])
        outputs, mean, variance = tf.nn.fused_batch_norm(inputs, gamma, beta,
                                                         epsilon=epsilon, data_format="NHWC")
        outputs.set_shape(inputs.get_shape())
        if shape.ndims != 4:
            dims = shape.as_list()
            outputs = tf.reshape(outputs, [-1 if d is None else d for d in dims]
                                 if dims.count(None) <= 1 else tf.shape(x))
        _record_update(outputs, [(moving_mean, mean), (moving_variance, variance)], decay)
        return outputs


_PENDING = weakref.WeakKeyDictionary()   # graph -> [(output op, [(variable, value)], decay)]


def _record_update(output, pairs, decay):
    """Record that computing `output` updates each variable of `pairs` towards its value:
    v -= (v - value) * (1 - decay), as slim's `assign_moving_average` (zero_debias=False)."""
    _PENDING.setdefault(tf.get_default_graph(), []).append((output.op, pairs, decay))


def bn_updates(fetches):
    """The moving-statistics updates a session run of `fetches` makes, as ops to run
    with it (e.g. grouped into a train op): one per variable of every training-mode `bn`
    call whose output `fetches` depend on, each after the updates of the same variable
    built before it (build order). Fresh ops each time: two runs (a D and a G update)
    that compute one call (D on the fake batch) each update with it, and neither
    computes the other's calls. Empty if the fetches compute no training-mode `bn`."""
    graph = tf.get_default_graph()
    pending = _PENDING.get(graph, [])
    if not pending:
        return []
    needed = ancestors(tf.nest.flatten(fetches))
    last, ops = {}, []
    with tf.name_scope("bn_updates"):
        for output, pairs, decay in pending:
            if output not in needed:
                continue
            for variable, value in pairs:
                key = variable.op.name
                with tf.control_dependencies([last[key]] if key in last else []):
                    rate = tf.constant(1.0 - decay, variable.dtype.base_dtype)
                    last[key] = variable.assign_sub((variable - value) * rate,
                                                    read_value=False)
                ops.append(last[key])
    return ops


def ancestors(fetches):
    """Every op a run of `fetches` (tensors or ops) runs: through inputs and control
    inputs."""
    seen = set()
    stack = [f.op if isinstance(f, tf.Tensor) else f for f in fetches]
    while stack:
        op = stack.pop()
        if op not in seen:
            seen.add(op)
            stack.extend(t.op for t in op.inputs)
            stack.extend(op.control_inputs)
    return seen


def exact_moments(x, axes):
    """Mean and biased variance over `axes`, differentiable to every order.

    `tf.nn.moments` stops the gradient through the mean inside the variance: its values
    and first derivatives are exact, its second derivatives are not, and a gradient
    penalty's weight gradient is a second derivative (through every batch norm the
    penalty's input gradient passes). Here the mean stays in the graph.
    """
    mean = tf.reduce_mean(x, axes, keepdims=True)
    variance = tf.reduce_mean(tf.square(x - mean), axes, keepdims=True)
    return tf.squeeze(mean, axes), tf.squeeze(variance, axes)


def _normalize(x, mean, variance, gamma, beta, epsilon):
    """gamma * (x - mean) / sqrt(variance + epsilon) + beta (the fused kernel's formula)."""
    return (x - mean) * (tf.rsqrt(variance + epsilon) * gamma) + beta


def _slim_fused_batch_norm_exact(x, is_training, scope, decay, epsilon):
    """tf-slim's fused batch norm (`scale=True`) without the fused kernel.

    Variables as slim names them (`beta`, `gamma`, `moving_mean`, `moving_variance`);
    batch statistics from `exact_moments`; the moving variance is updated with the
    Bessel-corrected batch variance (n / (n - 1)), which the fused kernel returns, for
    4-D inputs and for 2-D ones (slim runs those as [N, 1, 1, C]); a training-mode
    call's update is recorded for `bn_updates`, as in float32.
    """
    dtype = _dtype(x)
    channels = int(x.get_shape()[-1])
    with tf.variable_scope(scope):
        beta = tf.get_variable("beta", [channels], dtype, tf.zeros_initializer())
        gamma = tf.get_variable("gamma", [channels], dtype, tf.ones_initializer())
        moving_mean = tf.get_variable("moving_mean", [channels], dtype, tf.zeros_initializer(),
                                      trainable=False)
        moving_variance = tf.get_variable("moving_variance", [channels], dtype,
                                          tf.ones_initializer(), trainable=False)
        if not is_training:
            return _normalize(x, moving_mean, moving_variance, gamma, beta, epsilon)
        axes = list(range(x.get_shape().ndims - 1))
        mean, variance = exact_moments(x, axes)
        n = float(math.prod(x.get_shape().as_list()[:-1]))
        outputs = _normalize(x, mean, variance, gamma, beta, epsilon)
        _record_update(outputs, [(moving_mean, mean),
                                 (moving_variance, variance * (n / (n - 1.0)))], decay)
        return outputs


# --- Keras-equivalent layers ---------------------------------------------------


def _pair(value):
    """`k` or `(k_h, k_w)` -> (k_h, k_w)."""
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _glorot_uniform(shape, name="kernel"):
    """Keras `GlorotUniform` for kernel `name` of `shape`: uniform(-limit, limit),
    limit = sqrt(6 / (fan_in + fan_out)).

    Fans are computed from the kernel shape the Keras way (`compute_fans`):
    for a 2-D kernel fan_in = shape[0], fan_out = shape[1]; for a conv kernel
    the receptive field is prod(shape[:-2]), fan_in = receptive * shape[-2] and
    fan_out = receptive * shape[-1]. (A Conv2DTranspose kernel is stored as
    [k, k, filters, in], so there fan_in = k*k*filters and fan_out = k*k*in;
    the limit only depends on the sum.)
    """
    shape = [int(d) for d in shape]
    if len(shape) == 2:
        fan_in, fan_out = shape
    else:
        receptive = 1
        for d in shape[:-2]:
            receptive *= d
        fan_in, fan_out = receptive * shape[-2], receptive * shape[-1]
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return seeded_initializer(lambda seed: tf.random_uniform_initializer(-limit, limit, seed=seed),
                              name)


def dense(x, units, use_bias=True, name="dense"):
    """Keras `Dense`: `x @ kernel + bias`.

    Args:
      x: [batch, in] tensor.
      units: number of outputs.
      use_bias: add a `bias` (zeros-initialised).
      name: variable scope.
    Returns:
      [batch, units] tensor. Variables: `kernel` [in, units] (glorot-uniform),
      `bias` [units] (zeros).
    """
    fan_in = int(x.get_shape()[-1])
    with tf.variable_scope(name):
        kernel = tf.get_variable("kernel", [fan_in, units], _dtype(x),
                                 _glorot_uniform([fan_in, units]))
        out = tf.matmul(x, kernel)
        if use_bias:
            bias = tf.get_variable("bias", [units], _dtype(x), tf.zeros_initializer())
            out = tf.nn.bias_add(out, bias)
        return out


def conv(x, filters, kernel_size, strides=1, padding="SAME", use_bias=True, name="conv"):
    """Keras `Conv2D` (channels-last).

    Args:
      x: [batch, h, w, in] tensor.
      filters: number of output channels.
      kernel_size: k or (k_h, k_w).
      strides: s or (s_h, s_w).
      padding: "SAME" or "VALID" (case-insensitive, as Keras's "same"/"valid").
      use_bias: add a `bias` (zeros-initialised).
      name: variable scope.
    Returns:
      [batch, out_h, out_w, filters] tensor; out = ceil(h / s) for SAME,
      ceil((h - k + 1) / s) for VALID. Variables: `kernel` [k_h, k_w, in,
      filters] (glorot-uniform, fan_in = k_h*k_w*in, fan_out = k_h*k_w*filters),
      `bias` [filters] (zeros).
    """
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = _pair(strides)
    shape = [k_h, k_w, int(x.get_shape()[-1]), filters]
    with tf.variable_scope(name):
        kernel = tf.get_variable("kernel", shape, _dtype(x), _glorot_uniform(shape))
        out = tf.nn.conv2d(x, kernel, strides=[1, s_h, s_w, 1], padding=padding.upper())
        if use_bias:
            bias = tf.get_variable("bias", [filters], _dtype(x), tf.zeros_initializer())
            out = tf.nn.bias_add(out, bias)
        return out


def conv_transpose(x, filters, kernel_size, strides=1, use_bias=True, name="conv_transpose"):
    """Keras `Conv2DTranspose` with padding "same" (no output_padding).

    Args:
      x: [batch, h, w, in] tensor; h and w must be static, batch may be None.
      filters: number of output channels.
      kernel_size: k or (k_h, k_w).
      strides: s or (s_h, s_w).
      use_bias: add a `bias` (zeros-initialised).
      name: variable scope.
    Returns:
      [batch, h * s_h, w * s_w, filters] tensor. Variables: `kernel` [k_h, k_w,
      filters, in] (glorot-uniform, Keras fans: fan_in = k_h*k_w*filters,
      fan_out = k_h*k_w*in), `bias` [filters] (zeros).
    """
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = _pair(strides)
    batch, height, width, in_channels = x.get_shape().as_list()
    out_static = [batch, height * s_h, width * s_w, filters]
    out_shape = tf.stack([tf.shape(x)[0]] + out_static[1:]) if batch is None else out_static
    # Keras stores the transposed-conv kernel as [k_h, k_w, out, in].
    shape = [k_h, k_w, filters, in_channels]
    with tf.variable_scope(name):
        kernel = tf.get_variable("kernel", shape, _dtype(x), _glorot_uniform(shape))
        out = tf.nn.conv2d_transpose(x, kernel, output_shape=out_shape,
                                     strides=[1, s_h, s_w, 1], padding="SAME")
        out.set_shape(out_static)
        if use_bias:
            bias = tf.get_variable("bias", [filters], _dtype(x), tf.zeros_initializer())
            out = tf.nn.bias_add(out, bias)
        return out


def batch_norm(x, training, momentum=0.99, epsilon=1e-3, update_moving=True, name="batch_norm"):
    """Keras `BatchNormalization` over the last axis.

    training=True normalises with the batch mean and (biased) variance over all
    axes but the last; with `update_moving` it also updates, in place,
    moving = moving * momentum + batch * (1 - momentum) for the mean and the
    variance, and the output depends on those updates (control dependencies),
    so running the output updates them; no UPDATE_OPS collection is used.
    training=False normalises with the moving statistics.

    Args:
      x: [batch, features] or [batch, h, w, channels] tensor.
      training: Python bool.
      momentum: moving-average momentum (Keras default 0.99).
      epsilon: variance epsilon (Keras default 1e-3).
      update_moving: with training=True, update the moving statistics.
      name: variable scope.
    Returns:
      Tensor of the shape of `x`. Variables: `gamma` (ones), `beta` (zeros),
      trainable; `moving_mean` (zeros), `moving_variance` (ones), not
      trainable (GLOBAL_VARIABLES only). All of shape [channels].
    """
    if not isinstance(training, bool):
        raise TypeError("batch_norm(): training must be a Python bool")
    with tf.variable_scope(name):
        gamma, beta, moving_mean, moving_variance = _keras_bn_variables(x)
        if not training:
            return tf.nn.batch_normalization(x, moving_mean, moving_variance, beta, gamma, epsilon)
        axes = list(range(x.get_shape().ndims - 1))
        mean, variance = tf.nn.moments(x, axes=axes)
        updates = []
        if update_moving:
            updates = [
                tf.assign(moving_mean, moving_mean * momentum + mean * (1.0 - momentum)),
                tf.assign(moving_variance,
                          moving_variance * momentum + variance * (1.0 - momentum)),
            ]
        with tf.control_dependencies(updates):
            return tf.nn.batch_normalization(x, mean, variance, beta, gamma, epsilon)


def _keras_bn_variables(x):
    """Keras BatchNormalization's variables for `x`'s last axis: gamma (ones), beta
    (zeros), trainable; moving_mean (zeros), moving_variance (ones), not trainable."""
    channels, dtype = int(x.get_shape()[-1]), _dtype(x)
    return (tf.get_variable("gamma", [channels], dtype, tf.ones_initializer()),
            tf.get_variable("beta", [channels], dtype, tf.zeros_initializer()),
            tf.get_variable("moving_mean", [channels], dtype, tf.zeros_initializer(),
                            trainable=False),
            tf.get_variable("moving_variance", [channels], dtype, tf.ones_initializer(),
                            trainable=False))


def keras22_batch_norm(x, training, momentum=0.99, epsilon=1e-3, update_moving=True,
                       name="batch_normalization", shadow=""):
    """Standalone Keras 2.2 `BatchNormalization` (last axis) as it runs on TensorFlow 1.x.

    The Keras-GAN scripts (WGAN, WGAN-GP, CGAN, ACGAN) and the InfoGAN book code use it;
    the TF tutorial's tf.keras layer is `batch_norm`. Training with 4-D inputs goes
    through `tf.nn.fused_batch_norm`, as Keras 2.2's `normalize_batch_in_training` sends
    NHWC batches there (its second derivative is exact, which a gradient penalty through
    the layer needs); float64, which has no fused kernel, computes the same with
    `exact_moments`. 2-D inputs in training and every input at inference are `batch_norm`'s
    (`tf.nn.moments`, as Keras 2.2's regular path). With `training` and `update_moving`
    the moving statistics are updated as Keras 2.2 does (through `K.moving_average_update`,
    i.e. TF1 `assign_moving_average(zero_debias=True)`), and the output depends on the
    updates:
        biased <- biased - (biased - v) * (1 - momentum);  t <- t + 1
        moving <- biased / (1 - momentum^t)
    so after the first update the moving statistics equal the batch's. v is the batch
    mean, or the batch variance times n/(n-1) (what the fused kernel returns; 4-D inputs
    only) times n/(n - (1 + epsilon)) (Keras's own "unbiased" line), n = values per
    channel.

    Args:
      x: [batch, ..., channels] tensor (a static shape where the moving statistics are
        updated).
      training: Python bool.
      momentum, epsilon: Keras's BN momentum and epsilon.
      update_moving: with training=True, update the moving statistics.
      name: variable scope of the layer.
      shadow: suffix of the zero-debiasing variables: every call site of a Keras layer
        inside another compiled model gets its own (TF1 names them `biased`, `biased_1`...).
    Returns:
      Tensor of the shape of `x`. Variables: those of `batch_norm` and, for each moving
      statistic updated, `<moving>/biased<shadow>` and `<moving>/local_step<shadow>`, not
      trainable.
    """
    if not isinstance(training, bool):
        raise TypeError("keras22_batch_norm(): training must be a Python bool")
    shape = x.get_shape().as_list()
    axes = list(range(len(shape) - 1))
    n = None if None in shape else float(math.prod(shape[:-1]))   # values per channel
    if training and len(shape) == 4:
        with tf.variable_scope(name):
            gamma, beta, _, _ = _keras_bn_variables(x)
            if _dtype(x) == tf.float32:
                # (the fused kernel's variance is n/(n-1) times the batch's)
                out, mean, variance = tf.nn.fused_batch_norm(x, gamma, beta, epsilon=epsilon,
                                                             is_training=True)
            else:
                mean, variance = exact_moments(x, axes)
                out = _normalize(x, mean, variance, gamma, beta, epsilon)
                variance = variance * (n / (n - 1.0)) if n else variance
    else:
        out = batch_norm(x, training, momentum, epsilon, update_moving=False, name=name)
    if not (training and update_moving):
        return out
    if n is None:
        raise ValueError("keras22_batch_norm(): %s needs a static shape, got %s" % (name, shape))
    if len(shape) != 4:
        mean, variance = tf.nn.moments(x, axes=axes)
    variance = variance * (n / (n - (1.0 + epsilon)))
    # (auxiliary_name_scope=False: re-entering the layer's scope must not take the name
    # scope of the next layer, "<name>_1")
    with tf.variable_scope(name, reuse=tf.AUTO_REUSE, auxiliary_name_scope=False):
        moving_mean = tf.get_variable("moving_mean", dtype=_dtype(x))
        moving_variance = tf.get_variable("moving_variance", dtype=_dtype(x))
        with tf.name_scope(name + "_moving_update"):
            updates = [_zero_debiased_average(moving_mean, mean, momentum, shadow),
                       _zero_debiased_average(moving_variance, variance, momentum, shadow)]
    with tf.control_dependencies(updates):
        return tf.identity(out)


def _zero_debiased_average(variable, value, momentum, shadow=""):
    """TF1 `assign_moving_average(variable, value, momentum, zero_debias=True)`, its shadow
    variables named `biased<shadow>` and `local_step<shadow>`."""
    dtype = variable.dtype.base_dtype
    with tf.variable_scope(variable.op.name.split("/")[-1], auxiliary_name_scope=False):
        biased = tf.get_variable("biased" + shadow, variable.get_shape(), dtype,
                                 tf.zeros_initializer(), trainable=False)
        local_step = tf.get_variable("local_step" + shadow, [], dtype, tf.zeros_initializer(),
                                     trainable=False)
    decay = tf.constant(1.0 - momentum, dtype)
    new_biased = tf.assign_sub(biased, (biased - value) * decay)
    new_step = tf.assign_add(local_step, 1.0)
    return tf.assign(variable, new_biased / (1.0 - tf.pow(1.0 - decay, new_step)))


def dropout(x, rate, seed, salt, training=True):
    """Keras `Dropout`, reproducible across session restarts.

    The mask is `tf.random.stateless_uniform(tf.shape(x), key) >= rate`, where
    the key is `seed` folded with `salt` (`stateless_fold_in`), so it is a pure
    function of the fed seed pair and the layer's salt. Kept values are scaled
    by 1 / (1 - rate), as `tf.nn.dropout` does.

    Args:
      x: float tensor of any shape.
      rate: fraction dropped, in [0, 1).
      seed: int32/int64 [2] tensor (e.g. a placeholder fed a fresh pair each
        step).
      salt: Python int, distinct per dropout layer.
      training: Python bool; False (or rate == 0) returns `x` unchanged.
    Returns:
      Tensor of the shape of `x`.
    """
    if not 0.0 <= rate < 1.0:
        raise ValueError("dropout(): rate must be in [0, 1), got %r" % (rate,))
    if not training or rate == 0:
        return x
    with tf.name_scope("dropout"):
        key = tf.random.experimental.stateless_fold_in(seed, int(salt))
        # float32 draws in every dtype: the float64 graph gets the float32 graph's masks
        keep = tf.random.stateless_uniform(tf.shape(x), seed=key, dtype=tf.float32) >= rate
        return tf.where(keep, x * (1.0 / (1.0 - rate)), tf.zeros_like(x))


def upsample2x(x, name=None):
    """Keras `UpSampling2D(size=2)` (nearest neighbour): repeat rows, then columns.

    The values and gradients (bit for bit) of `tf.repeat(tf.repeat(x, 2, 1), 2, 2)`,
    from six ops instead of tf.repeat's general graph (CycleGAN builds 40 of them).

    Args:
      x: [batch, h, w, c] tensor with static h, w, c (batch may be unknown).
    Returns:
      [batch, 2h, 2w, c] tensor; out[:, 2i + a, 2j + b] = x[:, i, j]; no variables.
    """
    _, h, w, c = x.get_shape().as_list()
    with tf.name_scope(name or "upsample2x"):
        rows = tf.reshape(tf.tile(tf.reshape(x, [-1, h, 1, w, c]), [1, 1, 2, 1, 1]),
                          [-1, 2 * h, w, c])
        return tf.reshape(tf.tile(tf.reshape(rows, [-1, 2 * h, w, 1, c]), [1, 1, 1, 2, 1]),
                          [-1, 2 * h, 2 * w, c])


def zero_pad(x, top=0, bottom=0, left=0, right=0):
    """Keras `ZeroPadding2D(((top, bottom), (left, right)))`.

    Args:
      x: [batch, h, w, c] tensor.
    Returns:
      [batch, top + h + bottom, left + w + right, c] tensor, zeros around `x`.
    """
    return tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]])


def embedding(ids, num_classes, dim, name="embedding", dtype=tf.float32):
    """Keras `Embedding` (for the CGAN/ACGAN label input).

    Args:
      ids: int [batch] tensor of class ids in [0, num_classes).
      num_classes: vocabulary size.
      dim: embedding size.
      name: variable scope.
    Returns:
      [batch, dim] tensor. Variable: `embeddings` [num_classes, dim],
      uniform(-0.05, 0.05) (Keras default).
    """
    with tf.variable_scope(name):
        table = tf.get_variable("embeddings", [num_classes, dim], dtype, seeded_initializer(
            lambda seed: tf.random_uniform_initializer(-0.05, 0.05, seed=seed), "embeddings"))
        return tf.nn.embedding_lookup(table, ids)


def leaky_relu(x, alpha=0.3, name="leaky_relu"):
    """Keras `LeakyReLU` (default slope 0.3): max(x, alpha * x)."""
    return lrelu(x, alpha, name=name)


def instance_norm(x, per_channel=False, epsilon=1e-3, name="instance_norm"):
    """keras-contrib `InstanceNormalization` (the CycleGAN blog's), channels-last.

    per_channel=False is the layer's default `axis=None`: each sample is
    normalised over H, W and C together, with ONE gamma and ONE beta (shape
    [1]) for the whole layer. per_channel=True is `axis=-1`: each sample and
    channel over H, W, with gamma and beta of shape [C] (the usual instance
    norm).

    As keras-contrib computes it, epsilon is added to the standard deviation
    (its docstring says "to the variance"):

        out = gamma * (x - mean) / (sqrt(var) + epsilon) + beta

    with mean and (biased) variance from `tf.nn.moments` over the normalised
    axes. Nothing is tracked between batches, so training and inference are
    the same computation.

    Args:
      x: [batch, h, w, c] tensor.
      per_channel: False (keras-contrib axis=None) or True (axis=-1).
      epsilon: added to the standard deviation (keras-contrib default 1e-3).
      name: variable scope.
    Returns:
      Tensor of the shape of `x`. Variables: `gamma` (ones), `beta` (zeros),
      trainable, of shape [1] or [c].
    """
    channels = int(x.get_shape()[-1])
    shape = [channels] if per_channel else [1]
    axes = [1, 2] if per_channel else [1, 2, 3]
    with tf.variable_scope(name):
        gamma = tf.get_variable("gamma", shape, _dtype(x), tf.ones_initializer())
        beta = tf.get_variable("beta", shape, _dtype(x), tf.zeros_initializer())
        mean, variance = tf.nn.moments(x, axes=axes, keepdims=True)
        normed = (x - mean) / (tf.sqrt(variance) + epsilon)
        return normed * gamma + beta
