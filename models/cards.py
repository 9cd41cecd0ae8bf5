"""Each model's blog card: what its blog is, how long it trains, what it shows, and the
project's plan for its runs. Plain data (no TensorFlow), so the results page reads it too.

A model class carries its card (`GANModel.card`); `reproduce.experiments` derives the
blog_seeds recipe's commands and budgets from the cards, and `reproduce.render` the
page's sections. Units: "steps" (one generator iteration, as the blog counts) or
"epochs". `shown` are the points at which the blog shows its result, with where that
fact comes from (`shown_source`): the spec is shared/spec/MODELS.md, the issues are the
project's reading of the blog texts. `shows` says what the blog's code saves or its text
shows, and `figure` whether the blog's text itself shows the result as a figure (as far as
the spec and issues record; None where neither says).
"""

import collections

BlogCard = collections.namedtuple("BlogCard", (
    "key name blog lineage unit length shown shown_source shows figure grid "
    "first long keep_every keep_steps headline"))
BlogCard.__doc__ = """One model's blog card.

  key: the registry key (models.MODELS). name: the model's display name.
  blog: the blog's title. lineage: the code the blog runs.
  unit: "steps" or "epochs"; length: the blog's training length in that unit.
  shown: the points (in `unit`) at which the blog shows its result; shown_source.
  shows: what the blog shows or saves (one sentence); figure: True / False / None.
  grid: the sample grid's layout.
  first: the project's length for seeds 547-549 (in `unit`); long: seed 547's longer
    length (None: no longer run).
  keep_every, keep_steps: checkpoints kept for good, in training steps (--keep-every,
    --keep-steps: about 10 evenly spaced, and the shown points).
  headline: the measure the page leads with (reproduce/quality.py's names).
"""

_MNIST_SHOWN = "issue 32 (the blog texts)"

# DRAGAN and GAN keep every epoch's checkpoint (1093 steps: the blog's loader feeds all
# 70,000 MNIST images, 64 a step) for their six-epoch runs over seeds 547-549.
CARDS = {
    "dragan": BlogCard(
        "dragan", "DRAGAN", "DRAGAN 对模型倒塌问题的处理",
        "hwalsuklee/tensorflow-generative-model-collections (DRAGAN.py)", "epochs", 1000,
        (), "spec", "8x8 grids every 10 steps; the PSNR per digit between mean real and "
        "generated digits, DRAGAN against a plain GAN (digit 9 shown)", True, "8x8",
        6, None, 1093, (), "classifier_fid"),
    "gan": BlogCard(
        "gan", "GAN", "DRAGAN 对模型倒塌问题的处理 (the plain GAN it compares with)",
        "hwalsuklee/tensorflow-generative-model-collections (GAN.py)", "epochs", 1000,
        (), "spec", "the plain GAN the DRAGAN blog's PSNR comparison is made against",
        True, "8x8", 6, None, 1093, (), "classifier_fid"),
    "dcgan": BlogCard(
        "dcgan", "DCGAN", "GAN 生成手写数字和 Pokemon 实战 (MNIST)",
        "the TensorFlow DCGAN tutorial", "epochs", 40, (50, 100), _MNIST_SHOWN,
        "8x8 sample grids at 50 and 100 epochs; the text says 100 epochs is clearly better",
        True, "8x8", 50, 100, 4685, (37480,), "classifier_fid"),
    "dcgan_pokemon": BlogCard(
        "dcgan_pokemon", "DCGAN (Pokemon)", "GAN 生成手写数字和 Pokemon 实战 (Pokemon)",
        "the TensorFlow DCGAN tutorial, on 40x40 sprites with an MSE loss", "epochs", 5000,
        (100, 5000), _MNIST_SHOWN, "8x8 sprite grids at 100 and 5,000 epochs", True, "8x8",
        100, 1500, 500, tuple(range(50, 500, 50)), "pca_fd"),
    "wgan": BlogCard(
        "wgan", "WGAN", "WGAN与DCGAN的区别", "eriklindernoren/Keras-GAN (wgan.py)", "steps",
        4000, (4000,), "spec", "5x5 grids every 50 iterations", None, "5x5", 4000, None,
        400, (), "classifier_fid"),
    "wgan_gp": BlogCard(
        "wgan_gp", "WGAN-GP", "WGAN-GP与WGAN的区别", "eriklindernoren/Keras-GAN (wgan_gp.py)",
        "steps", 30000, (30000,), "spec", "5x5 grids every 100 iterations; compared with "
        "WGAN", None, "5x5", 10000, 30000, 1000, (), "classifier_fid"),
    "cgan": BlogCard(
        "cgan", "CGAN", "CGAN与GAN的区别", "eriklindernoren/Keras-GAN (cgan.py)", "steps",
        20000, (20000,), "spec", "2x5 grids of digits 0 to 9 every 200 iterations: the "
        "label decides the digit", None, "2x5", 20000, None, 2000, (), "label_accuracy"),
    "acgan": BlogCard(
        "acgan", "ACGAN", "One Day One GAN, day 4 (ACGAN)",
        "eriklindernoren/Keras-GAN (acgan.py)", "steps", 14000, (14000,), "spec",
        "10x10 grids every 200 iterations, one digit a row", None, "10x10", 14000, None,
        1400, (), "label_accuracy"),
    "infogan": BlogCard(
        "infogan", "InfoGAN", "Принцип ИнфоГАН",
        "Atienza, Advanced Deep Learning with Keras, ch. 6", "steps", 40000, (500, 16000),
        _MNIST_SHOWN, "4x4 grids every 500 steps and sweeps of the two continuous codes for "
        "a fixed digit: code 1 changes the slant, code 2 the stroke width", True, "4x4",
        16000, None, 1600, (500,), "c1_matching"),
    "cyclegan": BlogCard(
        "cyclegan", "CycleGAN", "CycleGAN模型原理", "eriklindernoren/Keras-GAN (cyclegan.py)",
        "epochs", 200, (), "spec", "rows of (original, translated, reconstructed) every "
        "200 batches", None, "6x6", 10, 30, 1332, (), "psnr_ab"),
}


def card_of(key):
    """The card of registry key `key` (None for a model without a blog, e.g. a test's)."""
    return CARDS.get(key)


def steps_of(card, points, steps_per_epoch):
    """Points in the card's unit as training steps."""
    factor = steps_per_epoch if card.unit == "epochs" else 1
    return tuple(int(p * factor) for p in points)
