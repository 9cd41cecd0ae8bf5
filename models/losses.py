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


def least_squares(outputs, target):
    """mean((outputs - target)^2): Keras 'mse' on D's raw output (DCGAN Pokemon)."""
    return tf.reduce_mean(tf.square(outputs - float(target)))


def least_squares_losses(real_outputs, fake_outputs):
    """The DCGAN Pokemon blog's losses: D = MSE(real, 1) + MSE(fake, 0), G = MSE(fake, 1)."""
    d_loss_real = least_squares(real_outputs, 1.0)
    d_loss_fake = least_squares(fake_outputs, 0.0)
    return dict(d_loss_real=d_loss_real, d_loss_fake=d_loss_fake,
                d_loss=d_loss_real + d_loss_fake, g_loss=least_squares(fake_outputs, 1.0))


def mean_absolute_error(outputs, targets):
    """Keras 'mae': mean(|outputs - targets|) over every element."""
    return tf.reduce_mean(tf.abs(outputs - targets))


def cycle_generator_losses(d_a_of_fake_a, d_b_of_fake_b, real_a, real_b, rec_a, rec_b,
                           id_a, id_b, lambda_cycle, lambda_id):
    """CycleGAN's combined-model loss (Keras-GAN), summed in Keras's output order.

    Outputs [valid_A, valid_B, reconstr_A, reconstr_B, img_A_id, img_B_id] against
    [1, 1, A, B, A, B] with losses [mse, mse, mae x 4] and weights [1, 1, lambda_cycle,
    lambda_cycle, lambda_id, lambda_id].

    Returns:
      dict g_loss (weighted total), g_adv, g_cycle, g_identity (means of their A and B
      terms) and the six terms (g_adv_a, g_adv_b, g_cycle_a, g_cycle_b, g_id_a, g_id_b).
    """
    terms = [("g_adv_a", least_squares(d_a_of_fake_a, 1.0), 1.0),
             ("g_adv_b", least_squares(d_b_of_fake_b, 1.0), 1.0),
             ("g_cycle_a", mean_absolute_error(rec_a, real_a), lambda_cycle),
             ("g_cycle_b", mean_absolute_error(rec_b, real_b), lambda_cycle),
             ("g_id_a", mean_absolute_error(id_a, real_a), lambda_id),
             ("g_id_b", mean_absolute_error(id_b, real_b), lambda_id)]
    total = None
    for _, loss, weight in terms:
        total = weight * loss if total is None else total + weight * loss
    out = {name: loss for name, loss, _ in terms}
    out.update(g_loss=total, g_adv=0.5 * (out["g_adv_a"] + out["g_adv_b"]),
               g_cycle=0.5 * (out["g_cycle_a"] + out["g_cycle_b"]),
               g_identity=0.5 * (out["g_id_a"] + out["g_id_b"]))
    return out


def wasserstein(outputs, target):
    """Keras-GAN's `wasserstein_loss`: mean(y_true * y_pred) with y_true = `target`.

    Real images get target -1 and fakes +1 for the critic, so the critic
    minimises mean(D(fake)) - mean(D(real)); the generator uses target -1.
    """
    return tf.reduce_mean(float(target) * outputs)


def clip_weights(variables, clip_value):
    """One op that clips every variable into [-clip_value, clip_value] (WGAN).

    Args:
      variables: the variables to clip (Keras-GAN clips every weight of every
        critic layer, moving BN statistics included).
      clip_value: positive float.
    Returns:
      a grouped op.
    """
    return tf.group(*[tf.assign(v, tf.clip_by_value(v, -clip_value, clip_value))
                      for v in variables], name="clip_weights")


def gradient_slopes(gradients, norm, epsilon=0.0):
    """Norms of the input gradient, see GRADIENT_NORMS.

    Args:
      gradients: [batch, ...] tensor.
      norm: "blog" or "sample".
      epsilon: added under the square root, sqrt(sum(g**2) + epsilon), when not 0: keeps
        the slope's derivative finite where the gradient is exactly zero (a ReLU network
        with every unit dead), where sqrt's is infinite and an update NaN. The blogs
        and papers use 0.
    Returns:
      "blog": [batch, ...without axis 1]; "sample": [batch].
    """
    if norm == "blog":
        axes = [1]
    elif norm == "sample":
        axes = list(range(1, gradients.get_shape().ndims))
    else:
        raise ValueError("norm must be one of %s, got %r" % (GRADIENT_NORMS, norm))
    squares = tf.reduce_sum(tf.square(gradients), axis=axes)
    return tf.sqrt(squares + epsilon if epsilon else squares)


def interpolate_penalty(logit_fn, interpolates, norm="sample", target=1.0, epsilon=0.0):
    """mean((||d logit_fn(x) / dx|| - target)^2) at x = interpolates.

    Args:
      logit_fn: maps a batch like `interpolates` to logits (any shape).
      interpolates: [batch, ...] points where the gradient is taken.
      norm: see GRADIENT_NORMS.
      epsilon: under the norm's square root, see `gradient_slopes`.
    Returns:
      (penalty scalar, slopes tensor).
    """
    logits = logit_fn(interpolates)
    gradients = tf.gradients(logits, [interpolates])[0]
    slopes = gradient_slopes(gradients, norm, epsilon)
    return tf.reduce_mean(tf.square(slopes - target)), slopes


def dragan_penalty(logit_fn, x, x_perturbed, alpha, norm="blog", epsilon=0.0):
    """The DRAGAN gradient penalty around the real data.

    interpolates = x + alpha * (x_perturbed - x), with x_perturbed = x + 0.5 *
    std(x) * U[0,1) made by the caller, and alpha ~ U[0,1) either per pixel
    (shape of x, the blog) or per sample ([batch, 1, 1, 1], the paper).
    norm and epsilon: see `gradient_slopes`.

    Returns:
      (penalty scalar, slopes tensor).
    """
    interpolates = x + alpha * (x_perturbed - x)
    return interpolate_penalty(logit_fn, interpolates, norm=norm, epsilon=epsilon)


def wgan_gp_penalty(logit_fn, real, fake, alpha, epsilon=0.0):
    """The WGAN-GP penalty at random interpolates of real and fake samples.

    interpolates = alpha * real + (1 - alpha) * fake, alpha ~ U[0, 1) per sample
    ([batch, 1, 1, 1], drawn by the caller); penalty = mean((||grad||_2 - 1)^2)
    with the norm over all non-batch axes (Keras-GAN's gradient_penalty_loss);
    epsilon: see `gradient_slopes`.

    Returns:
      (penalty scalar, slopes [batch], interpolates).
    """
    interpolates = alpha * real + (1.0 - alpha) * fake
    penalty, slopes = interpolate_penalty(logit_fn, interpolates, norm="sample", epsilon=epsilon)
    return penalty, slopes, interpolates
