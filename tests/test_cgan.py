"""CGAN (Keras-GAN cgan.py): architecture, Keras losses, the chained D update, update
isolation, the shared Adam counter, conditional grids, determinism and resume
(tiny data, CPU)."""

import os

import numpy as np
import pytest
import conditional_checks as checks
from conditional_checks import step_feed
from conftest import build, dirs_in, placeholders_of, train_history
from skimage import io as skio

import utils
from errors import ConfigError
from models.cgan import CGAN, CGANConfig
from tf_compat import tf

def make(run_dirs, **changes):
    return build(CGAN, run_dirs, **changes)


def train(run_dirs, **changes):
    return train_history(CGAN, run_dirs, **changes)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """An open CGAN without dropout (so a D pass is a pure function of its inputs)."""
    with make(dirs_in(tmp_path_factory.mktemp("cgan"), "m"), dropout_rate=0.0) as m:
        m.open()
        yield m


# ---- configuration and architecture -----------------------------------------------

def test_config_holds_the_blog_defaults():
    cfg = CGANConfig()
    assert (cfg.dataset, cfg.idx_splits, cfg.batch_size, cfg.max_steps, cfg.sample_every,
            cfg.sample_num, cfg.z_dim, cfg.g_noise) == ("mnist", "train", 32, 20000, 200,
                                                        100, 100, "reuse")
    assert (cfg.lr, cfg.beta1, cfg.beta2, cfg.adam_epsilon, cfg.adam_counter) == (
        2e-4, 0.5, 0.999, 1e-7, "shared")
    assert (cfg.dropout_rate, cfg.bn_momentum, cfg.bn_epsilon) == (0.4, 0.8, 1e-3)
    assert cfg.epochs * (60000 // 32) > cfg.max_steps      # the step budget binds
    assert CGAN.input_range == CGAN.output_range == (-1.0, 1.0)
    with pytest.raises(ConfigError, match="multiple of 10"):
        CGANConfig(sample_num=64)


def test_parameter_counts_and_disjoint_complete_variable_sets(model):
    g_vars, d_vars = model.variables("generator"), model.variables("discriminator")
    g_emb = [v for v in g_vars if v.op.name == "generator/embedding/embeddings"]
    d_emb = [v for v in d_vars if v.op.name == "discriminator/embedding/embeddings"]
    assert utils.count_params(g_emb) == 1000 and utils.count_params(d_emb) == 7840
    assert utils.count_params(g_vars) - 1000 == 1489936
    assert utils.count_params(d_vars) - 7840 == 927745
    trainable = set(model.graph.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES))
    assert set(g_vars) | set(d_vars) == trainable and not set(g_vars) & set(d_vars)
    assert model.model_dir == "CGAN_mnist_8_100"
    # G's BN keeps moving statistics with TF1's zero-debias shadows; D has no BN.
    names = {v.op.name for v in model.graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)}
    for suffix in ("moving_mean", "moving_variance", "moving_variance/biased",
                   "moving_variance/local_step"):
        assert "generator/batch_normalization_2/" + suffix in names
    assert not [n for n in names if n.startswith("discriminator/") and "moving" in n]


def test_update_inputs_are_the_keras_gan_ones(model):
    feed = step_feed(model)
    # (this model has no dropout, so no pass reads the dropout seed)
    # D: real images with their labels, fakes from z with the same labels.
    assert placeholders_of(model.phases[0].train_op) == {"real_images", "labels", "z"}
    # G: its own noise and sampled labels; by default the noise is the D step's.
    assert model.phases[1].feed is None
    assert placeholders_of(model.g_loss) == {"g_z", "sampled_labels"}
    assert feed[model.g_z] is feed[model.z]
    assert set(np.unique(feed[model.g_labels])) <= set(range(10))
    original = model.config
    try:
        model.config = original.replace(g_noise="fresh")
        fresh = step_feed(model)
    finally:
        model.config = original
    assert not np.array_equal(fresh[model.g_z], fresh[model.z])


# ---- losses ------------------------------------------------------------------------

# ---- the update schedule -----------------------------------------------------------

def test_fake_d_update_reads_the_weights_the_real_update_left(model, tmp_path):
    sess = model.sess
    feed = step_feed(model)
    images = feed[model.inputs]
    feed[model.fake_images] = images       # fakes := the real images: without dropout
    start = model.saver.save(sess, str(tmp_path / "start"), write_meta_graph=False)
    real_before, fake_seen, _ = sess.run(
        [model.real_valid, model.fake_valid, model.phases[0].train_op], feed)
    model.saver.restore(sess, start)
    sess.run(model.d_real_update, feed)
    real_after = sess.run(model.real_valid, feed)
    # the fake pass saw exactly the weights after the real update, not those before it
    assert np.array_equal(fake_seen, real_after)
    assert not np.array_equal(fake_seen, real_before)


def test_d_update_changes_only_d_and_g_update_only_g(model):
    checks.update_isolation(model)


def test_one_adam_counter_counts_every_update(model):
    checks.one_adam_counter(model)


# ---- samples -----------------------------------------------------------------------

def test_sampler_shape_range_and_conditional_grid_layout(model):
    feed = checks.conditional_grid_layout(model)
    # the blog's grid: 2x5, digit i*5 + j at (i, j)
    blog_feed, blog_size = model.extra_grids["blog"]
    assert blog_size == (2, 5)
    assert (blog_feed[model.sample_labels_input].reshape(2, 5)
            == np.arange(10).reshape(2, 5)).all()
    fresh = model.sample_feed(utils.make_rng(1, "x"))
    assert (fresh[model.sample_labels_input] == feed[model.sample_labels_input]).all()
    assert not np.array_equal(fresh[model.sample_z_input], feed[model.sample_z_input])


# ---- determinism and resume --------------------------------------------------------

def test_seed_decides_the_losses(tmp_path):
    # Same seed, same losses, and resume, every variable bit for bit: tests/test_resume.py.
    straight = train(dirs_in(tmp_path, "resumed"), max_steps=7)  # 6 steps an epoch: crosses one
    other = train(dirs_in(tmp_path, "other"), max_steps=1, seed=548)
    assert set(straight[0]) == {"d_loss", "d_loss_real", "d_loss_fake", "d_acc", "g_loss"}
    assert all(np.isfinite(v) for s in straight for v in s.values())
    assert other[0]["d_loss"] != straight[0]["d_loss"]          # other seed, other losses
    folder = os.path.join(tmp_path, "resumed", "result_dir", "CGAN_mnist_8_100", "CGAN")
    assert skio.imread(os.path.join(folder, "CGAN_blog_01_0001.png")).shape[:2] == (56, 140)
    assert os.path.exists(os.path.join(folder, "CGAN_train_01_0001.png"))
