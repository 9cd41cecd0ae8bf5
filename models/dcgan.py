"""DCGAN on MNIST and on Pokemon sprites, as the blog "GAN 生成手写数字和 Pokemon 实战"
(TF2 Keras) trains it, as a TF1 graph.

Paper: Radford, Metz and Chintala, "Unsupervised Representation Learning with Deep
Convolutional Generative Adversarial Networks" (DCGAN), 2015.
Code lineage: the TensorFlow DCGAN tutorial (tensorflow.org/tutorials/generative/dcgan:
`make_generator_model`, `make_discriminator_model`, `train_step`), which the blog runs
with its own batch size and epochs on MNIST and then on 40x40 Pokemon sprites.

A transposed-conv G and a two-conv D; per step one forward pass, both gradients from it,
then both Adam updates (the tutorial's `train_step`).

Every difference from the blog and the paper: docs/models/dcgan.md.
"""

import numpy as np

from models import losses
from models.base import Built, GANModel, Phase, scalar_summaries
from models.config import TrainConfig, default, setting
from models.optimizers import TF1Adam, update
from ops import batch_norm, conv, conv_transpose, dense, dropout, leaky_relu
from tf_compat import tf
from utils import make_rng

# loss name -> function(real D outputs, fake D outputs) -> dict of d_loss_real,
# d_loss_fake, d_loss, g_loss.
LOSSES = {"bce": losses.gan_losses, "mse": losses.least_squares_losses}

# Salts of D's two dropout layers, per pass: Keras draws a fresh mask at every call,
# so the real and the fake pass of one step get different masks.
REAL_PASS_SALTS = (1, 2)
FAKE_PASS_SALTS = (3, 4)


class DCGANConfig(TrainConfig):
    """DCGAN settings; defaults from the blog's MNIST run (TF DCGAN tutorial code)."""

    idx_splits = default("train", "blog: tf.keras.datasets.mnist.load_data() train images")
    reshuffle_each_epoch = default(True, "TF tutorial: Dataset.shuffle(60000) reshuffles "
                                   "every epoch")
    batch_size = default(64, "blog: 64 (TF tutorial: 256)")
    epochs = default(40, "blog: 40 (also shown: 50, 100; TF tutorial: 50)")
    sample_num = default(64, "blog: 8x8 grid (TF tutorial: 16)")
    z_dim = default(100, "blog: noise_dim 100", note="z ~ N(0, 1)")
    loss = setting(str, "bce", "GAN loss on D's logit: 'bce' sigmoid cross-entropy, 'mse' "
                   "mean squared error on D's raw output (targets 1 real, 0 fake)",
                   source="blog: BinaryCrossentropy(from_logits=True) for MNIST, MSE for "
                   "Pokemon", choices=tuple(LOSSES))
    d_lr = default(1e-4, "blog: Adam(1e-4)", note="Adam")
    g_lr = default(1e-4, "blog: Adam(1e-4)", note="Adam")
    beta1 = default(0.9, "Keras Adam default")
    beta2 = default(0.999, "Keras Adam default")
    adam_epsilon = default(1e-7, "Keras Adam default")
    leak = default(0.3, "Keras LeakyReLU default", note="of D and G")
    dropout_rate = default(0.3, "blog: Dropout(0.3)", note="after D's convolutions")
    bn_momentum = default(0.99, "Keras BatchNormalization default", note="G's")
    bn_epsilon = default(1e-3, "Keras BatchNormalization default")


class DCGANPokemonConfig(DCGANConfig):
    """DCGAN settings of the blog's Pokemon run: 40x40 RGB sprites, MSE loss."""

    dataset = default("pokemon", "blog: Pokemon sprites")
    image_size = default(40, "blog: 40x40 sprites")
    channels = default(3, "blog: RGB")
    folder_split = default("all", "blog: every sprite")
    folder_preprocess = default("none", "blog: sprites as they are")
    batch_size = default(256, "blog: 256")
    epochs = default(5000, "blog: 5000")
    loss = default("mse", "blog: MSE for Pokemon")


class DCGAN(GANModel):
    """The TF DCGAN tutorial's GAN with the blog's settings (MNIST).

    Layers are Keras's rebuilt with the Keras-equivalent ops of `ops.py`: glorot-uniform
    kernels, zero biases, Keras BatchNormalization momentum 0.99 / eps 1e-3, LeakyReLU
    0.3. Loss `--loss bce`: D = CE(D(x), 1) + CE(D(G(z)), 0), G = CE(D(G(z)), 1) (Keras
    BinaryCrossentropy(from_logits=True)); `--loss mse`: the same targets with mean
    squared error on D's raw output. Optimizers: Keras Adam 1e-4 per network (beta1 0.9,
    beta2 0.999, eps 1e-7), the math of `tf.train.AdamOptimizer` with epsilon 1e-7.
    Trainable parameters: MNIST G 2,305,472 / D 212,865; Pokemon G 3,640,384 / D 222,593.
    """

    model_name = "DCGAN"
    Config = DCGANConfig
    input_range = (-1.0, 1.0)    # the blog: (images - 127.5) / 127.5
    output_range = (-1.0, 1.0)   # tanh

    # ---- networks --------------------------------------------------------------

    def generator(self, z, is_training=True):
        """z [bs, z_dim] -> images [bs, h, w, c] in (-1, 1).

        dense h/4*w/4*256 (no bias) - BN - lrelu; reshape [h/4, w/4, 256]; (128)5dc1s (no
        bias) - BN - lrelu; (64)5dc2s (no bias) - BN - lrelu; (C)5dc2s (no bias) - tanh.
        MNIST 7x7x256 -> 28x28x1; Pokemon 10x10x256 -> 40x40x3.

        is_training=True normalises with batch statistics and updates the moving ones
        (once per run of the output); False uses the moving statistics.
        """
        cfg = self.config
        h, w, c = self.image_shape
        bn = dict(momentum=cfg.bn_momentum, epsilon=cfg.bn_epsilon)
        with tf.variable_scope("generator", reuse=self.reuse("generator")):
            net = dense(z, (h // 4) * (w // 4) * 256, use_bias=False, name="dense")
            net = leaky_relu(batch_norm(net, is_training, name="batch_normalization", **bn),
                             cfg.leak)                                     # [bs, h/4*w/4*256]
            net = tf.reshape(net, [-1, h // 4, w // 4, 256])               # [bs, h/4, w/4, 256]
            net = conv_transpose(net, 128, 5, strides=1, use_bias=False, name="conv2d_transpose")
            net = leaky_relu(batch_norm(net, is_training, name="batch_normalization_1", **bn),
                             cfg.leak)                                     # [bs, h/4, w/4, 128]
            net = conv_transpose(net, 64, 5, strides=2, use_bias=False,
                                 name="conv2d_transpose_1")
            net = leaky_relu(batch_norm(net, is_training, name="batch_normalization_2", **bn),
                             cfg.leak)                                     # [bs, h/2, w/2, 64]
            net = conv_transpose(net, c, 5, strides=2, use_bias=False,
                                 name="conv2d_transpose_2")                # [bs, h, w, c]
            return tf.tanh(net)

    def discriminator(self, images, dropout_seed, salts, is_training=True):
        """images [bs, h, w, c] in [-1, 1] -> logit [bs, 1] (raw output, no sigmoid).

        (64)5c2s - lrelu - dropout 0.3; (128)5c2s - lrelu - dropout 0.3; flatten; dense 1.

        Args:
          dropout_seed: int64 [2] tensor; with `salts` (one Python int per dropout
            layer) it fixes the dropout masks of this pass.
          is_training: apply dropout (Keras `is_training=True`, as in the blog's train_step).
        """
        cfg = self.config
        with tf.variable_scope("discriminator", reuse=self.reuse("discriminator")):
            net = leaky_relu(conv(images, 64, 5, strides=2, name="conv2d"), cfg.leak)
            net = dropout(net, cfg.dropout_rate, dropout_seed, salts[0],
                          is_training)                                        # [bs, h/2, w/2, 64]
            net = leaky_relu(conv(net, 128, 5, strides=2, name="conv2d_1"), cfg.leak)
            net = dropout(net, cfg.dropout_rate, dropout_seed, salts[1],
                          is_training)                                        # [bs, h/4, w/4, 128]
            net = tf.reshape(net, [-1, int(np.prod(net.get_shape().as_list()[1:]))])
            return dense(net, 1, name="dense")                             # [bs, 1]

    # ---- graph -----------------------------------------------------------------

    def build_model(self):
        """The tutorial's `train_step` as one `Phase`: ONE forward pass (one noise batch
        z ~ N(0, 1), one set of dropout masks, G's BN in training mode updating its
        moving statistics once), both losses and both gradient lists (`tf.gradients`)
        from it, then both Adam updates under control dependencies on every gradient and
        every logged loss, so neither update changes a variable the other's gradient
        still reads."""
        cfg = self.config
        self.require_image_sides(4)
        self.inputs = self.image_input("real_images")
        self.z = self.noise_input("z")
        self.dropout_seed = tf.placeholder(tf.int64, [2], name="dropout_seed")
        self.sample_z_input = self.noise_input("sample_z", size=cfg.sample_num)

        # The tutorial's train_step: one forward pass feeds both losses.
        self.fake = self.generator(self.z, is_training=True)
        self.real_logits = self.discriminator(self.inputs, self.dropout_seed, REAL_PASS_SALTS)
        self.fake_logits = self.discriminator(self.fake, self.dropout_seed, FAKE_PASS_SALTS)
        gan = LOSSES[cfg.loss](self.real_logits, self.fake_logits)
        self.d_loss_real, self.d_loss_fake = gan["d_loss_real"], gan["d_loss_fake"]
        self.d_loss, self.g_loss = gan["d_loss"], gan["g_loss"]
        logs = dict(d_loss=self.d_loss, d_loss_real=self.d_loss_real,
                    d_loss_fake=self.d_loss_fake, g_loss=self.g_loss)

        # Both gradients from that pass, then both updates (simultaneous, as the tape);
        # the name scopes give each optimizer's beta powers its own name.
        self.d_vars, self.g_vars = self.variables("discriminator"), self.variables("generator")
        adam = dict(beta1=cfg.beta1, beta2=cfg.beta2, epsilon=cfg.adam_epsilon)
        self.d_optimizer = TF1Adam(self.d_vars, cfg.d_lr, name="discriminator_optimizer",
                                   scope="discriminator_optimizer", **adam)
        self.g_optimizer = TF1Adam(self.g_vars, cfg.g_lr, name="generator_optimizer",
                                   scope="generator_optimizer", **adam)
        self.d_grads = self.d_optimizer.gradients(self.d_loss)
        self.g_grads = self.g_optimizer.gradients(self.g_loss)
        train_op = update([(self.g_optimizer, self.g_grads), (self.d_optimizer, self.d_grads)],
                          reads=list(logs.values()), name="train_step")

        sampler = self.generator(self.sample_z_input, is_training=False)

        phases = [Phase("train_step", train_op, scalar_summaries(logs), logs,
                        feed=self.step_feed, scopes=("discriminator", "generator"))]
        # Fixed noise of the training grids (the tutorial's `seed`).
        self.sample_z = make_rng(cfg.seed, "sample_z").standard_normal(
            (cfg.sample_num, cfg.z_dim)).astype(np.float32)
        return Built(phases, sampler)

    # ---- feeds -----------------------------------------------------------------

    def step_feed(self, images, labels, rng):
        """Real images in [-1, 1], z ~ N(0, 1) and the step's dropout seed pair."""
        cfg = self.config
        z = rng.standard_normal((cfg.batch_size, cfg.z_dim)).astype(np.float32)
        seed = rng.integers(0, 2 ** 31, size=2, dtype=np.int64)
        return {self.inputs: images, self.z: z, self.dropout_seed: seed}

    def sample_feed(self, rng=None):
        if rng is None:
            return {self.sample_z_input: self.sample_z}
        z = rng.standard_normal((self.config.sample_num, self.config.z_dim))
        return {self.sample_z_input: z.astype(np.float32)}


class DCGANPokemon(DCGAN):
    """The blog's Pokemon run: same networks on 40x40x3 sprites, MSE loss.

    Its run folder is DCGAN_pokemon_<batch>_<z_dim> (the data tag differs from MNIST's).
    """

    Config = DCGANPokemonConfig
    evaluations = ("sprites",)   # no judge for sprites: reproduce/eval_sprites.py

