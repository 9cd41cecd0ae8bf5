"""Keras 2.2 losses and metrics on probabilities, for the Keras-GAN CGAN and ACGAN
ports, as small pure functions (tf.compat.v1).

Keras-GAN's networks end in `sigmoid` / `softmax` activations and are compiled with
`binary_crossentropy` / `sparse_categorical_crossentropy`, so Keras 2.2's TensorFlow
backend computes the losses from the probabilities, not from logits:

    binary:  p <- clip(p, eps, 1 - eps);  logit = log(p / (1 - p));
             sigmoid_cross_entropy_with_logits(target, logit)
    sparse:  p <- clip(p, eps, 1 - eps);  sparse_softmax_cross_entropy_with_logits(
             label, log(p))               (= -log(p_label / sum(p)), renormalised)

with eps = K.epsilon() = 1e-7. The clip bounds every loss term (|logit| <= 16.1,
-log(1e-7) = 16.1 for the softmax) and zeroes the gradient of a saturated output:
what Keras trains with, unlike the from-logits losses of `models/losses.py`. Each loss is
the mean over the batch (Keras's per-sample mean over the last axis, then the mean
over the samples; every sample weight is 1). The metrics are Keras's `accuracy` for
these losses: `binary_accuracy` (round(p) == target) and `sparse_categorical_accuracy`
(argmax(p) == label).
"""

from tf_compat import tf

KERAS_EPSILON = 1e-7   # K.epsilon(), the clip of Keras's probability losses


def _clipped(probs):
    eps = tf.constant(KERAS_EPSILON, probs.dtype.base_dtype)
    return tf.clip_by_value(probs, eps, 1.0 - eps)


def _target_like(probs, target):
    """`target` (a number or a tensor) as a float tensor of the shape of `probs`."""
    if isinstance(target, (int, float)):
        return tf.fill(tf.shape(probs), tf.constant(float(target), probs.dtype.base_dtype))
    return tf.cast(target, probs.dtype.base_dtype) + tf.zeros_like(probs)


def keras_binary_crossentropy(probs, target):
    """Keras 2.2 `binary_crossentropy` of sigmoid outputs, averaged over the batch.

    Args:
      probs: [batch, k] probabilities (a sigmoid's output), k usually 1.
      target: 0, 1 (the Keras-GAN `valid` / `fake` arrays) or a [batch, k] tensor.
    Returns:
      scalar: mean over the batch of mean over k of
      sigmoid-CE(target, log(p / (1 - p))), p clipped to [1e-7, 1 - 1e-7].
    """
    p = _clipped(probs)
    logits = tf.log(p / (1.0 - p))
    per_value = tf.nn.sigmoid_cross_entropy_with_logits(labels=_target_like(probs, target),
                                                        logits=logits)
    return tf.reduce_mean(tf.reduce_mean(per_value, axis=-1))


def keras_sparse_categorical_crossentropy(probs, labels):
    """Keras 2.2 `sparse_categorical_crossentropy` of softmax outputs, averaged over
    the batch.

    Args:
      probs: [batch, classes] probabilities (a softmax's output).
      labels: int [batch] (or [batch, 1]) class indices, or a Python int for every
        sample (ACGAN's "fake" class 10).
    Returns:
      scalar: mean over the batch of -log(p_label / sum(p)), p clipped to
      [1e-7, 1 - 1e-7] (the softmax cross-entropy of log(p)).
    """
    log_p = tf.log(_clipped(probs))
    if isinstance(labels, int):
        labels = tf.fill(tf.shape(probs)[:1], tf.constant(labels, tf.int64))
    labels = tf.reshape(tf.cast(labels, tf.int64), [-1])
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                         logits=log_p))


def binary_accuracy(probs, target):
    """Keras `binary_accuracy`: mean of (round(p) == target) (round half to even)."""
    hits = tf.cast(tf.equal(_target_like(probs, target), tf.round(probs)), probs.dtype)
    return tf.reduce_mean(tf.reduce_mean(hits, axis=-1))


def sparse_categorical_accuracy(probs, labels):
    """Keras `sparse_categorical_accuracy`: mean of (argmax(p) == label)."""
    if isinstance(labels, int):
        labels = tf.fill(tf.shape(probs)[:1], tf.constant(labels, tf.int64))
    labels = tf.reshape(tf.cast(labels, tf.int64), [-1])
    hits = tf.equal(labels, tf.argmax(probs, axis=-1, output_type=tf.int64))
    return tf.reduce_mean(tf.cast(hits, probs.dtype))
