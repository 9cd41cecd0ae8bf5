"""The 2-D toy study (reproduce/toy.py) on a tiny budget."""

import json
import math

import numpy as np
import pytest
from PIL import Image

from reproduce import metrics, plots, toy

TINY = dict(steps=3, batch_size=16, hidden=8, z_dim=4, eval_samples=60)


@pytest.mark.parametrize("method", ["dragan_blog", "wgan_gp"])     # both penalty paths
def test_a_seed_trains_the_same_alone_or_beside_others(method):
    together = toy.run_method("ring8", method, [0, 1], **TINY)
    alone = toy.run_method("ring8", method, [1], **TINY)
    assert [r["seed"] for r, _, _ in together] == [0, 1]
    np.testing.assert_allclose(together[1][1], alone[0][1], rtol=1e-5, atol=1e-6)
    assert not np.allclose(together[0][1], together[1][1])      # seeds differ
    for result, samples, phases in together:
        assert phases is None                                   # none asked for
        assert samples.shape == (60, 2) and np.all(np.isfinite(samples))
        assert 0 <= result["modes_covered"] <= result["num_modes"] == 8


@pytest.mark.parametrize("method", toy.METHODS)
def test_each_player_updates_only_its_variables_and_logs_the_loss_before(method):
    """The toy's Adam steps come from the models' update builder: a step's fetched loss is
    the loss of the weights before it, and it changes only its player's variables."""
    model = toy.ToyGAN(method, [0], **TINY)
    try:
        with model.graph.as_default():
            tf = toy.tf
            d_vars = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, "discriminator")
            g_vars = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, "generator")
        feed = model._draws("ring8", [np.random.default_rng(0)])
        feed[model.lr] = 1e-3
        for op, loss, mine, other in [(model.d_op, model.d_loss, d_vars, g_vars),
                                      (model.g_op, model.g_loss, g_vars, d_vars)]:
            before = model.sess.run(loss, feed)
            mine0, other0 = model.sess.run(mine), model.sess.run(other)
            _, logged = model.sess.run([op, loss], feed)
            assert logged == before
            # (the critic's output bias has zero gradient in WGAN-GP's loss: any, not all)
            assert any(not np.array_equal(a, b) for a, b in zip(mine0, model.sess.run(mine)))
            assert all(np.array_equal(a, b) for a, b in zip(other0, model.sess.run(other)))
    finally:
        model.close()


def test_initial_weights_depend_on_the_seed_only():
    a = toy.initial_weights(3, "generator", [4, 8, 2])
    b = toy.initial_weights(3, "generator", [4, 8, 2])
    c = toy.initial_weights(4, "generator", [4, 8, 2])
    assert [k.shape for k, _ in a] == [(4, 8), (8, 2)]
    assert all(np.array_equal(x[0], y[0]) for x, y in zip(a, b))
    assert not np.array_equal(a[0][0], c[0][0])


def test_toy_cli_writes_table_json_and_plots(tmp_path, capsys):
    status = toy.main(["--seeds", "2", "--steps", "2", "--eval-samples", "40",
                       "--datasets", "ring8", "swissroll", "--methods", "gan", "dragan_paper",
                       "--out", str(tmp_path)])
    assert status == 0
    study = json.loads((tmp_path / "toy_study.json").read_text())
    assert len(study["runs"]) == 8 and len(study["summary"]) == 4
    assert study["budget"]["steps"] == 2 and "--seeds 2" in study["command"]
    assert (tmp_path / "toy_ring8.png").exists() and (tmp_path / "toy_swissroll.png").exists()
    with np.load(tmp_path / "toy_samples.npz") as npz:                 # the plotted samples
        assert list(npz["methods"]) == ["gan", "dragan_paper"] and list(npz["seeds"]) == [0, 1]
        assert sorted(npz.files) == ["command", "methods", "ring8", "seeds", "swissroll"]
        assert str(npz["command"]) == study["command"]
        assert npz["ring8"].shape == (2, 2, 40, 2) and npz["ring8"].dtype == np.float32
    # --redraw draws the same figure again from them, without training
    drawn = (tmp_path / "toy_ring8.png").read_bytes()
    (tmp_path / "toy_ring8.png").unlink()
    assert toy.main(["--redraw", str(tmp_path)]) == 0
    assert (tmp_path / "toy_ring8.png").read_bytes() == drawn
    table = (tmp_path / "toy_study.md").read_text()
    assert "| ring8 | dragan_paper | 2 |" in table
    assert "collapsed seeds" in capsys.readouterr().out

    # The results page's toy table (reproduce.collect's rows, reproduce.render's table).
    from reproduce import collect, render
    import pandas as pd
    rows = pd.DataFrame(collect.study_rows("mine", str(tmp_path)))
    tables = render.toy_tables(rows)
    gan = [r["modes_covered"] for r in study["runs"]
           if r["dataset"] == "ring8" and r["method"] == "gan"]
    got = [r for r in tables[0]["rows"] if r["dataset"] == "ring8" and r["method"] == "gan"][0]
    assert got["modes"] == "%s of 8" % render.pm(np.mean(gan), np.std(gan, ddof=1))   # n - 1

    # A second study at another learning rate: both on one page, plots apart.
    other = tmp_path / "lr"
    assert toy.main(["--seeds", "2", "--steps", "3", "--eval-samples", "40", "--lr", "1e-4",
                     "--datasets", "ring8", "--methods", "gan", "dragan_blog",
                     "--plot-seeds", "1", "--out", str(other)]) == 0
    with np.load(other / "toy_samples.npz") as npz:                    # only the plotted seed
        assert list(npz["seeds"]) == [0] and npz["ring8"].shape == (2, 1, 40, 2)
    assert json.loads((other / "toy_study.json").read_text())["budget"]["lr"] == 1e-4


def test_toy_redraw_refuses_a_folder_without_samples(tmp_path, capsys):
    (tmp_path / "toy_study.json").write_text("{}")
    assert toy.main(["--redraw", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error:" in err and "has no toy_samples.npz" in err
    assert list(tmp_path.iterdir()) == [tmp_path / "toy_study.json"]


@pytest.mark.parametrize("flags", [["--lr", "0"], ["--lr", "nan"], ["--lr", "-1e-4"],
                                   ["--lr", "inf"], ["--seeds", "0"], ["--jobs", "0"]])
def test_toy_cli_refuses_bad_flags(flags, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        toy.main(flags + ["--out", str(tmp_path)])
    assert e.value.code == 2 and "error:" in capsys.readouterr().err
    assert not (tmp_path / "toy_study.json").exists()


def test_jobs_run_in_processes_with_the_same_numbers():
    tasks = [("ring8", "gan"), ("swissroll", "wgan_gp")]       # wgan_gp starts first
    one = list(toy._run_all(tasks, [0, 1], 1, TINY))
    two = list(toy._run_all(tasks, [0, 1], 2, TINY))
    assert ([[r["dataset"] for r, _, _ in runs] for runs in two]
            == [["ring8"] * 2, ["swissroll"] * 2])
    for a_runs, b_runs in zip(one, two):
        for (a, a_samples, _), (b, b_samples, _) in zip(a_runs, b_runs):
            np.testing.assert_array_equal(a_samples, b_samples)
            assert {k: v for k, v in a.items() if k != "seconds"} == \
                {k: v for k, v in b.items() if k != "seconds"}


# ---- the gan_toy setting (WGAN-GP's toy code) ----------------------------------------

GAN_TOY_TINY = dict(toy.GAN_TOY, steps=2, batch_size=16, eval_samples=40)


def _variables(model):
    """{name: value} of a ToyGAN's trainable variables."""
    with model.graph.as_default():
        variables = toy.tf.trainable_variables()
    return dict(zip([v.name for v in variables], model.sess.run(variables)))


def test_gan_toy_networks_shapes_and_parameter_counts():
    model = toy.ToyGAN("gan", [0, 1], **GAN_TOY_TINY)
    try:
        values = _variables(model)
    finally:
        model.close()
    shapes = {name: v.shape for name, v in values.items()}
    for net, sizes in [("generator", [2, 512, 512, 512, 2]),
                       ("discriminator", [2, 512, 512, 512, 1])]:
        for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
            assert shapes["%s/fc%d/kernel:0" % (net, i + 1)] == (2, a, b)    # [seeds, in, out]
            assert shapes["%s/fc%d/bias:0" % (net, i + 1)] == (2, 1, b)
        assert "%s/fc5/kernel:0" % net not in shapes
    per_seed = {net: sum(v[0].size for name, v in values.items() if name.startswith(net))
                for net in ("generator", "discriminator")}
    assert per_seed == {"generator": 527874, "discriminator": 527361}
    # the variables start as initial_weights(seed, ...) with He-uniform hidden kernels
    weights = toy.initial_weights(1, "discriminator", [2, 512, 512, 512, 1], "he")
    np.testing.assert_array_equal(values["discriminator/fc2/kernel:0"][1], weights[1][0])


def test_gan_toy_initialisers_he_uniform_hidden_glorot_out_zero_bias():
    sizes = [2, 512, 512, 512, 2]
    weights = toy.initial_weights(5, "generator", sizes, init="he")
    for i, (kernel, bias) in enumerate(weights):
        fan_in, fan_out = sizes[i], sizes[i + 1]
        limit = math.sqrt(6.0 / fan_in) if i < 3 else math.sqrt(6.0 / (fan_in + fan_out))
        assert kernel.shape == (fan_in, fan_out) and kernel.dtype == np.float32
        assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.95 * limit
        assert kernel.var() == pytest.approx(limit ** 2 / 3, rel=0.1)  # uniform's variance
        assert not bias.any() and bias.shape == (fan_out,)
    assert weights[1][0].var() == pytest.approx(2.0 / 512, rel=0.05)    # He: 2 / fan_in
    # the project's setting keeps glorot everywhere, the same draws as before
    glorot = toy.initial_weights(5, "generator", [16, 64, 64, 2])
    assert np.abs(glorot[0][0]).max() <= math.sqrt(6.0 / 80)
    with pytest.raises(ValueError):
        toy.initial_weights(5, "generator", sizes, init="lecun")


def test_gan_toy_data_sets():
    rng = np.random.default_rng(0)
    roll = metrics.toy_sample("swissroll_gantoy", 20000, rng)
    assert roll.shape == (20000, 2) and roll.dtype == np.float32
    radius = np.hypot(roll[:, 0], roll[:, 1]) * 7.5         # |(x, z)| = t, plus noise
    assert radius.min() > 1.5 * math.pi - 1.5 and radius.max() < 4.5 * math.pi + 1.5
    assert np.abs(roll).max() < (4.5 * math.pi + 1.5) / 7.5 and np.abs(roll).max() > 1.7
    three = metrics.swiss_roll(20000, rng)                  # noise-free, by the definition
    t = np.hypot(three[:, 0], three[:, 2])
    assert t.min() >= 1.5 * math.pi and t.max() <= 4.5 * math.pi and t.max() > 14.0
    assert three[:, 1].min() >= 0 and three[:, 1].max() < 21 and three[:, 1].max() > 20.9
    noisy = metrics.swiss_roll(20000, rng, noise=0.25)[:, 1]
    assert (noisy - 10.5).std() == pytest.approx(math.sqrt(21 ** 2 / 12 + 0.25 ** 2), rel=0.02)

    centres, std = metrics.toy_spec("ring8_gantoy")
    np.testing.assert_allclose(np.hypot(centres[:, 0], centres[:, 1]), 2 / 1.414)
    assert std == pytest.approx(0.02 / 1.414)
    ring = metrics.toy_sample("ring8_gantoy", 8000, rng)
    mode, distance, k, _ = metrics.toy_modes("ring8_gantoy", ring)
    assert k == 8 and np.all(np.bincount(mode, minlength=8) > 850)
    assert np.sqrt(np.mean(distance ** 2) / 2) == pytest.approx(0.02 / 1.414, rel=0.05)
    grid, grid_std = metrics.toy_spec("grid25_gantoy")
    assert len(grid) == 25 and grid.max() == pytest.approx(4 / 2.828)
    assert grid_std == pytest.approx(0.05 / 2.828)
    for name, modes in [("swissroll_gantoy", metrics.SWISSROLL_SEGMENTS), ("ring8_gantoy", 8),
                        ("grid25_gantoy", 25)]:
        m = metrics.toy_metrics(name, metrics.toy_sample(name, 5000, rng))
        assert m["modes_covered"] == modes and m["high_quality"] > 0.97, name


@pytest.mark.parametrize("method", toy.METHODS)
def test_gan_toy_each_method_trains_to_finite_numbers(method):
    model = toy.ToyGAN(method, [0], **GAN_TOY_TINY)
    try:
        d_loss, g_loss, phases = model.train("swissroll_gantoy", [1, 2])
        samples = model.sample(40)
    finally:
        model.close()
    assert math.isfinite(d_loss) and math.isfinite(g_loss)
    assert samples.shape == (1, 40, 2) and np.all(np.isfinite(samples))
    assert len(phases) == 2
    for phase in phases:
        assert phase["levels"].shape == (1, toy.LEVEL_POINTS, toy.LEVEL_POINTS)
        assert np.all(np.isfinite(phase["levels"])) and phase["levels"].std() > 0
        assert phase["samples"].shape == (1, toy.PHASE_SAMPLES, 2)
    assert not np.array_equal(phases[0]["levels"], phases[1]["levels"])   # D moved


def test_phase_steps():
    assert toy.phase_steps(200, 4) == [50, 100, 150, 200]
    assert toy.phase_steps(7500, 4) == [1875, 3750, 5625, 7500]
    assert toy.phase_steps(2, 4) == [1, 2]


def test_gan_toy_cli_writes_levels_figure_and_redraws_it(tmp_path):
    assert toy.main(["--setting", "gan_toy", "--seeds", "2", "--steps", "2",
                     "--eval-samples", "40", "--datasets", "swissroll_gantoy",
                     "--methods", "gan", "wgan_gp", "--phases", "2", "--out", str(tmp_path)]) == 0
    study = json.loads((tmp_path / "toy_study.json").read_text())
    budget = study["budget"]
    assert budget["setting"] == "gan_toy" and budget["batch_size"] == 256
    assert budget["hidden"] == 512 and budget["depth"] == 3 and budget["init"] == "he"
    assert budget["lr"] == 1e-4 and budget["gp_lambda"] == 0.1 and budget["z_dim"] == 2
    assert budget["phases"] == 2 and budget["n_critic"]["wgan_gp"] == 5
    assert [r["dataset"] for r in study["summary"]] == ["swissroll_gantoy"] * 2
    figure = tmp_path / "toy_levels_swissroll_gantoy.png"
    with Image.open(figure) as image:
        pixels = np.asarray(image.convert("RGB")).astype(int)
    assert pixels.shape == (24 + 2 * 180 + 8, 110 + 2 * 180, 3)     # rows methods, cols phases
    orange = (pixels[..., 0] > 200) & (pixels[..., 1] > 90) & (pixels[..., 1] < 160) & (
        pixels[..., 2] < 60)
    blue = (pixels[..., 2] - pixels[..., 0] > 60)                    # the level sets
    assert orange.mean() > 0.002 and blue.mean() > 0.1
    with np.load(tmp_path / "toy_levels.npz") as npz:
        assert list(npz["steps"]) == [1, 2] and list(npz["seeds"]) == [0, 1]
        assert npz["levels_swissroll_gantoy"].shape == (2, 2, 2, 128, 128)
        assert npz["samples_swissroll_gantoy"].shape == (2, 2, 2, toy.PHASE_SAMPLES, 2)
        assert str(npz["command"]) == study["command"]
    drawn = figure.read_bytes()
    figure.unlink()
    assert toy.main(["--redraw", str(tmp_path)]) == 0
    assert figure.read_bytes() == drawn



def test_settings_refuse_each_others_data_sets(tmp_path, capsys):
    for flags in (["--setting", "gan_toy", "--datasets", "ring8"],
                  ["--datasets", "ring8_gantoy"]):
        with pytest.raises(SystemExit) as e:
            toy.main(flags + ["--out", str(tmp_path)])
        assert e.value.code == 2 and "not of --setting" in capsys.readouterr().err
    assert not (tmp_path / "toy_study.json").exists()


def test_level_panels_with_flat_and_nan_values(tmp_path):
    x = np.linspace(-1, 1, 16)
    good = np.add.outer(x, x)
    nan = np.full((16, 16), np.nan)
    real = np.array([[0.0, 0.0], [np.nan, 1.0]])
    path = plots.level_panels(str(tmp_path / "levels.png"), real,
                              [[(good, np.zeros((5, 2))), (np.ones((16, 16)), real)],
                               [(nan, np.full((3, 2), np.inf))]], extent=1.0,
                              row_labels=["a", "b"], col_labels=["1", "2"], corner_label="c")
    with Image.open(path) as image:
        assert image.size == (110 + 2 * 180, 24 + 2 * 180 + 8)
