"""The plain GAN the DRAGAN blog compares against, like for like.

Paper: Goodfellow et al., "Generative Adversarial Nets", 2014 (non-saturating
generator loss). Code lineage: hwalsuklee/tensorflow-generative-model-collections
`GAN.py`, with the DRAGAN blog's architecture and optimizer, so that the only
difference between `GAN` and `DRAGAN` is the penalty.

The infoGAN paper's MNIST networks (28x28x1); per step one Adam update of D, then one
of G with the same z.

Every difference from the blog and the paper: docs/models/gan.md.
"""

import numpy as np

from models import losses
from models.base import Built, GANModel, Phase
from models.config import TrainConfig, default
from models.optimizers import TF1Adam
from ops import BLOG_BN_EPSILON, bn, bn_updates, conv2d, deconv2d, linear, lrelu
from tf_compat import tf
from utils import make_rng


class GANConfig(TrainConfig):
    """GAN settings; defaults from the DRAGAN blog (same budget as its DRAGAN)."""

    epochs = default(1000, "DRAGAN blog: 1000 (hwalsuklee: 25)")
    z_dim = default(128, "DRAGAN blog: 128 (hwalsuklee: 62)", note="z ~ U[-1, 1]")
    d_lr = default(1e-3, "DRAGAN blog: 0.0002*5 (hwalsuklee's GAN: 0.0002)", note="Adam")
    g_lr = default(1e-3, "DRAGAN blog: 0.0002*5", note="Adam")
    beta1 = default(0.5, "blog")
    beta2 = default(0.999, "blog (TF default)")
    adam_epsilon = default(1e-8, "TF default")
    bn_epsilon = default(BLOG_BN_EPSILON, "blog: bn(epsilon=1e-5), which TF 1.x's fused batch "
                         "norm raised to its minimum 1.001e-5 (TF 2.21 does not)")


class GAN(GANModel):
    """The DRAGAN blog's GAN: DRAGAN's networks and optimizers, no penalty.

    Subclasses add a penalty on D by overriding `extra_placeholders` and
    `penalty` (DRAGAN).

    Loss: D = CE(D(x), 1) + CE(D(G(z)), 0), G = CE(D(G(z)), 1); Adam for D and G. One D
    update, then one G update with the same z.
    """

    model_name = "GAN"
    Config = GANConfig
    output_range = (0.0, 1.0)   # sigmoid
    presets = {"hwalsuklee": dict(d_lr=2e-4, g_lr=1e-3)}

    # ---- networks --------------------------------------------------------------

    def _bn(self, x, is_training, scope):
        """The blog's `bn` with the config's epsilon."""
        return bn(x, is_training=is_training, scope=scope, epsilon=self.config.bn_epsilon)

    def discriminator(self, x, is_training=True):
        """x [bs, h, w, c] -> (sigmoid [bs, 1], logit [bs, 1], features [bs, 1024]).

        (64)4c2s - (128)4c2s_BL - FC1024_BL - FC1 (logit; sigmoid).
        """
        with tf.variable_scope("discriminator", reuse=self.reuse("discriminator")):
            net = lrelu(conv2d(x, 64, 4, 4, 2, 2, name="d_conv1"))            # [bs, h/2, w/2, 64]
            net = lrelu(self._bn(conv2d(net, 128, 4, 4, 2, 2, name="d_conv2"),
                                is_training=is_training, scope="d_bn2"))  # [bs, h/4, w/4, 128]
            net = tf.reshape(net, [-1, int(np.prod(net.get_shape().as_list()[1:]))])
            net = lrelu(self._bn(linear(net, 1024, scope="d_fc3"),
                                is_training=is_training, scope="d_bn3"))           # [bs, 1024]
            out_logit = linear(net, 1, scope="d_fc4")                         # [bs, 1]
            return tf.nn.sigmoid(out_logit), out_logit, net

    def generator(self, z, is_training=True):
        """z [bs, z_dim] -> images [bs, h, w, c] in (0, 1).

        FC1024_BR - FC7x7x128_BR - (64)4dc2s_BR - (1)4dc2s_S.
        """
        h, w, c = self.image_shape
        with tf.variable_scope("generator", reuse=self.reuse("generator")):
            net = tf.nn.relu(self._bn(linear(z, 1024, scope="g_fc1"),
                                     is_training=is_training, scope="g_bn1"))      # [bs, 1024]
            net = tf.nn.relu(self._bn(linear(net, 128 * (h // 4) * (w // 4), scope="g_fc2"),
                                     is_training=is_training, scope="g_bn2"))
            net = tf.reshape(net, [-1, h // 4, w // 4, 128])                  # [bs, h/4, w/4, 128]
            net = tf.nn.relu(self._bn(deconv2d(net, [None, h // 2, w // 2, 64], 4, 4, 2, 2,
                                              name="g_dc3"),
                                     is_training=is_training, scope="g_bn3"))  # [bs, h/2, w/2, 64]
            return tf.nn.sigmoid(deconv2d(net, [None, h, w, c], 4, 4, 2, 2,
                                          name="g_dc4"))                      # [bs, h, w, c]

    # ---- hooks of subclasses -----------------------------------------------------

    def extra_placeholders(self):
        """Placeholders a penalty needs, created after `inputs`, before `z`."""

    def penalty(self):
        """(weighted penalty added to d_loss, {summary name: tensor}) or (None, {})."""
        return None, {}

    # ---- graph -----------------------------------------------------------------

    def build_model(self):
        cfg = self.config
        self.require_image_sides(4)
        self.inputs = self.image_input("real_images")
        self.extra_placeholders()
        self.z = self.noise_input("z")
        self.sample_z_input = self.noise_input("sample_z", size=cfg.sample_num)

        _, real_logits, _ = self.discriminator(self.inputs, is_training=True)
        fake = self.generator(self.z, is_training=True)
        _, fake_logits, _ = self.discriminator(fake, is_training=True)
        gan = losses.gan_losses(real_logits, fake_logits)
        penalty, penalty_logs = self.penalty()
        self.d_loss_real, self.d_loss_fake = gan["d_loss_real"], gan["d_loss_fake"]
        self.d_loss = gan["d_loss"] if penalty is None else gan["d_loss"] + penalty
        self.g_loss = gan["g_loss"]

        d_vars, g_vars = self.variables("discriminator"), self.variables("generator")
        d_logs = dict(d_loss=self.d_loss, d_loss_real=self.d_loss_real,
                      d_loss_fake=self.d_loss_fake, **penalty_logs)
        d_optim = self._adam(cfg.d_lr, self.d_loss, d_vars, d_logs)
        g_optim = self._adam(cfg.g_lr, self.g_loss, g_vars, dict(g_loss=self.g_loss))
        # The batch-norm moving statistics each update's run moves, as the blog's in-place
        # updates would (ops.bn): the D update's G(z) and D calls (real, fake, penalty's;
        # in that order), the G update's G(z) and D(fake) only.
        d_optim = tf.group(d_optim, *bn_updates(d_optim))
        g_optim = tf.group(g_optim, *bn_updates(g_optim))

        sampler = self.generator(self.sample_z_input, is_training=False)

        # The blog's summaries: d_sum with the D step, g_sum with the G step.
        d_sum = tf.summary.merge([tf.summary.scalar("d_loss_real", self.d_loss_real),
                                  tf.summary.scalar("d_loss", self.d_loss)]
                                 + [tf.summary.scalar(k, v) for k, v in penalty_logs.items()])
        g_sum = tf.summary.merge([tf.summary.scalar("d_loss_fake", self.d_loss_fake),
                                  tf.summary.scalar("g_loss", self.g_loss)])
        phases = [
            Phase("d", d_optim, d_sum, d_logs, feed=self.step_feed, scopes=("discriminator",)),
            Phase("g", g_optim, g_sum, dict(g_loss=self.g_loss),    # same z as D's
                  scopes=("generator",)),
        ]
        # Fixed noise of the training grids (the blog's sample_z).
        self.sample_z = make_rng(cfg.seed, "sample_z").uniform(
            -1, 1, size=(cfg.sample_num, cfg.z_dim)).astype(np.float32)
        return Built(phases, sampler)

    def _adam(self, lr, loss, var_list, logged):
        """The blog's `AdamOptimizer(lr, beta1).minimize(loss)`, its gradients and the
        logged losses read before any variable changes (`optimizers.update`)."""
        cfg = self.config
        return TF1Adam(var_list, lr, cfg.beta1, cfg.beta2, cfg.adam_epsilon).update(
            loss, reads=list(logged.values()))

    # ---- feeds -----------------------------------------------------------------

    def step_feed(self, images, labels, rng):
        """Real images and z ~ U[-1, 1] for the D update (the G update reuses it)."""
        z = rng.uniform(-1, 1, [self.config.batch_size, self.config.z_dim]).astype(np.float32)
        return {self.inputs: images, self.z: z}

    def sample_feed(self, rng=None):
        if rng is None:
            return {self.sample_z_input: self.sample_z}
        z = rng.uniform(-1, 1, (self.config.sample_num, self.config.z_dim))
        return {self.sample_z_input: z.astype(np.float32)}
