"""WGAN-GP on MNIST, as the blog "WGAN-GP与WGAN的区别" runs Keras-GAN's `wgan_gp.py`,
as a TF1 graph.

Paper: Gulrajani et al., "Improved Training of Wasserstein GANs", 2017 (gradient
penalty, lambda 10). Code lineage: eriklindernoren/Keras-GAN `wgan_gp/wgan_gp.py`
(standalone Keras 2.2 on TensorFlow 1.x; itself after keras-contrib's
`improved_wgan.py`). Everything not stated here is as in `models/wgan.py` (WGAN), whose
code this model shares.

WGAN's loop with other networks (BN after each conv) and, instead of clipping, one
critic update per iteration on the real, fake and gradient-penalty losses.

Every difference from the blog and the paper: docs/models/wgan_gp.md.
"""

import numpy as np

from models import losses
from models.config import default, setting
from models.optimizers import KerasRMSprop
from models.wgan import WGAN, WassersteinConfig
from ops import conv, dense, dropout, leaky_relu, upsample2x, zero_pad
from tf_compat import tf

# Suffix of the zero-debiasing variables of G's batch-norm updates inside the critic
# update (Keras 2.2 gives each call site of a layer its own: `biased`, `biased_1`, ...).
CRITIC_MODEL_SHADOW = "_critic_model"


class WGANGPConfig(WassersteinConfig):
    """WGAN-GP settings; defaults from the blog's Keras-GAN wgan_gp.py."""

    max_steps = default(30000, "blog: 30,000 iterations")
    sample_every = default(100, "blog: sample_interval=100")
    gp_weight = setting(float, 10.0, "weight of the gradient penalty in the critic loss",
                        source="blog: loss_weights=[1, 1, 10]; paper: lambda 10", minimum=0.0)


class WGANGP(WGAN):
    """Keras-GAN's WGAN-GP: WGAN's loop with one penalised critic update per iteration.

    Layers as WGAN's (BN momentum 0.8, eps 1e-3; LeakyReLU 0.2). Trainable parameters:
    G 1,028,289; critic 99,649.
    """

    model_name = "WGAN_GP"
    Config = WGANGPConfig

    # ---- networks --------------------------------------------------------------

    def generator(self, z, is_training, update_moving=False, shadow=""):
        """z [bs, z_dim] -> images [bs, h, w, c] in (-1, 1); see WGAN.generator (`shadow`
        names the zero-debiasing variables of this call's moving-statistics updates).

        dense 128*7*7 - relu; reshape 7x7x128; upsample x2; conv 128 k4 - BN - relu;
        upsample x2; conv 64 k4 - BN - relu; conv 1 k4; tanh.
        """
        h, w, c = self.image_shape
        with tf.variable_scope("generator", reuse=self.reuse("generator")):
            net = tf.nn.relu(dense(z, 128 * (h // 4) * (w // 4), name="dense"))
            net = tf.reshape(net, [-1, h // 4, w // 4, 128])                 # [bs, h/4, w/4, 128]
            net = upsample2x(net)                                            # [bs, h/2, w/2, 128]
            net = conv(net, 128, 4, name="conv2d")
            net = tf.nn.relu(self._bn(net, is_training, update_moving, "batch_normalization",
                                      shadow))
            net = upsample2x(net)                                            # [bs, h, w, 128]
            net = conv(net, 64, 4, name="conv2d_1")
            net = tf.nn.relu(self._bn(net, is_training, update_moving, "batch_normalization_1",
                                      shadow))
            return tf.tanh(conv(net, c, 4, name="conv2d_2"))                 # [bs, h, w, c]

    def critic(self, images, dropout_seed):
        """images [bs, h, w, c] -> critic value [bs, 1]; see WGAN.critic.

        conv 16 k3 s2 - lrelu - dropout 0.25; conv 32 k3 s2 - zero-pad ((0,1),(0,1)) - BN
        - lrelu - dropout; conv 64 k3 s2 - BN - lrelu - dropout; conv 128 k3 s1 - BN -
        lrelu - dropout; flatten (2048); dense 1 (linear).
        """
        cfg = self.config

        def block(net, salt):
            return dropout(leaky_relu(net, cfg.leak), cfg.dropout_rate, dropout_seed, salt)

        with tf.variable_scope("critic", reuse=self.reuse("critic")):
            net = block(conv(images, 16, 3, strides=2, name="conv2d"), 1)      # [bs, 14, 14, 16]
            net = zero_pad(conv(net, 32, 3, strides=2, name="conv2d_1"), bottom=1, right=1)
            net = block(self._bn(net, True, False, "batch_normalization"), 2)  # [bs, 8, 8, 32]
            net = conv(net, 64, 3, strides=2, name="conv2d_2")
            net = block(self._bn(net, True, False, "batch_normalization_1"), 3)  # [bs, 4, 4, 64]
            net = conv(net, 128, 3, strides=1, name="conv2d_3")
            net = block(self._bn(net, True, False, "batch_normalization_2"), 4)  # [bs, 4, 4, 128]
            net = tf.reshape(net, [-1, int(np.prod(net.get_shape().as_list()[1:]))])
            return dense(net, 1, name="dense")                                 # [bs, 1]

    # ---- graph -----------------------------------------------------------------

    def critic_iteration(self):
        """(train op, logged losses) of one critic iteration: one update on the
        weighted sum of the real, fake and gradient-penalty losses.

        Keras-GAN's `critic_model` on [real, fake, interpolated] with losses
        [wasserstein(real, -1), wasserstein(fake, +1), gradient penalty], weights
        [1, 1, gp_weight]: fake = G(z), G frozen (training phase, batch statistics);
        interpolated = alpha * real + (1 - alpha) * fake, alpha [bs, 1, 1, 1] fed;
        penalty = mean((1 - ||d critic(interpolated) / d interpolated||_2)^2), the norm
        over all non-batch axes (`losses.wgan_gp_penalty`). The critic runs three times,
        each in the training phase with its own batch statistics and dropout masks; one
        RMSprop step, no clipping.
        """
        cfg = self.config
        bs = cfg.batch_size
        self.alpha = tf.placeholder(self.dtype, [bs, 1, 1, 1], name="alpha")
        self.interp_seed = tf.placeholder(tf.int64, [2], name="interpolated_dropout_seed")
        # G frozen (no G gradients) in the training phase (batch statistics); Keras 2.2
        # also runs G's moving-statistics updates here (it builds the critic model's
        # train function after `generator.trainable = True`), with this call site's own
        # zero-debiasing shadows (docs/models/wgan_gp.md).
        self.fake_images = tf.stop_gradient(self.generator(
            self.z, is_training=True, update_moving=True, shadow=CRITIC_MODEL_SHADOW))
        self.real_out = self.critic(self.inputs, self.real_seed)
        self.fake_out = self.critic(self.fake_images, self.fake_seed)

        def interpolated_critic(x):
            self.interp_out = self.critic(x, self.interp_seed)
            return self.interp_out

        penalty, self.slopes, self.interpolates = losses.wgan_gp_penalty(
            interpolated_critic, self.inputs, self.fake_images, self.alpha)
        d_loss_real = losses.wasserstein(self.real_out, -1.0)
        d_loss_fake = losses.wasserstein(self.fake_out, 1.0)
        d_loss = d_loss_real + d_loss_fake + cfg.gp_weight * penalty
        logs = dict(d_loss=d_loss, d_loss_real=d_loss_real, d_loss_fake=d_loss_fake,
                    gradient_penalty=penalty)
        self.critic_optimizer = KerasRMSprop(
            self.variables("critic/"), cfg.lr, cfg.rho, cfg.rms_epsilon,
            name=self.critic_optimizer_name)
        return self.critic_optimizer.update(d_loss, reads=list(logs.values())), logs

    # ---- feeds -----------------------------------------------------------------

    def step_feed(self, images, labels, rng):
        """WGAN's critic feed plus alpha ~ U[0, 1) per sample and the interpolated
        pass's dropout seed."""
        feed = super().step_feed(images, labels, rng)
        feed[self.alpha] = rng.random((self.config.batch_size, 1, 1, 1), dtype=np.float32)
        feed[self.interp_seed] = self._dropout_seed(rng)
        return feed
