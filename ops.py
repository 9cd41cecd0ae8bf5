"""Layer functions of the DRAGAN blog's `ops.py` (after carpedm20/DCGAN-tensorflow
and hwalsuklee/tensorflow-generative-model-collections), on tf.compat.v1.

Names, signatures, variable names and initializers are the blog's, so a reader of
the blog finds them: `conv2d` (`w` truncated-normal, `biases`), `deconv2d` (`w`
random-normal with shape [k_h, k_w, out, in], `biases`), `linear` (`Matrix`,
`bias`), `bn` (tf-slim batch norm, decay 0.9, eps 1e-5, scale, in-place
moving-average updates) and `lrelu`.

One extension over the blog: `deconv2d` accepts `None` (or -1) as the batch
entry of `output_shape` and then takes the batch size from its input, so the
same generator can build a 64-sample grid while training on another batch size.
"""

from tf_compat import slim, tf


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
            "w", [k_h, k_w, input_.get_shape()[-1], output_dim],
            initializer=tf.truncated_normal_initializer(stddev=stddev))
        conv = tf.nn.conv2d(input_, w, strides=[1, d_h, d_w, 1], padding="SAME")
        biases = tf.get_variable("biases", [output_dim], initializer=tf.constant_initializer(0.0))
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
            "w", [k_h, k_w, out_shape[-1], input_.get_shape()[-1]],
            initializer=tf.random_normal_initializer(stddev=stddev))
        deconv = tf.nn.conv2d_transpose(
            input_, w, output_shape=tf.stack(out_shape) if dynamic_batch else out_shape,
            strides=[1, d_h, d_w, 1])
        if dynamic_batch:
            deconv.set_shape([None] + [int(d) for d in out_shape[1:]])
        biases = tf.get_variable("biases", [out_shape[-1]], initializer=tf.constant_initializer(0.0))
        out = tf.nn.bias_add(deconv, biases)
        if with_w:
            return out, w, biases
        return out


def lrelu(x, leak=0.2, name="lrelu"):
    """Leaky ReLU as the blog writes it: max(x, leak * x)."""
    return tf.maximum(x, leak * x, name=name)


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
        matrix = tf.get_variable("Matrix", [shape[1], output_size], tf.float32,
                                 tf.random_normal_initializer(stddev=stddev))
        bias = tf.get_variable("bias", [output_size], initializer=tf.constant_initializer(bias_start))
        out = tf.matmul(input_, matrix) + bias
        if with_w:
            return out, matrix, bias
        return out


def bn(x, is_training, scope):
    """Batch norm with the blog's arguments (tf.contrib.layers.batch_norm == tf-slim).

    `updates_collections=None` updates the moving mean/variance in place on every
    forward pass with `is_training=True` (as in the blog), so no UPDATE_OPS are
    needed. `is_training` must be a Python bool.
    """
    if not isinstance(is_training, bool):
        raise TypeError("bn(): is_training must be a Python bool (tf-slim on TF 2.21 "
                        "cannot take a tensor here)")
    return slim.batch_norm(x, decay=0.9, updates_collections=None, epsilon=1e-5,
                           scale=True, is_training=is_training, scope=scope)
