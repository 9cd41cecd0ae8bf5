"""WGAN (weight clipping) on MNIST, as the blog "WGAN与DCGAN的区别" runs Keras-GAN's
`wgan.py`, as a TF1 graph.

Paper: Arjovsky, Chintala and Bottou, "Wasserstein GAN", 2017 (Algorithm 1: RMSprop,
n_critic 5, clipping 0.01, lr 5e-5). Code lineage: eriklindernoren/Keras-GAN `wgan/wgan.py`
(standalone Keras 2.2 on TensorFlow 1.x), in the version with the networks of `WGAN`.

An upsample + conv G and a conv critic with a linear output; per step n_critic (5)
clipped RMSprop iterations of the critic, then one generator update. This module also
holds what WGAN-GP shares (`WassersteinConfig`, the generator update, the feeds).

Every difference from the blog and the paper: docs/models/wgan.md.
"""

import numpy as np

from models import losses
from models.base import Built, Phase, scalar_summaries
from models.config import default, setting
from models.keras_gan import KerasGAN, KerasGANConfig
from models.optimizers import KerasRMSprop
from ops import conv, dense, dropout, leaky_relu, upsample2x, zero_pad
from tf_compat import tf
from utils import make_rng


# ---- configuration -------------------------------------------------------------------

class WassersteinConfig(KerasGANConfig):
    """Settings WGAN and WGAN-GP share; defaults from Keras-GAN / the blogs."""

    batch_size = default(32, "blog: batch_size=32", note="every critic and generator update")
    epochs = default(1000, "none in Keras-GAN", note="Keras-GAN counts generator iterations "
                     "only, see --max-steps; this bound is far beyond them")
    max_steps = default(4000, "blog: 4,000 iterations", note="a step: one generator iteration")
    sample_every = default(50, "blog: sample_interval=50")
    sample_num = default(25, "blog: 5x5 grid", note="5x5 for 25")
    n_critic = setting(int, 5, "critic iterations per generator iteration",
                       source="blog: n_critic = 5, the paper's", minimum=1)
    lr = default(5e-5, "blog: RMSprop(lr=0.00005), the paper's", note="RMSprop: the critic's "
                 "and G's")
    rho = default(0.9, "Keras 2.2 RMSprop default")
    rms_epsilon = default(1e-7, "Keras 2.2 RMSprop default, K.epsilon()")
    leak = default(0.2, "blog: LeakyReLU(alpha=0.2)", note="the critic's")
    dropout_rate = default(0.25, "blog: Dropout(0.25)", note="after the critic's convolutions")


class WGANConfig(WassersteinConfig):
    """WGAN settings; defaults from the blog's Keras-GAN wgan.py."""

    clip_value = setting(float, 0.01, "clip every critic weight into [-c, c] after each "
                         "critic iteration", source="blog: clip_value = 0.01, the paper's",
                         minimum=0.0)


# ---- the model -----------------------------------------------------------------------

class WGAN(KerasGAN):
    """Keras-GAN's WGAN: n_critic clipped critic iterations per generator update.

    Subclasses change the networks (`generator`, `critic`) and the critic iteration
    (`critic_iteration`, `step_feed`); the generator update, sampler and feeds of
    noise are shared (WGANGP).

    Layers are Keras's rebuilt with the Keras-equivalent ops of `ops.py`: glorot-uniform
    kernels, zero biases, BatchNormalization momentum 0.8 / eps 1e-3, LeakyReLU 0.2.
    Loss: Keras-GAN's `wasserstein_loss = mean(y_true * y_pred)`. Trainable parameters:
    G 1,028,545; critic 99,393.
    """

    model_name = "WGAN"
    Config = WGANConfig
    critic_optimizer_name = "critic_optimizer"
    generator_optimizer_name = "generator_optimizer"

    @classmethod
    def batches_per_step_of(cls, config):
        """Each of the n_critic critic iterations draws its own real batch."""
        return config.n_critic

    # ---- networks --------------------------------------------------------------

    def generator(self, z, is_training, update_moving=False):
        """z [bs, z_dim] -> images [bs, h, w, c] in (-1, 1).

        dense 128*7*7 - relu; reshape 7x7x128; BN; upsample x2; conv 128 k4 - relu; BN;
        upsample x2; conv 64 k4 - relu; BN; conv 1 k4; tanh.

        is_training=False: Keras's inference phase (`generator.predict`, the samples): BN
        with the moving statistics. is_training=True: batch statistics; `update_moving`
        also updates the moving ones (Keras 2.2 rule, see `keras22_batch_norm`).
        """
        h, w, c = self.image_shape
        with tf.variable_scope("generator", reuse=self.reuse("generator")):
            net = tf.nn.relu(dense(z, 128 * (h // 4) * (w // 4), name="dense"))
            net = tf.reshape(net, [-1, h // 4, w // 4, 128])                 # [bs, h/4, w/4, 128]
            net = self._bn(net, is_training, update_moving, "batch_normalization")
            net = upsample2x(net)                                            # [bs, h/2, w/2, 128]
            net = tf.nn.relu(conv(net, 128, 4, name="conv2d"))
            net = self._bn(net, is_training, update_moving, "batch_normalization_1")
            net = upsample2x(net)                                            # [bs, h, w, 128]
            net = tf.nn.relu(conv(net, 64, 4, name="conv2d_1"))
            net = self._bn(net, is_training, update_moving, "batch_normalization_2")
            return tf.tanh(conv(net, c, 4, name="conv2d_2"))                 # [bs, h, w, c]

    def critic(self, images, dropout_seed):
        """images [bs, h, w, c] -> critic value [bs, 1] (linear).

        conv 16 k3 s2 - lrelu - dropout 0.25; conv 32 k3 s2; zero-pad ((0,1),(0,1));
        lrelu; dropout; BN; conv 64 k3 s2 - lrelu - dropout; BN; conv 128 k3 s1 - lrelu -
        dropout; flatten (2048); dense 1 (linear).

        Always Keras's training phase (as in every Keras-GAN update): dropout active
        with masks fixed by `dropout_seed` (int64 [2]; salts 1..4 per layer), BN with
        batch statistics and no moving-statistics updates.
        """
        cfg = self.config

        def block(net, salt):
            return dropout(leaky_relu(net, cfg.leak), cfg.dropout_rate, dropout_seed, salt)

        with tf.variable_scope("critic", reuse=self.reuse("critic")):
            net = block(conv(images, 16, 3, strides=2, name="conv2d"), 1)      # [bs, 14, 14, 16]
            net = conv(net, 32, 3, strides=2, name="conv2d_1")                 # [bs, 7, 7, 32]
            net = block(zero_pad(net, bottom=1, right=1), 2)                   # [bs, 8, 8, 32]
            net = self._bn(net, True, False, "batch_normalization")
            net = block(conv(net, 64, 3, strides=2, name="conv2d_2"), 3)       # [bs, 4, 4, 64]
            net = self._bn(net, True, False, "batch_normalization_1")
            net = block(conv(net, 128, 3, strides=1, name="conv2d_3"), 4)      # [bs, 4, 4, 128]
            net = tf.reshape(net, [-1, int(np.prod(net.get_shape().as_list()[1:]))])
            return dense(net, 1, name="dense")                                 # [bs, 1]

    def critic_variables(self):
        """Every weight of every critic layer (Keras `get_weights()`): trainable ones and
        the BN moving statistics; not the optimizer state or BN shadow variables."""
        return [v for v in self.graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)
                if v.op.name.startswith("critic/")
                and not v.op.name.endswith(("/biased", "/local_step"))]

    # ---- graph -----------------------------------------------------------------

    def build_model(self):
        cfg = self.config
        self.require_image_sides(4)
        self.inputs = self.image_input("real_images")
        self.z = self.noise_input("z")
        self.real_seed = tf.placeholder(tf.int64, [2], name="real_dropout_seed")
        self.fake_seed = tf.placeholder(tf.int64, [2], name="fake_dropout_seed")
        self.g_z = self.noise_input("g_z")
        self.g_seed = tf.placeholder(tf.int64, [2], name="g_dropout_seed")
        self.sample_z_input = self.noise_input("sample_z", size=cfg.sample_num)

        critic_op, critic_logs = self.critic_iteration()
        g_op, g_logs = self.generator_update()
        sampler = self.generator(self.sample_z_input, is_training=False)

        phases = [
            Phase("critic", critic_op, scalar_summaries(critic_logs), critic_logs,
                  repeat=cfg.n_critic, feed=self.step_feed, scopes=("critic",)),
            Phase("generator", g_op, scalar_summaries(g_logs), g_logs, feed=self.g_feed,
                  batch=False, scopes=("generator",)),
        ]
        # Fixed noise of the training grids.
        self.sample_z = make_rng(cfg.seed, "sample_z").standard_normal(
            (cfg.sample_num, cfg.z_dim)).astype(np.float32)
        return Built(phases, sampler)

    def critic_iteration(self):
        """(train op, logged losses) of one critic iteration: real update, fake update
        (reading the weights the real update left), clip.

        Keras-GAN's iteration: fakes = `generator.predict(noise)` (G in inference mode);
        `critic.train_on_batch(real, -1)`; `critic.train_on_batch(fakes, +1)`; clip every
        weight of every critic layer into [-0.01, 0.01]; d_loss = mean of the two. Here
        ONE train op (one Session call): the fake forward pass and update under a control
        dependency on the real update, the clip under one on the fake update. Both
        updates share one RMSprop state, as Keras's single compiled critic does.
        """
        cfg = self.config
        # generator.predict: inference-mode G; no gradient is taken through it.
        self.fake_images = tf.stop_gradient(self.generator(self.z, is_training=False))
        self.real_out = self.critic(self.inputs, self.real_seed)
        d_loss_real = losses.wasserstein(self.real_out, -1.0)
        self.critic_optimizer = KerasRMSprop(
            self.variables("critic/"), cfg.lr, cfg.rho, cfg.rms_epsilon,
            name=self.critic_optimizer_name)
        self.real_update = self.critic_optimizer.update(d_loss_real, reads=[d_loss_real])
        with tf.control_dependencies([self.real_update]):
            self.fake_out = self.critic(self.fake_images, self.fake_seed)
            d_loss_fake = losses.wasserstein(self.fake_out, 1.0)
            self.fake_update = self.critic_optimizer.update(d_loss_fake, reads=[d_loss_fake])
        with tf.control_dependencies([self.fake_update]):
            clip = losses.clip_weights(self.critic_variables(), cfg.clip_value)
        d_loss = 0.5 * (d_loss_real + d_loss_fake)
        return clip, dict(d_loss=d_loss, d_loss_real=d_loss_real, d_loss_fake=d_loss_fake)

    def generator_update(self):
        """(train op, logged losses) of the generator update: G in training mode
        (updating its moving statistics), the frozen critic in training mode (dropout
        active, batch statistics, no critic variable changes), target -1."""
        cfg = self.config
        self.g_fake = self.generator(self.g_z, is_training=True, update_moving=True)
        self.g_out = self.critic(self.g_fake, self.g_seed)
        g_loss = losses.wasserstein(self.g_out, -1.0)
        self.generator_optimizer = KerasRMSprop(
            self.variables("generator/"), cfg.lr, cfg.rho, cfg.rms_epsilon,
            name=self.generator_optimizer_name)
        g_op = self.generator_optimizer.update(g_loss, reads=[g_loss])
        return g_op, dict(g_loss=g_loss)

    def optimizer_iterations(self):
        """{"critic": counter, "generator": counter}: updates each optimizer has made."""
        return {"critic": self.critic_optimizer.iterations,
                "generator": self.generator_optimizer.iterations}

    # ---- feeds -----------------------------------------------------------------

    def _noise(self, rng, n):
        return rng.standard_normal((n, self.config.z_dim)).astype(np.float32)

    def step_feed(self, images, labels, rng):
        """A fresh real batch in [-1, 1], fresh noise, a dropout seed per critic pass."""
        return {self.inputs: images, self.z: self._noise(rng, self.config.batch_size),
                self.real_seed: self._dropout_seed(rng), self.fake_seed: self._dropout_seed(rng)}

    def g_feed(self, images, labels, rng):
        """Fresh noise and a dropout seed for the critic's pass in the generator update."""
        return {self.g_z: self._noise(rng, self.config.batch_size),
                self.g_seed: self._dropout_seed(rng)}

    def sample_feed(self, rng=None):
        if rng is None:
            return {self.sample_z_input: self.sample_z}
        return {self.sample_z_input: self._noise(rng, self.config.sample_num)}
