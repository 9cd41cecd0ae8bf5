"""The 2-D toy study (reproduce/toy.py) on a tiny budget."""

import json

import numpy as np
import pytest

from reproduce import toy

TINY = dict(steps=3, batch_size=16, hidden=8, z_dim=4, eval_samples=60)


@pytest.mark.parametrize("method", ["dragan_blog", "wgan_gp"])     # both penalty paths
def test_a_seed_trains_the_same_alone_or_beside_others(method):
    together = toy.run_method("ring8", method, [0, 1], **TINY)
    alone = toy.run_method("ring8", method, [1], **TINY)
    assert [r["seed"] for r, _ in together] == [0, 1]
    np.testing.assert_allclose(together[1][1], alone[0][1], rtol=1e-5, atol=1e-6)
    assert not np.allclose(together[0][1], together[1][1])      # seeds differ
    for result, samples in together:
        assert samples.shape == (60, 2) and np.all(np.isfinite(samples))
        assert 0 <= result["modes_covered"] <= result["num_modes"] == 8


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

    from reproduce import results
    page = tmp_path / "page" / "RESULTS.md"
    page.parent.mkdir()
    assert results.main(["--toy", str(tmp_path), "--out", str(page)]) == 0
    text = page.read_text()
    assert "| ring8 | dragan_paper | 2 |" in text and "figures/toy_ring8.png" in text
    assert (page.parent / "figures" / "toy_swissroll.png").exists()
    assert "- Toy ring8 (Adam lr 0.001, 2 generator steps): collapsed seeds of 2: gan" in text
    assert "python -m reproduce.toy --seeds 2" in text          # the command that made it

    # A second study at another learning rate: both on one page, plots apart.
    other = tmp_path / "lr"
    assert toy.main(["--seeds", "2", "--steps", "3", "--eval-samples", "40", "--lr", "1e-4",
                     "--datasets", "ring8", "--methods", "gan", "dragan_blog",
                     "--plot-seeds", "1", "--out", str(other)]) == 0
    with np.load(other / "toy_samples.npz") as npz:                    # only the plotted seed
        assert list(npz["seeds"]) == [0] and npz["ring8"].shape == (2, 1, 40, 2)
    assert json.loads((other / "toy_study.json").read_text())["budget"]["lr"] == 1e-4
    assert results.main(["--toy", str(tmp_path), "--toy", str(other), "--out", str(page)]) == 0
    text = page.read_text()
    assert "## Toy study: mode collapse on 2-D data (Adam lr 0.0001, 3 generator steps)" in text
    assert "figures/study1_toy_swissroll.png" in text and "figures/study2_toy_ring8.png" in text
    assert (page.parent / "figures" / "study2_toy_ring8.png").exists()
    assert "- Toy ring8 (Adam lr 0.0001, 3 generator steps): collapsed seeds of 2: gan" in text
    assert "; mean reverse KL gan " in text
    assert "--toy %s --toy %s" % (tmp_path, other) in text


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
    tasks = [("ring8", "gan"), ("swissroll", "dragan_paper")]
    one = list(toy._run_all(tasks, [0, 1], 1, TINY))
    two = list(toy._run_all(tasks, [0, 1], 2, TINY))
    assert [[r["dataset"] for r, _ in runs] for runs in two] == [["ring8"] * 2, ["swissroll"] * 2]
    for a_runs, b_runs in zip(one, two):
        for (a, a_samples), (b, b_samples) in zip(a_runs, b_runs):
            np.testing.assert_array_equal(a_samples, b_samples)
            assert {k: v for k, v in a.items() if k != "seconds"} == \
                {k: v for k, v in b.items() if k != "seconds"}
