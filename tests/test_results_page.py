"""The results page: claims decided over seeds against the evaluation's noise
(reproduce/claims.py), and the page rendered from the kept tidy data alone
(reproduce/render.py): no run folder, no TensorFlow, nothing written but the page."""

import hashlib
import os
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from models import MODELS
from models.cards import CARDS
from reproduce import claims, render

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(REPO, "reproduce", "published", "results_data")


def rows(recipe, key, seed, step, measure, values, model="M"):
    return [dict(recipe=recipe, run="", model=model, key=key, seed=str(seed), step=step,
                 epochs=step / 10.0, measure=measure, draw=d, value=v, samples=100,
                 reference="floor: x" if model == "real" else "")
            for d, v in enumerate(values)]


def decide(frame, claim):
    return claims.decide(pd.DataFrame(frame), [claim])[0]


PAIR = claims.Claim("c", "a", "a beats b", "test", "fid", "lower", "pair",
                    claims.Side("r", "a", ("step", 10), label="a"),
                    claims.Side("r", "b", ("step", 10), label="b"))


def test_a_pair_claim_holds_only_beyond_the_noise_in_every_seed():
    clear = []
    for seed in (1, 2, 3):
        clear += rows("r", "a", seed, 10, "fid", [1.0, 1.1]) + rows("r", "b", seed, 10, "fid",
                                                                    [2.0, 2.1])
    got = decide(clear, PAIR)
    assert (got["verdict"], got["n_for"], got["seeds"]) == ("holds", 3, 3)
    assert got["a_mean"] == pytest.approx(1.05) and got["diff_mean"] == pytest.approx(1.0)
    # The same means with draws spread wider than the gap: no difference, does not hold.
    noisy = []
    for seed in (1, 2, 3):
        noisy += rows("r", "a", seed, 10, "fid", [0.0, 2.1]) + rows("r", "b", seed, 10, "fid",
                                                                    [1.0, 3.1])
    got = decide(noisy, PAIR)
    assert (got["verdict"], got["n_tie"]) == ("does not hold", 3)
    # Seeds that disagree, one seed, or a single draw: undecided.
    mixed = clear[:4] + rows("r", "a", 9, 10, "fid", [3.0, 3.1]) + rows("r", "b", 9, 10, "fid",
                                                                       [1.0, 1.1])
    assert decide(mixed, PAIR)["verdict"] == "undecided"
    assert decide(clear[:4], PAIR)["why"] == "one seed"
    single = [r for r in clear if r["draw"] == 0]
    assert "no spread" in decide(single, PAIR)["why"]
    assert decide([], PAIR)["why"] == "no run measured yet"


def test_a_claim_is_decided_from_the_first_recipe_in_which_every_side_has_rows():
    claim = PAIR._replace(a=PAIR.a._replace(recipe=("new", "old")),
                          b=PAIR.b._replace(recipe=("new", "old")))
    old = []
    for seed in (1, 2):
        old += rows("old", "a", seed, 10, "fid", [1.0]) + rows("old", "b", seed, 10, "fid",
                                                                [2.0])
    got = decide(old, claim)                # only the older single-draw recipe is in
    assert (got["a"].recipe, got["a_label"]) == ("old", "a (old runs)")
    assert "no spread" in got["why"]
    half = old + rows("new", "a", 1, 10, "fid", [5.0, 5.1])     # one side of the rerun only
    assert decide(half, claim)["a"].recipe == "old"
    new = half + rows("new", "b", 1, 10, "fid", [1.0, 1.1])
    got = decide(new, claim)
    assert (got["a"].recipe, got["b"].recipe, got["a_label"]) == ("new", "new", "a")
    assert (got["n_against"], got["why"]) == (1, "one seed")


def test_reach_and_threshold_claims_use_the_real_data_and_the_stated_threshold():
    reach = claims.Claim("r", "a", "as good as real", "test", "acc", "higher", "reach",
                         claims.Side("r", "a", ("step", 10), label="a"))
    data = []
    for seed in (1, 2):
        data += rows("r", "a", seed, 10, "acc", [0.97, 0.98])
        data += rows("r", "a", seed, 10, "acc", [0.99, 0.99], model="real")
    got = decide(data, reach)
    assert got["verdict"] == "does not hold" and got["b_label"] == "real data"
    near = [dict(r, value=0.985) if r["model"] == "M" and r["draw"] == 0 else r for r in data]
    near = [dict(r, value=0.995) if r["model"] == "M" and r["draw"] == 1 else r for r in near]
    assert decide(near, reach)["verdict"] == "holds"        # within the noise of real
    varied = claims.Claim("v", "a", "varied", "test", "min_class_diversity_ratio", "higher",
                          "threshold", claims.Side("r", "a", ("step", 10)), threshold=0.5)
    div = []
    for seed in (1, 2):
        for d in range(10):
            gen = 0.1 if d == 7 else 0.3
            div += rows("r", "a", seed, 10, "class_diversity_%d" % d, [gen, gen + 0.001])
            div += rows("r", "a", seed, 10, "class_diversity_%d" % d, [0.3, 0.3], model="real")
    got = decide(div, varied)
    assert got["verdict"] == "does not hold" and got["a_mean"] == pytest.approx(0.1 / 0.3, 1e-2)


def test_the_claims_cover_every_blog_model_and_name_their_measures():
    assert len(claims.CLAIMS) >= 12
    assert len({c.id for c in claims.CLAIMS}) == len(claims.CLAIMS)
    covered = {c.blog for c in claims.CLAIMS}
    for key in ("dcgan", "dcgan_pokemon", "wgan_gp", "cgan", "acgan", "infogan", "cyclegan",
                "dragan"):
        assert key in covered, key
    for c in claims.CLAIMS:
        assert c.a.key in MODELS and (c.b is None or c.b.key in MODELS)
        assert c.kind in ("pair", "reach", "beat", "threshold") and c.better in (
            "lower", "higher")


def _tree(folder):
    out = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, folder)] = hashlib.sha256(f.read()).hexdigest()
    return out


def test_render_rebuilds_the_committed_page_without_tensorflow_or_run_folders(tmp_path):
    """From the kept data alone, in a process that must not import TensorFlow, render
    writes the page and nothing else; it is the committed page, byte for byte."""
    data = tmp_path / "results_data"
    shutil.copytree(DATA, data)
    before = _tree(str(data))
    page = tmp_path / "RESULTS.md"
    code = ("import sys; from reproduce import render; "
            "render.render(sys.argv[1], sys.argv[2]); "
            "print('tensorflow' in sys.modules, 'models.base' in sys.modules)")
    env = dict(os.environ, GAN_DATA_DIR=str(tmp_path / "no-data"))
    out = subprocess.run([sys.executable, "-c", code, str(data), str(page)], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]
    assert _tree(str(data)) == before                          # nothing else written
    assert sorted(os.listdir(tmp_path)) == ["RESULTS.md", "no-data", "results_data"] or \
        sorted(os.listdir(tmp_path)) == ["RESULTS.md", "results_data"]
    text = page.read_text()
    # figures resolve from the page's folder in the copy as in the repository
    committed = os.path.join(REPO, "reproduce", "published", "RESULTS.md")
    with open(committed) as f:
        assert text == f.read(), "RESULTS.md is stale: run python -m reproduce.render"
    top = text[text.index("## The blogs' claims"):text.index("## Model by model")]
    table = [line for line in top.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(table) - 1 == len(claims.CLAIMS) >= 12
    for line in table[1:]:
        assert re.search(r"\*\*(holds|does not hold|undecided)\*\*", line), line


def test_the_render_code_names_no_model():
    with open(render.__file__) as f:
        code = f.read()
    with open(os.path.join(REPO, "reproduce", "templates", "results.md.j2")) as f:
        template = f.read()
    names = set(MODELS) | {c.name for c in CARDS.values()}
    for name in names:
        assert not re.search(r"['\"]%s['\"]" % re.escape(name), code), name
        assert not re.search(r"\b%s\b" % re.escape(name), template, re.IGNORECASE), name
