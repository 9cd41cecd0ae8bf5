"""CycleGAN as the blog "CycleGAN模型原理" runs it (Keras-GAN `cyclegan/cyclegan.py`), as a
TF1 graph; here on Pokemon sprites, regular (A) <-> shiny (B).

Paper: Zhu, Park, Isola and Efros, "Unpaired Image-to-Image Translation using
Cycle-Consistent Adversarial Networks", 2017. Code lineage: eriklindernoren/Keras-GAN
`cyclegan.py` + `data_loader.py` (apple2orange, 128x128).

Two U-Net generators (G_AB, G_BA) and two PatchGAN discriminators (D_A, D_B) with
instance norm; per step four Adam updates of the discriminators, then one of both
generators on the adversarial + cycle + identity loss.

Every difference from the blog and the paper: docs/models/cyclegan.md.
"""

import os
import sys

import numpy as np

import data as data_lib
import utils
from errors import ConfigError, DataError
from models import losses
from models.base import Built, GANModel, Phase
from models.config import TrainConfig, default, fixed, setting
from models.optimizers import KerasAdam, keras_optimizers
from ops import conv, instance_norm, lrelu, upsample2x
from tf_compat import tf

GENERATORS = ("g_AB", "g_BA")
DISCRIMINATORS = ("d_A", "d_B")


class CycleGANConfig(TrainConfig):
    """CycleGAN settings; defaults from Keras-GAN cyclegan.py (the blog's code)."""

    # Two image folders (--domain-a, --domain-b) instead of one data set.
    dataset = fixed("pokemon")
    idx_splits = fixed("train+test")
    folder_split = fixed("all")
    folder_preprocess = fixed("none")
    data_dir = default(None, note="CycleGAN: the folder of a domain --domain-a / --domain-b "
                       "leave unset, so with neither set both domains are this folder; "
                       "default: $GAN_DATA_DIR/pokemon/regular (A) and "
                       "$GAN_DATA_DIR/pokemon/shiny (B), then the per-user cache")
    domain_a = setting(str, None, "folder of domain A images (flat *.png|jpg...); default: "
                       "the 'pokemon' set (pokemon/regular)",
                       source="Keras-GAN: datasets/apple2orange/trainA", resumable=True)
    domain_b = setting(str, None, "folder of domain B images; default: the 'pokemon-shiny' "
                       "set (pokemon/shiny)", source="Keras-GAN: datasets/apple2orange/trainB",
                       resumable=True)
    train_subset = default(0, note="of each domain, by file name")
    image_size = default(64, "Keras-GAN: 128 (apple2orange); 64 for the 68x56 sprites",
                         note="divisible by 16: the U-Net halves it four times")
    channels = default(3, "Keras-GAN: 3")
    image_fit = setting(str, "pad", "'pad': pad each image on white to a centred square, then "
                        "resize (keeps the sprites' shape); 'stretch': resize straight to "
                        "SIZE x SIZE", source="Keras-GAN: scipy.misc.imresize, i.e. stretch",
                        choices=("pad", "stretch"))
    random_flip = setting(bool, True, "flip each (A, B) pair of a batch left-right with "
                          "probability 0.5 (one coin per pair)",
                          source="Keras-GAN data_loader: np.fliplr")
    reshuffle_each_epoch = default(True, "Keras-GAN: np.random.choice per domain every epoch",
                                   note="of both domains; unpaired: A and B independent")
    batch_size = default(1, "Keras-GAN: batch_size=1", note="of each domain")
    epochs = default(200, "Keras-GAN: epochs=200")
    sample_every = default(200, "Keras-GAN: sample_interval=200")
    sample_num = default(36, "Keras-GAN: 2x3, one image per domain; here 6x6", note="tiles, a "
                         "multiple of 6: 6 rows (A, A->B, A->B->A, B, B->A, B->A->B) of "
                         "sample_num/6 fixed images of each domain")
    gf = setting(int, 32, "filters of G's first layer", source="Keras-GAN: gf = 32", minimum=1)
    df = setting(int, 64, "filters of D's first layer", source="Keras-GAN: df = 64", minimum=1)
    lambda_cycle = setting(float, 10.0, "weight of the two cycle-consistency (MAE) losses",
                           source="Keras-GAN: lambda_cycle = 10.0", minimum=0.0)
    lambda_id = setting(float, None, "weight of the two identity (MAE) losses; unset: "
                        "0.1 * lambda_cycle (= 1.0)",
                        source="Keras-GAN: lambda_id = 0.1 * lambda_cycle", minimum=0.0)
    lr = default(2e-4, "Keras-GAN: Adam(0.0002, 0.5)", note="Adam: D_A's, D_B's and G's")
    beta1 = default(0.5, "Keras-GAN: Adam(0.0002, 0.5)")
    beta2 = default(0.999, "Keras Adam default")
    adam_epsilon = default(1e-7, "Keras Adam default")
    adam_counter = default("shared", "Keras-GAN: one `optimizer` for all three compiles",
                           note="the five updates of a step: one Keras Adam object compiled "
                           "into d_A, d_B and the combined model")
    instance_norm = setting(str, "blog", "'blog': keras-contrib InstanceNormalization() "
                            "(axis=None: each sample over H, W and C, one scalar gamma/beta "
                            "per layer); 'channel': per channel over H, W with per-channel "
                            "gamma/beta", source="Keras-GAN: InstanceNormalization()",
                            choices=("blog", "channel"))

    def __post_init__(self):
        if self.lambda_id is None:
            self.lambda_id = 0.1 * self.lambda_cycle
        super().__post_init__()

    def validate(self):
        super().validate()
        if self.image_size % 16:
            nearest = max(16, int(round(self.image_size / 16.0)) * 16)
            raise ConfigError("image_size must be divisible by 16 (the U-Net halves it four "
                              "times), got %d: use e.g. %d" % (self.image_size, nearest))
        if self.sample_num % 6:
            raise ConfigError("sample_num must be a multiple of 6 (6 rows: A, A->B, A->B->A, "
                              "B, B->A, B->A->B), got %d" % self.sample_num)


# ---- data ---------------------------------------------------------------------------

def domain_folders(config):
    """(folder A, folder B) a config names, default folders located by name."""
    folder_a = config.domain_a or data_lib.locate_named_folder("pokemon", config.data_dir)
    folder_b = config.domain_b or data_lib.locate_named_folder("pokemon-shiny", config.data_dir)
    return (os.path.abspath(os.path.expanduser(str(folder_a))),
            os.path.abspath(os.path.expanduser(str(folder_b))))


# ---- layers ------------------------------------------------------------------------

def unet_generator(images, gf, channels, per_channel, scope, reuse):
    """Keras-GAN's U-Net generator.

    d1..d4 = conv k4 s2 'same' -> LeakyReLU(0.2) -> instance norm, with gf, 2gf, 4gf, 8gf;
    u1..u3 = upsample x2 -> conv k4 s1 'same' relu -> instance norm -> concat [u, skip],
    with 4gf (skip d3), 2gf (skip d2), gf (skip d1), no dropout (Keras-GAN's
    `dropout_rate=0`); upsample x2 -> conv C k4 s1 'same' tanh. Keras layers rebuilt with
    the Keras-equivalent ops of `ops.py` (glorot-uniform kernels, zero biases;
    keras-contrib `InstanceNormalization()` as `ops.instance_norm`).

    Args:
      images: [bs, h, w, c] in [-1, 1]; h and w divisible by 16.
      gf: filters of the first down block (gf, 2gf, 4gf, 8gf down; 4gf, 2gf, gf up).
      channels: output channels.
      per_channel: instance norm per channel (True) or keras-contrib's axis=None (False).
      scope: variable scope; calls with the same scope share the weights.
      reuse: False for the call that creates the scope's variables, True after.
    Returns:
      [bs, h, w, channels] in (-1, 1).
    """
    with tf.variable_scope(scope, reuse=reuse):
        skips, net = [], images
        for i, filters in enumerate((gf, gf * 2, gf * 4, gf * 8), 1):       # down
            with tf.variable_scope("d%d" % i):
                net = lrelu(conv(net, filters, 4, strides=2, name="conv"), 0.2)
                net = instance_norm(net, per_channel, name="instance_norm")   # [bs, h/2^i, ., f]
            skips.append(net)
        for i, filters in enumerate((gf * 4, gf * 2, gf), 1):               # up, no dropout
            with tf.variable_scope("u%d" % i):
                net = tf.nn.relu(conv(upsample2x(net), filters, 4, strides=1, name="conv"))
                net = instance_norm(net, per_channel, name="instance_norm")
                net = tf.concat([net, skips[-1 - i]], axis=-1)             # [u, skip]
        return tf.tanh(conv(upsample2x(net), channels, 4, strides=1, name="output"))


def patch_discriminator(images, df, per_channel, scope, reuse):
    """Keras-GAN's PatchGAN discriminator.

    conv k4 s2 'same' -> LeakyReLU(0.2) [-> instance norm] with df (no norm), 2df, 4df,
    8df; conv 1 k4 s1 'same' (raw output): a (size/16) x (size/16) patch map (8x8 at 128,
    4x4 at 64).

    Args:
      images: [bs, h, w, c]; h and w divisible by 16.
      df: filters of the first layer (df, 2df, 4df, 8df).
      per_channel: instance norm per channel (True) or keras-contrib's axis=None (False).
      scope: variable scope; calls with the same scope share the weights.
      reuse: False for the call that creates the scope's variables, True after.
    Returns:
      raw patch map [bs, h/16, w/16, 1] (no activation: MSE against 1 / 0).
    """
    with tf.variable_scope(scope, reuse=reuse):
        net = images
        for i, filters in enumerate((df, df * 2, df * 4, df * 8), 1):
            with tf.variable_scope("d%d" % i):
                net = lrelu(conv(net, filters, 4, strides=2, name="conv"), 0.2)
                if i > 1:                                                   # d1: no norm
                    net = instance_norm(net, per_channel, name="instance_norm")
        return conv(net, 1, 4, strides=1, name="validity")


# ---- the model -----------------------------------------------------------------------

class CycleGAN(GANModel):
    """Keras-GAN's CycleGAN: two U-Net generators, two PatchGAN discriminators.

    Parameters at gf 32 / df 64, 3 channels: each G 1,545,425, each D 2,764,743.
    """

    model_name = "CycleGAN"
    Config = CycleGANConfig
    input_range = (-1.0, 1.0)    # Keras-GAN: imgs / 127.5 - 1
    output_range = (-1.0, 1.0)   # tanh
    evaluations = ("pairs",)

    def count_examples(self, dataset):
        """Pairs an epoch draws: min(|A|, |B|) (Keras-GAN: n_batches = min(|A|, |B|) /
        batch_size)."""
        images_b = getattr(dataset, "images_b", None)
        if images_b is None:
            raise DataError("CycleGAN needs two domains (a dataset with images_b)")
        if tuple(images_b.shape[1:]) != tuple(dataset.images.shape[1:]):
            raise DataError("domain A images are %s, domain B images %s: load both at one "
                            "size" % (dataset.images.shape[1:], images_b.shape[1:]))
        return min(len(dataset.images), len(images_b))

    @classmethod
    def load_data(cls, config):
        """Both domains at image_size (see `load_domain`); train_subset cuts each."""
        folder_a, folder_b = domain_folders(config)
        if folder_a == folder_b:
            print("warning: domain A and domain B are the same folder (%s): the model "
                  "learns the identity; name two folders with --domain-a / --domain-b"
                  % folder_a, file=sys.stderr)
        default = config.domain_a is None and config.domain_b is None and config.data_dir is None
        return data_lib.load_two_domains(folder_a, folder_b, config.image_size, config.channels,
                                         config.image_fit, config.train_subset,
                                         name="pokemon" if default else None)

    @classmethod
    def data_tag_of(cls, config):
        """'pokemon' for the default domains, else '<A folder>2<B folder>' (Keras-GAN's
        dataset names read 'apple2orange')."""
        if config.domain_a is None and config.domain_b is None and config.data_dir is None:
            return "pokemon"
        return "%s2%s" % tuple(os.path.basename(os.path.normpath(f))
                               for f in domain_folders(config))

    # ---- networks --------------------------------------------------------------

    def generator(self, images, scope):
        """G_AB or G_BA (`scope`), shared weights across calls; see `unet_generator`."""
        return unet_generator(images, self.config.gf, self.image_shape[-1],
                              self.config.instance_norm == "channel", scope, self.reuse(scope))

    def discriminator(self, images, scope):
        """D_A or D_B (`scope`), shared weights across calls; see `patch_discriminator`."""
        return patch_discriminator(images, self.config.df,
                                   self.config.instance_norm == "channel", scope,
                                   self.reuse(scope))

    # ---- graph -----------------------------------------------------------------

    def _optimizers(self):
        """{network: KerasAdam}: moments per network; one `iterations` counter for all five
        updates of a step ('shared': Keras-GAN compiles d_A, d_B and the combined model
        with one Adam object, whose counter advances by 5 per step) or one per network."""
        cfg = self.config
        adams = keras_optimizers(
            KerasAdam, [("Adam_d_A", self.d_a_vars), ("Adam_d_B", self.d_b_vars),
                        ("Adam_g", self.g_vars)], counter=cfg.adam_counter,
            lr=cfg.lr, beta1=cfg.beta1, beta2=cfg.beta2, epsilon=cfg.adam_epsilon)
        return dict(d_A=adams["Adam_d_A"], d_B=adams["Adam_d_B"], g=adams["Adam_g"])

    def build_model(self):
        """Keras-GAN's step (batch 1) as two phases.

        Phase "d" (one session run, four Adam updates chained by control dependencies,
        each reading the weights the one before left): fake_B = G_AB(A), fake_A = G_BA(B)
        (the generators as they are: `predict`); 1. D_A on A against 1 (d_a_real, read
        before this update); 2. D_A on fake_A against 0 (with D_A after update 1);
        3. D_B on B against 1; 4. D_B on fake_B against 0. D_A's loss is 0.5 * (MSE(D_A(A),
        1) + MSE(D_A(fake_A), 0)), D_B's likewise, d_loss = 0.5 * (D_A + D_B).
        Phase "g" (the next session run, same A and B): one Adam update of both
        generators on the combined loss, through D_A and D_B as phase "d" left them:
        MSE(D_A(G_BA(B)), 1) + MSE(D_B(G_AB(A)), 1)
        + lambda_cycle * (MAE(G_BA(G_AB(A)), A) + MAE(G_AB(G_BA(B)), B))
        + lambda_id * (MAE(G_BA(A), A) + MAE(G_AB(B), B)).
        """
        self.require_image_sides(16)
        self.real_A = self.image_input("real_A")
        self.real_B = self.image_input("real_B")

        # Translations of the step (the D phase runs them as Keras-GAN's `predict`).
        self.fake_B = self.generator(self.real_A, "g_AB")
        self.fake_A = self.generator(self.real_B, "g_BA")
        self.patch_shape = tuple(self.discriminator(self.real_A, "d_A").get_shape()
                                 .as_list()[1:])
        self.discriminator(self.real_B, "d_B")   # create D_B's variables before the chain
        self.g_vars = self.variables("g_AB/") + self.variables("g_BA/")
        self.d_a_vars, self.d_b_vars = self.variables("d_A/"), self.variables("d_B/")
        optimizers = self._optimizers()
        d_train, d_logs = self._build_d_phase(optimizers["d_A"], optimizers["d_B"])
        g_train, g = self._build_g_phase(optimizers["g"])
        sampler = self._build_sampler()

        d_keys = ("d_loss", "d_a_loss", "d_b_loss")
        g_keys = ("g_loss", "g_adv", "g_cycle", "g_identity")
        d_sum = tf.summary.merge([tf.summary.scalar(k, d_logs[k]) for k in
                                  d_keys + ("d_a_real", "d_a_fake", "d_b_real", "d_b_fake")])
        g_sum = tf.summary.merge([tf.summary.scalar(k, g[k]) for k in g_keys])
        phases = [
            Phase("d", d_train, d_sum, {k: d_logs[k] for k in d_keys}, feed=self.step_feed,
                  scopes=("d_A", "d_B")),
            Phase("g", g_train, g_sum, {k: g[k] for k in g_keys},    # same A and B
                  scopes=("g_AB", "g_BA")),
        ]
        return Built(phases, sampler)

    def _build_d_phase(self, optimizer_a, optimizer_b):
        """Phase "d": four updates in Keras-GAN's order, each reading the weights the one
        before left (its forward pass is built under a control dependency on it).

        Returns:
          (train op, {d_a_real, d_a_fake, d_b_real, d_b_fake, d_a_loss, d_b_loss, d_loss}).
        """
        optimizers = dict(d_A=optimizer_a, d_B=optimizer_b)
        fake_A, fake_B = tf.stop_gradient(self.fake_A), tf.stop_gradient(self.fake_B)
        plan = [("d_a_real", "d_A", self.real_A, 1.0), ("d_a_fake", "d_A", fake_A, 0.0),
                ("d_b_real", "d_B", self.real_B, 1.0), ("d_b_fake", "d_B", fake_B, 0.0)]
        d_logs, previous, self.d_updates = {}, [], []
        for name, scope, images, target in plan:
            with tf.control_dependencies(previous):
                loss = losses.least_squares(self.discriminator(images, scope), target)
                with tf.name_scope("train_" + name):
                    update = optimizers[scope].update(loss)
            d_logs[name], previous = loss, [update]
            self.d_updates.append(update)
        d_logs["d_a_loss"] = 0.5 * (d_logs["d_a_real"] + d_logs["d_a_fake"])
        d_logs["d_b_loss"] = 0.5 * (d_logs["d_b_real"] + d_logs["d_b_fake"])
        d_logs["d_loss"] = 0.5 * (d_logs["d_a_loss"] + d_logs["d_b_loss"])
        with tf.control_dependencies(self.d_updates):
            return tf.no_op(name="train_d"), d_logs

    def _build_g_phase(self, optimizer):
        """Phase "g": the combined model, discriminators frozen (not in var_list).

        Returns:
          (train op, `losses.cycle_generator_losses`' dict).
        """
        cfg = self.config
        self.reconstr_A = self.generator(self.fake_B, "g_BA")
        self.reconstr_B = self.generator(self.fake_A, "g_AB")
        self.id_A = self.generator(self.real_A, "g_BA")
        self.id_B = self.generator(self.real_B, "g_AB")
        g = losses.cycle_generator_losses(self.discriminator(self.fake_A, "d_A"),
                                          self.discriminator(self.fake_B, "d_B"),
                                          self.real_A, self.real_B, self.reconstr_A,
                                          self.reconstr_B, self.id_A, self.id_B,
                                          cfg.lambda_cycle, cfg.lambda_id)
        self.g_terms = g
        with tf.name_scope("train_g"):
            return optimizer.update(g["g_loss"]), g

    def _build_sampler(self):
        """The sampler (returned): fixed images of each domain, translated and
        reconstructed, in six rows (A, A->B, A->B->A, B, B->A, B->A->B)."""
        cfg = self.config
        self.sample_A = self.image_input("sample_A", size=None)
        self.sample_B = self.image_input("sample_B", size=None)
        self.sample_fake_B = self.generator(self.sample_A, "g_AB")
        self.sample_fake_A = self.generator(self.sample_B, "g_BA")
        self.sample_rec_A = self.generator(self.sample_fake_B, "g_BA")
        self.sample_rec_B = self.generator(self.sample_fake_A, "g_AB")
        sampler = tf.concat([self.sample_A, self.sample_fake_B, self.sample_rec_A,
                             self.sample_B, self.sample_fake_A, self.sample_rec_B], 0)
        self.sample_count = cfg.sample_num // 6
        self.grid_size = (6, self.sample_count)
        rng = utils.make_rng(cfg.seed, "sample-images")
        self.sample_images = (self._draw(self.dataset.images, rng),
                              self._draw(self.dataset.images_b, rng))
        return sampler

    # ---- data order and feeds ----------------------------------------------------

    def data_order(self, epoch):
        """Domain A: a seeded draw of num_examples of its images (all, if A is the
        smaller domain) for `epoch`, without replacement."""
        key = ("order", epoch) if self.config.reshuffle_each_epoch else ("order",)
        rng = utils.make_rng(self.config.seed, *key)
        return rng.permutation(len(self.dataset.images))[:self.num_examples]

    def order_b(self, epoch):
        """Domain B's draw for `epoch`, independent of A's (key "order-b")."""
        key = ("order-b", epoch) if self.config.reshuffle_each_epoch else ("order-b",)
        rng = utils.make_rng(self.config.seed, *key)
        return rng.permutation(len(self.dataset.images_b))[:self.num_examples]

    def batch_b(self, step, draw=0):
        """Domain B images (in input_range) of the `draw`-th batch of `step`."""
        return self.scale_inputs(self.dataset.images_b[self.batch_indices(step, draw,
                                                                          self.order_b)])

    def batch(self, step, draw=0):
        """Domain A's batch (the base's); the B batch of the same (step, draw) is kept
        for the feed."""
        self._batch_b = self.batch_b(step, draw)
        return super().batch(step, draw)

    def step_feed(self, images, labels, rng):
        """The A batch, the B batch of the same step, each pair flipped left-right with
        probability 0.5 (coins from the step's Generator)."""
        images_a, images_b = np.array(images), np.array(self._batch_b)
        if self.config.random_flip:
            flip = rng.random(len(images_a)) > 0.5
            images_a[flip] = images_a[flip][:, :, ::-1]
            images_b[flip] = images_b[flip][:, :, ::-1]
        return {self.real_A: images_a, self.real_B: images_b}

    def _draw(self, images, rng):
        k = self.config.sample_num // 6
        idx = rng.choice(len(images), k, replace=len(images) < k)
        return self.scale_inputs(images[np.sort(idx)])

    def sample_feed(self, rng=None):
        if rng is None:
            images_a, images_b = self.sample_images
        else:
            images_a = self._draw(self.dataset.images, rng)
            images_b = self._draw(self.dataset.images_b, rng)
        return {self.sample_A: images_a, self.sample_B: images_b}

    # ---- use of a trained model ----------------------------------------------------

    def translate(self, images, direction, batch_size=64):
        """Translate images [N, h, w, c] in [0, 1]: direction "AB" (G_AB) or "BA" (G_BA).

        Returns:
          float32 [N, h, w, c] in [0, 1] (the tanh output mapped by (y + 1) / 2).
        """
        source, output = {"AB": (self.sample_A, self.sample_fake_B),
                          "BA": (self.sample_B, self.sample_fake_A)}[direction]
        out = []
        for i in range(0, len(images), batch_size):
            y = self.sess.run(output, {source: self.scale_inputs(images[i:i + batch_size])})
            out.append((y + 1.0) / 2.0)
        return np.concatenate(out).astype(np.float32)
