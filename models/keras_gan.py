"""What the Keras-GAN scripts (WGAN, WGAN-GP, CGAN, ACGAN) share.

eriklindernoren/Keras-GAN trains on the 60,000 MNIST training images scaled to
[-1, 1], draws every batch with `np.random.randint`, uses z ~ N(0, 1) of 100
dimensions, tanh generators, and standalone Keras 2.2's `BatchNormalization`
(momentum 0.8 in every script, `ops.keras22_batch_norm`). Dropout masks are drawn
from a fed stateless seed pair (`ops.dropout`), one per forward pass, as Keras draws
fresh masks at every call.
"""

from dataclasses import dataclass

import numpy as np

from models.base import GANModel
from models.config import TrainConfig, setting
from ops import keras22_batch_norm


@dataclass
class KerasGANConfig(TrainConfig):
    """Settings every Keras-GAN script shares; defaults from Keras-GAN / the blogs."""

    idx_splits: str = setting("train", "MNIST/Fashion-MNIST: which IDX splits to train on "
                              "('train': the 60,000 of keras' load_data(); 'train+test': "
                              "all 70,000)", source="Keras-GAN: mnist.load_data() train "
                              "images", choices=("train+test", "train"))
    reshuffle_each_epoch: bool = setting(
        True, "draw a new data order every epoch", source="Keras-GAN draws every batch "
        "with np.random.randint; a fresh permutation per epoch is the closest order "
        "without replacement")
    z_dim: int = setting(100, "noise dimension, z ~ N(0, 1)", source="blog: latent_dim 100",
                         minimum=1)
    bn_momentum: float = setting(0.8, "batch-norm momentum (moving statistics)",
                                 source="blog: BatchNormalization(momentum=0.8)",
                                 minimum=0.0, maximum=1.0)
    bn_epsilon: float = setting(1e-3, "batch-norm variance epsilon",
                                source="Keras BatchNormalization default", minimum=0.0)


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
