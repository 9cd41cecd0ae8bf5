"""InfoGAN on MNIST as the blog "Принцип ИнфоГАН" (Keras) trains it, as a TF1 graph.

Paper: Chen, Duan, Houthooft, Schulman, Sutskever and Abbeel, "InfoGAN:
Interpretable Representation Learning by Information Maximizing Generative
Adversarial Nets", NIPS 2016.
Code lineage: the blog follows Rowel Atienza, "Advanced Deep Learning with Keras"
(Packt, 2018), chapter 6, `infogan-mnist-6.1.1.py` with the builders of its
`lib/gan.py` (`generator`, `discriminator`), standalone Keras 2.2.x.

A DCGAN-like G (Radford et al. 2015) on z, a one-hot digit and two continuous codes;
a D with validity, an ACGAN-style label head and two code heads (Q); per step one
RMSprop update of D on real + fake, then one of G through the frozen D.

Every difference from the blog and the paper: docs/models/infogan.md.
"""

import numpy as np

from errors import ConfigError, DataError
from models import keras_losses
from models.base import Built, GANModel, Phase, scalar_summaries
from models.config import TrainConfig, default, setting
from models.optimizers import KerasRMSprop
from ops import conv, conv_transpose, dense, keras22_batch_norm, lrelu
from tf_compat import tf
from utils import make_rng

# The book's --p1 / --p2 test values: np.linspace(-2, 2, 16).
CODE_SWEEP = np.linspace(-2.0, 2.0, 16)
# The book's training-time grid: 16 samples, 4x4.
BOOK_GRID = (4, 4)


class InfoGANConfig(TrainConfig):
    """InfoGAN settings; defaults from the blog / the book's infogan-mnist-6.1.1.py."""

    idx_splits = default("train", "blog: keras mnist.load_data() train images")
    reshuffle_each_epoch = default(True, "blog: random indices every step "
                                   "(np.random.randint); a fresh permutation per epoch is "
                                   "the epoch-wise equivalent")
    batch_size = default(64, "blog: 64", note="real images; D trains on twice as many: "
                         "real + fake")
    max_steps = default(40000, "blog: 40,000 train steps")
    epochs = default(1000, "blog: counts steps, not epochs", note="an upper bound only: "
                     "--max-steps ends the blog's run, 40,000 steps = 42.7 epochs of 937 "
                     "batches")
    sample_every = default(500, "blog: save_interval 500")
    sample_num = default(100, "blog: 'style by style' digit grid (its fixed 4x4 grid is "
                         "saved beside it)", note="the fixed-noise grid: rows of one fixed z, "
                         "one column per digit; a multiple of 10, 10x10 for 100")
    z_dim = default(100, "blog: latent_size 100 (the book's __main__: 62)",
                    note="z ~ U[-1, 1]")
    code_std = setting(float, 0.5, "standard deviation of the continuous codes c1, c2 ~ "
                       "N(0, std)", source="blog: np.random.normal(scale=0.5)", minimum=0.0)
    d_lr = default(2e-4, "blog: lr 2e-4", note="RMSprop")
    d_decay = setting(float, 6e-8, "Keras lr decay of D's RMSprop: lr / (1 + decay * "
                      "iterations)", source="blog: decay 6e-8", minimum=0.0)
    g_lr = default(1e-4, "blog: lr * 0.5", note="RMSprop of the adversarial model")
    g_decay = setting(float, 3e-8, "Keras lr decay of the adversarial RMSprop",
                      source="blog: decay * 0.5", minimum=0.0)
    rho = default(0.9, "Keras RMSprop default")
    rms_epsilon = default(1e-7, "Keras: K.epsilon()")
    bce_weight = setting(float, 1.0, "loss weight of the validity BCE",
                         source="blog: loss_weights [1, 1, 0.5, 0.5]", minimum=0.0)
    label_weight = setting(float, 1.0, "loss weight of the label categorical CE",
                           source="blog: loss_weights [1, 1, 0.5, 0.5]", minimum=0.0)
    code_weight = setting(float, 0.5, "loss weight of each code's mi_loss",
                          source="blog: loss_weights [1, 1, 0.5, 0.5] ('lamda or mi_loss "
                          "weight is 0.5')", minimum=0.0)
    mi_epsilon = setting(float, 1e-7, "epsilon inside mi_loss's log(q + eps)",
                         source="blog: K.epsilon()", minimum=0.0)
    leak = default(0.2, "blog: LeakyReLU(alpha=0.2)", note="D's")
    bn_momentum = default(0.99, "Keras BatchNormalization default", note="G's")
    bn_epsilon = default(1e-3, "Keras BatchNormalization default")


class InfoGAN(GANModel):
    """The book's InfoGAN: one-hot label and two continuous codes, Q heads on D.

    Inputs: z ~ U[-1, 1] (100-d), a one-hot digit label (10-d, uniform), two continuous
    codes c1, c2 ~ N(0, 0.5). Layers are the book's Keras layers rebuilt with the
    Keras-equivalent ops of `ops.py`: glorot-uniform kernels, zero biases,
    BatchNormalization momentum 0.99 / eps 1e-3 (`keras22_batch_norm`). Trainable
    parameters at z_dim 100: G 1,376,065; D (all four heads) 1,606,541.
    """

    model_name = "InfoGAN"
    Config = InfoGANConfig
    input_range = (0.0, 1.0)    # the blog: x_train / 255
    output_range = (0.0, 1.0)   # sigmoid
    num_codes = 2               # the book's code1, code2
    evaluations = ("classifier", "categorical_code")

    # ---- networks --------------------------------------------------------------

    def generator(self, z, labels, code1, code2, is_training=True):
        """(z [bs, z_dim], one-hot labels [bs, L], codes [bs, 1] x 2) -> images in (0, 1).

        concat(z, label, c1, c2) [112] - dense 7*7*128 - reshape [7, 7, 128]; then for
        (filters, stride) in (128, 2), (64, 2), (32, 1), (1, 1): BN - relu -
        conv-transpose k5 'same'; sigmoid -> 28x28x1 in (0, 1).

        is_training=True normalises with batch statistics and updates the moving ones;
        False uses the moving statistics (Keras `predict`).
        """
        cfg = self.config
        h, w, c = self.image_shape
        bn = dict(momentum=cfg.bn_momentum, epsilon=cfg.bn_epsilon)
        with tf.variable_scope("generator", reuse=self.reuse("generator")):
            net = tf.concat([z, labels, code1, code2], axis=1)              # [bs, z+L+2]
            net = dense(net, (h // 4) * (w // 4) * 128, name="dense")
            net = tf.reshape(net, [-1, h // 4, w // 4, 128])                 # [bs, h/4, w/4, 128]
            for i, (filters, strides) in enumerate([(128, 2), (64, 2), (32, 1), (c, 1)]):
                suffix = "_%d" % i if i else ""
                net = keras22_batch_norm(net, is_training, name="batch_normalization" + suffix,
                                         **bn)
                net = tf.nn.relu(net)
                net = conv_transpose(net, filters, 5, strides=strides,
                                     name="conv2d_transpose" + suffix)
            return tf.sigmoid(net)                                           # [bs, h, w, c]

    def discriminator(self, images):
        """images [bs, h, w, c] in [0, 1] -> dict of the four heads' outputs.

        For (filters, stride) in (32, 2), (64, 2), (128, 2), (256, 1): lrelu(0.2) - conv
        k5 'same' (the activation comes BEFORE each conv, also on the input image; the
        last conv's output is not activated); flatten [4*4*256]; validity: dense 1 -
        sigmoid; Q: dense 128 (linear) on the same features, then label dense 10 -
        softmax, code1 dense 1 - sigmoid, code2 dense 1 - sigmoid.

        Returns:
          validity [bs, 1] (sigmoid), label [bs, L] (softmax), code1 [bs, 1] and
          code2 [bs, 1] (sigmoid).
        """
        cfg = self.config
        with tf.variable_scope("discriminator", reuse=self.reuse("discriminator")):
            net = images
            for i, (filters, strides) in enumerate([(32, 2), (64, 2), (128, 2), (256, 1)]):
                net = lrelu(net, cfg.leak)
                net = conv(net, filters, 5, strides=strides,
                           name="conv2d" + ("_%d" % i if i else ""))
            features = tf.reshape(net, [-1, int(np.prod(net.get_shape().as_list()[1:]))])
            validity = tf.sigmoid(dense(features, 1, name="validity"))       # [bs, 1]
            q = dense(features, 128, name="q_dense")                         # [bs, 128], linear
            label = tf.nn.softmax(dense(q, self.num_labels, name="label"))   # [bs, L]
            code1 = tf.sigmoid(dense(q, 1, name="code1"))                    # [bs, 1]
            code2 = tf.sigmoid(dense(q, 1, name="code2"))                    # [bs, 1]
            return dict(validity=validity, label=label, code1=code1, code2=code2)

    def keras_loss(self, outputs, validity, labels, code1, code2, prefix):
        """The compiled Keras loss of the book on D's outputs against targets.

        Keras `loss_weights` [1, 1, 0.5, 0.5]: 1 * BCE(validity) + 1 * categorical
        CE(label) + 0.5 * mi_loss(c1) + 0.5 * mi_loss(c2), with
        mi_loss(c, q) = mean(-sum(log(q + 1e-7) * c, axis=1)) (`keras_losses.mi_loss`);
        BCE and CE are Keras 2.2.4's, on probabilities clipped into [1e-7, 1 - 1e-7].

        Returns:
          (weighted total, {prefix + "loss": total, prefix + part: unweighted part,
          prefix + "label_acc": label accuracy}).
        """
        cfg = self.config
        parts = dict(
            bce=keras_losses.binary_crossentropy(validity, outputs["validity"]),
            label_ce=keras_losses.categorical_crossentropy(labels, outputs["label"]),
            mi_c1=keras_losses.mi_loss(code1, outputs["code1"], cfg.mi_epsilon),
            mi_c2=keras_losses.mi_loss(code2, outputs["code2"], cfg.mi_epsilon))
        # Keras sums the weighted output losses in output order.
        total = (cfg.bce_weight * parts["bce"] + cfg.label_weight * parts["label_ce"]
                 + cfg.code_weight * parts["mi_c1"] + cfg.code_weight * parts["mi_c2"])
        logs = {prefix + "loss": total}
        logs.update({prefix + k: v for k, v in parts.items()})
        logs[prefix + "label_acc"] = keras_losses.categorical_accuracy(labels, outputs["label"])
        return total, logs

    # ---- graph -----------------------------------------------------------------

    def build_model(self):
        """The book's `train()` step as two phases.

        1. D: the real batch (64 images, their one-hot labels, random codes for them)
           and 64 fakes from fresh noise, sampled labels and codes, made by G in
           inference mode (`generator.predict`: moving BN statistics, not updated); ONE
           update of D on the 128 images with targets validity 1 / 0, labels (real,
           sampled), codes (real half random, fake half G's).
        2. Adversarial: fresh noise, labels and codes; G's BN in training mode (batch
           statistics, moving statistics updated); targets validity 1 and those labels
           and codes, through the frozen D (only G's variables change).
        Optimizers: Keras RMSprop with Keras's time decay lr / (1 + decay * iterations)
        (`KerasRMSprop`); each optimizer's `iterations` counts one per step.
        """
        cfg = self.config
        self.require_image_sides(4)
        self._check_labels()
        self._build_inputs()
        bs = cfg.batch_size
        g_inputs = (self.z, self.labels, self.code1, self.code2)

        # 1. D update: fakes from G in inference mode (`generator.predict`), then one
        #    update on concat(real, fake).
        self.fake_predict = self.generator(*g_inputs, is_training=False)
        self.d_input = tf.concat([self.inputs, tf.stop_gradient(self.fake_predict)], axis=0,
                                 name="discriminator_input")                 # [2bs, h, w, c]
        validity = tf.concat([tf.ones([bs, 1], self.dtype), tf.zeros([bs, 1], self.dtype)], 0)
        d_outputs = self.discriminator(self.d_input)
        self.d_loss, d_logs = self.keras_loss(
            d_outputs, validity,
            tf.concat([self.real_labels, self.labels], axis=0),
            tf.concat([self.real_code1, self.code1], axis=0),
            tf.concat([self.real_code2, self.code2], axis=0), "d_")

        # 2. Adversarial update: G in training mode through the frozen D.
        self.fake = self.generator(*g_inputs, is_training=True)
        g_outputs = self.discriminator(self.fake)
        self.g_loss, g_logs = self.keras_loss(g_outputs, tf.ones([bs, 1], self.dtype),
                                              self.labels, self.code1, self.code2, "g_")

        self.d_vars, self.g_vars = self.variables("discriminator"), self.variables("generator")
        # The logged losses are those of the forward pass each update used.
        rms = dict(rho=cfg.rho, epsilon=cfg.rms_epsilon)
        d_optim = KerasRMSprop(self.d_vars, cfg.d_lr, decay=cfg.d_decay,
                               name="discriminator_RMSprop", **rms).update(
            self.d_loss, reads=list(d_logs.values()))
        g_optim = KerasRMSprop(self.g_vars, cfg.g_lr, decay=cfg.g_decay,
                               name="adversarial_RMSprop", **rms).update(
            self.g_loss, reads=list(g_logs.values()))

        sampler = self.generator(self.sample_z_input, self.sample_labels_input,
                                 self.sample_code1_input, self.sample_code2_input,
                                 is_training=False)

        d_sum, g_sum = scalar_summaries(d_logs), scalar_summaries(g_logs)
        phases = [
            Phase("discriminator", d_optim, d_sum, d_logs, feed=self.step_feed,
                  scopes=("discriminator",)),
            Phase("adversarial", g_optim, g_sum, g_logs, feed=self.g_feed, batch=False,
                  scopes=("generator",)),
        ]
        self._build_grids()
        return Built(phases, sampler)

    def _check_labels(self):
        """The data's labels lie in 0..num_labels - 1, and the grid has a column per label."""
        cfg = self.config
        self.num_labels = int(getattr(self.dataset, "num_classes", 10))
        labels_seen = np.asarray(self.dataset.labels)
        if labels_seen.size and (labels_seen.min() < 0 or labels_seen.max() >= self.num_labels):
            raise DataError("%s: labels must lie in 0..%d" % (self.dataset.source,
                                                               self.num_labels - 1))
        if cfg.sample_num % self.num_labels:
            raise ConfigError("sample_num must be a multiple of the %d labels (one column "
                              "per digit), got %d" % (self.num_labels, cfg.sample_num))

    def _build_inputs(self):
        """The placeholders: D's real half, G's inputs, the sampler's (any number)."""
        bs, L = self.config.batch_size, self.num_labels

        # Real half of D's batch: images, their one-hot labels, random codes.
        self.inputs = self.image_input("real_images")
        self.real_labels = tf.placeholder(self.dtype, [bs, L], name="real_labels")
        self.real_code1 = tf.placeholder(self.dtype, [bs, 1], name="real_code1")
        self.real_code2 = tf.placeholder(self.dtype, [bs, 1], name="real_code2")
        # G's inputs (D update: the fake half; adversarial update: its own draw).
        self.z = self.noise_input("z")
        self.labels = tf.placeholder(self.dtype, [bs, L], name="labels")
        self.code1 = tf.placeholder(self.dtype, [bs, 1], name="code1")
        self.code2 = tf.placeholder(self.dtype, [bs, 1], name="code2")
        # The sampler's inputs (any number of samples).
        self.sample_z_input = self.noise_input("sample_z", size=None)
        self.sample_labels_input = tf.placeholder(self.dtype, [None, L], name="sample_labels")
        self.sample_code1_input = tf.placeholder(self.dtype, [None, 1], name="sample_code1")
        self.sample_code2_input = tf.placeholder(self.dtype, [None, 1], name="sample_code2")

    def _build_grids(self):
        """Fixed noise of the grids (each from its own seeded stream).

        The digit grid: row r one fixed z_r, column j digit j, both codes 0 ("style by
        style"). `book_4x4`: the book's `plot_images` grid, 16 fixed z, labels
        `np.eye(10)[arange(16) % 10]` (digits 0..9, 0..5), 16 fixed codes ~ N(0, 0.5).
        `code1_sweep` / `code2_sweep`: rows digits, columns CODE_SWEEP, one fixed z for
        the whole grid, the other code 0.
        """
        cfg = self.config
        L, rows = self.num_labels, cfg.sample_num // self.num_labels
        self.grid_size = (rows, L)
        # Fixed-noise grid: row r = z_r, column j = digit j, codes 0.
        self.sample_z = make_rng(cfg.seed, "sample_z").uniform(
            -1, 1, (rows, cfg.z_dim)).astype(np.float32)
        # The book's 4x4 grid: noise_input, noise_label, noise_code1, noise_code2.
        book = make_rng(cfg.seed, "book_grid")
        n = BOOK_GRID[0] * BOOK_GRID[1]
        book_feed = self._sampler_feed(
            book.uniform(-1.0, 1.0, (n, cfg.z_dim)), np.arange(n) % L,
            book.normal(scale=cfg.code_std, size=(n, 1)),
            book.normal(scale=cfg.code_std, size=(n, 1)))
        # Code sweeps: rows digits, columns CODE_SWEEP, one fixed z, the other code 0.
        sweep_z = make_rng(cfg.seed, "sweep_z").uniform(-1.0, 1.0, (1, cfg.z_dim))
        k = len(CODE_SWEEP)
        digits = np.repeat(np.arange(L), k)
        values = np.tile(CODE_SWEEP, L)[:, None]
        zeros = np.zeros_like(values)
        z = np.repeat(sweep_z, L * k, axis=0)
        self.extra_grids = {
            "book_4x4": (book_feed, BOOK_GRID),
            "code1_sweep": (self._sampler_feed(z, digits, values, zeros), (L, k)),
            "code2_sweep": (self._sampler_feed(z, digits, zeros, values), (L, k)),
        }

    # ---- feeds -----------------------------------------------------------------

    def one_hot(self, ids):
        return np.eye(self.num_labels, dtype=np.float32)[np.asarray(ids)]

    def draw_codes(self, rng, n):
        return rng.normal(scale=self.config.code_std, size=(n, 1)).astype(np.float32)

    def draw_generator_inputs(self, rng):
        """noise, one-hot labels, code1, code2 for G, in the book's order of draws."""
        cfg = self.config
        z = rng.uniform(-1.0, 1.0, (cfg.batch_size, cfg.z_dim)).astype(np.float32)
        labels = self.one_hot(rng.choice(self.num_labels, cfg.batch_size))
        code1 = self.draw_codes(rng, cfg.batch_size)
        code2 = self.draw_codes(rng, cfg.batch_size)
        return {self.z: z, self.labels: labels, self.code1: code1, self.code2: code2}

    def step_feed(self, images, labels, rng):
        """The D update: real images and labels, random codes for them, G's inputs."""
        feed = {self.inputs: images, self.real_labels: self.one_hot(labels),
                self.real_code1: self.draw_codes(rng, self.config.batch_size),
                self.real_code2: self.draw_codes(rng, self.config.batch_size)}
        feed.update(self.draw_generator_inputs(rng))
        return feed

    def g_feed(self, images, labels, rng):
        """The adversarial update: fresh noise, sampled labels and codes."""
        return self.draw_generator_inputs(rng)

    def _sampler_feed(self, z, digits, code1, code2):
        return {self.sample_z_input: np.asarray(z, np.float32),
                self.sample_labels_input: self.one_hot(digits),
                self.sample_code1_input: np.asarray(code1, np.float32),
                self.sample_code2_input: np.asarray(code2, np.float32)}

    def prior_feed(self, rng, n):
        """n samples: z ~ U[-1, 1], c1 = 0, 1, 2, ... in turn (the digits asked for),
        continuous codes ~ N(0, code_std) as in training."""
        cfg = self.config
        labels = np.arange(n) % self.num_labels
        z = rng.uniform(-1.0, 1.0, (n, cfg.z_dim))
        codes = rng.normal(scale=cfg.code_std, size=(2, n, 1))
        return self._sampler_feed(z, labels, codes[0], codes[1]), labels

    def sample_feed(self, rng=None):
        """The digit grid: row r one z (fixed, or fresh from rng), column j digit j, codes 0."""
        rows, L = self.grid_size
        if rng is None:
            z = self.sample_z
        else:
            z = rng.uniform(-1.0, 1.0, (rows, self.config.z_dim))
        zeros = np.zeros((rows * L, 1), np.float32)
        return self._sampler_feed(np.repeat(z, L, axis=0), np.tile(np.arange(L), rows),
                                  zeros, zeros)
