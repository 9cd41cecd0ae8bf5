"""Collect finished runs into the results page's tidy data: python -m reproduce.collect.

    python -m reproduce.collect --runs ~/gan-runs [--out reproduce/published/results_data]

Reads the run folders of the blog_seeds recipe (reproduce/experiments.py) and the kept
evaluations of earlier recipes, and writes, under --out:

- measures/<recipe>.csv: one row per recipe, model, seed, step, measure and sample draw
  (the columns of reproduce/quality.py plus `recipe`; `run` is empty for the blog_seeds
  runs, whose folders status.json names); the real data's rows have model "real";
- training.csv: one row per training attempt of a run (from its `attempts.jsonl`, which
  the Trainer writes; for a run made before that file existed, from the runner's
  done-marker of its job): recipe, key, seed, from_step, to_step, seconds, ended_by,
  device, threads, host, started, ended;
- status.json: per recipe and seed, the run folder, the step reached and planned, and
  whether it is finished, running or not started;
- toy.csv: the toy studies' runs (study, dataset, method, seed, measure, value);
- figures/: the sample grids at each card's shown points and at each run's end (enlarged
  to at least 320 pixels wide, nearest neighbour), and the measures over training per
  recipe (one line per seed, the spread over draws as error bars).

Everything the page (`python -m reproduce.render`) shows comes from these files, so it
rebuilds without the run folders. Only what is found is written over: a recipe whose run
folders are gone keeps its rows. Exit status: 0, 1 (unreadable input), 2 (bad flags).
"""

import argparse
import csv
import glob
import json
import os
import re
import sys

import numpy as np

import utils
from errors import GanReproError, report
from reproduce import experiments, quality

PROG = "python -m reproduce.collect"
OUT = os.path.join(experiments.REPO, experiments.RESULTS_DATA)
MEASURE_FIELDS = ("recipe",) + quality.FIELDS
TRAIN_FIELDS = ("recipe", "key", "seed", "job", "from_step", "to_step", "seconds", "ended_by",
                "device", "threads", "host", "started", "ended")
TOY_STUDIES = (("toy_study", "toy"), ("toy_study_lr1e-4", "toy_lr1e-4"),
               ("toy_study_lr1e-4_100k", "toy_lr1e-4_100k"),
               ("toy_study_gan_toy", "toy_gan_toy"))
MEASURES = "measures"      # the folder of measure rows under --out, a file per recipe
_GRID = re.compile(r"_(\d+)_(\d+)\.png$")


# ---- the blog_seeds runs --------------------------------------------------------------

def seed_plan():
    """[(recipe, key, seed, run folder below $RUNS, planned last step or None)]: every
    training run of the blog_seeds recipe, the longer one where seed 547 has it."""
    out = {}
    for j in experiments.seed_jobs(experiments.SHORT_SEEDS):
        if j.kind != "train":
            continue
        recipe = j.argv[j.argv.index("--checkpoint-dir") + 1].split("/")[2]
        key = os.path.basename(j.argv[1])[len("run_"):-len(".py")]
        seed = int(j.argv[j.argv.index("--seed") + 1])
        out[(recipe, seed)] = (recipe, key, seed, os.path.dirname(j.outputs[0]), j)
    return list(out.values())


def _runs_path(path, runs):
    return path.replace("$RUNS", runs)


def _relative(path, runs):
    path = os.path.abspath(path)
    runs = os.path.abspath(runs)
    return "$RUNS" + path[len(runs):] if path.startswith(runs) else path


def collect_seed_runs(runs, figures):
    """(measure rows, training rows, status) of the blog_seeds runs found under `runs`."""
    from models.cards import CARDS
    measures, training, status = [], [], {}
    for recipe, key, seed, run, job in seed_plan():
        folder = _runs_path(run, runs)
        state_path = os.path.join(folder, "state.json")
        entry = status.setdefault(recipe, {})
        if not os.path.exists(state_path):
            entry[str(seed)] = dict(state="not started")
            continue
        state = utils.read_json(state_path)
        flags = job.argv[2:]
        planned = _planned_steps(flags, state)
        done = state["step"] >= planned if planned else False
        entry[str(seed)] = dict(run=_relative(folder, runs), step=state["step"], planned=planned,
                                steps_per_epoch=state["steps_per_epoch"],
                                epochs=round(state["step"] / state["steps_per_epoch"], 2),
                                state="finished" if done else "running or stopped")
        base = os.path.dirname(os.path.dirname(os.path.dirname(folder)))     # seed folder
        q = os.path.join(base, "quality.csv")
        if os.path.exists(q):
            for r in quality.read_csv(q):
                r["recipe"], r["run"] = recipe, ""     # the run folder: status.json
                measures.append(r)
            entry[str(seed)]["measured_to"] = max(int(r["step"]) for r in quality.read_csv(q))
        if done and recipe in _balance_recipes():
            measures += loss_balance_rows(recipe, key, seed, base, state, runs)
        training += _attempts(recipe, key, seed, folder, job, runs)
        card = CARDS[key]
        results = folder.replace("/checkpoint/", "/results/", 1)
        for stale in glob.glob(os.path.join(figures, "%s_seed%d_step*.png" % (recipe, seed))):
            os.remove(stale)            # a running run's grids of an earlier collect
        points = set(_shown_steps(card, state["steps_per_epoch"])) | {state["step"]}
        for step in sorted(points):
            if step <= state["step"]:
                _copy_grids(results, step, os.path.join(
                    figures, "%s_seed%d_step%d" % (recipe, seed, step)))
    return measures, training, status


BALANCE_STEPS, BALANCE_BLOCKS = 500, 5


def _balance_recipes():
    """The recipes a claim judges by the loss balance (reproduce/claims.py)."""
    from reproduce.claims import CLAIMS
    out = set()
    for c in CLAIMS:
        if c.measure == "loss_balance":
            for side in (c.a, c.b):
                out.add(side.recipe[0] if isinstance(side.recipe, tuple) else side.recipe)
    return out


def loss_balance_rows(recipe, key, seed, base, state, runs):
    """g_loss - d_loss over the last BALANCE_STEPS steps of a finished run, from its
    TensorBoard scalars (logged every step), as measure rows: one "draw" per block of
    BALANCE_STEPS / BALANCE_BLOCKS consecutive steps, so the spread between blocks is the
    measure's own noise."""
    from models.cards import CARDS
    found = {}
    for logs in glob.glob(os.path.join(base, "logs", "*")):
        found.update(quality.read_scalars(logs, ("g_loss", "d_loss")))
    if "g_loss" not in found or "d_loss" not in found:
        return []
    end = state["step"]
    g = dict(zip(*found["g_loss"]))
    d = dict(zip(*found["d_loss"]))
    steps = [s for s in range(end - BALANCE_STEPS + 1, end + 1) if s in g and s in d]
    if len(steps) < BALANCE_STEPS:
        return []
    rows = []
    for i, block in enumerate(np.array_split(np.array(steps), BALANCE_BLOCKS)):
        rows.append(dict(recipe=recipe, run="", model=CARDS[key].name, key=key,
                         seed=seed, step=end, epochs=round(end / state["steps_per_epoch"], 3),
                         measure="loss_balance", draw=i,
                         value=float(np.mean([g[s] - d[s] for s in block])), samples="",
                         reference="steps %d-%d, block %d of %d" % (
                             block[0], block[-1], i + 1, BALANCE_BLOCKS)))
    return rows


def _planned_steps(flags, state):
    if "--max-steps" in flags:
        return int(flags[flags.index("--max-steps") + 1])
    if "--epochs" in flags:
        return int(flags[flags.index("--epochs") + 1]) * state["steps_per_epoch"]
    return None


def _shown_steps(card, steps_per_epoch):
    from models.cards import steps_of
    return steps_of(card, card.shown, steps_per_epoch)


def _attempts(recipe, key, seed, folder, job, runs):
    """Training rows of a run: its attempts.jsonl, else the runner's done-marker."""
    path = os.path.join(folder, "attempts.jsonl")
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.strip():
                    a = json.loads(line)
                    device = a.get("device") or {}
                    rows.append(dict(recipe=recipe, key=key, seed=seed, job=job.name,
                                     from_step=a["from_step"], to_step=a["to_step"],
                                     seconds=a["seconds"], ended_by=a["ended_by"],
                                     device=device.get("name", ""),
                                     threads="x".join(map(str, a.get("threads", []))),
                                     host=a.get("host", ""), started=a.get("started", ""),
                                     ended=a.get("ended", "")))
        return rows
    jobs = os.path.join(runs, "blog_seeds", "jobs")
    for marker in sorted(glob.glob(os.path.join(jobs, "%s_seed%d*.done.json" % (recipe, seed)))):
        m = utils.read_json(marker)
        rows.append(dict(recipe=recipe, key=key, seed=seed, job=os.path.basename(marker)[
            :-len(".done.json")], from_step="", to_step="", seconds=m.get("seconds", ""),
            ended_by="done", device=m.get("cpu", ""), threads="1x1", host=m.get("where", ""),
            started="", ended=m.get("finished", "")))
    return rows


def _copy_grids(results, step, prefix):
    """Every grid kind the run saved at `step` (or the last one before it), enlarged."""
    from reproduce.plots import copy_enlarged
    if not os.path.isdir(results):
        return
    state = utils.read_json(os.path.join(results.replace("/results/", "/checkpoint/", 1),
                                         "state.json"))
    spe = state["steps_per_epoch"]
    kinds = {}
    for path in glob.glob(os.path.join(results, "*.png")):
        name = os.path.basename(path)
        m = _GRID.search(name)
        if not m or "_epoch" in name:
            continue
        s = int(m.group(1)) * spe + int(m.group(2))
        kind = name[:m.start()].split("_", 1)[-1]
        if s <= step and (kind not in kinds or kinds[kind][0] < s):
            kinds[kind] = (s, path)
    for kind, (_, path) in kinds.items():
        copy_enlarged(path, "%s_%s.png" % (prefix, kind))


# ---- earlier recipes' kept evaluations ------------------------------------------------

def dragan_rows(data):
    """The dragan_vs_gan_mnist evaluations kept as JSON (one draw each: their run folders
    are gone) and the loss balance, as measure rows."""
    folder = os.path.join(data, "dragan_vs_gan_mnist")
    rows = []
    for path in sorted(glob.glob(os.path.join(folder, "seed*_eval_*ep.json"))):
        for r in utils.read_json(path)["runs"]:
            key = r["model"].lower()
            base = dict(recipe="dragan_vs_gan_mnist", run=r["run"], model=r["model"], key=key,
                        seed=r["train_seed"], step=r["step"], epochs=r["epochs_done"], draw=0,
                        samples=r["samples"], reference="")
            psnr = np.array([float(v) for v in r["blog_psnr"]["per_digit"]])
            for measure, value in (("classifier_fid", r["fid"]),
                                   ("classifier_score", r["score"]),
                                   ("kl_uniform", r["kl_uniform"]),
                                   ("blog_psnr_mean", float(psnr[np.isfinite(psnr)].mean())),
                                   ("blog_psnr_9", psnr[9])):
                rows.append(dict(base, measure=measure, value=float(value)))
    balance = os.path.join(folder, "loss_balance.json")
    if os.path.exists(balance):
        for model, seeds in utils.read_json(balance).items():
            for seed, b in seeds.items():
                rows.append(dict(recipe="dragan_vs_gan_mnist", run="", model=model,
                                 key=model.lower(), seed=int(seed), step=b["to_step"],
                                 epochs=6.0, measure="loss_balance", draw=0,
                                 value=b["g_loss"] - b["d_loss"], samples="",
                                 reference="steps %d-%d" % (b["from_step"], b["to_step"])))
    return rows


def mnist_floor_rows(draws=5, n=10000, threads=1):
    """The MNIST floor for runs trained on train + test (DRAGAN, GAN: the blog's loader),
    against the test set they saw, beside the usual floor (train against test)."""
    ctx = quality.ClassifierContext("mnist", None, threads, log=lambda *a: None)
    try:
        rows = []
        for pool in ("train+test", "train"):
            for measure, d, value, ref in ctx.floor_rows(pool, draws, n):
                if measure in ("classifier_fid", "classifier_score", "kl_uniform",
                               "confident_share"):
                    rows.append(dict(recipe="dragan_vs_gan_mnist" if pool == "train+test"
                                     else "mnist", run="", model="real", key=pool, seed="",
                                     step="", epochs="", measure=measure, draw=d, value=value,
                                     samples=n, reference=ref))
        return rows
    finally:
        ctx.close()


def study_rows(study, folder):
    """Tidy rows of one toy study's runs (its folder's toy_study.json)."""
    d = utils.read_json(os.path.join(folder, "toy_study.json"))
    return [dict(study=study, folder=os.path.basename(os.path.normpath(folder)),
                 dataset=r["dataset"], method=r["method"], seed=r["seed"],
                 steps=d["budget"]["steps"], measure=measure, value=r[measure])
            for r in d["runs"] for measure in ("modes_covered", "num_modes", "high_quality",
                                               "reverse_kl")]


def toy_rows():
    rows = []
    for study, folder in TOY_STUDIES:
        path = os.path.join(experiments.REPO, experiments.PUBLISHED, folder)
        if os.path.exists(os.path.join(path, "toy_study.json")):
            rows += study_rows(study, path)
    return rows


# ---- figures ----------------------------------------------------------------------------

CURVES = ("classifier_fid", "label_accuracy", "confident_share", "c1_matching",
          "code1_slant_rho", "code2_ink_rho", "pca_fd", "psnr_ab", "cycle_l1_a")


def quality_figures(measures, figures):
    """Per recipe and measure of CURVES it has: the measure over training, every seed."""
    from reproduce import plots
    from reproduce.claims import MEASURE_LABELS
    made = []
    by = {}
    for r in measures:
        if r["measure"] in CURVES and r["recipe"] != "dragan_vs_gan_mnist":
            by.setdefault((r["recipe"], r["measure"]), []).append(r)
    for (recipe, measure), rows in sorted(by.items()):
        if all(r["model"] == "real" for r in rows):
            continue
        series, extra = [], []
        gen = [r for r in rows if r["model"] != "real"]
        least = min(int(r["samples"] or 0) for r in gen)
        for seed in sorted({r["seed"] for r in gen}):
            for group, count in ((series, least), (extra, None)):
                mine = [r for r in gen if r["seed"] == seed and (
                    int(r["samples"] or 0) == least if count else int(r["samples"] or 0) > least)]
                steps = sorted({int(r["step"]) for r in mine})
                vals = [[float(r["value"]) for r in mine if int(r["step"]) == s] for s in steps]
                if steps:
                    group.append(("seed %s" % seed, steps, [np.mean(v) for v in vals],
                                  [np.std(v, ddof=1) if len(v) > 1 else 0 for v in vals]))
        ref_rows = [r for r in rows if r["model"] == "real" and int(r["samples"] or 0) == least]
        ref = None
        if ref_rows:
            ref = (float(np.mean([float(r["value"]) for r in ref_rows])),
                   (ref_rows[0]["reference"].split(":")[0] or "real") + " (same samples)")
        path = os.path.join(figures, "%s_%s.png" % (recipe, measure))
        plots.quality_chart(path, series, MEASURE_LABELS.get(measure, measure),
                            title="%s: %s over training (%d samples a draw; hollow: more)"
                            % (recipe, measure, least), reference=ref, extra=extra)
        made.append(path)
    return made


# ---- writing ------------------------------------------------------------------------------

def write_rows(path, rows, fields):
    with utils.atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fields)
            w.writeheader()
            for r in rows:
                w.writerow({k: r.get(k, "") for k in fields})


def read_rows(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def read_measures(out):
    """Every measure row under `out`: measures/<recipe>.csv (and a measures.csv of one
    file for every recipe, as collect wrote it before)."""
    rows = read_rows(os.path.join(out, "measures.csv"))
    for path in sorted(glob.glob(os.path.join(out, MEASURES, "*.csv"))):
        rows += read_rows(path)
    return rows


def write_measures(out, rows):
    """`rows` as one file per recipe, measures/<recipe>.csv (each small enough to keep in
    git as data grows), in place of what was there."""
    folder = os.path.join(out, MEASURES)
    os.makedirs(folder, exist_ok=True)
    by = {}
    for r in rows:
        by.setdefault(r["recipe"], []).append(r)
    for path in glob.glob(os.path.join(folder, "*.csv")):
        if os.path.basename(path)[:-len(".csv")] not in by:
            os.remove(path)
    for recipe, mine in by.items():
        write_rows(os.path.join(folder, recipe + ".csv"), mine, MEASURE_FIELDS)
    legacy = os.path.join(out, "measures.csv")
    if os.path.exists(legacy):
        os.remove(legacy)


def _merge(old, new, key):
    """`old` rows whose `key` is not among `new`'s, then `new`."""
    fresh = {key(r) for r in new}
    return [r for r in old if key(r) not in fresh] + new


def collect(runs, out=OUT, floor=True, threads=1, log=print):
    figures = os.path.join(out, "figures")
    os.makedirs(figures, exist_ok=True)
    old = read_measures(out)
    measures, training, status = ([], [], {}) if runs is None else collect_seed_runs(
        runs, figures)
    measures += dragan_rows(out)
    if floor:
        measures += mnist_floor_rows(threads=threads)
    else:
        measures += [r for r in old if r["model"] == "real" and r["recipe"] in
                     ("mnist", "dragan_vs_gan_mnist") and not r["run"]]
    merged = _merge(old, measures, key=lambda r: (r["recipe"], str(r["seed"])))
    write_measures(out, merged)
    training_path = os.path.join(out, "training.csv")
    write_rows(training_path, _merge(read_rows(training_path), training,
                                     key=lambda r: (r["recipe"], str(r["seed"]))),
               TRAIN_FIELDS)
    status_path = os.path.join(out, "status.json")
    old_status = utils.read_json(status_path) if os.path.exists(status_path) else {}
    for recipe, seeds in status.items():
        kept = old_status.get(recipe, {})
        for seed, s in seeds.items():
            if s.get("state") != "not started" or seed not in kept:
                kept[seed] = s
        old_status[recipe] = kept
    utils.write_json(status_path, old_status)
    write_rows(os.path.join(out, "toy.csv"), toy_rows(),
               ("study", "folder", "dataset", "method", "seed", "steps", "measure", "value"))
    utils.write_json(os.path.join(out, "recipes.json"), {
        name: dict(blog=experiments.EXPERIMENTS[name]["blog"],
                   budget=experiments.budget_of(name),
                   commands=experiments.commands(name))
        for name in ("blog_seeds", "dragan_vs_gan_mnist") + tuple(s for s, _ in TOY_STUDIES)})
    made = quality_figures(merged, figures)
    log("%s: %d measure rows, %d training rows, %d curves" % (out, len(merged),
                                                            len(training), len(made)))
    return merged


def main(argv=None):
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", default=None, metavar="DIR",
                        help="the runs folder of `experiments run blog_seeds` ($RUNS); "
                             "without it only the kept evaluations are collected")
    parser.add_argument("--out", default=OUT, metavar="DIR",
                        help="the tidy data folder [default: %s]" % experiments.RESULTS_DATA)
    parser.add_argument("--no-floor", action="store_true",
                        help="keep the MNIST floors already in measures/ instead of "
                             "measuring them again (needs the judge)")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow threads [default: 1]")
    args = parser.parse_args(argv)
    if args.runs and not os.path.isdir(args.runs):
        parser.error("no runs folder %s" % args.runs)
    try:
        collect(args.runs, args.out, not args.no_floor, args.threads)
    except (GanReproError, OSError, ValueError, KeyError) as e:
        return report(PROG, e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
