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
from models.config import setting
from models.gan import GAN, GANConfig
from tf_compat import tf


@dataclass
class DRAGANConfig(GANConfig):
    """DRAGAN settings; defaults from the blog."""

    beta2: float = setting(0.999, "Adam beta2", source="blog (TF default); paper "
                           "notebook: 0.9", minimum=0.0, maximum=1.0)
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


class DRAGAN(GAN):
    """DRAGAN: the blog's GAN plus the DRAGAN penalty on D."""

    model_name = "DRAGAN"
    Config = DRAGANConfig
    presets = {"paper": dict(alpha_per="sample", gp_norm="sample", lambd=10.0,
                             d_lr=1e-4, g_lr=1e-4, beta2=0.9)}

    def extra_placeholders(self):
        h, w, c = self.image_shape
        bs = self.config.batch_size
        self.inputs_p = tf.placeholder(self.dtype, [bs, h, w, c], name="perturbed_images")
        alpha_shape = [bs, h, w, c] if self.config.alpha_per == "pixel" else [bs, 1, 1, 1]
        self.alpha = tf.placeholder(self.dtype, alpha_shape, name="alpha")

    def penalty(self):
        def d_logit(images):
            return self.discriminator(images, is_training=True)[1]

        self.gradient_penalty, _ = losses.dragan_penalty(
            d_logit, self.inputs, self.inputs_p, self.alpha, norm=self.config.gp_norm)
        return self.config.lambd * self.gradient_penalty, dict(
            gradient_penalty=self.gradient_penalty)

    def step_feed(self, images, labels, rng):
        """Real and perturbed images, z and alpha for the D update (G reuses z)."""
        cfg = self.config
        z = rng.uniform(-1, 1, [cfg.batch_size, cfg.z_dim]).astype(np.float32)
        noise = rng.random(images.shape)
        x_p = (images + cfg.perturb_scale * images.std() * noise).astype(np.float32)
        alpha = rng.random(self.alpha.get_shape().as_list()).astype(np.float32)
        return {self.inputs: images, self.inputs_p: x_p, self.z: z, self.alpha: alpha}
