"""WGAN and WGAN-GP (Keras-GAN's wgan.py / wgan_gp.py) on the shared machinery:
architecture, the critic iteration (two chained updates and the clip / one penalised
update), the n_critic schedule, frozen networks, the losses against a hand computation,
the Keras 2.2 pieces, determinism and resume (tiny data, CPU)."""

import os

import numpy as np
import pytest
from conftest import dirs_in, fake_dataset

import utils
from errors import ConfigError
from models.config import TrainConfig
from models.wgan import WGAN, WGANConfig
from models.wgan_gp import WGANGP, WGANGPConfig
from models.wgan_gp import CRITIC_MODEL_SHADOW
from tf_compat import tf

CONFIGS = {WGAN: WGANConfig, WGANGP: WGANGPConfig}
PARAMS = {WGAN: (1028545, 99393), WGANGP: (1028289, 99649)}


def make(cls, run_dirs, dataset=None, **changes):
    settings = dict(batch_size=8, log_every=1000, save_every=0, sample_every=1000, **run_dirs)
    settings.update(changes)
    return cls(CONFIGS[cls](**settings), dataset if dataset is not None else fake_dataset())


_OPENED = {}


@pytest.fixture(scope="module", autouse=True)
def _close_shared_models():
    yield
    while _OPENED:
        _OPENED.popitem()[1].close()


def opened(cls, tmp_path_factory):
    """One opened model per class, shared by the tests that need no fresh weights
    (lr 1e-3 so that one update visibly moves the losses)."""
    if cls not in _OPENED:
        root = tmp_path_factory.mktemp(cls.__name__)
        m = make(cls, dirs_in(root), lr=1e-3)
        m.open()
        m.writer = tf.summary.FileWriter(str(root / "events"))
        _OPENED[cls] = m
    return _OPENED[cls]


@pytest.fixture(params=[WGAN, WGANGP], ids=["wgan", "wgan_gp"])
def model(request, tmp_path_factory):
    return opened(request.param, tmp_path_factory)


@pytest.fixture
def wgan(tmp_path_factory):
    return opened(WGAN, tmp_path_factory)


def values(m, variables):
    return m.sess.run(variables)


def changed(before, after):
    return [not np.array_equal(b, a) for b, a in zip(before, after)]


def run(m, phase, feed):
    """One run of a phase's train op, fetching its losses (as the base loop does)."""
    return m.sess.run([phase.train_op, phase.fetches], feed)[1]


def scoped(m, prefix):
    return [v for v in m.graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)
            if v.op.name.startswith(prefix)]


# ---- configuration --------------------------------------------------------------------

def test_defaults_are_the_blogs_and_name_their_source():
    wgan, gp = WGANConfig(), WGANGPConfig()
    shared = ("z_dim", "batch_size", "n_critic", "lr", "rho", "rms_epsilon", "idx_splits",
              "sample_num", "dropout_rate", "bn_momentum", "bn_epsilon", "leak")
    assert [getattr(wgan, k) for k in shared] == [getattr(gp, k) for k in shared] == [
        100, 32, 5, 5e-5, 0.9, 1e-7, "train", 25, 0.25, 0.8, 1e-3, 0.2]
    assert (wgan.clip_value, wgan.max_steps, wgan.sample_every) == (0.01, 4000, 50)
    assert (gp.gp_weight, gp.max_steps, gp.sample_every) == (10.0, 30000, 100)
    assert wgan.epochs * (60000 // 32 // 5) > wgan.max_steps       # epochs never bind
    assert gp.epochs * (60000 // 32 // 5) > gp.max_steps
    base = TrainConfig.__dataclass_fields__
    for cls in (WGANConfig, WGANGPConfig):
        for name, field in cls.__dataclass_fields__.items():
            if name not in base or field.default != base[name].default:
                assert field.metadata.get("source"), (cls.__name__, name)
    with pytest.raises(ConfigError, match="n_critic must be >= 1"):
        WGANConfig(n_critic=0)


# ---- architecture -------------------------------------------------------------------

def test_parameter_counts_and_complete_disjoint_variable_sets(model):
    g_vars, c_vars = model.variables("generator/"), model.variables("critic/")
    assert (utils.count_params(g_vars), utils.count_params(c_vars)) == PARAMS[type(model)]
    every = model.graph.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES)
    assert g_vars and c_vars and not set(g_vars) & set(c_vars)
    assert set(g_vars) | set(c_vars) == set(every)
    # Keras get_weights(): trainable weights and BN moving statistics, nothing else.
    weights = {v.op.name for v in model.critic_variables()}
    assert {v.op.name for v in c_vars} < weights
    extra = weights - {v.op.name for v in c_vars}
    n_bn = 2 if type(model) is WGAN else 3
    assert len(extra) == 2 * n_bn and all(n.endswith(("/moving_mean", "/moving_variance"))
                                          for n in extra)


def test_sampler_shape_and_range(model):
    samples = model.samples()
    assert samples.shape == (25, 28, 28, 1)
    assert samples.min() >= -1.0 and samples.max() <= 1.0
    assert np.array_equal(samples, model.samples())                 # fixed noise, moving BN
    assert not np.array_equal(samples, model.samples(utils.make_rng(1, "x")))


# ---- the schedule and the updates -----------------------------------------------------

def test_one_step_runs_n_critic_critic_iterations_and_one_generator_update(model):
    cfg = model.config
    assert model.batches_per_step == cfg.n_critic == 5
    counters = model.optimizer_iterations()
    before = values(model, counters)
    logs = model.Trainer(model).run_step(0)
    after = values(model, counters)
    per_iteration = 2 if type(model) is WGAN else 1                  # real + fake / one
    assert after["critic"] - before["critic"] == per_iteration * cfg.n_critic
    assert after["generator"] - before["generator"] == 1
    expected = {"d_loss", "d_loss_real", "d_loss_fake", "g_loss"}
    if type(model) is WGANGP:
        expected.add("gradient_penalty")
    assert set(logs) == expected and all(np.isfinite(v) for v in logs.values())


def test_critic_update_changes_no_generator_variable_and_vice_versa(model):
    critic_phase, g_phase = model.phases
    rng = utils.make_rng(3, "test")
    g_all, c_all = scoped(model, "generator/"), scoped(model, "critic/")
    c_state = scoped(model, model.critic_optimizer_name + "/")
    g_train, c_train = model.variables("generator/"), model.variables("critic/")

    kernels = [v for v in c_train if v.op.name.endswith("/kernel")]
    # WGAN-GP's critic update runs G's batch-norm updates too (Keras 2.2 collects them when
    # it builds the critic model's train function, with G trainable again): the moving
    # statistics and their critic-model shadows move there, nothing else of G
    g_bn = [v for v in g_all if type(model) is WGANGP and v.op.name.endswith(
        ("/moving_mean", "/moving_variance", CRITIC_MODEL_SHADOW))]
    g_rest = [v for v in g_all if v not in g_bn]
    before = values(model, g_rest + kernels + g_bn)
    run(model, critic_phase, critic_phase.feed(*model.batch(0), rng))
    after = values(model, g_rest + kernels + g_bn)
    n = len(g_rest)
    assert not any(changed(before[:n], after[:n]))     # G (WGAN: its moving statistics too)
    assert all(changed(before[n:], after[n:]))
    assert len(g_bn) == (12 if type(model) is WGANGP else 0)

    moving = [v for v in g_all if v.op.name.endswith(("/moving_mean", "/moving_variance"))]
    watched = c_all + c_state + g_train + moving
    before = values(model, watched)
    run(model, g_phase, g_phase.feed(None, None, rng))
    after = values(model, watched)
    n = len(c_all) + len(c_state)
    assert not any(changed(before[:n], after[:n]))     # the critic is frozen entirely
    assert moving and all(changed(before[n:], after[n:]))   # G and its BN statistics move


def test_wgan_clips_every_critic_weight_after_every_critic_iteration(wgan):
    critic_phase = wgan.phases[0]
    weights = wgan.critic_variables()
    rng = utils.make_rng(5, "clip")
    for draw in range(4):
        run(wgan, critic_phase, critic_phase.feed(*wgan.batch(0, draw), rng))
        now = values(wgan, weights)
        assert all(np.abs(w).max() <= 0.01 for w in now), draw
        moving_var = [w for v, w in zip(weights, now) if v.op.name.endswith("moving_variance")]
        assert all(np.all(w == np.float32(0.01)) for w in moving_var)   # 1 clipped, not updated
    # the optimizer's accumulators are no layer weights: not clipped
    state = scoped(wgan, wgan.critic_optimizer_name + "/")
    assert any(np.abs(a).max() > 0.01 for a in values(wgan, state))


def test_wgan_fake_update_reads_the_weights_after_the_real_update(wgan, tmp_path):
    critic_phase = wgan.phases[0]
    feed = critic_phase.feed(*wgan.batch(1), utils.make_rng(7, "order"))
    fakes = wgan.sess.run(wgan.fake_images, feed)
    d_loss_real = critic_phase.fetches["d_loss_real"]
    # The real pass evaluated on the fakes with the fake pass's seed is the fake pass
    # (same layers, same salts) without running any update: -mean(critic(fakes)).
    probe = {**feed, wgan.inputs: fakes, wgan.real_seed: feed[wgan.fake_seed]}

    saved = wgan.saver.save(wgan.sess, str(tmp_path / "before"), write_meta_graph=False)
    fake_loss_before = -wgan.sess.run(d_loss_real, probe)
    wgan.sess.run(wgan.real_update, feed)                        # the real update alone
    fake_loss_after_real = -wgan.sess.run(d_loss_real, probe)
    wgan.saver.restore(wgan.sess, saved)
    logged = run(wgan, critic_phase, feed)["d_loss_fake"]          # whole iteration
    assert not np.isclose(fake_loss_before, fake_loss_after_real, rtol=1e-3, atol=0)
    np.testing.assert_allclose(logged, fake_loss_after_real, rtol=1e-6)


# ---- the losses against a hand computation --------------------------------------------

def test_losses_match_a_hand_computation(model):
    critic_phase, g_phase = model.phases
    rng = utils.make_rng(11, "hand")
    feed = critic_phase.feed(*model.batch(2), rng)
    logs = critic_phase.fetches
    if type(model) is WGAN:
        real_out, d_real = model.sess.run([model.real_out, logs["d_loss_real"]], feed)
        np.testing.assert_allclose(d_real, -real_out.mean(), rtol=1e-6)
        fake_out, got = model.sess.run([model.fake_out, logs], feed)
        np.testing.assert_allclose(got["d_loss_real"], d_real, rtol=1e-6)
        np.testing.assert_allclose(got["d_loss_fake"], fake_out.mean(), rtol=1e-6)
        np.testing.assert_allclose(got["d_loss"], 0.5 * (d_real + fake_out.mean()), rtol=1e-6)
    else:
        slopes_op = model.slopes.op                       # sqrt(sum(square(grad)))
        assert slopes_op.type == "Sqrt"
        square = slopes_op.inputs[0].op.inputs[0]
        assert square.op.type == "Square"
        grad = square.op.inputs[0]
        fetched = model.sess.run(dict(real=model.real_out, fake_out=model.fake_out,
                                      fake=model.fake_images, interp=model.interpolates,
                                      grad=grad, slopes=model.slopes, **logs), feed)
        real, alpha = feed[model.inputs], feed[model.alpha]
        assert alpha.shape == (8, 1, 1, 1) and 0 <= alpha.min() and alpha.max() < 1
        np.testing.assert_allclose(fetched["interp"], alpha * real + (1 - alpha) * fetched["fake"],
                                   rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(fetched["d_loss_real"], -fetched["real"].mean(), rtol=1e-6)
        np.testing.assert_allclose(fetched["d_loss_fake"], fetched["fake_out"].mean(), rtol=1e-6)
        norms = np.sqrt((fetched["grad"].astype(np.float64) ** 2).sum(axis=(1, 2, 3)))
        np.testing.assert_allclose(fetched["slopes"], norms, rtol=1e-5)
        penalty = np.mean((1.0 - norms) ** 2)
        np.testing.assert_allclose(fetched["gradient_penalty"], penalty, rtol=1e-4)
        np.testing.assert_allclose(fetched["d_loss"],
                                   fetched["d_loss_real"] + fetched["d_loss_fake"]
                                   + 10.0 * fetched["gradient_penalty"], rtol=1e-5)
        # grad is d sum(critic(interpolated)) / d interpolated: the central difference
        # along its own direction is its norm (a wrong direction or scale would differ)
        x, g = fetched["interp"], fetched["grad"].astype(np.float64)
        d = (g / np.linalg.norm(g)).astype(np.float32)
        eps = 1e-2
        plus, minus = (model.sess.run(model.interp_out, {**feed, model.interpolates: x + s * d})
                       for s in (eps, -eps))
        numeric = (plus.astype(np.float64).sum() - minus.sum()) / (2 * eps)
        np.testing.assert_allclose(numeric, np.linalg.norm(g), rtol=1e-2)
    g_feed = g_phase.feed(None, None, rng)
    g_out, g_loss = model.sess.run([model.g_out, g_phase.fetches["g_loss"]], g_feed)
    np.testing.assert_allclose(g_loss, -g_out.mean(), rtol=1e-6)


# ---- determinism and resume ------------------------------------------------------------

def train(cls, run_dirs, **changes):
    # Small and quick: 12x12 images, 32 of them, 2 critic iterations: 4 batches of 8,
    # 2 steps an epoch (so 5 steps cross two epochs and step 3 is mid-epoch).
    with make(cls, run_dirs, dataset=fake_dataset(32, size=12), n_critic=2, **changes) as m:
        assert m.steps_per_epoch == 2
        return m.train(keep_history=True).history


def test_other_seed_other_losses(tmp_path):
    # Same seed, same losses, and resume, every variable bit for bit: tests/test_resume.py.
    # (The seed reaches WGAN and WGAN-GP through the same code.)
    straight = train(WGAN, dirs_in(tmp_path / "straight"), max_steps=1)
    other = train(WGAN, dirs_in(tmp_path / "other"), max_steps=1, seed=548)
    assert other[0]["d_loss"] != straight[0]["d_loss"]
    assert all(np.isfinite(v) for s in straight + other for v in s.values())


def test_wgan_gp_updates_gs_moving_statistics_in_every_critic_update_as_keras(tmp_path):
    """Keras 2.2 runs G's batch-norm updates in the critic model (5 a step) and in the
    generator model (1 a step), each call site with its own zero-debiasing shadow; each
    update assigns moving = shadow / (1 - momentum^t), so after a step (G's update last)
    the moving statistics are the generator model's average."""
    m = make(WGANGP, dirs_in(tmp_path))
    with m:
        m.open()
        m.writer = tf.summary.FileWriter(str(tmp_path / "events"))
        steps = {v.op.name: v for v in scoped(m, "generator/") if "/local_step" in v.op.name}
        assert len(steps) == 8      # 2 BN layers x (mean, variance) x 2 call sites
        trainer = m.Trainer(m)
        trainer.run_step(0)
        trainer.run_step(1)
        counts = m.sess.run(steps)
        for name, count in counts.items():
            expected = 2 * m.config.n_critic if name.endswith(CRITIC_MODEL_SHADOW) else 2
            assert count == expected, (name, count)
        momentum = m.config.bn_momentum
        for layer in ("batch_normalization", "batch_normalization_1"):
            for stat in ("moving_mean", "moving_variance"):
                base = "generator/%s/%s" % (layer, stat)
                exact = {v.op.name: v for v in scoped(m, base)}
                moving, biased = m.sess.run([exact[base], exact[base + "/biased"]])
                np.testing.assert_allclose(moving, biased / (1 - momentum ** 2), rtol=1e-5)


def test_the_class_knows_a_steps_epoch_and_run_folder_without_building(model):
    """What reproduce/experiments.py reads without a graph agrees with the built model."""
    cls, config = type(model), model.config
    assert cls.batches_per_step_of(config) == config.n_critic == model.batches_per_step
    assert cls.steps_per_epoch_of(config, model.num_examples) == model.steps_per_epoch
    assert os.path.join(config.checkpoint_dir, cls.run_path(config)) == model.checkpoint_folder


def test_a_model_whose_declared_batches_disagree_with_its_phases_is_refused(tmp_path):
    class Miscounted(WGAN):
        @classmethod
        def batches_per_step_of(cls, config):
            return 1
    with pytest.raises(ValueError, match="phases draw 2 batches a step, its "
                                         "batches_per_step_of says 1"):
        Miscounted(WGANConfig(batch_size=8, n_critic=2, **dirs_in(tmp_path)), fake_dataset())
