"""ACGAN (Keras-GAN acgan.py): architecture, Keras losses (the 11-way label head),
the chained D update, update isolation (D's frozen batch norm), the shared Adam counter,
conditional grids, determinism and resume (tiny data, CPU)."""

import os

import numpy as np
import pytest
import conditional_checks as checks
from conditional_checks import step_feed
from conftest import build, dirs_in, placeholders_of, train_history
from skimage import io as skio

import utils
from models.acgan import ACGAN, ACGANConfig
from tf_compat import tf

def make(run_dirs, **changes):
    return build(ACGAN, run_dirs, **changes)


def train(run_dirs, **changes):
    return train_history(ACGAN, run_dirs, **changes)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """An open ACGAN without dropout (so a D pass is a pure function of its inputs)."""
    with make(dirs_in(tmp_path_factory.mktemp("acgan"), "m"), dropout_rate=0.0) as m:
        m.open()
        yield m


# ---- configuration and architecture -----------------------------------------------

def test_config_holds_the_blog_defaults():
    cfg = ACGANConfig()
    assert (cfg.dataset, cfg.idx_splits, cfg.batch_size, cfg.max_steps, cfg.sample_every,
            cfg.sample_num, cfg.z_dim) == ("mnist", "train", 32, 14000, 200, 100, 100)
    assert (cfg.lr, cfg.beta1, cfg.beta2, cfg.adam_epsilon, cfg.adam_counter) == (
        2e-4, 0.5, 0.999, 1e-7, "shared")
    assert (cfg.dropout_rate, cfg.bn_momentum, cfg.bn_epsilon) == (0.25, 0.8, 1e-3)
    assert not hasattr(cfg, "g_noise")      # ACGAN's G update always reuses the D draws


def test_parameter_counts_and_disjoint_complete_variable_sets(model):
    g_vars, d_vars = model.variables("generator"), model.variables("discriminator")
    g_emb = [v for v in g_vars if v.op.name == "generator/embedding/embeddings"]
    heads = [v for v in d_vars if v.op.name.startswith(("discriminator/validity/",
                                                        "discriminator/label/"))]
    assert utils.count_params(g_emb) == 1000
    assert utils.count_params(g_vars) - 1000 == 856065
    assert utils.count_params(heads) == 24588 and len(heads) == 4
    assert utils.count_params(d_vars) - 24588 == 97344
    label_kernel = [v for v in heads if v.op.name == "discriminator/label/kernel"][0]
    assert label_kernel.get_shape().as_list() == [2048, 11]       # 10 digits + "fake"
    trainable = set(model.graph.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES))
    assert set(g_vars) | set(d_vars) == trainable and not set(g_vars) & set(d_vars)
    assert model.model_dir == "ACGAN_mnist_8_100"
    names = {v.op.name for v in model.graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)}
    # G's BN keeps TF1 zero-debias shadows; D's BN has moving statistics only (never
    # updated: Keras builds D's train function after freezing D).
    assert "generator/batch_normalization_2/moving_mean/biased" in names
    assert "discriminator/batch_normalization_1/moving_variance" in names
    assert not [n for n in names if n.startswith("discriminator/") and "biased" in n]


def test_g_update_uses_the_noise_and_labels_of_the_d_step(model):
    # (this model has no dropout, so no pass reads the dropout seed)
    assert placeholders_of(model.phases[0].train_op) == {
        "real_images", "labels", "z", "sampled_labels"}
    assert model.phases[1].feed is None                 # the D step's feed, reused
    assert placeholders_of(model.g_loss) == {"z", "sampled_labels"}
    feed = step_feed(model)
    assert set(np.unique(feed[model.sampled_labels])) <= set(range(10))


# ---- losses ------------------------------------------------------------------------

# ---- the update schedule -----------------------------------------------------------

def test_fake_d_update_reads_the_weights_the_real_update_left(model, tmp_path):
    sess = model.sess
    feed = step_feed(model)
    feed[model.fake_images] = feed[model.inputs]   # fakes := the real images: no dropout
    start = model.saver.save(sess, str(tmp_path / "start"), write_meta_graph=False)
    outputs = [model.real_valid, model.real_label, model.fake_valid, model.fake_label]
    real_v, real_l, fake_v, fake_l, _ = sess.run(outputs + [model.phases[0].train_op], feed)
    model.saver.restore(sess, start)
    sess.run(model.d_real_update, feed)
    after_v, after_l = sess.run([model.real_valid, model.real_label], feed)
    # the fake pass saw exactly the weights after the real update, not those before it
    assert np.array_equal(fake_v, after_v) and np.array_equal(fake_l, after_l)
    assert not np.array_equal(fake_v, real_v) and not np.array_equal(fake_l, real_l)


def test_d_update_changes_only_d_and_g_update_only_g(model):
    checks.update_isolation(model)


def test_one_adam_counter_counts_every_update(model):
    checks.one_adam_counter(model)


# ---- samples -----------------------------------------------------------------------

def test_sampler_shape_range_and_conditional_grid_layout(model):
    checks.conditional_grid_layout(model)
    # Keras-GAN's own grid: 10x10, tile (i, j) digit j, every tile its own noise
    blog_feed, blog_size = model.extra_grids["blog"]
    assert blog_size == (10, 10)
    assert (blog_feed[model.sample_labels_input].reshape(10, 10)
            == np.arange(10)[None, :]).all()
    assert len(np.unique(blog_feed[model.sample_z_input][:, 0])) == 100


# ---- determinism and resume --------------------------------------------------------

def test_seed_decides_the_losses(tmp_path):
    # Same seed, same losses, and resume, every variable bit for bit: tests/test_resume.py.
    straight = train(dirs_in(tmp_path, "resumed"), max_steps=7)  # 6 steps an epoch: crosses one
    other = train(dirs_in(tmp_path, "other"), max_steps=1, seed=548)
    assert set(straight[0]) == {"d_loss", "d_loss_real", "d_loss_fake", "d_acc", "d_op_acc",
                                "g_loss"}
    assert all(np.isfinite(v) for s in straight for v in s.values())
    assert other[0]["d_loss"] != straight[0]["d_loss"]          # other seed, other losses
    folder = os.path.join(tmp_path, "resumed", "result_dir", "ACGAN_mnist_8_100", "ACGAN")
    assert skio.imread(os.path.join(folder, "ACGAN_blog_01_0001.png")).shape[:2] == (280, 280)
    assert os.path.exists(os.path.join(folder, "ACGAN_train_01_0001.png"))
