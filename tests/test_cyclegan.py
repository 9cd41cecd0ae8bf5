"""CycleGAN (Keras-GAN cyclegan.py): instance norm, the networks at 64 and 128, the four
networks' variables, the chained D updates and the combined G update, the losses, the
two-domain data, determinism, resume and the evaluation against the true pairs (tiny
sprites, small gf/df, CPU)."""

import json
import os

import numpy as np
import pytest

import utils
from errors import ConfigError
from models.cli import main
from data import load_domain
from models.cyclegan import CycleGAN, CycleGANConfig, patch_discriminator, unet_generator
from ops import instance_norm
from reproduce import eval_cyclegan
from tf_compat import tf

FAST = dict(gf=4, df=4, sample_num=12, log_every=1000, save_every=0, sample_every=1000)
SCOPES = ("g_AB/", "g_BA/", "d_A/", "d_B/")


# ---- tiny two-domain sprite folders -----------------------------------------------------

def write_sprites(folder, names, shiny=False, seed=0):
    """68x56 RGBA sprites: a coloured box on a transparent background (whose RGB is red,
    to show that it is composited away); `shiny` swaps the box's colour channels."""
    from PIL import Image
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name in names:
        rgba = np.zeros((56, 68, 4), np.uint8)
        rgba[..., 0] = 255                                   # hidden under alpha 0
        y, x = rng.integers(4, 28), rng.integers(2, 15)      # left of centre: asymmetric
        colour = rng.integers(0, 200, 3)
        rgba[y:y + 24, x:x + 30, :3] = colour[::-1] if shiny else colour
        rgba[y:y + 24, x:x + 30, 3] = 255
        Image.fromarray(rgba, "RGBA").save(str(folder / name))
    return folder


@pytest.fixture(scope="module")
def domains(tmp_path_factory):
    """(regular/, shiny/): 4 and 5 sprites, the first 4 names in both."""
    root = tmp_path_factory.mktemp("pokemon")
    names = ["mon%d.png" % i for i in range(5)]
    return (write_sprites(root / "regular", names[:4]),
            write_sprites(root / "shiny", names, shiny=True))


def dirs(tmp_path, name):
    return {k: str(tmp_path / name / k) for k in ("checkpoint_dir", "result_dir", "log_dir")}


def config(domains, run_dirs, **changes):
    return CycleGANConfig(**dict(FAST, domain_a=str(domains[0]), domain_b=str(domains[1]),
                                 **run_dirs, **changes))


def build(domains, run_dirs, **changes):
    cfg = config(domains, run_dirs, **changes)
    return CycleGAN(cfg, CycleGAN.load_data(cfg))


@pytest.fixture(scope="module")
def trained(domains, tmp_path_factory):
    """A 64x64 CycleGAN with gf = df = 4 trained 6 steps from scratch (4 steps an epoch),
    session left open; its losses in `.history` (the straight run of the resume test)."""
    root = tmp_path_factory.mktemp("straight")
    model = build(domains, dirs(root, "run"), max_steps=6)
    model.history = model.train(keep_history=True).history
    model.run_dirs = dirs(root, "run")
    yield model
    model.close()


def step_feed(model, step=0):
    images, labels = model.batch(step)
    return model.step_feed(images, labels, utils.make_rng(model.config.seed, "step", step))


# ---- configuration -------------------------------------------------------------------------

def test_config_holds_keras_gans_defaults():
    cfg = CycleGANConfig()
    assert (cfg.batch_size, cfg.epochs, cfg.sample_every, cfg.gf, cfg.df) == (1, 200, 200, 32, 64)
    assert (cfg.lambda_cycle, cfg.lambda_id) == (10.0, 1.0)
    assert (cfg.lr, cfg.beta1, cfg.beta2, cfg.adam_epsilon) == (2e-4, 0.5, 0.999, 1e-7)
    assert (cfg.image_size, cfg.channels, cfg.instance_norm) == (64, 3, "blog")
    assert cfg.reshuffle_each_epoch and cfg.adam_counter == "shared"
    assert CycleGANConfig(lambda_cycle=5.0).lambda_id == 0.5      # 0.1 * lambda_cycle
    with pytest.raises(ConfigError, match="divisible by 16"):
        CycleGANConfig(image_size=72)
    with pytest.raises(ConfigError, match="multiple of 6"):
        CycleGANConfig(sample_num=8)


def test_help_shows_the_domain_flags_and_keras_gan_defaults(capsys):
    with pytest.raises(SystemExit) as done:
        main(CycleGAN, ["--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for fragment in ("--domain-a DOMAIN_A", "--domain-b DOMAIN_B", "--instance-norm {blog,channel}",
                     "Keras-GAN: lambda_id = 0.1 * lambda_cycle", "default: 200 (Keras-GAN: "
                     "sample_interval=200)", "--adam-counter {shared,separate}"):
        assert fragment in text, fragment
    assert "--idx-splits" not in text and "--folder-preprocess" not in text


# ---- layers and networks ----------------------------------------------------------------

@pytest.mark.parametrize("per_channel", [False, True])
def test_instance_norm_normalises_over_the_right_axes(per_channel):
    x = np.random.default_rng(0).normal(size=(2, 5, 6, 3)) * [1.0, 4.0, 9.0] + [0, 3, -7]
    with tf.Graph().as_default():
        y = instance_norm(tf.constant(x, tf.float32), per_channel=per_channel, name="norm")
        params = {v.op.name: v.get_shape().as_list() for v in tf.trainable_variables()}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            out, gamma, beta = sess.run([y] + tf.trainable_variables())
    shape = [3] if per_channel else [1]                   # keras-contrib axis=None: one scalar
    assert params == {"norm/gamma": shape, "norm/beta": shape}
    assert np.all(gamma == 1) and np.all(beta == 0)
    axes = (1, 2) if per_channel else (1, 2, 3)
    std = x.std(axis=axes, keepdims=True)
    np.testing.assert_allclose(out, (x - x.mean(axis=axes, keepdims=True)) / (std + 1e-3),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out.mean(axis=axes), 0, atol=1e-5)
    # unit variance up to keras-contrib's epsilon on the standard deviation
    np.testing.assert_allclose(out.std(axis=axes), (std / (std + 1e-3)).reshape(
        out.std(axis=axes).shape), rtol=1e-4)
    assert np.all(np.abs(out.std(axis=axes) - 1) < 1e-3)
    per_channel_means = np.abs(out.mean(axis=(1, 2))).max()
    assert (per_channel_means < 1e-5) == per_channel      # "blog" leaves channel means != 0


@pytest.mark.parametrize("size,patch", [(64, 4), (128, 8)])
@pytest.mark.parametrize("norm", ["blog", "channel"])
def test_networks_build_with_keras_gans_shapes_and_sizes(size, patch, norm):
    with tf.Graph().as_default():
        tf.set_random_seed(0)   # the glorot initializers are random ops
        x = tf.placeholder(tf.float32, [1, size, size, 3])
        fake = unet_generator(x, 32, 3, norm == "channel", "g_AB", reuse=False)
        validity = patch_discriminator(x, 64, norm == "channel", "d_A", reuse=False)
        assert fake.get_shape().as_list() == [1, size, size, 3]
        assert validity.get_shape().as_list() == [1, patch, patch, 1]
        g = utils.count_params(tf.trainable_variables("g_AB/"))
        d = utils.count_params(tf.trainable_variables("d_A/"))
        names = {v.op.name for v in tf.trainable_variables()}
    # conv weights + biases; plus 2 (one gamma, one beta) per instance norm, or 2 * filters
    assert (g, d) == ((1545425, 2764743) if norm == "blog" else (1546819, 2766529))
    assert "g_AB/u3/instance_norm/gamma" in names and "d_A/d1/instance_norm/gamma" not in names
    assert "d_A/d2/instance_norm/gamma" in names and "g_AB/output/kernel" in names


# ---- the model graph -------------------------------------------------------------------

def test_model_at_64_has_4x4_patches_and_disjoint_complete_variable_sets(trained):
    m = trained
    assert m.patch_shape == (4, 4, 1) and m.image_shape == (64, 64, 3)
    sets = {s: {v.op.name for v in m.variables(s)} for s in SCOPES}
    assert all(sets.values())
    for i, a in enumerate(SCOPES):
        for b in SCOPES[i + 1:]:
            assert not sets[a] & sets[b], (a, b)
    everything = {v.op.name for v in m.variables("")}
    assert set().union(*sets.values()) == everything
    assert {n.replace("g_AB/", "") for n in sets["g_AB/"]} == \
        {n.replace("g_BA/", "") for n in sets["g_BA/"]}
    assert set(m.phases[0].fetches) == {"d_loss", "d_a_loss", "d_b_loss"}
    assert set(m.phases[1].fetches) == {"g_loss", "g_adv", "g_cycle", "g_identity"}
    assert m.model_dir == "CycleGAN_regular2shiny_1" and m.steps_per_epoch == 4
    # the same facts from the class and config alone (what reproduce/experiments.py reads)
    assert type(m).run_path(m.config) == os.path.join("CycleGAN_regular2shiny_1", "CycleGAN")
    assert type(m).steps_per_epoch_of(m.config, m.num_examples) == 4
    assert type(m).run_name(m.config.replace(domain_a=None, domain_b=None, data_dir=None)) \
        == "CycleGAN_pokemon_1"


def test_d_phase_updates_only_d_and_g_phase_only_g_with_one_adam_counter(trained):
    m = trained
    sess = m.sess
    variables = {s: m.variables(s) for s in SCOPES}
    counters = [v for v in m.graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)
                if v.op.name.endswith("iterations")]
    assert [v.op.name for v in counters] == ["Adam/iterations"]   # one for all updates
    feed = step_feed(m)

    def snapshot():
        return {s: sess.run(vs) for s, vs in variables.items()}

    def changed(before, after):
        return {s: any(not np.array_equal(a, b) for a, b in zip(before[s], after[s]))
                for s in SCOPES}

    count0 = sess.run(counters[0])
    before = snapshot()
    # (the training loop's fetch lists: the session reuses their prepared executors)
    d, g = m.phases
    d_logs = sess.run([d.train_op, d.summary, d.fetches], feed)[2]
    middle = snapshot()
    assert changed(before, middle) == {"g_AB/": False, "g_BA/": False, "d_A/": True, "d_B/": True}
    assert sess.run(counters[0]) == count0 + 4                   # four D updates
    assert np.isclose(d_logs["d_loss"], 0.5 * (d_logs["d_a_loss"] + d_logs["d_b_loss"]))
    g_logs = sess.run([g.train_op, g.summary, g.fetches], feed)[2]
    after = snapshot()
    assert changed(middle, after) == {"g_AB/": True, "g_BA/": True, "d_A/": False, "d_B/": False}
    assert sess.run(counters[0]) == count0 + 5                   # + the G update
    assert all(np.isfinite(v) for v in list(d_logs.values()) + list(g_logs.values()))


def test_sample_grid_rows_are_a_translated_reconstructed_then_b(trained):
    m = trained
    samples = m.samples()
    assert m.grid_size == (6, 2) and samples.shape == (12, 64, 64, 3)
    fixed_a, fixed_b = m.sample_images
    np.testing.assert_array_equal(samples[:2], fixed_a)
    np.testing.assert_array_equal(samples[6:8], fixed_b)
    np.testing.assert_allclose(samples[2:4], m.translate((fixed_a + 1) / 2, "AB") * 2 - 1,
                               atol=1e-5)
    assert np.all(np.abs(samples) <= 1)


# ---- data ------------------------------------------------------------------------------

def test_domains_load_on_white_padded_to_square(domains, tmp_path):
    names, images = load_domain(domains[0], 64)
    assert names == ["mon0.png", "mon1.png", "mon2.png", "mon3.png"]
    assert images.shape == (4, 64, 64, 3) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1
    assert np.all(images[:, 0, 0] == 1)          # transparent (red underneath) -> white
    # an opaque 56x68 image: padding (white) above and below, none with "stretch"
    from PIL import Image
    solid = tmp_path / "solid"
    solid.mkdir()
    Image.fromarray(np.full((56, 68, 4), [0, 0, 255, 255], np.uint8), "RGBA").save(
        str(solid / "x.png"))
    _, padded = load_domain(solid, 16, fit="pad")
    _, stretched = load_domain(solid, 16, fit="stretch")
    assert np.allclose(padded[0, 0], 1, atol=0.02) and np.allclose(padded[0, 8], [0, 0, 1])
    assert np.allclose(padded[0, 8], [0, 0, 1], atol=0.02)
    assert np.allclose(stretched[0], [0, 0, 1])
    _, gray = load_domain(solid, 16, channels=1, fit="stretch")
    assert gray.shape == (1, 16, 16, 1)


def test_two_domains_subset_and_same_folder_warning(domains, run_dirs, capsys):
    cfg = config(domains, run_dirs, train_subset=3)
    data = CycleGAN.load_data(cfg)
    assert data.images.shape == data.images_b.shape == (3, 64, 64, 3)
    assert data.names_a == data.names_b == ["mon0.png", "mon1.png", "mon2.png"]
    assert "same folder" not in capsys.readouterr().err
    CycleGAN.load_data(cfg.replace(domain_b=str(domains[0])))
    assert "same folder" in capsys.readouterr().err


def test_orders_are_unpaired_per_epoch_and_reproducible(trained):
    m = trained
    assert m.num_examples == 4 and len(m.dataset.images_b) == 5     # min(|A|, |B|)
    orders_b = [m.order_b(e) for e in range(4)]
    assert all(len(o) == 4 and len(set(o)) == 4 and max(o) < 5 for o in orders_b)
    assert len({tuple(o) for o in orders_b}) > 1                    # a new draw per epoch
    expected = utils.make_rng(m.config.seed, "order-b", 2).permutation(5)[:4]
    np.testing.assert_array_equal(m.order_b(2), expected)          # a function of (seed, epoch)
    assert any(not np.array_equal(m.data_order(e), m.order_b(e)) for e in range(4))
    # the B batch of a step follows B's order of the step's epoch (step 5: epoch 1, index 1)
    m.batch(5)
    np.testing.assert_array_equal(m._batch_b, m.dataset.images_b[[m.order_b(1)[1]]] * 2 - 1)
    # a pair is flipped left-right together (coins from the step's Generator)
    flips = []
    for step in range(8):
        feed = step_feed(m, step)
        a, _ = m.batch(step)
        flipped = not np.array_equal(feed[m.real_A], a)
        assert flipped == (not np.array_equal(feed[m.real_B], m._batch_b))
        if flipped:
            np.testing.assert_array_equal(feed[m.real_A], a[:, :, ::-1])
        flips.append(flipped)
    assert any(flips) and not all(flips)


# ---- training, resume, evaluation ---------------------------------------------------------

def test_losses_of_a_run(trained):
    # Same seed, same losses, and resume, every variable bit for bit: tests/test_resume.py.
    straight = trained.history
    assert len(straight) == 6
    assert sorted(straight[0]) == ["d_a_loss", "d_b_loss", "d_loss", "g_adv", "g_cycle",
                                   "g_identity", "g_loss"]
    assert all(np.isfinite(v) for s in straight for v in s.values())
    assert straight[0] != straight[-1]


def test_evaluation_command_on_the_trained_run(trained, domains, tmp_path, capsys):
    flags = ["--domain-a", str(domains[0]), "--domain-b", str(domains[1]), "--gf", "4",
             "--df", "4", "--sample-num", "12",
             "--checkpoint-dir", trained.run_dirs["checkpoint_dir"]]
    capsys.readouterr()
    assert eval_cyclegan.main(flags + ["--json", str(tmp_path / "eval.json")]) == 0
    out = capsys.readouterr().out
    assert "step 6" in out and "A -> B" in out and "B -> A" in out and "baseline" in out
    results = json.loads((tmp_path / "eval.json").read_text())
    assert results["names"] == 4 and results["step"] == 6
    _, regular = load_domain(domains[0], 64)
    _, shiny = load_domain(domains[1], 64)
    shiny = shiny[:4]                                   # mon4 has no regular twin
    for key, source, target in (("AB", regular, shiny), ("BA", shiny, regular)):
        baseline = eval_cyclegan.compare(source, source, target)
        assert results[key]["baseline_l1"] == pytest.approx(baseline["baseline_l1"])
        assert results[key]["baseline_psnr"] == pytest.approx(baseline["baseline_psnr"])
        assert results[key]["n"] == 4 and np.isfinite(results[key]["model_psnr"])
    # the model's figures are those of the step-6 checkpoint's generators
    trained.saver.restore(trained.sess, trained.checkpoints.latest())
    for key, source, target in (("AB", regular, shiny), ("BA", shiny, regular)):
        mine = eval_cyclegan.compare(trained.translate(source, key), source, target)
        assert results[key]["model_psnr"] == pytest.approx(mine["model_psnr"], rel=1e-5)
        assert results[key]["model_l1"] == pytest.approx(mine["model_l1"], rel=1e-5)
    # no checkpoint: one line, status 1, no graph built
    assert eval_cyclegan.main(flags[:-1] + [str(tmp_path / "nothing")]) == 1
    err = capsys.readouterr().err
    assert "no CycleGAN checkpoint" in err and len(err.strip().splitlines()) == 1


def test_evaluation_figures_against_a_hand_computation():
    rng = np.random.default_rng(3)
    target = rng.uniform(0, 1, (3, 4, 4, 3))
    source = np.clip(target + rng.normal(0, 0.2, target.shape), 0, 1)
    translated = np.clip(target + rng.normal(0, 0.05, target.shape), 0, 1)
    translated[2] = source[2] + 0.01                      # one image worse than the baseline
    r = eval_cyclegan.compare(translated, source, target)
    mse = [np.mean((x - target) ** 2) for x in (translated, source)]
    l1 = [np.mean(np.abs(x - target)) for x in (translated, source)]
    assert r["model_psnr"] == pytest.approx(10 * np.log10(1 / mse[0]))
    assert r["baseline_psnr"] == pytest.approx(10 * np.log10(1 / mse[1]))
    assert (r["model_l1"], r["baseline_l1"]) == (pytest.approx(l1[0]), pytest.approx(l1[1]))
    per_image = [10 * np.log10(1 / np.mean((translated[i] - target[i]) ** 2)) for i in range(3)]
    assert r["model_median_psnr"] == pytest.approx(np.median(per_image))
    assert (r["n"], r["better_psnr"], r["identical_pairs"]) == (3, 2, 0)


def test_identity_baseline_of_identical_images_is_infinite_psnr_and_zero_l1(tmp_path):
    images = np.random.default_rng(4).uniform(0, 1, (2, 8, 8, 3))
    r = eval_cyclegan.compare(images * 0.9, images, images)
    assert r["baseline_psnr"] == float("inf") and r["baseline_l1"] == 0
    assert r["baseline_median_psnr"] == float("inf") and r["identical_pairs"] == 2
    assert r["better_psnr"] == 0 and np.isfinite(r["model_psnr"])
    text = eval_cyclegan.table(dict(AB=r, BA=r))
    assert "inf" in text
    assert eval_cyclegan.verdict(r) == "the model does not beat the identity baseline"
    path = tmp_path / "r.json"
    utils.write_json(str(path), eval_cyclegan._json_safe(dict(AB=r)))
    assert json.loads(path.read_text())["AB"]["baseline_psnr"] == "inf"   # strict JSON


def test_evaluation_help(capsys):
    with pytest.raises(SystemExit) as done:
        eval_cyclegan.main(["--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--json PATH" in text and "--domain-a" in text and "PSNR" in text
