"""What the Keras-GAN scripts (WGAN, WGAN-GP, CGAN, ACGAN) share.

eriklindernoren/Keras-GAN trains on the 60,000 MNIST training images scaled to
[-1, 1], draws every batch with `np.random.randint`, uses z ~ N(0, 1) of 100
dimensions, tanh generators, and standalone Keras 2.2's `BatchNormalization`
(momentum 0.8 in every script, `ops.keras22_batch_norm`). Dropout masks are drawn
from a fed stateless seed pair (`ops.dropout`), one per forward pass, as Keras draws
fresh masks at every call.
"""

import numpy as np

from models.base import GANModel
from models.config import TrainConfig, default
from ops import keras22_batch_norm


class KerasGANConfig(TrainConfig):
    """Settings every Keras-GAN script shares; defaults from Keras-GAN / the blogs."""

    idx_splits = default("train", "Keras-GAN: mnist.load_data() train images")
    reshuffle_each_epoch = default(True, "Keras-GAN draws every batch with np.random.randint; "
                                   "a fresh permutation per epoch is the closest order "
                                   "without replacement")
    z_dim = default(100, "blog: latent_dim 100", note="z ~ N(0, 1)")
    bn_momentum = default(0.8, "blog: BatchNormalization(momentum=0.8)")
    bn_epsilon = default(1e-3, "Keras BatchNormalization default")


class KerasGAN(GANModel):
    """Keras-GAN models: images in [-1, 1], Keras 2.2 batch norm, fed dropout seeds."""

    input_range = (-1.0, 1.0)    # Keras-GAN: (X_train - 127.5) / 127.5
    output_range = (-1.0, 1.0)   # tanh

    def _bn(self, x, is_training, update_moving, name, shadow=""):
        """Keras 2.2 BatchNormalization with the config's momentum and epsilon (`shadow`:
        see `keras22_batch_norm`)."""
        cfg = self.config
        return keras22_batch_norm(x, is_training, cfg.bn_momentum, cfg.bn_epsilon,
                                  update_moving, name, shadow)

    @staticmethod
    def _dropout_seed(rng):
        """A fresh stateless seed pair (int64 [2]) for one forward pass's dropout masks."""
        return rng.integers(0, 2 ** 31, size=2, dtype=np.int64)
