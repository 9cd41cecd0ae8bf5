"""InfoGAN (the blog / Atienza's Keras book): networks, Keras losses, the two
updates, the grids, determinism and resume (tiny data, batch 8, CPU)."""

import math
import os

import numpy as np
import pytest
from conftest import fake_dataset
from skimage import io as skio

import utils
from models.infogan import CODE_SWEEP, InfoGAN, InfoGANConfig
from tf_compat import tf

BS = 8


def settings(run_dirs, **changes):
    values = dict(batch_size=BS, log_every=1000, save_every=0, sample_every=1000, **run_dirs)
    values.update(changes)
    return values


def make(run_dirs, dataset=None, **changes):
    return InfoGAN(InfoGANConfig(**settings(run_dirs, **changes)), dataset or fake_dataset())


def train(run_dirs, **changes):
    with make(run_dirs, **changes) as model:
        return model.train(keep_history=True).history


def dirs(tmp_path, name):
    return {k: str(tmp_path / name / k) for k in ("checkpoint_dir", "result_dir", "log_dir")}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """One opened model for the read-only checks."""
    root = tmp_path_factory.mktemp("infogan")
    built = make(dirs(root, "shared"))
    built.open()
    yield built
    built.close()


def step_feed(model, step=0):
    """The two feeds of training step `step`, drawn as the loop draws them."""
    rng = utils.make_rng(model.config.seed, "step", step)
    images, labels = model.batch(step)
    return model.step_feed(images, labels, rng), model.g_feed(None, None, rng)


# ---- configuration and networks ---------------------------------------------------

def test_defaults_are_the_blogs():
    cfg = InfoGANConfig()
    assert (cfg.batch_size, cfg.max_steps, cfg.z_dim, cfg.sample_every) == (64, 40000, 100, 500)
    assert (cfg.d_lr, cfg.d_decay, cfg.g_lr, cfg.g_decay) == (2e-4, 6e-8, 1e-4, 3e-8)
    assert (cfg.bce_weight, cfg.label_weight, cfg.code_weight) == (1.0, 1.0, 0.5)
    assert (cfg.code_std, cfg.mi_epsilon, cfg.idx_splits) == (0.5, 1e-7, "train")
    # epochs never end the blog's run before its 40,000 steps (937 steps an epoch)
    assert cfg.epochs * (60000 // 64) > cfg.max_steps
    assert InfoGAN.input_range == InfoGAN.output_range == (0.0, 1.0)


def test_trainable_parameter_counts_match_the_book(model):
    assert utils.count_params(model.variables("generator")) == 1376065
    assert utils.count_params(model.variables("discriminator")) == 1606541
    shapes = {v.op.name: v.get_shape().as_list() for v in model.variables("discriminator")}
    assert shapes["discriminator/q_dense/kernel"] == [4 * 4 * 256, 128]
    assert shapes["discriminator/label/kernel"] == [128, 10]
    assert shapes["discriminator/code1/kernel"] == shapes["discriminator/code2/kernel"] == [128, 1]
    assert shapes["discriminator/validity/kernel"] == [4096, 1]
    assert model.variables("generator")[0].get_shape().as_list() == [100 + 10 + 2, 7 * 7 * 128]


def test_d_and_g_variable_sets_are_disjoint_and_complete(model):
    all_vars = set(model.graph.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES))
    d_vars, g_vars = set(model.d_vars), set(model.g_vars)
    assert d_vars and g_vars and not d_vars & g_vars and d_vars | g_vars == all_vars
    # Keras BN: gamma and beta trainable; the moving statistics (and their
    # zero-debiasing state) not
    moving = [v for v in model.graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)
              if "moving_" in v.op.name]
    assert len(moving) == 4 * 2 * 3 and all(v.op.name.startswith("generator/") for v in moving)
    assert len([v for v in moving if v.op.name.endswith(("moving_mean", "moving_variance"))]) == 8
    assert not set(moving) & all_vars


def test_sampler_shape_and_range(model):
    samples = model.samples()
    assert samples.shape == (100, 28, 28, 1)
    assert samples.min() >= 0.0 and samples.max() <= 1.0
    assert np.array_equal(samples, model.samples())        # fixed noise, moving BN stats
    assert not np.array_equal(samples, model.samples(utils.make_rng(1, "x")))


def test_fixed_grid_puts_digit_j_in_column_j_and_one_z_per_row(model):
    assert model.grid_size == (10, 10)
    feed = model.sample_feed()
    labels = feed[model.sample_labels_input]
    assert labels.shape == (100, 10) and set(np.unique(labels)) == {0.0, 1.0}
    assert np.array_equal(labels.sum(1), np.ones(100))
    digits = labels.argmax(1).reshape(10, 10)               # row-major, as the grid
    assert np.array_equal(digits, np.tile(np.arange(10), (10, 1)))
    z = feed[model.sample_z_input].reshape(10, 10, -1)
    assert np.array_equal(z, np.repeat(z[:, :1], 10, axis=1))    # one z along a row
    assert len({row.tobytes() for row in z[:, 0]}) == 10          # another z per row
    assert not feed[model.sample_code1_input].any() and not feed[model.sample_code2_input].any()
    fresh = model.sample_feed(utils.make_rng(3, "epoch"))
    assert np.array_equal(fresh[model.sample_labels_input], labels)
    assert not np.array_equal(fresh[model.sample_z_input], feed[model.sample_z_input])


def test_extra_grids_the_books_4x4_and_the_code_sweeps(model):
    assert sorted(model.extra_grids) == ["book_4x4", "code1_sweep", "code2_sweep"]
    book, size = model.extra_grids["book_4x4"]
    assert size == (4, 4)
    assert np.array_equal(book[model.sample_labels_input].argmax(1), np.arange(16) % 10)
    for code in (model.sample_code1_input, model.sample_code2_input):
        assert book[code].shape == (16, 1) and book[code].std() > 0
    for name, swept, other in [("code1_sweep", model.sample_code1_input, model.sample_code2_input),
                               ("code2_sweep", model.sample_code2_input, model.sample_code1_input)]:
        feed, size = model.extra_grids[name]
        assert size == (10, 16)
        assert np.array_equal(feed[model.sample_labels_input].argmax(1).reshape(10, 16),
                              np.repeat(np.arange(10)[:, None], 16, axis=1))
        np.testing.assert_allclose(feed[swept].reshape(10, 16),
                                   np.tile(np.linspace(-2, 2, 16), (10, 1)), rtol=1e-6)
        assert not feed[other].any()
        z = feed[model.sample_z_input]
        assert np.array_equal(z, np.repeat(z[:1], 160, axis=0))  # one fixed z
    np.testing.assert_allclose(CODE_SWEEP, np.linspace(-2, 2, 16))


# ---- losses ---------------------------------------------------------------------

def test_model_loss_is_the_weighted_sum_of_its_parts(model):
    d_feed, g_feed = step_feed(model)
    d = model.sess.run(model.phases[0].fetches, d_feed)
    g = model.sess.run(model.phases[1].fetches, g_feed)
    for logs, p in [(d, "d_"), (g, "g_")]:
        total = (logs[p + "bce"] + logs[p + "label_ce"]
                 + 0.5 * logs[p + "mi_c1"] + 0.5 * logs[p + "mi_c2"])
        assert np.isclose(logs[p + "loss"], total, rtol=1e-6), p
        assert 0.0 <= logs[p + "label_acc"] <= 1.0


# ---- the two updates ---------------------------------------------------------------

def test_d_trains_on_the_concatenation_of_real_and_g_predict_fakes(model):
    assert model.d_input.get_shape().as_list() == [2 * BS, 28, 28, 1]
    d_feed, _ = step_feed(model)
    assert d_feed[model.inputs].shape == (BS, 28, 28, 1)
    d_input = model.sess.run(model.d_input, d_feed)
    assert np.array_equal(d_input[:BS], d_feed[model.inputs])
    # the fake half is G's inference-mode output (Keras predict) on the fed inputs
    predicted = model.sess.run(model.sampler, {
        model.sample_z_input: d_feed[model.z], model.sample_labels_input: d_feed[model.labels],
        model.sample_code1_input: d_feed[model.code1],
        model.sample_code2_input: d_feed[model.code2]})
    np.testing.assert_allclose(d_input[BS:], predicted, atol=1e-6)
    # real labels one-hot, random codes for the real half too
    assert np.array_equal(d_feed[model.real_labels].argmax(1), model.batch(0)[1])
    assert d_feed[model.real_code1].std() > 0 and d_feed[model.real_code2].std() > 0


@pytest.fixture(scope="module")
def first_updates(tmp_path_factory):
    """A fresh model's first D update, then its first adversarial update: every
    global variable of D and of G (moving statistics included) before and after each."""
    with make(dirs(tmp_path_factory.mktemp("infogan"), "updates")) as m:
        m.open()
        d_feed, g_feed = step_feed(m)
        scoped = [v for v in m.graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)
                  if v.op.name.split("/")[0] in ("discriminator", "generator")]
        names = [v.op.name for v in scoped]
        snapshots = [dict(zip(names, m.sess.run(scoped)))]
        for phase, feed in [(m.phases[0], d_feed), (m.phases[1], g_feed)]:
            m.sess.run(phase.train_op, feed)
            snapshots.append(dict(zip(names, m.sess.run(scoped))))
        trainable = {v.op.name for v in m.d_vars + m.g_vars}
    return snapshots, trainable


def _changed(before, after, prefix, trainable=None):
    """{name: changed?} of the variables under `prefix` (only trainable ones if given)."""
    return {n: not np.array_equal(before[n], after[n]) for n in before
            if n.startswith(prefix) and (trainable is None or n in trainable)}


def test_d_update_changes_no_g_variable_and_adversarial_update_no_d_variable(first_updates):
    (start, after_d, after_g), trainable = first_updates
    # D update: every trainable D variable moves, nothing of G (G only predicts)
    assert all(_changed(start, after_d, "discriminator/", trainable).values())
    assert not any(_changed(start, after_d, "generator/").values())
    # adversarial update: every trainable G variable and G's moving statistics move,
    # nothing of the frozen D
    assert all(_changed(after_d, after_g, "generator/", trainable).values())
    moving = {n: c for n, c in _changed(after_d, after_g, "generator/").items() if "moving_" in n}
    assert len(moving) == 24 and all(moving.values())
    assert not any(_changed(after_d, after_g, "discriminator/").values())


def test_first_updates_are_keras_rmsprop_with_the_blogs_rates(first_updates):
    """Keras RMSprop's first step is lr * g / (sqrt(0.1 g^2) + 1e-7): lr / sqrt(0.1)
    per coordinate wherever |g| >> 1e-7 (TF's RMSPropOptimizer would move ~lr*|g|)."""
    (start, after_d, after_g), trainable = first_updates
    for before, after, prefix, lr in [(start, after_d, "discriminator/", 2e-4),
                                      (after_d, after_g, "generator/", 1e-4)]:
        steps = np.concatenate([np.abs(after[n] - before[n]).ravel() for n in sorted(before)
                                if n.startswith(prefix) and n in trainable])
        top = lr / math.sqrt(0.1)
        assert steps.max() <= top * 1.001, prefix
        assert abs(np.median(steps) - top) < 0.01 * top, prefix


# ---- runs ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """7 steps straight (6 steps an epoch: crosses one); 3 steps, then resumed to 7, in
    another folder; 2 steps with another seed."""
    root = tmp_path_factory.mktemp("infogan_runs")
    out = dict(dirs={name: dirs(root, name) for name in ("straight", "resumed", "other")})
    out["straight"] = train(out["dirs"]["straight"], max_steps=7)
    # The other runs skip the end-of-run grids (436 samples through G): only losses count.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(InfoGAN, "save_training_grids", lambda self, step: None)
        out["first"] = train(out["dirs"]["resumed"], max_steps=3)
        out["iterations_at_3"] = _iterations(out["dirs"]["resumed"], 3)
        out["rest"] = train(out["dirs"]["resumed"], max_steps=7)
        out["other"] = train(out["dirs"]["other"], max_steps=2, seed=548)
    return out


def _iterations(run_dirs, step):
    """The optimizers' iteration counters in checkpoint `step`."""
    path = os.path.join(run_dirs["checkpoint_dir"], "InfoGAN_mnist_8_100", "InfoGAN",
                        "InfoGAN.model-%d" % step)
    return {name: int(tf.train.load_variable(path, name + "/iterations"))
            for name in ("discriminator_RMSprop", "adversarial_RMSprop")}


def test_same_seed_same_losses_other_seed_other_losses(runs):
    a, b, c = runs["straight"][:3], runs["first"], runs["other"]
    assert a == b
    assert [s["d_loss"] for s in a[:2]] != [s["d_loss"] for s in c]
    assert all(np.isfinite(v) for s in runs["straight"] for v in s.values())
    assert set(a[0]) == {p + k for p in ("d_", "g_") for k in
                         ("loss", "bce", "label_ce", "mi_c1", "mi_c2", "label_acc")}


def test_resume_gives_the_losses_of_a_straight_run(runs):
    assert len(runs["first"]) == 3 and len(runs["rest"]) == 4
    assert runs["first"] + runs["rest"] == runs["straight"]


def test_each_optimizer_counts_one_iteration_per_step(runs):
    assert runs["iterations_at_3"] == dict(discriminator_RMSprop=3, adversarial_RMSprop=3)
    assert _iterations(runs["dirs"]["straight"], 7) == dict(discriminator_RMSprop=7,
                                                            adversarial_RMSprop=7)


def test_grids_are_written_with_their_layouts(runs):
    # the end of a run (step 7 = epoch 1, step 1 of it) saves every grid
    folder = os.path.join(runs["dirs"]["straight"]["result_dir"], "InfoGAN_mnist_8_100",
                          "InfoGAN")
    sizes = {name: skio.imread(os.path.join(folder, "InfoGAN_%s_01_0001.png" % name)).shape
             for name in ("train", "book_4x4", "code1_sweep", "code2_sweep")}
    assert sizes == {"train": (280, 280), "book_4x4": (112, 112),
                     "code1_sweep": (280, 448), "code2_sweep": (280, 448)}
