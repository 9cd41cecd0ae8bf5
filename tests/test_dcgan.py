"""DCGAN (the TF tutorial's, as the blog runs it on MNIST and Pokemon): architecture,
the simultaneous one-pass update, dropout seeding, losses, determinism and resume
(tiny data, CPU)."""

import glob
import os
import runpy
import sys
import types

import numpy as np
import pytest
from conftest import fake_dataset

import utils
from models.dcgan import DCGAN, DCGANConfig, DCGANPokemon, DCGANPokemonConfig
from tf_compat import tf

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAST = dict(batch_size=8, log_every=1000, save_every=0, sample_every=1000)


def fake_sprites(n=16, size=40, seed=0):
    """n [size, size, 3] float images in [0, 1]: a coloured disc on white."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    images = np.ones((n, size, size, 3), np.float32)
    for i in range(n):
        cy, cx = rng.uniform(size * 0.3, size * 0.7, 2)
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 < (size * rng.uniform(0.1, 0.3)) ** 2
        images[i][disc] = rng.uniform(0, 1, 3)
    return types.SimpleNamespace(name="sprites", source="fake sprites", images=images,
                                 labels=np.zeros(n, np.int64), num_classes=1)


def make(run_dirs, dataset=None, **changes):
    return DCGAN(DCGANConfig(**dict(FAST, **run_dirs, **changes)), dataset or fake_dataset())


def make_pokemon(run_dirs, dataset=None, **changes):
    return DCGANPokemon(DCGANPokemonConfig(**dict(FAST, **run_dirs, **changes)),
                        dataset or fake_sprites())


def dirs(tmp_path, name):
    return {k: str(tmp_path / name / k) for k in ("checkpoint_dir", "result_dir", "log_dir")}


def train(run_dirs, dataset=None, **changes):
    with make(run_dirs, dataset, **changes) as model:
        return model.train(keep_history=True).history


def step_feed(model, step=0):
    images, labels = model.batch(step)
    return model.step_feed(images, labels, utils.make_rng(model.config.seed, "step", step))


# ---- configuration and architecture -----------------------------------------------

def test_configs_hold_the_blog_defaults():
    mnist = DCGANConfig()
    assert (mnist.dataset, mnist.idx_splits, mnist.batch_size, mnist.epochs, mnist.z_dim,
            mnist.loss, mnist.sample_num) == ("mnist", "train", 64, 40, 100, "bce", 64)
    assert (mnist.d_lr, mnist.g_lr, mnist.beta1, mnist.beta2, mnist.adam_epsilon) == (
        1e-4, 1e-4, 0.9, 0.999, 1e-7)
    assert mnist.reshuffle_each_epoch    # tf.data's shuffle draws a new order every epoch
    assert (mnist.leak, mnist.dropout_rate, mnist.bn_momentum, mnist.bn_epsilon) == (
        0.3, 0.3, 0.99, 1e-3)
    poke = DCGANPokemonConfig()
    assert (poke.dataset, poke.image_size, poke.channels, poke.folder_split,
            poke.folder_preprocess, poke.batch_size, poke.epochs, poke.loss) == (
        "pokemon", 40, 3, "all", "none", 256, 5000, "mse")
    assert (poke.z_dim, poke.d_lr, poke.g_lr, poke.dropout_rate) == (100, 1e-4, 1e-4, 0.3)
    assert DCGAN.input_range == DCGAN.output_range == (-1.0, 1.0)


def test_trainable_parameter_counts_match_the_spec(run_dirs):
    mnist = make(run_dirs, batch_size=64, dataset=fake_dataset(64))
    assert utils.count_params(mnist.variables("generator")) == 2305472
    assert utils.count_params(mnist.variables("discriminator")) == 212865
    poke = make_pokemon(run_dirs, batch_size=64, dataset=fake_sprites(64))
    assert utils.count_params(poke.variables("generator")) == 3640384
    assert utils.count_params(poke.variables("discriminator")) == 222593
    assert mnist.model_dir == "DCGAN_mnist_64_100" and poke.model_dir == "DCGAN_pokemon_64_100"


@pytest.mark.parametrize("variant", ["mnist", "pokemon"])
def test_d_and_g_variables_are_disjoint_and_complete(run_dirs, variant):
    model = make(run_dirs) if variant == "mnist" else make_pokemon(run_dirs)
    all_vars = set(model.graph.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES))
    d_vars, g_vars = set(model.variables("discriminator")), set(model.variables("generator"))
    assert d_vars and g_vars and not d_vars & g_vars and d_vars | g_vars == all_vars
    names = {v.op.name for v in all_vars}
    assert "generator/dense/bias" not in names and "generator/conv2d_transpose_2/bias" not in names
    assert {"generator/dense/kernel", "generator/batch_normalization/gamma",
            "generator/conv2d_transpose_2/kernel", "discriminator/conv2d/bias",
            "discriminator/conv2d_1/kernel", "discriminator/dense/bias"} <= names
    assert not any("batch_normalization" in n for n in names if n.startswith("discriminator"))


@pytest.mark.parametrize("variant, shape", [("mnist", (64, 28, 28, 1)),
                                            ("pokemon", (64, 40, 40, 3))])
def test_sampler_shape_and_range(run_dirs, variant, shape):
    model = make(run_dirs) if variant == "mnist" else make_pokemon(run_dirs)
    with model:
        model.open()
        samples, again = model.samples(), model.samples()
        fresh = model.samples(utils.make_rng(1, "x"))
    assert samples.shape == shape
    assert samples.min() >= -1.0 and samples.max() <= 1.0 and samples.min() < 0 < samples.max()
    assert np.array_equal(samples, again)            # fixed noise, moving BN statistics
    assert not np.array_equal(samples, fresh)


def test_real_images_are_fed_in_minus_one_to_one(run_dirs):
    dataset = fake_dataset()
    with make(run_dirs, dataset) as model:
        images, _ = model.batch(0)
        feed = model.step_feed(images, None, utils.make_rng(0, "step", 0))
        idx = model.data_order(0)[:8]
    np.testing.assert_allclose(images, dataset.images[idx] * 2.0 - 1.0, atol=1e-6)
    assert images.min() >= -1.0 and images.max() <= 1.0 and images.min() < -0.99
    assert feed[model.inputs] is images
    assert feed[model.z].shape == (8, 100) and abs(float(feed[model.z].std()) - 1.0) < 0.2


# ---- the update ---------------------------------------------------------------------

def _adam_first_step(grad, lr, beta1=0.9, beta2=0.999, eps=1e-7):
    grad = grad.astype(np.float64)
    lr_t = lr * np.sqrt(1 - beta2) / (1 - beta1)
    return -lr_t * (1 - beta1) * grad / (np.sqrt((1 - beta2) * grad ** 2) + eps)


def test_one_step_updates_d_and_g_from_one_forward_pass(tmp_path):
    # Large learning rates: had G's gradient been taken after D's update (or D's after
    # G's), it would come from other weights; with lr 0.01 such a sequential update
    # flips the sign of 65-100 % of each G variable's step, failing the check below.
    lrs = dict(d_lr=0.01, g_lr=0.01)
    with make(dirs(tmp_path, "a"), **lrs) as probe, make(dirs(tmp_path, "b"), **lrs) as model:
        probe.open()
        model.open()
        variables = model.d_vars + model.g_vars
        moving = [v for v in model.graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)
                  if "moving_" in v.op.name]
        probe_moving = [v for v in probe.graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)
                        if "moving_" in v.op.name]
        before = model.sess.run(variables)
        for a, b in zip(probe.sess.run(probe.d_vars + probe.g_vars), before):
            np.testing.assert_array_equal(a, b)          # same seed, same start
        names = ("d_loss", "d_loss_real", "d_loss_fake", "g_loss")
        # One forward pass at the pre-step weights: losses and both gradients.
        probe_losses, d_grads, g_grads = probe.sess.run(
            [[getattr(probe, k) for k in names], probe.d_grads, probe.g_grads],
            step_feed(probe))
        (phase,) = model.phases
        _, logs = model.sess.run([phase.train_op, phase.fetches], step_feed(model))
        after = model.sess.run(variables)
        assert [logs[k] for k in names] == probe_losses
        for v, b, a, g in zip(variables, before, after, d_grads + g_grads):
            assert not np.array_equal(a, b), v.op.name
            np.testing.assert_allclose(a - b, _adam_first_step(g, 0.01), rtol=1e-3, atol=1e-6,
                                       err_msg=v.op.name)
        # G's BN moving statistics moved once, as after one forward pass.
        for a, b in zip(model.sess.run(moving), probe.sess.run(probe_moving)):
            np.testing.assert_array_equal(a, b)
        assert len(moving) == 6


def test_dropout_masks_differ_between_steps_and_between_passes(tmp_path):
    with make(dirs(tmp_path, "a")) as model, make(dirs(tmp_path, "b"), dropout_rate=0.0) as plain:
        model.open()
        plain.open()
        images, _ = model.batch(0)

        def logits(m, step):
            feed = dict(step_feed(m, step))
            feed[m.inputs] = images
            feed[m.fake] = images          # the same images through the fake pass
            return m.sess.run([m.real_logits, m.fake_logits], feed)

        real0, fake0 = logits(model, 0)
        real0_again, _ = logits(model, 0)
        real1, _ = logits(model, 1)
        np.testing.assert_array_equal(real0, real0_again)    # the fed seed fixes the masks
        assert not np.array_equal(real0, real1)               # a new mask every step
        assert not np.array_equal(real0, fake0)               # and for each pass
        plain_real, plain_fake = logits(plain, 0)
        np.testing.assert_array_equal(plain_real, plain_fake)


def _sigmoid_ce(logits, target):
    x = logits.astype(np.float64)
    return np.mean(np.maximum(x, 0) - x * target + np.log1p(np.exp(-np.abs(x))))


@pytest.mark.parametrize("variant", ["mnist", "pokemon"])
def test_losses_equal_a_hand_computation_on_d_outputs(run_dirs, variant):
    model = make(run_dirs) if variant == "mnist" else make_pokemon(run_dirs)
    assert model.config.loss == ("bce" if variant == "mnist" else "mse")
    with model:
        model.open()
        real, fake, d_real, d_fake, d_loss, g_loss = model.sess.run(
            [model.real_logits, model.fake_logits, model.d_loss_real, model.d_loss_fake,
             model.d_loss, model.g_loss], step_feed(model))
    if variant == "mnist":
        expected = (_sigmoid_ce(real, 1), _sigmoid_ce(fake, 0), _sigmoid_ce(fake, 1))
    else:
        r, f = real.astype(np.float64), fake.astype(np.float64)
        expected = (np.mean((r - 1) ** 2), np.mean(f ** 2), np.mean((f - 1) ** 2))
    assert real.shape == fake.shape == (8, 1)
    np.testing.assert_allclose([d_real, d_fake, d_loss, g_loss],
                               [expected[0], expected[1], expected[0] + expected[1], expected[2]],
                               rtol=1e-5)


# ---- training runs ------------------------------------------------------------------

def test_seed_decides_the_losses(tmp_path):
    # Same seed, same losses, and resume, every variable bit for bit: tests/test_resume.py.
    straight = train(dirs(tmp_path, "straight"), max_steps=7)   # 6 steps an epoch
    other = train(dirs(tmp_path, "other"), max_steps=3, seed=548)
    assert [s["d_loss"] for s in other] != [s["d_loss"] for s in straight[:3]]
    assert sorted(straight[0]) == ["d_loss", "d_loss_fake", "d_loss_real", "g_loss"]
    assert all(np.isfinite(v) for s in straight for v in s.values())
    events = glob.glob(os.path.join(str(tmp_path), "straight", "log_dir", "DCGAN_mnist_8_100",
                                    "events.out.tfevents.*"))
    steps = {}
    for event in tf.train.summary_iterator(events[0]):
        for value in event.summary.value:
            steps.setdefault(value.tag, []).append(event.step)
    for tag in ("d_loss", "d_loss_real", "d_loss_fake", "g_loss"):
        assert sorted(steps[tag]) == list(range(1, 8)), tag


def test_pokemon_trains_and_writes_its_own_run_folder(run_dirs):
    with make_pokemon(run_dirs, max_steps=2) as model:
        history = model.train(keep_history=True).history
    assert len(history) == 2 and all(np.isfinite(v) for s in history for v in s.values())
    assert os.path.exists(os.path.join(run_dirs["checkpoint_dir"], "DCGAN_pokemon_8_100",
                                       "DCGAN", "DCGAN.model-2.index"))


@pytest.mark.parametrize("script, fragments", [
    ("run_dcgan.py", ["--z-dim Z_DIM", "default: 100", "--loss {bce,mse}", "default: bce",
                      "default: 40 (blog: 40", "--dropout-rate", "Radford"]),
    ("run_dcgan_pokemon.py", ["default: pokemon", "default: 256 (blog: 256)",
                              "default: 5000 (blog: 5000)", "default: mse",
                              "default: 40 (blog: 40x40 sprites)"])])
def test_scripts_help_documents_the_blog_defaults(monkeypatch, capsys, script, fragments):
    path = os.path.join(REPO, "scripts", script)
    monkeypatch.setattr(sys, "argv", [path, "--help"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(path, run_name="__main__")
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert text.startswith("usage: %s" % script)
    for fragment in fragments:
        assert fragment in text, fragment
