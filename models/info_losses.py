"""InfoGAN's losses as Keras 2.2.4 computes them, as small pure tf.compat.v1 functions.

The book's discriminator (Atienza, "Advanced Deep Learning with Keras", ch. 6,
infogan-mnist-6.1.1.py) is compiled with

    loss = ['binary_crossentropy', 'categorical_crossentropy', mi_loss, mi_loss]
    loss_weights = [1.0, 1.0, 0.5, 0.5]

on its outputs (validity sigmoid, label softmax, code1 sigmoid, code2 sigmoid).
Keras applies the two built-in losses to *probabilities* (from_logits=False),
which its TensorFlow backend does by clipping into [eps, 1 - eps] first; these
functions repeat that math, eps = K.epsilon() = 1e-7, so gradients vanish where
Keras's clip cuts them. Each returns the batch mean (Keras's per-sample losses
averaged with unit sample weights). No function creates variables.
"""

from tf_compat import tf

# keras.backend.epsilon()
KERAS_EPSILON = 1e-7


def binary_crossentropy(target, prob, eps=KERAS_EPSILON):
    """Keras 2.2.4 'binary_crossentropy' on a sigmoid output, batch mean.

    p = clip(prob, eps, 1 - eps); logit = log(p / (1 - p));
    loss = mean(sigmoid_cross_entropy_with_logits(target, logit)).

    Args:
      target: [batch, k] tensor of 0/1 (or soft) targets.
      prob: [batch, k] probabilities.
    Returns:
      scalar.
    """
    p = tf.clip_by_value(prob, eps, 1.0 - eps)
    logits = tf.log(p / (1.0 - p))
    per_sample = tf.reduce_mean(
        tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=logits), axis=-1)
    return tf.reduce_mean(per_sample)


def categorical_crossentropy(target, prob, eps=KERAS_EPSILON):
    """Keras 2.2.4 'categorical_crossentropy' on a softmax output, batch mean.

    p = prob / sum(prob, -1); p = clip(p, eps, 1 - eps);
    loss = mean(-sum(target * log(p), -1)).

    Args:
      target: [batch, classes] one-hot (or soft) targets.
      prob: [batch, classes] probabilities.
    Returns:
      scalar.
    """
    p = prob / tf.reduce_sum(prob, axis=-1, keepdims=True)
    p = tf.clip_by_value(p, eps, 1.0 - eps)
    return tf.reduce_mean(-tf.reduce_sum(target * tf.log(p), axis=-1))


def mi_loss(c, q_of_c_given_x, eps=KERAS_EPSILON):
    """The book's mutual-information loss, exactly as written:

        K.mean(-K.sum(K.log(q_of_c_given_x + K.epsilon()) * c, axis=1))

    ("Equation 5 in [2], assuming H(c) is constant"). In the book `c` is a
    continuous code ~ N(0, 0.5) and `q` a sigmoid output, so this is not a
    log-likelihood of `c` (it can be negative, and it pushes q towards 1 where
    c > 0 and towards 0 where c < 0); it is reproduced as it stands.

    Args:
      c: [batch, k] code values.
      q_of_c_given_x: [batch, k] the Q head's output.
    Returns:
      scalar.
    """
    return tf.reduce_mean(-tf.reduce_sum(tf.log(q_of_c_given_x + eps) * c, axis=1))


def categorical_accuracy(target, prob):
    """Keras 'accuracy' of a softmax output: mean(argmax(target) == argmax(prob))."""
    return tf.reduce_mean(tf.cast(tf.equal(tf.argmax(target, axis=-1), tf.argmax(prob, axis=-1)),
                                  prob.dtype.base_dtype))
