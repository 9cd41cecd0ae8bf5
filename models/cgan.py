"""CGAN on MNIST, as the blog "CGAN与GAN的区别" runs Keras-GAN's `cgan.py`, as a TF1 graph.

Paper: Mirza and Osindero, "Conditional Generative Adversarial Nets", 2014.
Code lineage: eriklindernoren/Keras-GAN `cgan/cgan.py` (standalone Keras 2.2 on
TensorFlow 1.x), in its final version: full batches of 32, 20,000 iterations, a
sample every 200. The blog's copy is that file with Chinese comments (on `tf.keras`
of TensorFlow 1.x); the semantics reproduced here are standalone Keras 2.2's.

MLPs with label-embedding products at the inputs of G and D; per step two Adam updates
of D (real, then fake) and one of G through the frozen D. This module also holds what
CGAN and ACGAN share (`KerasConditionalGAN`).

Every difference from the blog and the paper: docs/models/cgan.md.
"""

import numpy as np

from errors import ConfigError, DataError
from models import keras_losses
from models.base import Built, Phase, scalar_summaries
from models.config import default, setting
from models.keras_gan import KerasGAN, KerasGANConfig
from models.optimizers import KerasAdam, keras_optimizers
from ops import dense, dropout, embedding, lrelu
from tf_compat import tf
from utils import make_rng

NUM_CLASSES = 10   # MNIST digits: Embedding(10, ...), 10 columns in the grids

# Salts of D's dropout layers per forward pass: Keras draws fresh masks at every call.
REAL_PASS_SALTS = (1, 2)
FAKE_PASS_SALTS = (3, 4)
G_PASS_SALTS = (5, 6)


# ---- configuration -------------------------------------------------------------------

class KerasConditionalConfig(KerasGANConfig):
    """Settings CGAN and ACGAN share; defaults from Keras-GAN / the blogs."""

    batch_size = default(32, "blog: batch_size=32", note="every D and G update")
    epochs = default(1000, "none in Keras-GAN", note="Keras-GAN counts iterations only, see "
                     "--max-steps; this bound is far beyond them")
    max_steps = default(20000, "blog: 20,000 iterations", note="a step: one iteration, one "
                        "D and one G update")
    sample_every = default(200, "blog: sample_interval=200")
    sample_num = default(100, "10x10 (the blog's own grid is saved beside it)", note="the "
                         "fixed-noise grid, a multiple of 10: one row per noise vector, one "
                         "column per digit")
    lr = default(2e-4, "blog: Adam(0.0002, 0.5)", note="Adam: D's and G's")
    beta1 = default(0.5, "blog: Adam(0.0002, 0.5)")
    beta2 = default(0.999, "Keras 2.2 Adam default")
    adam_epsilon = default(1e-7, "Keras 2.2 Adam default (K.epsilon())")
    adam_counter = default("shared", "Keras-GAN passes one Adam object to both compile calls")
    dropout_rate = default(0.4, "blog: Dropout(0.4)", note="in D")

    def validate(self):
        super().validate()
        if self.sample_num % NUM_CLASSES:
            raise ConfigError("sample_num must be a multiple of %d (one column per digit), "
                              "got %d" % (NUM_CLASSES, self.sample_num))


class CGANConfig(KerasConditionalConfig):
    """CGAN settings; defaults from the blog's Keras-GAN cgan.py."""

    g_noise = setting(str, "reuse", "noise of the G update: 'reuse' the D step's noise, "
                      "'fresh' noise", source="Keras-GAN cgan.py, 20,000-iteration version: "
                      "combined.train_on_batch([noise, sampled_labels]) with the D step's "
                      "noise (its 10,000-iteration version: fresh)", choices=("reuse", "fresh"))


# ---- the shared machinery of the conditional models ---------------------------------

class KerasConditionalGAN(KerasGAN):
    """What CGAN and ACGAN share: label checks, Keras 2.2 BN and Adam, the conditional
    sample grids and their feeds. Subclasses build the networks and `phases`.

    Layers are Keras's rebuilt with the Keras-equivalent ops of `ops.py`: glorot-uniform
    kernels, zero biases, Embedding uniform(-0.05, 0.05), LeakyReLU 0.2,
    BatchNormalization momentum 0.8 / eps 1e-3. Losses are Keras's on probabilities
    clipped to [1e-7, 1 - 1e-7] (`models/keras_losses.py`); labels are int64
    placeholders.
    """

    evaluations = ("classifier", "conditional")

    def _check_labels(self):
        labels = np.asarray(self.dataset.labels)
        if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
            raise DataError("%s needs class labels 0..%d; %s has labels %d..%d"
                            % (self.model_name, NUM_CLASSES - 1, self.dataset.source,
                               labels.min(), labels.max()))

    def _sample_inputs(self):
        """Placeholders of the sampler: noise [n, z_dim] and labels [n] (any n)."""
        self.sample_z_input = self.noise_input("sample_z", size=None)
        self.sample_labels_input = tf.placeholder(tf.int64, [None], name="sample_labels")

    def _optimizers(self):
        """(D's KerasAdam, G's KerasAdam), sharing one counter unless configured not to.

        Keras 2.2's Adam keeps its moments per model but one `iterations` counter per
        object, advanced by every update of either model; the bias correction
        lr * sqrt(1 - beta2^t) / (1 - beta1^t) uses t = counter + 1.
        """
        cfg = self.config
        adams = keras_optimizers(
            KerasAdam, [("discriminator_optimizer", self.variables("discriminator")),
                        ("generator_optimizer", self.variables("generator"))],
            counter=cfg.adam_counter,
            lr=cfg.lr, beta1=cfg.beta1, beta2=cfg.beta2, epsilon=cfg.adam_epsilon)
        return adams["discriminator_optimizer"], adams["generator_optimizer"]

    # ---- sample grids ------------------------------------------------------------

    def _grid_feed(self, z, labels):
        return {self.sample_z_input: np.asarray(z, np.float32),
                self.sample_labels_input: np.asarray(labels, np.int64)}

    def conditional_feed(self, z_rows):
        """Feed of a conditional grid: row r = noise z_rows[r], column j = digit j.

        Args:
          z_rows: [rows, z_dim] noise.
        Returns:
          sampler feed of rows * 10 samples, row-major.
        """
        rows = len(z_rows)
        return self._grid_feed(np.repeat(z_rows, NUM_CLASSES, axis=0),
                               np.tile(np.arange(NUM_CLASSES), rows))

    def prior_feed(self, rng, n):
        """Rows of fresh noise z ~ N(0, 1), one column per digit (about n samples), and
        the digits they ask for."""
        rows = max(1, n // NUM_CLASSES)
        z_rows = rng.standard_normal((rows, self.config.z_dim))
        return self.conditional_feed(z_rows), np.tile(np.arange(NUM_CLASSES), rows)

    def blog_grid(self):
        """(feed, (rows, cols)) of the blog's own grid, or None."""
        return None

    def _set_grids(self):
        cfg = self.config
        rows = cfg.sample_num // NUM_CLASSES
        self.grid_size = (rows, NUM_CLASSES)
        z_rows = make_rng(cfg.seed, "sample_z").standard_normal((rows, cfg.z_dim))
        self._fixed_feed = self.conditional_feed(z_rows)
        blog = self.blog_grid()
        self.extra_grids = {"blog": blog} if blog else {}

    def sample_feed(self, rng=None):
        """The fixed-noise conditional grid's feed, or the same layout with fresh noise."""
        if rng is None:
            return self._fixed_feed
        rows = self.config.sample_num // NUM_CLASSES
        return self.conditional_feed(rng.standard_normal((rows, self.config.z_dim)))



# ---- the model -----------------------------------------------------------------------

class CGAN(KerasConditionalGAN):
    """Keras-GAN's CGAN: label-embedding products at the inputs of G and D.

    Trainable parameters: G 1,489,936 + 1,000 (embedding); D 927,745 + 7,840 (embedding).
    """

    model_name = "CGAN"
    Config = CGANConfig

    # ---- networks --------------------------------------------------------------

    def generator(self, z, labels, is_training, update_moving=False):
        """(z [bs, z_dim], labels int [bs]) -> images [bs, h, w, c] in (-1, 1).

        z [bs, 100] * Embedding(10, 100)(label) (element-wise); dense 256 - lrelu - BN;
        dense 512 - lrelu - BN; dense 1024 - lrelu - BN; dense 784 - tanh; reshape
        28x28x1.

        is_training=False: Keras's inference phase (`generator.predict`, the samples): BN
        with the moving statistics. is_training=True: batch statistics; `update_moving`
        also updates the moving ones (Keras 2.2 rule, see `keras22_batch_norm`).
        """
        cfg = self.config
        h, w, c = self.image_shape
        with tf.variable_scope("generator", reuse=self.reuse("generator")):
            net = z * embedding(labels, NUM_CLASSES, cfg.z_dim, dtype=self.dtype)  # [bs, z_dim]
            for i, units in enumerate((256, 512, 1024)):
                suffix = "_%d" % i if i else ""
                net = lrelu(dense(net, units, name="dense" + suffix))
                net = self._bn(net, is_training, update_moving, "batch_normalization" + suffix)
            net = tf.tanh(dense(net, h * w * c, name="dense_3"))                  # [bs, h*w*c]
            return tf.reshape(net, [-1, h, w, c])                                 # [bs, h, w, c]

    def discriminator(self, images, labels, dropout_seed, salts):
        """(images [bs, h, w, c], labels int [bs]) -> validity [bs, 1] (sigmoid).

        flatten(image) [bs, 784] * Embedding(10, 784)(label); dense 512 - lrelu; dense 512
        - lrelu - dropout 0.4; dense 512 - lrelu - dropout 0.4; dense 1 - sigmoid. No BN.

        Always Keras's training phase (every Keras-GAN update runs D in it): dropout
        active, masks fixed by `dropout_seed` (int64 [2]) and `salts` (one per layer).
        """
        cfg = self.config
        h, w, c = self.image_shape
        with tf.variable_scope("discriminator", reuse=self.reuse("discriminator")):
            net = tf.reshape(images, [-1, h * w * c])
            net = net * embedding(labels, NUM_CLASSES, h * w * c, dtype=self.dtype)  # [bs, 784]
            net = lrelu(dense(net, 512, name="dense"))                               # [bs, 512]
            net = dropout(lrelu(dense(net, 512, name="dense_1")), cfg.dropout_rate,
                          dropout_seed, salts[0])
            net = dropout(lrelu(dense(net, 512, name="dense_2")), cfg.dropout_rate,
                          dropout_seed, salts[1])
            return tf.sigmoid(dense(net, 1, name="dense_3"))                          # [bs, 1]

    # ---- graph -----------------------------------------------------------------

    def build_model(self):
        """One Keras-GAN iteration as two phases.

        Phase "d", ONE train op: `discriminator.train_on_batch([real, labels], 1)` (one
        Adam update), then, under a control dependency on it (so they read the updated
        weights), the fakes of `generator.predict([noise, labels])` (G in inference
        mode, the real batch's labels) and `train_on_batch([fakes, labels], 0)`; both
        updates share one Adam state, as Keras's one compiled D; d_loss = their mean.
        Phase "g", on the same feed: `combined.train_on_batch([noise, sampled_labels],
        1)`, G through the frozen D (training phase: dropout active; not updated), G's
        BN with batch statistics, its moving statistics updated. With the shared
        counter, step k's D updates run at Adam t = 3k+1, 3k+2, its G update at 3k+3.
        """
        cfg = self.config
        self._check_labels()
        bs = cfg.batch_size
        self.inputs = self.image_input("real_images")
        self.labels = tf.placeholder(tf.int64, [bs], name="labels")
        self.z = self.noise_input("z")
        self.g_z = self.noise_input("g_z")
        self.g_labels = tf.placeholder(tf.int64, [bs], name="sampled_labels")
        self.dropout_seed = tf.placeholder(tf.int64, [2], name="dropout_seed")
        self._sample_inputs()

        # The combined model (built first: it creates every variable): G in training
        # mode updating its moving BN statistics, D frozen in the training phase.
        g_images = self.generator(self.g_z, self.g_labels, is_training=True, update_moving=True)
        self.g_valid = self.discriminator(g_images, self.g_labels, self.dropout_seed,
                                          G_PASS_SALTS)
        self.g_loss = keras_losses.binary_crossentropy(1, self.g_valid)

        # D on the real batch, then on fakes made with the real batch's labels.
        self.real_valid = self.discriminator(self.inputs, self.labels, self.dropout_seed,
                                             REAL_PASS_SALTS)
        d_loss_real = keras_losses.binary_crossentropy(1, self.real_valid)
        d_acc_real = keras_losses.binary_accuracy(1, self.real_valid)
        d_optimizer, g_optimizer = self._optimizers()
        self.d_real_update = d_optimizer.update(d_loss_real, [d_loss_real, d_acc_real])
        with tf.control_dependencies([self.d_real_update]):
            # generator.predict: inference-mode G; no gradient is taken through it.
            self.fake_images = tf.stop_gradient(
                self.generator(self.z, self.labels, is_training=False))
            self.fake_valid = self.discriminator(self.fake_images, self.labels,
                                                 self.dropout_seed, FAKE_PASS_SALTS)
            d_loss_fake = keras_losses.binary_crossentropy(0, self.fake_valid)
            d_acc_fake = keras_losses.binary_accuracy(0, self.fake_valid)
            self.d_fake_update = d_optimizer.update(d_loss_fake, [d_loss_fake, d_acc_fake])
        self.g_update = g_optimizer.update(self.g_loss, [self.g_loss])

        sampler = self.generator(self.sample_z_input, self.sample_labels_input,
                                 is_training=False)

        d_logs = dict(d_loss=0.5 * (d_loss_real + d_loss_fake), d_loss_real=d_loss_real,
                      d_loss_fake=d_loss_fake, d_acc=0.5 * (d_acc_real + d_acc_fake))
        g_logs = dict(g_loss=self.g_loss)
        phases = [
            Phase("d", tf.group(self.d_fake_update, name="d_train"), scalar_summaries(d_logs),
                  d_logs, feed=self.step_feed, scopes=("discriminator",)),
            # The D step's feed holds the G update's labels (and noise): no new feed.
            Phase("g", self.g_update, scalar_summaries(g_logs), g_logs, scopes=("generator",)),
        ]
        self._set_grids()
        return Built(phases, sampler)

    # ---- feeds -----------------------------------------------------------------

    def step_feed(self, images, labels, rng):
        """The iteration's draws: real batch and labels, noise z ~ N(0, 1), the G update's
        labels ~ randint(0, 10) (and noise: the same z, or fresh with --g-noise fresh),
        one dropout seed pair."""
        cfg = self.config
        z = rng.standard_normal((cfg.batch_size, cfg.z_dim)).astype(np.float32)
        g_labels = rng.integers(0, NUM_CLASSES, size=cfg.batch_size, dtype=np.int64)
        g_z = z if cfg.g_noise == "reuse" else rng.standard_normal(
            (cfg.batch_size, cfg.z_dim)).astype(np.float32)
        return {self.inputs: images, self.labels: labels, self.z: z, self.g_z: g_z,
                self.g_labels: g_labels, self.dropout_seed: self._dropout_seed(rng)}

    def blog_grid(self):
        """Keras-GAN's `sample_images`: a 2x5 grid of digits 0..9 (fixed noise here)."""
        z = make_rng(self.config.seed, "blog_grid").standard_normal(
            (NUM_CLASSES, self.config.z_dim))
        return self._grid_feed(z, np.arange(NUM_CLASSES)), (2, 5)
