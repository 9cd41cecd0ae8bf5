"""ACGAN on MNIST, as the blog "One Day One GAN" (day 4) runs Keras-GAN's `acgan.py`, as a
TF1 graph.

Paper: Odena, Olah and Shlens, "Conditional Image Synthesis With Auxiliary Classifier
GANs", 2017. Code lineage: eriklindernoren/Keras-GAN `acgan/acgan.py` (standalone Keras
2.2 on TensorFlow 1.x), in the version the spec describes: full batches of 32, 14,000
iterations, an 11-way label head whose class 10 means "fake", a 10x10 sample grid every
200.

A label-embedding G (upsample + conv) and a conv D with a validity and a label head; per
step two Adam updates of D (real, then fake) and one of G through the frozen D, Keras 2.2
details as CGAN's (`models/cgan.py`).

Every difference from the blog and the paper: docs/models/acgan.md.
"""

import numpy as np

from models import keras_losses
from models.base import Built, Phase, scalar_summaries
from models.cgan import NUM_CLASSES, KerasConditionalConfig, KerasConditionalGAN
from models.config import default
from ops import conv, dense, dropout, embedding, lrelu, upsample2x, zero_pad
from tf_compat import tf
from utils import make_rng

FAKE_CLASS = NUM_CLASSES   # the label head's 11th class: "generated"

# Salts of D's four dropout layers per forward pass (fresh masks at every Keras call).
REAL_PASS_SALTS = (1, 2, 3, 4)
FAKE_PASS_SALTS = (5, 6, 7, 8)
G_PASS_SALTS = (9, 10, 11, 12)


class ACGANConfig(KerasConditionalConfig):
    """ACGAN settings; defaults from the blog's Keras-GAN acgan.py."""

    max_steps = default(14000, "blog: 14,000 iterations")
    dropout_rate = default(0.25, "blog: Dropout(0.25)", note="after D's convolutions")


class ACGAN(KerasConditionalGAN):
    """Keras-GAN's ACGAN: label-embedding product at G's input, D with a validity and an
    11-way label head.

    Trainable parameters: G 856,065 + 1,000 (embedding); D 97,344 + 24,588 (heads).
    """

    model_name = "ACGAN"
    Config = ACGANConfig

    # ---- networks --------------------------------------------------------------

    def generator(self, z, labels, is_training, update_moving=False):
        """(z [bs, z_dim], labels int [bs]) -> images [bs, h, w, c] in (-1, 1).

        z [bs, 100] * Embedding(10, 100)(label) (element-wise); dense 128*7*7 - relu;
        reshape 7x7x128; BN; upsample x2 (nearest); conv 128 k3 - relu; BN; upsample x2;
        conv 64 k3 - relu; BN; conv 1 k3; tanh.

        is_training=False: Keras's inference phase (`generator.predict`, the samples): BN
        with the moving statistics. is_training=True: batch statistics; `update_moving`
        also updates the moving ones (Keras 2.2 rule, see `keras22_batch_norm`).
        """
        cfg = self.config
        h, w, c = self.image_shape
        with tf.variable_scope("generator", reuse=self.reuse("generator")):
            net = z * embedding(labels, NUM_CLASSES, cfg.z_dim, dtype=self.dtype)  # [bs, z_dim]
            net = tf.nn.relu(dense(net, 128 * (h // 4) * (w // 4), name="dense"))
            net = tf.reshape(net, [-1, h // 4, w // 4, 128])                   # [bs, h/4, w/4, 128]
            net = self._bn(net, is_training, update_moving, "batch_normalization")
            net = upsample2x(net)                                              # [bs, h/2, w/2, 128]
            net = tf.nn.relu(conv(net, 128, 3, name="conv2d"))
            net = self._bn(net, is_training, update_moving, "batch_normalization_1")
            net = upsample2x(net)                                              # [bs, h, w, 128]
            net = tf.nn.relu(conv(net, 64, 3, name="conv2d_1"))                # [bs, h, w, 64]
            net = self._bn(net, is_training, update_moving, "batch_normalization_2")
            return tf.tanh(conv(net, c, 3, name="conv2d_2"))                   # [bs, h, w, c]

    def discriminator(self, images, dropout_seed, salts):
        """images [bs, h, w, c] -> (validity [bs, 1] sigmoid, label [bs, 11] softmax).

        conv 16 k3 s2 - lrelu - dropout 0.25; conv 32 k3 s2; zero-pad ((0,1),(0,1));
        lrelu; dropout; BN; conv 64 k3 s2 - lrelu - dropout; BN; conv 128 k3 s1 - lrelu -
        dropout; flatten (2048); heads "validity" dense 1 sigmoid, "label" dense 11
        softmax (digits 0..9 and 10 = "fake").

        Always Keras's training phase (every Keras-GAN update runs D in it): dropout
        active, masks fixed by `dropout_seed` (int64 [2]) and `salts` (one per layer);
        BN with batch statistics, its moving statistics never updated.
        """
        cfg = self.config

        def block(net, salt):
            return dropout(lrelu(net), cfg.dropout_rate, dropout_seed, salt)

        with tf.variable_scope("discriminator", reuse=self.reuse("discriminator")):
            net = block(conv(images, 16, 3, strides=2, name="conv2d"), salts[0])  # [bs, 14, 14, 16]
            net = conv(net, 32, 3, strides=2, name="conv2d_1")                    # [bs, 7, 7, 32]
            net = block(zero_pad(net, bottom=1, right=1), salts[1])               # [bs, 8, 8, 32]
            net = self._bn(net, True, False, "batch_normalization")
            net = block(conv(net, 64, 3, strides=2, name="conv2d_2"), salts[2])   # [bs, 4, 4, 64]
            net = self._bn(net, True, False, "batch_normalization_1")
            net = block(conv(net, 128, 3, strides=1, name="conv2d_3"), salts[3])  # [bs, 4, 4, 128]
            features = tf.reshape(net, [-1, int(np.prod(net.get_shape().as_list()[1:]))])
            validity = tf.sigmoid(dense(features, 1, name="validity"))            # [bs, 1]
            label = tf.nn.softmax(dense(features, NUM_CLASSES + 1, name="label"))  # [bs, 11]
            return validity, label

    # ---- graph -----------------------------------------------------------------

    def build_model(self):
        """One Keras-GAN iteration as two phases; each loss is Keras's sum of the two
        outputs' losses, `binary_crossentropy` (validity) + `sparse_categorical_crossentropy`
        (label).

        Phase "d", ONE train op: `discriminator.train_on_batch(real, [1, true digit])`,
        then, under a control dependency on it (so they read the updated weights), the
        fakes of `generator.predict([noise, sampled_labels])` (G in inference mode) and
        `train_on_batch(fakes, [0, 10])`; both updates share one Adam state (Keras's one
        compiled D); d_loss = their mean. Phase "g", on the same feed:
        `combined.train_on_batch([noise, sampled_labels], [1, sampled_labels])`, G through
        the frozen D with the SAME noise and labels as the D step: D in Keras's training
        phase (dropout active, batch statistics) but not updated; G's BN with batch
        statistics, its moving statistics updated (by this update only). D's train
        function is built after `discriminator.trainable = False`, so neither D's nor the
        combined model's train function updates D's moving BN statistics; D still trains,
        with the weights collected when it was compiled.
        """
        cfg = self.config
        self.require_image_sides(4)
        self._check_labels()
        bs = cfg.batch_size
        self.inputs = self.image_input("real_images")
        self.labels = tf.placeholder(tf.int64, [bs], name="labels")
        self.z = self.noise_input("z")
        self.sampled_labels = tf.placeholder(tf.int64, [bs], name="sampled_labels")
        self.dropout_seed = tf.placeholder(tf.int64, [2], name="dropout_seed")
        self._sample_inputs()

        # The combined model (built first: it creates every variable): G in training
        # mode updating its moving BN statistics, D frozen in the training phase.
        g_images = self.generator(self.z, self.sampled_labels, is_training=True,
                                  update_moving=True)
        self.g_valid, self.g_label = self.discriminator(g_images, self.dropout_seed,
                                                        G_PASS_SALTS)
        self.g_loss = self._summed_loss(self.g_valid, self.g_label, 1, self.sampled_labels)

        # D on the real batch (validity 1, true digit), then on the fakes (0, class 10).
        self.real_valid, self.real_label = self.discriminator(self.inputs, self.dropout_seed,
                                                              REAL_PASS_SALTS)
        d_loss_real = self._summed_loss(self.real_valid, self.real_label, 1, self.labels)
        acc_real, op_acc_real = self._accuracies(self.real_valid, self.real_label, 1, self.labels)
        d_optimizer, g_optimizer = self._optimizers()
        self.d_real_update = d_optimizer.update(d_loss_real, [d_loss_real, acc_real,
                                                              op_acc_real])
        with tf.control_dependencies([self.d_real_update]):
            # generator.predict: inference-mode G; no gradient is taken through it.
            self.fake_images = tf.stop_gradient(
                self.generator(self.z, self.sampled_labels, is_training=False))
            self.fake_valid, self.fake_label = self.discriminator(
                self.fake_images, self.dropout_seed, FAKE_PASS_SALTS)
            d_loss_fake = self._summed_loss(self.fake_valid, self.fake_label, 0, FAKE_CLASS)
            acc_fake, op_acc_fake = self._accuracies(self.fake_valid, self.fake_label, 0,
                                                     FAKE_CLASS)
            self.d_fake_update = d_optimizer.update(d_loss_fake, [d_loss_fake, acc_fake,
                                                                  op_acc_fake])
        self.g_update = g_optimizer.update(self.g_loss, [self.g_loss])

        sampler = self.generator(self.sample_z_input, self.sample_labels_input,
                                 is_training=False)

        d_logs = dict(d_loss=0.5 * (d_loss_real + d_loss_fake), d_loss_real=d_loss_real,
                      d_loss_fake=d_loss_fake, d_acc=0.5 * (acc_real + acc_fake),
                      d_op_acc=0.5 * (op_acc_real + op_acc_fake))
        g_logs = dict(g_loss=self.g_loss)
        phases = [
            Phase("d", tf.group(self.d_fake_update, name="d_train"), scalar_summaries(d_logs),
                  d_logs, feed=self.step_feed, scopes=("discriminator",)),
            # Same noise and labels as the D step: the G update reuses its feed.
            Phase("g", self.g_update, scalar_summaries(g_logs), g_logs, scopes=("generator",)),
        ]
        self._set_grids()
        return Built(phases, sampler)

    @staticmethod
    def _summed_loss(valid, label, validity, digit):
        """Keras's loss of D's two outputs against (validity, digit): binary
        cross-entropy + sparse categorical cross-entropy, summed."""
        return (keras_losses.binary_crossentropy(validity, valid)
                + keras_losses.sparse_categorical_crossentropy(digit, label))

    @staticmethod
    def _accuracies(valid, label, validity, digit):
        """Keras's metrics of the two outputs: (validity accuracy, label accuracy)."""
        return (keras_losses.binary_accuracy(validity, valid),
                keras_losses.sparse_categorical_accuracy(digit, label))

    # ---- feeds -----------------------------------------------------------------

    def step_feed(self, images, labels, rng):
        """The iteration's draws: real batch and digits, noise z ~ N(0, 1), sampled
        labels ~ randint(0, 10) (the fakes' and the G update's), one dropout seed pair."""
        cfg = self.config
        z = rng.standard_normal((cfg.batch_size, cfg.z_dim)).astype(np.float32)
        sampled = rng.integers(0, NUM_CLASSES, size=cfg.batch_size, dtype=np.int64)
        return {self.inputs: images, self.labels: labels, self.z: z,
                self.sampled_labels: sampled, self.dropout_seed: self._dropout_seed(rng)}

    def blog_grid(self):
        """Keras-GAN's `sample_images`: 10x10, tile (i, j) digit j, each tile its own
        noise (fixed here)."""
        z = make_rng(self.config.seed, "blog_grid").standard_normal(
            (NUM_CLASSES * NUM_CLASSES, self.config.z_dim))
        return (self._grid_feed(z, np.tile(np.arange(NUM_CLASSES), NUM_CLASSES)),
                (NUM_CLASSES, NUM_CLASSES))
