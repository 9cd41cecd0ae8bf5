"""Keras 2.2 losses and metrics on probabilities, as small pure tf.compat.v1 functions.

The Keras ports (CGAN, ACGAN from Keras-GAN; InfoGAN from Atienza's book) end their
networks in `sigmoid` / `softmax` activations and compile them with Keras's built-in
losses, which Keras 2.2's TensorFlow backend computes from the probabilities, not from
logits: it clips them into [eps, 1 - eps] first (eps = K.epsilon() = 1e-7), which
bounds every loss term and zeroes the gradient of a saturated output. These functions
repeat that math, unlike the from-logits losses of `models/losses.py`.

Every function takes Keras's argument order, `(target, probs)` (`y_true, y_pred`), and
returns the batch mean (Keras's per-sample mean over the last axis, averaged over the
samples with unit sample weights). A target may be a Python number for every sample
(Keras-GAN's `valid` / `fake` arrays, ACGAN's "fake" class 10). No function creates
variables.
"""

from tf_compat import tf

KERAS_EPSILON = 1e-7   # keras.backend.epsilon(), the clip of Keras's probability losses


def _clipped(probs):
    eps = tf.constant(KERAS_EPSILON, probs.dtype.base_dtype)
    return tf.clip_by_value(probs, eps, 1.0 - eps)


def _target_like(target, probs):
    """`target` (a number or a tensor) as a float tensor of the shape of `probs`."""
    if isinstance(target, (int, float)):
        return tf.fill(tf.shape(probs), tf.constant(float(target), probs.dtype.base_dtype))
    return tf.cast(target, probs.dtype.base_dtype) + tf.zeros_like(probs)


def _class_ids(labels, probs):
    """int64 [batch] class indices from a tensor ([batch] or [batch, 1]) or a Python int."""
    if isinstance(labels, int):
        labels = tf.fill(tf.shape(probs)[:1], tf.constant(labels, tf.int64))
    return tf.reshape(tf.cast(labels, tf.int64), [-1])


def binary_crossentropy(target, probs):
    """Keras `binary_crossentropy` of sigmoid outputs.

    Args:
      target: 0, 1 or a [batch, k] tensor of 0/1 (or soft) targets.
      probs: [batch, k] probabilities (a sigmoid's output), k usually 1.
    Returns:
      scalar: mean over the batch of the mean over k of
      sigmoid-CE(target, log(p / (1 - p))), p clipped to [1e-7, 1 - 1e-7].
    """
    p = _clipped(probs)
    logits = tf.log(p / (1.0 - p))
    per_value = tf.nn.sigmoid_cross_entropy_with_logits(labels=_target_like(target, probs),
                                                        logits=logits)
    return tf.reduce_mean(tf.reduce_mean(per_value, axis=-1))


def categorical_crossentropy(target, probs):
    """Keras `categorical_crossentropy` of softmax outputs.

    Args:
      target: [batch, classes] one-hot (or soft) targets.
      probs: [batch, classes] probabilities.
    Returns:
      scalar: mean over the batch of -sum(target * log(p)), p = probs / sum(probs)
      clipped to [1e-7, 1 - 1e-7].
    """
    p = _clipped(probs / tf.reduce_sum(probs, axis=-1, keepdims=True))
    return tf.reduce_mean(-tf.reduce_sum(target * tf.log(p), axis=-1))


def sparse_categorical_crossentropy(labels, probs):
    """Keras `sparse_categorical_crossentropy` of softmax outputs.

    Args:
      labels: int [batch] (or [batch, 1]) class indices, or a Python int for every sample.
      probs: [batch, classes] probabilities (a softmax's output).
    Returns:
      scalar: mean over the batch of -log(p_label / sum(p)), p clipped to
      [1e-7, 1 - 1e-7] (the softmax cross-entropy of log(p)).

    Written as log-softmax and a gather: the ops TensorFlow itself builds for
    `sparse_softmax_cross_entropy_with_logits` under op determinism (the default), so
    those runs are unchanged; without determinism the fused op would have no float64 GPU
    kernel (reproduce/gpu_audit.py found it), while these ops have.
    """
    log_probs = tf.nn.log_softmax(tf.log(_clipped(probs)))
    ids = _class_ids(labels, probs)
    return tf.reduce_mean(-tf.gather(log_probs, ids, batch_dims=1))


def mi_loss(code, q_of_code, eps=KERAS_EPSILON):
    """The book's mutual-information loss, exactly as written:

        K.mean(-K.sum(K.log(q_of_c_given_x + K.epsilon()) * c, axis=1))

    ("Equation 5 in [2], assuming H(c) is constant"). In the book `c` is a continuous
    code ~ N(0, 0.5) and `q` a sigmoid output, so this is not a log-likelihood of `c`
    (it can be negative); it is reproduced as it stands (docs/models/infogan.md).

    Args:
      code: [batch, k] code values (the target).
      q_of_code: [batch, k] the Q head's output.
    Returns:
      scalar.
    """
    return tf.reduce_mean(-tf.reduce_sum(tf.log(q_of_code + eps) * code, axis=1))


def binary_accuracy(target, probs):
    """Keras `binary_accuracy`: mean of (round(p) == target) (round half to even)."""
    hits = tf.cast(tf.equal(_target_like(target, probs), tf.round(probs)), probs.dtype)
    return tf.reduce_mean(tf.reduce_mean(hits, axis=-1))


def categorical_accuracy(target, probs):
    """Keras `categorical_accuracy`: mean of (argmax(target) == argmax(p))."""
    hits = tf.equal(tf.argmax(target, axis=-1), tf.argmax(probs, axis=-1))
    return tf.reduce_mean(tf.cast(hits, probs.dtype.base_dtype))


def sparse_categorical_accuracy(labels, probs):
    """Keras `sparse_categorical_accuracy`: mean of (argmax(p) == label)."""
    hits = tf.equal(_class_ids(labels, probs), tf.argmax(probs, axis=-1, output_type=tf.int64))
    return tf.reduce_mean(tf.cast(hits, probs.dtype))
