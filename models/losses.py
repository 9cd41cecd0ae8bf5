"""GAN losses and gradient penalties as small pure functions (tf.compat.v1).

Each function takes tensors (or a callable that maps an input batch to logits)
and returns tensors; none creates variables of its own. Models combine them.
"""

from tf_compat import tf

# How the norm of the penalty's input gradient is taken (a gradient g of shape
# [batch, h, w, c]):
#   "blog":   sqrt(sum(g**2, axis=1)): over image rows only, one slope per
#             (sample, column, channel); the DRAGAN blog's (and hwalsuklee's)
#             `reduction_indices=[1]`, written for flat inputs.
#   "sample": sqrt(sum(g**2) over every non-batch axis): one slope per sample, as
#             in the DRAGAN and WGAN-GP papers.
GRADIENT_NORMS = ("blog", "sample")


def sigmoid_cross_entropy(logits, target):
    """mean(sigmoid-CE(logits, target)) with a constant target (0 or 1)."""
    labels = tf.ones_like(logits) if target == 1 else tf.zeros_like(logits)
    if target not in (0, 1):
        labels = tf.fill(tf.shape(logits), float(target))
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=logits, labels=labels))


def gan_losses(real_logits, fake_logits):
    """The non-saturating GAN losses of the DRAGAN blog.

    Returns:
      dict with d_loss_real = CE(real, 1), d_loss_fake = CE(fake, 0),
      d_loss = their sum, g_loss = CE(fake, 1); all scalars.
    """
    d_loss_real = sigmoid_cross_entropy(real_logits, 1)
    d_loss_fake = sigmoid_cross_entropy(fake_logits, 0)
    return dict(d_loss_real=d_loss_real, d_loss_fake=d_loss_fake,
                d_loss=d_loss_real + d_loss_fake,
                g_loss=sigmoid_cross_entropy(fake_logits, 1))


def gradient_slopes(gradients, norm):
    """Norms of the input gradient, see GRADIENT_NORMS.

    Args:
      gradients: [batch, ...] tensor.
      norm: "blog" or "sample".
    Returns:
      "blog": [batch, ...without axis 1]; "sample": [batch].
    """
    if norm == "blog":
        return tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=[1]))
    if norm == "sample":
        axes = list(range(1, gradients.get_shape().ndims))
        return tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=axes))
    raise ValueError("norm must be one of %s, got %r" % (GRADIENT_NORMS, norm))


def interpolate_penalty(logit_fn, interpolates, norm="sample", target=1.0):
    """mean((||d logit_fn(x) / dx|| - target)^2) at x = interpolates.

    Args:
      logit_fn: maps a batch like `interpolates` to logits (any shape).
      interpolates: [batch, ...] points where the gradient is taken.
      norm: see GRADIENT_NORMS.
    Returns:
      (penalty scalar, slopes tensor).
    """
    logits = logit_fn(interpolates)
    gradients = tf.gradients(logits, [interpolates])[0]
    slopes = gradient_slopes(gradients, norm)
    return tf.reduce_mean(tf.square(slopes - target)), slopes


def dragan_penalty(logit_fn, x, x_perturbed, alpha, norm="blog"):
    """The DRAGAN gradient penalty around the real data.

    interpolates = x + alpha * (x_perturbed - x), with x_perturbed = x + 0.5 *
    std(x) * U[0,1) made by the caller, and alpha ~ U[0,1) either per pixel
    (shape of x, the blog) or per sample ([batch, 1, 1, 1], the paper).

    Returns:
      (penalty scalar, slopes tensor).
    """
    interpolates = x + alpha * (x_perturbed - x)
    return interpolate_penalty(logit_fn, interpolates, norm=norm)
