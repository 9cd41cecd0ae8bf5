"""Render the results page from the kept tidy data alone: python -m reproduce.render.

    python -m reproduce.render [--data reproduce/published/results_data]
        [--out reproduce/published/RESULTS.md]

Reads what `python -m reproduce.collect` wrote (measures/<recipe>.csv, training.csv, status.json,
toy.csv, recipes.json, measured.json, figures/; and looked.json, written by hand: what a person
saw in each grid), the models' blog cards
(models/cards.py) and the claims (reproduce/claims.py, decided here over seeds against
the evaluation's noise), and writes the page through the Jinja2 template
reproduce/templates/results.md.j2. It needs no run folder, imports no TensorFlow and
writes nothing but the page. Exit status: 0, 1 (missing or unreadable data), 2 (bad flags).
"""

import argparse
import glob
import json
import math
import os
import re
import sys

import pandas as pd

from errors import report
from models.cards import CARDS
from reproduce import claims as claims_lib

PROG = "python -m reproduce.render"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(REPO, "reproduce", "published", "results_data")
PUBLISHED = os.path.join(REPO, "reproduce", "published")
PAGE = os.path.join(PUBLISHED, "RESULTS.md")
TEMPLATES = os.path.join(REPO, "reproduce", "templates")
PER_DIGIT = re.compile(r"^(.*)_(\d)$")
# Measures shown in a recipe's table, in this order (the rest only in the data file).
TABLE_MEASURES = ("classifier_fid", "classifier_score", "confident_share", "kl_uniform",
                  "blog_psnr_mean", "blog_psnr_9", "label_accuracy", "c1_matching",
                  "code1_slant_rho", "code2_slant_rho", "code1_ink_rho", "code2_ink_rho",
                  "pca_fd", "nn_ratio", "psnr_ab", "psnr_ba", "l1_ab", "l1_ba", "cycle_l1_a",
                  "cycle_l1_b", "loss_balance")


def fmt(value, digits=3):
    """A number for the page: 3 significant-ish digits, '-' for a missing one."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    a = abs(value)
    if a >= 100:
        return "%.1f" % value
    if a >= 1:
        return "%.2f" % value
    return "%.*f" % (digits + 1, value)


def pm(mean, sd):
    return fmt(mean) if sd is None or (isinstance(sd, float) and math.isnan(sd)) else \
        "%s ± %s" % (fmt(mean), fmt(sd))


# ---- reading -------------------------------------------------------------------------------

def read_data(data):
    paths = sorted(glob.glob(os.path.join(data, "measures", "*.csv")))
    if not paths:
        raise FileNotFoundError("no %s: run `python -m reproduce.collect` first"
                                % os.path.join(data, "measures", "<recipe>.csv"))
    m = pd.concat([pd.read_csv(p, dtype={"seed": "string"}) for p in paths],
                  ignore_index=True)
    m["seed"] = m.seed.fillna("")
    m["step"] = pd.to_numeric(m.step, errors="coerce")
    m["epochs"] = pd.to_numeric(m.epochs, errors="coerce")
    m["value"] = pd.to_numeric(m.value, errors="coerce")
    m["samples"] = pd.to_numeric(m.samples, errors="coerce").fillna(0).astype(int)
    m["reference"] = m.reference.fillna("")
    t_path = os.path.join(data, "training.csv")
    training = pd.read_csv(t_path) if os.path.exists(t_path) else pd.DataFrame()

    def js(name):
        p = os.path.join(data, name)
        return json.load(open(p)) if os.path.exists(p) else {}
    toy_path = os.path.join(data, "toy.csv")
    toy = pd.read_csv(toy_path) if os.path.exists(toy_path) else pd.DataFrame()
    return dict(measures=m, training=training, status=js("status.json"), toy=toy,
                recipes=js("recipes.json"), measured=js("measured.json"),
                looked=js("looked.json"))


# ---- tables ----------------------------------------------------------------------------------

def _reference(m, recipe, key, measure, samples):
    real = m[(m.model == "real") & (m.measure == measure)]
    own = real[(real.recipe == recipe) & (real.key == key)]
    if own.empty:
        own = real[real.recipe == recipe]
    if own.empty:
        return None
    same = own[own.samples == samples] if samples in set(own.samples) else own
    return dict(value=pm(same.value.mean(), same.value.std(ddof=1) if len(same) > 1 else None),
                what=same.reference.iloc[0].split(":")[0] or "real")


def recipe_table(m, recipe, key, points):
    """Rows (measure, per point: mean ± sd over seeds, noise, seeds, reference)."""
    rows = []
    gen = m[(m.recipe == recipe) & (m.key == key) & (m.model != "real")]
    for measure in TABLE_MEASURES:
        sub = gen[gen.measure == measure]
        if sub.empty:
            continue
        cells = []
        for step in points:
            at = sub[sub.step == step]
            if at.empty:
                cells.append("-")
                continue
            per_seed = at.groupby("seed").value.agg(["mean", "std", "count"])
            noise = per_seed["std"].mean() if per_seed["count"].min() > 1 else None
            cells.append("%s (noise %s, %d seed%s)" % (
                pm(per_seed["mean"].mean(), per_seed["mean"].std(ddof=1)
                   if len(per_seed) > 1 else None), fmt(noise), len(per_seed),
                "" if len(per_seed) == 1 else "s"))
        samples = int(sub[sub.step == max(points)].samples.max()) if not sub[
            sub.step == max(points)].empty else None
        ref = _reference(m, recipe, key, measure, samples)
        rows.append(dict(measure=claims_lib.MEASURE_LABELS.get(measure, measure),
                         name=measure, cells=cells,
                         reference="%s (%s)" % (ref["value"], ref["what"]) if ref else "-"))
    return rows


def digit_table(m, recipe, key, step):
    """Per digit at `step`: label accuracy, diversity over the real one's, class FID."""
    at = m[(m.recipe == recipe) & (m.key == key) & (m.step == step)]
    if at[at.measure.str.startswith("class_diversity_")].empty:
        return []
    out = []
    for d in range(10):
        def mean(name, real=False, d=d):
            x = at[(at.measure == "%s_%d" % (name, d)) & ((at.model == "real") if real
                                                        else (at.model != "real"))]
            return x.groupby("seed").value.mean() if not x.empty else None
        acc, div, rdiv, fid = (mean("label_accuracy"), mean("class_diversity"),
                               mean("class_diversity", True), mean("class_fid"))
        ratio = (div / rdiv).dropna() if div is not None and rdiv is not None else None
        out.append(dict(digit=d, accuracy=pm(acc.mean(), acc.std(ddof=1) if len(acc) > 1
                                             else None) if acc is not None else "-",
                        diversity=pm(ratio.mean(), ratio.std(ddof=1) if len(ratio) > 1 else
                                     None) if ratio is not None and len(ratio) else "-",
                        fid=pm(fid.mean(), fid.std(ddof=1) if len(fid) > 1 else None)
                        if fid is not None else "-"))
    return out


def _hms(seconds):
    seconds = int(round(seconds))
    return "%d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60)


def training_lines(training, recipe):
    if training.empty:
        return []
    t = training[training.recipe == recipe]
    out = []
    for seed, rows in t.groupby("seed"):
        secs = pd.to_numeric(rows.seconds, errors="coerce").sum()
        devices = sorted({str(d) for d in rows.device.dropna() if str(d)})
        out.append("seed %s: %s of training in %d attempt%s, one thread%s" % (
            seed, _hms(secs), len(rows), "" if len(rows) == 1 else "s",
            " (%s)" % ", ".join(devices) if devices else ""))
    return out


# ---- the page ---------------------------------------------------------------------------------

def _points(m, status, recipe, key, card):
    steps = sorted({int(s) for s in m[(m.recipe == recipe) & (m.key == key)
                                       & (m.model != "real")].step.dropna()})
    if not steps:
        return []
    full = m[(m.recipe == recipe) & (m.key == key) & (m.model != "real")]
    big = sorted({int(s) for s in full[full.samples == full.samples.max()].step.dropna()})
    return big[-4:] if big else steps[-1:]


def model_sections(data, decided):
    m, status = data["measures"], data["status"]
    sections = []
    for key, card in CARDS.items():
        recipes = sorted(set(m[(m.key == key) & (m.model != "real")].recipe) |
                         {r for r, seeds in status.items() if r.startswith(key) and
                          not any(r.startswith(k) and len(k) > len(key) for k in CARDS)})
        if not recipes:
            continue
        parts = []
        for recipe in recipes:
            points = _points(m, status, recipe, key, card)
            others = {c.name for c in CARDS.values()} - {card.name}
            grids = sorted(n for n in (os.path.basename(p) for p in _figures(
                data, recipe + "_seed")) if n[:-len(".png")].rsplit("_", 1)[-1] not in others)
            longer = [r + "_" for r in set(m.recipe) | set(status)
                      if r != recipe and r.startswith(recipe + "_")]
            curves = sorted(n for n in (os.path.basename(p) for p in _figures(
                data, recipe + "_")) if "_seed" not in n and not n.startswith(tuple(longer)))
            real = m[(m.recipe == recipe) & (m.model == "real")]
            parts.append(dict(
                references=sorted(set(real.reference) - {""}),
                recipe=recipe, status=status.get(recipe, {}),
                points=points, table=recipe_table(m, recipe, key, points) if points else [],
                digits=digit_table(m, recipe, key, points[-1]) if points else [],
                training=training_lines(data["training"], recipe),
                curves=curves, grids=grids,
                looked=[(g, data["looked"][g]) for g in grids if g in data["looked"]]))
        sections.append(dict(card=card._asdict(), parts=parts,
                             claims=[c for c in decided if c["blog"] == key]))
    return sections


def _figures(data, prefix):
    folder = os.path.join(data["folder"], "figures")
    if not os.path.isdir(folder):
        return []
    return [os.path.join(folder, n) for n in os.listdir(folder)
            if n.startswith(prefix) and n.endswith(".png")]


def toy_tables(toy):
    if toy.empty:
        return []
    out = []
    for study, s in toy.groupby("study", sort=False):
        cov = s[s.measure == "modes_covered"]
        modes = s[s.measure == "num_modes"].groupby("dataset").value.first()
        rows = []
        for (dataset, method), g in cov.groupby(["dataset", "method"]):
            rows.append(dict(dataset=dataset, method=method, modes="%s of %d" % (
                pm(g.value.mean(), g.value.std(ddof=1) if len(g) > 1 else None),
                modes.get(dataset, 0)), seeds=len(g),
                collapsed=int((g.value < modes.get(dataset, 0)).sum())))
        folder = str(s.folder.iloc[0]) if "folder" in s else ""
        pngs = sorted(n for n in os.listdir(os.path.join(PUBLISHED, folder))
                      if n.endswith(".png")) if folder and os.path.isdir(
            os.path.join(PUBLISHED, folder)) else []
        out.append(dict(study=study, steps=int(s.steps.iloc[0]), rows=rows,
                        figures=["%s/%s" % (folder, n) for n in pngs]))
    return out


def claim_rows(decided):
    out = []
    for c in decided:
        result = ("%s vs %s" % (pm(c["a_mean"], c["a_sd"]), pm(c["b_mean"], c["b_sd"]))
                  if c["seeds"] else "not measured yet")
        out.append(dict(c, result=result, noise_text=fmt(c["noise"]),
                        seeds_text="%d for, %d against, %d tied of %d (%s)" % (
                            c["n_for"], c["n_against"], c["n_tie"], c["seeds"],
                            ", ".join(str(r["seed"]) for r in c["per_seed"]))
                        if c["seeds"] else "0"))
    return out


def render(data_dir=DATA, out=PAGE):
    import jinja2
    data = read_data(data_dir)
    data["folder"] = data_dir
    decided = claim_rows(claims_lib.decide(data["measures"]))
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined)
    rel = os.path.relpath(os.path.join(data_dir, "figures"), os.path.dirname(os.path.abspath(
        out)))
    text = env.get_template("results.md.j2").render(
        claims=decided, sections=model_sections(data, decided),
        toy=toy_tables(data["toy"]), recipes=data["recipes"], measured=data["measured"],
        figures=rel, verdicts=_count(decided), fmt=fmt, pm=pm)
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, out)
    return text


def _count(decided):
    out = {}
    for c in decided:
        out[c["verdict"]] = out.get(c["verdict"], 0) + 1
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=DATA, metavar="DIR",
                        help="the tidy data folder [default: reproduce/published/results_data]")
    parser.add_argument("--out", default=PAGE, metavar="PATH",
                        help="the page [default: reproduce/published/RESULTS.md]")
    args = parser.parse_args(argv)
    try:
        render(args.data, args.out)
    except (OSError, ValueError, KeyError) as e:
        return report(PROG, e)
    print("wrote %s" % args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
