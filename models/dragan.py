"""DRAGAN on MNIST, as the blog "DRAGAN 对模型倒塌问题的处理" (TF1) writes it.

Paper: Kodali et al., "On Convergence and Stability of GANs" (DRAGAN), 2017.
Code lineage: hwalsuklee/tensorflow-generative-model-collections `DRAGAN.py`.

Networks (the infoGAN paper's MNIST nets, 28x28x1):
  D: (64)4c2s - (128)4c2s_BL - FC1024_BL - FC1 (logit; sigmoid)
  G: FC1024_BR - FC7x7x128_BR - (64)4dc2s_BR - (1)4dc2s_S
Loss: non-saturating GAN + lambd * DRAGAN penalty; Adam 1e-3 (beta1 0.5) for D and G.

Defaults are the blog's. Where the blog departs from the paper, the blog's math is
the default and the paper's form is a flag (or `--preset paper`):
  --gp-norm sample       one gradient norm per sample (blog: over axis 1 only)
  --alpha-per sample     one interpolation alpha per sample (blog: per pixel)
  --lambd 10             penalty weight (blog: 0.25)
  --d-lr/--g-lr 1e-4 --beta2 0.9   Adam as the paper's notebook (blog: 1e-3, 0.999)
Other differences from the blog code (none changes the math):
  alpha is drawn in NumPy from the step's seeded Generator and fed, instead of
  tf.random_uniform in the graph, so a resumed run draws exactly what an
  uninterrupted one would; D/G variables are taken by scope ("discriminator",
  "generator"), which gives the same sets as the blog's 'd_'/'g_' substring test;
  the blog's crash bugs (val_x overwritten, np.int, a global result_dir, the
  summary writer opened before the graph) are gone.
"""

from dataclasses import dataclass

import numpy as np

from models import losses
from models.base import GANModel, Phase
from models.config import TrainConfig, setting
from ops import bn, conv2d, deconv2d, linear, lrelu
from tf_compat import tf
from utils import make_rng


@dataclass
class DRAGANConfig(TrainConfig):
    """DRAGAN settings; defaults from the blog."""

    epochs: int = setting(1000, "epochs to train", source="blog: 1000 (hwalsuklee: 25)",
                          minimum=1, resumable=True)
    z_dim: int = setting(128, "noise dimension, z ~ U[-1, 1]", source="blog: 128 "
                         "(hwalsuklee: 62)", minimum=1)
    d_lr: float = setting(1e-3, "Adam learning rate of D", source="blog: 0.0002*5",
                          minimum=0.0)
    g_lr: float = setting(1e-3, "Adam learning rate of G", source="blog: 0.0002*5",
                          minimum=0.0)
    beta1: float = setting(0.5, "Adam beta1", source="blog", minimum=0.0, maximum=1.0)
    beta2: float = setting(0.999, "Adam beta2", source="blog (TF default); paper "
                           "notebook: 0.9", minimum=0.0, maximum=1.0)
    adam_epsilon: float = setting(1e-8, "Adam epsilon", source="TF default", minimum=0.0)
    lambd: float = setting(0.25, "weight of the gradient penalty", source="blog: 0.25; "
                           "paper: 10", minimum=0.0)
    perturb_scale: float = setting(0.5, "x_p = x + SCALE * std(x) * U[0,1)",
                                   source="blog and paper", minimum=0.0)
    alpha_per: str = setting("pixel", "interpolation alpha ~ U[0,1) drawn per 'pixel' "
                             "(blog quirk 2) or per 'sample' (paper)",
                             source="blog", choices=("pixel", "sample"))
    gp_norm: str = setting("blog", "gradient norm of the penalty: 'blog' over axis 1 "
                           "only (image rows, blog quirk 1) or 'sample' over all pixels "
                           "(paper)", source="blog", choices=losses.GRADIENT_NORMS)


class DRAGAN(GANModel):
    """DRAGAN: the GAN of the blog plus the DRAGAN penalty on D."""

    model_name = "DRAGAN"
    Config = DRAGANConfig
    output_range = (0.0, 1.0)   # sigmoid
    presets = {"paper": dict(alpha_per="sample", gp_norm="sample", lambd=10.0,
                             d_lr=1e-4, g_lr=1e-4, beta2=0.9)}

    # ---- networks --------------------------------------------------------------

    def discriminator(self, x, is_training=True, reuse=False):
        """x [bs, h, w, c] -> (sigmoid [bs, 1], logit [bs, 1], features [bs, 1024])."""
        with tf.variable_scope("discriminator", reuse=reuse):
            net = lrelu(conv2d(x, 64, 4, 4, 2, 2, name="d_conv1"))            # [bs, h/2, w/2, 64]
            net = lrelu(bn(conv2d(net, 128, 4, 4, 2, 2, name="d_conv2"),
                           is_training=is_training, scope="d_bn2"))           # [bs, h/4, w/4, 128]
            net = tf.reshape(net, [-1, int(np.prod(net.get_shape().as_list()[1:]))])
            net = lrelu(bn(linear(net, 1024, scope="d_fc3"),
                           is_training=is_training, scope="d_bn3"))           # [bs, 1024]
            out_logit = linear(net, 1, scope="d_fc4")                         # [bs, 1]
            return tf.nn.sigmoid(out_logit), out_logit, net

    def generator(self, z, is_training=True, reuse=False):
        """z [bs, z_dim] -> images [bs, h, w, c] in (0, 1)."""
        h, w, c = self.image_shape
        with tf.variable_scope("generator", reuse=reuse):
            net = tf.nn.relu(bn(linear(z, 1024, scope="g_fc1"),
                                is_training=is_training, scope="g_bn1"))      # [bs, 1024]
            net = tf.nn.relu(bn(linear(net, 128 * (h // 4) * (w // 4), scope="g_fc2"),
                                is_training=is_training, scope="g_bn2"))
            net = tf.reshape(net, [-1, h // 4, w // 4, 128])                  # [bs, h/4, w/4, 128]
            net = tf.nn.relu(bn(deconv2d(net, [None, h // 2, w // 2, 64], 4, 4, 2, 2,
                                         name="g_dc3"),
                                is_training=is_training, scope="g_bn3"))      # [bs, h/2, w/2, 64]
            return tf.nn.sigmoid(deconv2d(net, [None, h, w, c], 4, 4, 2, 2,
                                          name="g_dc4"))                      # [bs, h, w, c]

    # ---- graph -----------------------------------------------------------------

    def build_model(self):
        cfg = self.config
        h, w, c = self.image_shape
        if h % 4 or w % 4:
            raise ValueError("DRAGAN's networks need image sides divisible by 4, got %dx%d"
                             % (h, w))
        bs = cfg.batch_size
        self.inputs = tf.placeholder(tf.float32, [bs, h, w, c], name="real_images")
        self.inputs_p = tf.placeholder(tf.float32, [bs, h, w, c], name="perturbed_images")
        alpha_shape = [bs, h, w, c] if cfg.alpha_per == "pixel" else [bs, 1, 1, 1]
        self.alpha = tf.placeholder(tf.float32, alpha_shape, name="alpha")
        self.z = tf.placeholder(tf.float32, [bs, cfg.z_dim], name="z")
        self.sample_z_input = tf.placeholder(tf.float32, [cfg.sample_num, cfg.z_dim],
                                             name="sample_z")

        _, real_logits, _ = self.discriminator(self.inputs, is_training=True, reuse=False)
        fake = self.generator(self.z, is_training=True, reuse=False)
        _, fake_logits, _ = self.discriminator(fake, is_training=True, reuse=True)
        gan = losses.gan_losses(real_logits, fake_logits)

        def d_logit(images):
            return self.discriminator(images, is_training=True, reuse=True)[1]

        self.gradient_penalty, _ = losses.dragan_penalty(
            d_logit, self.inputs, self.inputs_p, self.alpha, norm=cfg.gp_norm)
        self.d_loss_real, self.d_loss_fake = gan["d_loss_real"], gan["d_loss_fake"]
        self.d_loss = gan["d_loss"] + cfg.lambd * self.gradient_penalty
        self.g_loss = gan["g_loss"]

        d_vars, g_vars = self.variables("discriminator"), self.variables("generator")
        with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
            d_optim = tf.train.AdamOptimizer(cfg.d_lr, beta1=cfg.beta1, beta2=cfg.beta2,
                                             epsilon=cfg.adam_epsilon
                                             ).minimize(self.d_loss, var_list=d_vars)
            g_optim = tf.train.AdamOptimizer(cfg.g_lr, beta1=cfg.beta1, beta2=cfg.beta2,
                                             epsilon=cfg.adam_epsilon
                                             ).minimize(self.g_loss, var_list=g_vars)

        self.sampler = self.generator(self.sample_z_input, is_training=False, reuse=True)

        # The blog's summaries: d_sum with the D step, g_sum with the G step.
        d_sum = tf.summary.merge([tf.summary.scalar("d_loss_real", self.d_loss_real),
                                  tf.summary.scalar("d_loss", self.d_loss),
                                  tf.summary.scalar("gradient_penalty", self.gradient_penalty)])
        g_sum = tf.summary.merge([tf.summary.scalar("d_loss_fake", self.d_loss_fake),
                                  tf.summary.scalar("g_loss", self.g_loss)])
        self.phases = [
            Phase("d", d_optim, d_sum, dict(d_loss=self.d_loss, d_loss_real=self.d_loss_real,
                                            d_loss_fake=self.d_loss_fake,
                                            gradient_penalty=self.gradient_penalty)),
            Phase("g", g_optim, g_sum, dict(g_loss=self.g_loss)),
        ]
        # Fixed noise of the training grids (the blog's sample_z).
        self.sample_z = make_rng(cfg.seed, "sample_z").uniform(
            -1, 1, size=(cfg.sample_num, cfg.z_dim)).astype(np.float32)

    # ---- feeds -----------------------------------------------------------------

    def step_feed(self, images, labels, rng):
        cfg = self.config
        z = rng.uniform(-1, 1, [cfg.batch_size, cfg.z_dim]).astype(np.float32)
        noise = rng.random(images.shape)
        x_p = (images + cfg.perturb_scale * images.std() * noise).astype(np.float32)
        alpha = rng.random(self.alpha.get_shape().as_list()).astype(np.float32)
        return {self.inputs: images, self.inputs_p: x_p, self.z: z, self.alpha: alpha}

    def sample_feed(self, rng=None):
        if rng is None:
            return {self.sample_z_input: self.sample_z}
        z = rng.uniform(-1, 1, (self.config.sample_num, self.config.z_dim))
        return {self.sample_z_input: z.astype(np.float32)}
