"""DRAGAN on MNIST, as the blog "DRAGAN 对模型倒塌问题的处理" (TF1) writes it.

Paper: Kodali et al., "On Convergence and Stability of GANs" (DRAGAN), 2017.
Code lineage: hwalsuklee/tensorflow-generative-model-collections `DRAGAN.py`.

The GAN of `models/gan.py` (the infoGAN paper's MNIST networks, Adam for D and G) plus
lambd * the DRAGAN penalty on D. Defaults are the blog's; where the blog departs from
the paper, the paper's form is a flag (or `--preset paper`).

Every difference from the blog and the paper: docs/models/dragan.md.
"""

import numpy as np

from models import losses
from models.config import default, setting
from models.gan import GAN, GANConfig
from tf_compat import tf


class DRAGANConfig(GANConfig):
    """DRAGAN settings; defaults from the blog."""

    beta2 = default(0.999, "blog (TF default); paper notebook: 0.9")
    lambd = setting(float, 0.25, "weight of the gradient penalty", source="blog: 0.25; "
                    "paper: 10", minimum=0.0)
    perturb_scale = setting(float, 0.5, "x_p = x + SCALE * std(x) * U[0,1)",
                            source="blog and paper", minimum=0.0)
    alpha_per = setting(str, "pixel", "interpolation alpha ~ U[0,1) drawn per 'pixel' "
                        "(blog quirk 2) or per 'sample' (paper)", source="blog",
                        choices=("pixel", "sample"))
    gp_norm = setting(str, "blog", "gradient norm of the penalty: 'blog' over axis 1 only "
                      "(image rows, blog quirk 1) or 'sample' over all pixels (paper)",
                      source="blog", choices=losses.GRADIENT_NORMS)


class DRAGAN(GAN):
    """DRAGAN: the blog's GAN plus the DRAGAN penalty on D."""

    model_name = "DRAGAN"
    Config = DRAGANConfig
    presets = {"paper": dict(alpha_per="sample", gp_norm="sample", lambd=10.0,
                             d_lr=1e-4, g_lr=1e-4, beta2=0.9)}

    def extra_placeholders(self):
        h, w, c = self.image_shape
        bs = self.config.batch_size
        self.inputs_p = self.image_input("perturbed_images")
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
