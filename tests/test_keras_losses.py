"""The Keras 2.2 probability losses and metrics (models/keras_losses.py) against
hand-computed values: InfoGAN's, CGAN's and ACGAN's, one argument order (target, probs)."""

import math

import numpy as np

from models import keras_losses
from tf_compat import tf


def _run(loss, *args, **kwargs):
    """Evaluate loss(*constants) in a fresh graph."""
    with tf.Graph().as_default(), tf.Session() as sess:
        return sess.run(loss(*[tf.constant(a, tf.float32) for a in args], **kwargs))


def test_mi_loss_is_the_books_formula_with_keras_epsilon():
    mi = keras_losses.mi_loss
    expected = np.mean([-math.log(0.25 + 1e-7) * 0.5, -math.log(0.8 + 1e-7) * -1.0])
    assert np.isclose(_run(mi, [[0.5], [-1.0]], [[0.25], [0.8]]), expected, rtol=1e-6)
    # the sum runs over axis 1, the mean over the batch
    assert np.isclose(_run(mi, [[1.0, 2.0]], [[0.5, 0.25]]),
                      -(math.log(0.5 + 1e-7) + 2 * math.log(0.25 + 1e-7)), rtol=1e-6)
    # eps keeps log(0) finite: -log(1e-7) = 16.118...
    assert np.isclose(_run(mi, [[1.0]], [[0.0]]), -math.log(1e-7), rtol=1e-6)
    assert np.isclose(_run(mi, [[1.0]], [[0.0]], eps=1e-3), -math.log(1e-3), rtol=1e-6)


def test_categorical_crossentropy_is_keras_224():
    cce = keras_losses.categorical_crossentropy
    expected = np.mean([-math.log(0.5), -math.log(0.1)])
    assert np.isclose(_run(cce, [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]],
                           [[0.2, 0.5, 0.3], [0.1, 0.6, 0.3]]), expected, rtol=1e-6)
    # rows are renormalised to sum 1
    assert np.isclose(_run(cce, [[0.0, 1.0, 0.0]], [[1.0, 2.0, 1.0]]), -math.log(0.5), rtol=1e-6)
    # a zero probability is clipped to eps
    assert np.isclose(_run(cce, [[0.0, 1.0, 0.0]], [[1.0, 0.0, 0.0]]), -math.log(1e-7),
                      rtol=1e-6)


def test_binary_crossentropy_is_keras_224_on_probabilities():
    bce = keras_losses.binary_crossentropy
    expected = np.mean([-math.log(0.8), -math.log(0.7)])
    assert np.isclose(_run(bce, [[1.0], [0.0]], [[0.8], [0.3]]), expected, rtol=1e-5)
    # 1.0 is clipped to 1 - eps (float32): -log(1 - (1 - eps))
    assert np.isclose(_run(bce, [[0.0]], [[1.0]]),
                      -math.log(1.0 - float(np.float32(1 - 1e-7))), rtol=1e-5)


def test_keras_binary_crossentropy_and_accuracy_against_hand_computed_values():
    probs = np.array([[0.9], [0.2], [1.0 - 1e-9], [1e-12]], np.float32)

    def reference(target):
        eps = np.float32(1e-7)                 # Keras clips in float32: 1 - eps = 0.99999988
        p = np.clip(probs, eps, np.float32(1) - eps).astype(np.float64)
        return float(np.mean(-(target * np.log(p) + (1 - target) * np.log(1 - p))))

    graph = tf.Graph()
    with graph.as_default():
        x = tf.constant(probs)
        ones, zeros = keras_losses.binary_crossentropy(1, x), keras_losses.binary_crossentropy(0, x)
        grad = tf.gradients(ones, x)[0]
        acc = keras_losses.binary_accuracy(1, x)
        with tf.Session() as sess:
            got_ones, got_zeros, got_grad, got_acc = sess.run([ones, zeros, grad, acc])
    assert np.isclose(got_ones, reference(1), rtol=1e-5)
    assert np.isclose(got_zeros, reference(0), rtol=1e-5)
    # by hand: mean(-log 0.9, -log 0.2, -log(0.99999988), -log(1e-7))
    assert np.isclose(got_ones, np.mean([0.1053605, 1.6094379, 1.192e-7, 16.118096]), rtol=1e-5)
    # the clip zeroes the gradient of saturated outputs
    assert got_grad[0, 0] != 0 and got_grad[2, 0] == 0 and got_grad[3, 0] == 0
    assert got_acc == 0.5


def test_keras_sparse_crossentropy_11_way_against_hand_computed_values():
    logits = np.array([[2.0, 1.0, 0.0, -1.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0],
                       [0.0] * 10 + [40.0]], np.float32)
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs = (probs / probs.sum(1, keepdims=True)).astype(np.float32)
    labels = np.array([0, 3], np.int64)

    def reference(target):
        eps = np.float32(1e-7)                 # Keras clips in float32, then renormalises
        p = np.clip(probs, eps, np.float32(1) - eps).astype(np.float64)
        return float(np.mean([-np.log(p[i, t] / p[i].sum()) for i, t in enumerate(target)]))

    graph = tf.Graph()
    with graph.as_default():
        x = tf.constant(probs)
        true_ce = keras_losses.sparse_categorical_crossentropy(tf.constant(labels), x)
        fake_ce = keras_losses.sparse_categorical_crossentropy(10, x)    # the "fake" class
        acc = keras_losses.sparse_categorical_accuracy(tf.constant(labels), x)
        fake_acc = keras_losses.sparse_categorical_accuracy(10, x)
        total = keras_losses.binary_crossentropy(1, tf.constant([[0.5], [0.5]])) + true_ce
        with tf.Session() as sess:
            got = sess.run(dict(true_ce=true_ce, fake_ce=fake_ce, acc=acc, fake_acc=fake_acc,
                                total=total))
    assert np.isclose(got["true_ce"], reference(labels), rtol=1e-5)
    assert np.isclose(got["fake_ce"], reference([10, 10]), rtol=1e-5)
    # by hand: row 0 is a plain softmax (nothing clipped): -log p_0 = 1.643; in row 1
    # p_3 = e^-40 is clipped to 1e-7 and the clipped row sums to 1 + 9e-7: -log(1e-7) = 16.118
    row0 = -(2.0 - np.log(np.exp(logits[0]).sum()))
    assert np.isclose(row0, 1.6430835, rtol=1e-6)
    assert np.isclose(got["true_ce"], (row0 + 16.118095) / 2, rtol=1e-4)
    assert got["acc"] == 0.0 and got["fake_acc"] == 1.0         # both argmaxes are class 10
    assert np.isclose(got["total"], np.log(2) + got["true_ce"], rtol=1e-6)  # Keras sums
