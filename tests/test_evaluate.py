"""The judges and reproduce/evaluate.py on tiny runs."""

import json
import os

import numpy as np
import pytest

import data as data_lib
from conftest import dirs_in
from models import get_model
from models.cgan import CGAN
from models.gan import GAN
from models.infogan import InfoGAN
from reproduce import evaluate, judge as judge_lib


def _tiny_run(root, data_dir, model="dragan", steps=2):
    """Train a registered model for a few steps on the tiny blob MNIST; its run folder."""
    from models import get_model
    cls = get_model(model)
    config = cls.Config(dataset="mnist", data_dir=str(data_dir), batch_size=8, max_steps=steps,
                        sample_num=16, sample_every=1, save_every=0, log_every=1,
                        intra_op_threads=1, inter_op_threads=1, **dirs_in(root, model))
    with cls(config, cls.load_data(config)) as m:
        m.train()
        return m.checkpoint_folder


@pytest.fixture(scope="module")
def finished_runs(tmp_path_factory):
    """DRAGAN and GAN, 2 steps each on 64 blob 'digits', and the judge cache they share."""
    from conftest import make_tiny_mnist
    root = tmp_path_factory.mktemp("runs")
    data_dir = make_tiny_mnist(root)
    cache = root / "cache"
    old = os.environ.get("GAN_REPRO_CACHE_DIR")
    os.environ["GAN_REPRO_CACHE_DIR"] = str(cache)
    try:
        folders = [_tiny_run(root, data_dir, "dragan"), _tiny_run(root, data_dir, "gan")]
    finally:
        if old is None:
            os.environ.pop("GAN_REPRO_CACHE_DIR", None)
        else:
            os.environ["GAN_REPRO_CACHE_DIR"] = old
    return dict(root=root, data_dir=data_dir, cache=cache, folders=folders)


def test_judge_trains_caches_and_restores_the_same_predictions(tiny_mnist_dir, capsys):
    first = judge_lib.load_judge("mnist", data_dir=str(tiny_mnist_dir))
    folder = judge_lib.judge_folder("mnist")
    assert folder.startswith(os.environ["GAN_REPRO_CACHE_DIR"])
    assert os.path.exists(os.path.join(folder, "judge.json"))
    images = data_lib.load_idx_dataset("mnist", data_dir=str(tiny_mnist_dir),
                                       splits=("test",)).images
    probs, feats = first.predict(images)
    first.close()
    assert probs.shape == (24, 10) and feats.shape == (24, judge_lib.FEATURE_DIM)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    again = judge_lib.load_judge("mnist", data_dir=str(tiny_mnist_dir))
    np.testing.assert_array_equal(again.predict(images)[0], probs)
    again.close()
    out = capsys.readouterr().out
    assert "training" in out and out.count("test accuracy") >= 2     # printed when used


def test_evaluate_two_runs_end_to_end(finished_runs, tmp_path,
                                                                  monkeypatch, capsys):
    monkeypatch.setenv("GAN_REPRO_CACHE_DIR", str(finished_runs["cache"]))
    out_json = tmp_path / "eval.json"
    status = evaluate.main(finished_runs["folders"] + [
        "--samples", "40", "--json", str(out_json), "--figures", str(tmp_path / "fig")])
    stdout = capsys.readouterr().out
    assert status == 0, stdout
    report = json.loads(out_json.read_text())
    assert [r["model"] for r in report["runs"]] == ["DRAGAN", "GAN"]
    for r in report["runs"]:
        assert r["step"] == 2 and r["samples"] == 40 and r["train_seed"] == 547
        assert r["fid"] >= 0 and r["real"]["fid"] >= 0
        assert 1.0 <= r["score"] <= 10.0
        assert sum(r["histogram"]) == 40 and len(r["histogram"]) == 10
        assert len(r["blog_psnr"]["per_digit"]) == 10
        assert os.path.exists(r["mean_digits_png"])
        assert "judge" in r and "test_accuracy" in r["judge"]
    assert "classifier FID" in stdout and "real data (floor)" in stdout
    # The same seed draws the same samples: a second evaluation gives the same numbers.
    assert evaluate.main(finished_runs["folders"][:1] + ["--samples", "40", "--json",
                                                         str(tmp_path / "again.json")]) == 0
    again = json.loads((tmp_path / "again.json").read_text())["runs"][0]
    assert again["fid"] == report["runs"][0]["fid"]


def test_blog_psnr_from_grids_uses_the_saved_epoch_grids(finished_runs, monkeypatch, capsys):
    monkeypatch.setenv("GAN_REPRO_CACHE_DIR", str(finished_runs["cache"]))
    folder = finished_runs["folders"][0]
    # 64 images, batch 8: 8 steps an epoch; 2 steps saved no epoch grid.
    status = evaluate.main([folder, "--samples", "20", "--psnr-from", "grids"])
    err = capsys.readouterr().err
    assert status == 1 and "no epoch grids" in err and "Traceback" not in err
    # With a saved 4x4 grid (the run's step-2 grid standing in for an epoch grid) the
    # blog's PSNR comes from its 16 tiles.
    import glob
    import shutil
    train_grid = sorted(glob.glob(str(finished_runs["root"] / "**" / "DRAGAN_train_*.png"),
                                  recursive=True))[-1]
    epoch_grid = os.path.join(os.path.dirname(train_grid), "DRAGAN_epoch000_test_all_classes.png")
    shutil.copyfile(train_grid, epoch_grid)
    try:
        out_json = finished_runs["root"] / "grids.json"
        assert evaluate.main([folder, "--samples", "20", "--psnr-from", "grids",
                              "--json", str(out_json)]) == 0
    finally:
        os.remove(epoch_grid)
    psnr = json.loads(out_json.read_text())["runs"][0]["blog_psnr"]
    assert psnr["source"] == "grids: 16 tiles of 1 files" and len(psnr["per_digit"]) == 10


def test_evaluate_errors_are_one_line(tmp_path, capsys):
    assert evaluate.main([str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "no run folder" in err
    (tmp_path / "empty").mkdir()
    assert evaluate.main([str(tmp_path / "empty")]) == 1
    assert "holds no run" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        evaluate.main([str(tmp_path), "--samples", "x"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        evaluate.main([str(tmp_path), "--kept", "--draws", "1"])
    assert exit_info.value.code == 2 and "--draws must be >= 2" in capsys.readouterr().err


MNIST = os.path.join(os.environ.get("GAN_DATA_DIR", ""), "mnist", "t10k-images-idx3-ubyte.gz")


@pytest.mark.skipif(not os.path.exists(MNIST), reason="real MNIST needed ($GAN_DATA_DIR)")
def test_judge_learns_real_mnist_on_a_small_budget():
    # The cached judges train on all 60,000 images (MNIST >= 99%, several minutes on a CPU);
    # here one epoch on 5,000 of them (50 steps, about 12 s; 92.0% measured), which must
    # pass 88%.
    judge = judge_lib.train_judge("mnist", epochs=1, threads=2, train_subset=5000, log=None)
    judge.close()
    assert judge.info["test_accuracy"] >= 0.88, judge.info


@pytest.mark.skipif(not os.environ.get("GAN_REPRO_SLOW_TESTS"),
                    reason="trains the full judges (minutes): set GAN_REPRO_SLOW_TESTS=1")
@pytest.mark.parametrize("dataset", sorted(judge_lib.TARGETS))
def test_judges_reach_the_stated_accuracy(dataset):
    judge = judge_lib.train_judge(dataset, threads=2, log=None)
    judge.close()
    assert judge.info["test_accuracy"] >= judge_lib.TARGETS[dataset]["accuracy"], judge.info


class _PermutedJudge:
    """A stand-in judge: reads the digit a test image encodes and reports perm[digit]."""

    def __init__(self, perm):
        self.perm = np.asarray(perm)

    def predict(self, images):
        digits = self.perm[np.round(images[:, 0, 0, 0] * 9).astype(int)]
        probs = np.eye(10)[digits]
        return probs, np.concatenate([probs, images.reshape(len(images), -1)[:, :6]], axis=1)


def test_a_run_is_rebuilt_from_the_registry_key_in_its_config():
    # DCGAN and DCGAN Pokemon share the model name; the key tells them apart, whatever
    # data the run was trained on
    assert evaluate.model_class(dict(key="dcgan_pokemon", model="DCGAN",
                                     config=dict(dataset="mnist"))) is get_model("dcgan_pokemon")
    assert evaluate.model_class(dict(key="dcgan", model="DCGAN",
                                     config=dict(dataset="pokemon"))) is get_model("dcgan")
    # a run written before config.json had a key: the model name and default data set
    assert evaluate.model_class(dict(model="DCGAN", config=dict(dataset="pokemon"))) \
        is get_model("dcgan_pokemon")
    with pytest.raises(evaluate.CheckpointError, match="not registered"):
        evaluate.model_class(dict(key="nogan", model="NoGAN", config={}))


def test_conditional_and_infogan_metrics_are_wired_to_the_requested_codes():
    rng = np.random.default_rng(0)
    requested = np.arange(200) % 10
    samples = rng.random((200, 28, 28, 1)).astype(np.float32)
    samples[:, 0, 0, 0] = requested / 9.0
    perm = rng.permutation(10)
    judge = _PermutedJudge(perm)
    test_x = rng.random((50, 28, 28, 1)).astype(np.float32)
    test_y = np.arange(50) % 10
    floor = dict(test_features=judge.predict(test_x)[1])
    r = evaluate.evaluate_samples(judge, samples, requested, floor, test_x, test_y,
                                  InfoGAN.evaluations)
    assert r["infogan_c1"]["matching_accuracy"] == 1.0
    assert r["infogan_c1"]["mapping"] == perm.tolist()
    assert r["infogan_c1"]["identity_accuracy"] == pytest.approx(np.mean(perm == np.arange(10)))
    assert "conditional" not in r          # InfoGAN's c1 is not a label it was trained on
    assert r["histogram"] == [20] * 10 and r["score"] == pytest.approx(10.0)
    cond = evaluate.evaluate_samples(judge, samples, requested, floor, test_x, test_y,
                                     CGAN.evaluations)
    assert cond["conditional"]["accuracy"] == pytest.approx(np.mean(perm == np.arange(10)))
    assert "infogan_c1" not in cond
    plain = evaluate.evaluate_samples(judge, samples, None, floor, test_x, test_y,
                                      GAN.evaluations)
    assert "conditional" not in plain and "infogan_c1" not in plain
    assert sum(plain["blog_psnr"]["tiles_per_digit"]) == 200


def test_a_cached_judge_is_rebuilt_at_the_image_size_it_was_trained_at(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_REPRO_CACHE_DIR", str(tmp_path))
    with judge_lib.Judge(image_shape=(8, 8, 1)) as small:
        small.info = dict(dataset="mnist", test_accuracy=0.5, target_accuracy=0.99,
                          num_classes=10, image_shape=[8, 8, 1])
        small.save(judge_lib.judge_folder("mnist"))
        expected = small.predict(np.zeros((2, 8, 8, 1), np.float32))[0]
    with judge_lib.load_judge("mnist", log=None) as cached:
        assert cached.image_shape == (8, 8, 1)
        np.testing.assert_array_equal(cached.predict(np.zeros((2, 8, 8, 1), np.float32))[0],
                                      expected)


def test_sprite_measure_tells_real_from_shifted_and_copied_images():
    from reproduce import eval_sprites
    rng = np.random.default_rng(0)
    images = np.clip(rng.normal(0.7, 0.15, (200, 8, 8, 3)), 0, 1)
    reference, held_out = eval_sprites.halves(images)
    assert len(reference) == 100 and len(held_out) == 100
    alike = [np.clip(rng.normal(0.7, 0.15, (100, 8, 8, 3)), 0, 1) for _ in range(3)]
    r = eval_sprites.measure(reference, held_out, alike)
    assert r["draws"] == 3 and r["held_out"] == 100 and r["components"] == 50
    # Samples from the sprites' own distribution score near the floor ...
    assert r["pca_fd"] < 1.5 * r["floor_pca_fd"] and 0.8 < r["nn_ratio"] < 1.2
    # ... darker ones far above it; copies of the reference sit at distance 0.
    darker = eval_sprites.measure(reference, held_out, [s * 0.5 for s in alike])
    assert darker["pca_fd"] > 5 * r["floor_pca_fd"] and darker["nn_ratio"] > 1.2
    copies = eval_sprites.measure(reference, held_out, [reference[:100]] * 2)
    assert copies["nn_rms_median"] == pytest.approx(0.0, abs=1e-6) and copies["nn_ratio"] < 0.01


def test_evaluate_measures_a_pokemon_dcgan_run_against_the_sprites(tmp_path, tiny_sprite_dir,
                                                                   capsys):
    cls = get_model("dcgan_pokemon")
    config = cls.Config(data_dir=str(tiny_sprite_dir), batch_size=8, max_steps=2,
                        sample_num=16, sample_every=1, save_every=0, log_every=1,
                        intra_op_threads=1, inter_op_threads=1, **dirs_in(tmp_path, "poke"))
    with cls(config, cls.load_data(config)) as m:
        m.train()
        folder = m.checkpoint_folder
    out = tmp_path / "eval.json"
    assert evaluate.main([folder, "--json", str(out)]) == 0
    run = json.loads(out.read_text())["runs"][0]
    s = run["sprites"]
    assert s["reference"] == 8 and s["held_out"] == 8 and s["draws"] == 5
    assert np.isfinite(s["pca_fd"]) and s["pca_fd"] > 0 and np.isfinite(s["floor_pca_fd"])
    assert "fid" not in run and "pixel-PCA Frechet distance" in capsys.readouterr().out


def _blog_report(run, command="python -m reproduce.evaluate X"):
    return dict(command=command, samples=100, seed=0, runs=[run])


def _classifier_run(model, step, **extra):
    run = dict(model=model, step=step, epochs_done=step / 1875, run="$RUNS/x", checkpoint="c",
               command="scripts/run_x.py --seed 547", result_folder="$RUNS/none",
               log_folder="$RUNS/none", fid=5.0, score=9.0, kl_uniform=0.001,
               histogram=[10] * 10, blog_psnr=dict(per_digit=[70.0] * 10,
                                                   tiles_per_digit=[10] * 10),
               judge=dict(dataset="mnist", test_accuracy=0.99, target_accuracy=0.98),
               real=dict(fid=0.5, score=9.6, kl_uniform=0.002, histogram=[10] * 10,
                         psnr=[80.0] * 10))
    run.update(extra)
    return run


def _pairs(model_psnr, model_l1, better, baseline_psnr=18.0, baseline_l1=0.06):
    """One direction of a CycleGAN evaluation (eval_cyclegan.compare's keys), 5 pairs."""
    return dict(n=5, model_psnr=model_psnr, baseline_psnr=baseline_psnr, model_l1=model_l1,
                baseline_l1=baseline_l1, model_median_psnr=model_psnr,
                baseline_median_psnr=baseline_psnr, identical_pairs=0, better_psnr=better,
                better_l1=better)


def test_kept_checkpoints_are_measured_over_draws_into_rows_and_tensorboard(
        finished_runs, tmp_path, monkeypatch, capsys):
    from reproduce import quality
    monkeypatch.setenv("GAN_REPRO_CACHE_DIR", str(finished_runs["cache"]))
    cls = get_model("dragan")
    config = cls.Config(dataset="mnist", data_dir=str(finished_runs["data_dir"]), batch_size=8,
                        max_steps=3, keep_steps="1", keep_every=2, sample_num=16,
                        sample_every=10, save_every=0, log_every=10, intra_op_threads=1,
                        inter_op_threads=1, **dirs_in(tmp_path, "kept"))
    with cls(config, cls.load_data(config)) as m:
        m.train()
        folder, logs = m.checkpoint_folder, m.log_folder
    csv_path = tmp_path / "quality.csv"
    assert evaluate.main([folder, "--kept", "--draws", "2", "--samples", "20", "--full-samples",
                          "30", "--csv", str(csv_path)]) == 0
    assert "classifier_fid" in capsys.readouterr().out
    rows = quality.read_csv(str(csv_path))
    fid = [r for r in rows if r["measure"] == "classifier_fid"]
    assert sorted({(int(r["step"]), r["model"]) for r in fid}) == [
        (1, "DRAGAN"), (1, "real"), (2, "DRAGAN"), (2, "real"), (3, "DRAGAN"), (3, "real")]
    assert sorted({int(r["samples"]) for r in fid if r["step"] == "3"}) == [30]   # latest: full
    assert {r["draw"] for r in fid} == {"0", "1"}
    assert all(r["reference"].startswith("floor") for r in fid if r["model"] == "real")
    # TensorBoard: eval/* at the kept steps and the latest, beside the losses; measured
    # again, the eval file is replaced, not added to.
    scalars = quality.read_scalars(logs)
    assert list(scalars["eval/classifier_fid"][0]) == [1, 2, 3] and "d_loss" in scalars
    means = [np.mean([float(r["value"]) for r in fid if r["model"] == "DRAGAN"
                      and int(r["step"]) == s]) for s in (1, 2, 3)]
    np.testing.assert_allclose(scalars["eval/classifier_fid"][1], means, rtol=1e-5)
    assert evaluate.main([folder, "--kept", "--draws", "2", "--samples", "20",
                          "--full-samples", "30"]) == 0
    assert len([n for n in os.listdir(logs) if n.endswith(".eval")]) == 1


def test_image_statistics_of_the_infogan_code_sweep():
    from reproduce import quality
    bar = np.zeros((3, 28, 28, 1))
    for y in range(6, 22):
        bar[0, y, 14 + (14 - y) // 3, 0] = 1.0      # leans right going up
        bar[1, y, 14, 0] = 1.0                       # upright
        bar[2, y, 14 - (14 - y) // 3, 0] = 1.0      # leans left
    s = quality.slant(bar)
    assert s[0] > 0.2 and abs(s[1]) < 1e-9 and s[2] < -0.2
    thick = np.repeat(bar[1:2], 2, axis=0)
    thick[1, :, 15, 0] = thick[1, :, 14, 0]
    assert quality.ink(thick)[1] == 2 * quality.ink(thick)[0]
    assert quality.spearman(np.arange(5), np.arange(5) ** 3) == 1.0
    assert quality.spearman(np.arange(5), -np.arange(5)) == -1.0
    rng = np.random.default_rng(0)
    assert quality.diversity(np.repeat(bar[:1], 4, axis=0), rng) == 0.0
    assert quality.diversity(bar, rng) > 0.0


class _FakeSpriteModel:
    """Just what quality.evaluate_kept reads of a restored DCGAN Pokemon."""
    model_name, evaluations, steps_per_epoch, log_folder = "DCGAN", ("sprites",), 10, ""

    def __init__(self, images):
        self.dataset = type("D", (), dict(images=images))()
        self.config = type("C", (), dict(seed=547))()
        self.saver = type("S", (), dict(restore=lambda self, sess, prefix: None))()
        self.sess = None

    @classmethod
    def registry_key(cls):
        return "dcgan_pokemon"

    def close(self):
        pass


def test_sprite_rows_record_the_samples_they_measured(tmp_path, monkeypatch):
    from reproduce import quality
    images = np.random.default_rng(0).random((30, 6, 6, 3)).astype(np.float32)
    model = _FakeSpriteModel(images)
    monkeypatch.setattr(evaluate, "open_run", lambda path, data_dir, threads: (model, "p", 4))
    monkeypatch.setattr(evaluate, "run_folder", lambda path: str(tmp_path))
    asked = []

    def draw(m, n, seed):
        asked.append(n)
        return np.random.default_rng(seed + 1).random((n, 6, 6, 3)).astype(np.float32), None
    monkeypatch.setattr(quality, "_draw", draw)
    rows = quality.evaluate_kept(str(tmp_path), {}, draws=2, samples=2000, full_samples=10000,
                                 tensorboard=False)
    # 30 sprites: 15 held out; every draw is 15 samples, and the rows say so, not 10,000.
    assert asked == [15, 15]
    assert {(r["model"], r["measure"]) for r in rows} == {
        (who, m) for who in ("DCGAN", "real") for m in ("pca_fd", "nn_ratio")}
    assert {r["samples"] for r in rows} == {15}
    assert sorted(r["draw"] for r in rows if r["model"] == "DCGAN") == [0, 0, 1, 1]
