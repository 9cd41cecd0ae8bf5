"""The results page's sections of a recipe run over seeds (`--over-seeds RECIPE`) and the
closing note's summary of the DRAGAN blog's claims.

A recipe's evaluations (`python -m reproduce.evaluate` JSONs, one per name and seed) give
one section: every measure per seed and its mean +- sample standard deviation, the blog's
PSNR per digit and the claim (DRAGAN better than GAN) measure by measure with the seeds it
holds in. A staged recipe, whose names measure the same runs at several lengths
(`dragan_vs_gan_mnist`: 2, 4 and 6 epochs), states the claim at each length, then shows
the last length's grids and mean digits seed by seed, the loss curves of the whole runs,
the losses over their last steps and the training time of every attempt.
"""

import os
import shutil

import numpy as np

import utils
from models import get_model
from reproduce import blog_sections, experiments, metrics, plots, toy
from reproduce.run_files import (
    DATA, finite, job_log, latest_grid, local, read_scalars, rel, slug)

MEASURES = (  # (key, label, digits, higher is better, short name)
    ("fid", "classifier FID (vs test)", 2, False, "FID"),
    ("score", "classifier score (max 10)", 2, True, "score"),
    ("kl_uniform", "KL(histogram || uniform)", 4, False, "KL to uniform"),
    ("psnr_mean", "blog PSNR, mean over digits (dB)", 2, True, "blog PSNR mean"),
    ("psnr_9", "blog PSNR of digit 9, the blog's example (dB)", 2, True, "blog PSNR of 9"))


def measure(run, key):
    """One number of an evaluated run (`psnr_mean`: its blog PSNR averaged over digits;
    `psnr_9`: of digit 9, the one the blog shows)."""
    if key == "psnr_mean":
        values = finite(run["blog_psnr"]["per_digit"])
        return float(values.mean()) if len(values) else float("nan")
    if key == "psnr_9":
        value = run["blog_psnr"]["per_digit"][9]
        return float(value) if isinstance(value, (int, float)) else float("nan")
    return float(run[key])


def spread(values):
    """'mean ± std' text parts: (mean, sample standard deviation (ddof 1; 0 for one))."""
    return float(np.mean(values)), metrics.sample_std(values)


def seeds_table(by_seed):
    """Markdown: every measure of every model per seed, with mean ± std over seeds."""
    seeds = sorted(by_seed)
    models = [r["model"] for r in by_seed[seeds[0]]["runs"] if "fid" in r]
    head = ["seed %d" % s for s in seeds] + ["mean ± std (%d seeds)" % len(seeds)]
    lines = ["| measure | model | " + " | ".join(head) + " |", "|---" * (len(head) + 2) + "|"]
    real = by_seed[seeds[0]]["runs"][0]["real"]
    floors = dict(fid=real["fid"], score=real["score"], kl_uniform=real["kl_uniform"],
                  psnr_mean=float(finite(real["psnr"]).mean()), psnr_9=float(real["psnr"][9]))
    for key, label, digits, _, _ in MEASURES:
        for model in models:
            values = [measure(next(r for r in by_seed[s]["runs"] if r["model"] == model), key)
                      for s in seeds]
            mean, std = spread(values)
            lines.append("| %s | %s | %s | %.*f ± %.*f |" % (
                label, model, " | ".join("%.*f" % (digits, v) for v in values),
                digits, mean, digits, std))
        lines.append("| %s | real data (floor) | %s | %.*f |" % (
            label, " | ".join("" for _ in seeds), digits, floors[key]))
    return "\n".join(lines)


def psnr_seeds_table(by_seed):
    """Markdown: the blog's PSNR of each digit, every model per seed and mean ± std."""
    seeds = sorted(by_seed)
    models = [r["model"] for r in by_seed[seeds[0]]["runs"] if "blog_psnr" in r]
    if not models:
        return ""
    real = by_seed[seeds[0]]["runs"][0]["real"]["psnr"]
    head = ["%s seed %d" % (m, s) for m in models for s in seeds] + [
        "%s mean ± std" % m for m in models] + ["real (floor)"]
    lines = ["| digit | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
    for d in range(10):
        per = {m: [float(next(r for r in by_seed[s]["runs"] if r["model"] == m)[
            "blog_psnr"]["per_digit"][d]) for s in seeds] for m in models}
        cells = ["%.2f" % v for m in models for v in per[m]]
        cells += ["%.2f ± %.2f" % spread(finite(per[m]) if len(finite(per[m])) else [
            float("nan")]) for m in models]
        lines.append("| %d | %s | %.2f |" % (d, " | ".join(cells), float(real[d])))
    return "\n".join(lines)


def paired(by_seed, key, higher, first="DRAGAN", second="GAN"):
    """(seeds, `first`'s values, `second`'s, `first`'s margin per seed (positive: better))
    of measure `key`, or None if a seed lacks either model."""
    seeds = sorted(by_seed)
    try:
        a = [measure(next(r for r in by_seed[s]["runs"] if r["model"] == first), key)
             for s in seeds]
        b = [measure(next(r for r in by_seed[s]["runs"] if r["model"] == second), key)
             for s in seeds]
    except StopIteration:
        return None
    return seeds, a, b, np.subtract(a, b) * (1 if higher else -1)


def seeds_claims(by_seed, first="DRAGAN", second="GAN"):
    """Sentences: is `first` better than `second` on each measure, over the seeds."""
    lines = []
    for key, label, digits, higher, _ in MEASURES:
        pair = paired(by_seed, key, higher, first, second)
        if pair is None:
            return []
        seeds, a, b, diff = pair
        wins = int((diff > 0).sum())
        (ma, sa), (mb, sb), (md, sd) = spread(a), spread(b), spread(diff)
        verdict = ("holds in every seed" if wins == len(seeds) else
                   "fails in every seed" if wins == 0 else
                   "holds in %d of %d seeds: the seeds disagree" % (wins, len(seeds)))
        lines.append("- \"%s's %s is %s than %s's\": %s %.*f ± %.*f vs %s %.*f ± %.*f "
                     "(mean ± std over seeds %s); %s's margin per seed (positive: as "
                     "claimed) %.*f ± %.*f; the claim %s." % (
                         first, label, "higher" if higher else "lower", second,
                         first, digits, ma, digits, sa, second, digits, mb, digits, sb,
                         ", ".join(map(str, seeds)), first, digits, md, digits, sd, verdict))
    return lines


def _judge_line(report):
    judged = [r for r in report["runs"] if "judge" in r]
    if not judged:
        return []
    j = judged[0]["judge"]
    return ["Judge (%s): %.2f%% test accuracy (target %.0f%%)." % (
        j["dataset"], 100 * j["test_accuracy"], 100 * j["target_accuracy"]), ""]


def _seeds_tables(by_seed, note=None):
    """Markdown lines of one evaluation over seeds: the measures, the blog's PSNR per
    digit, the claim measure by measure."""
    out = [seeds_table(by_seed), ""] + ([note, ""] if note else [])
    psnr = psnr_seeds_table(by_seed)
    if psnr:
        out += ["The DRAGAN blog's PSNR per digit (dB; higher: the mean generated digit "
                "is closer to the mean real one):", "", psnr, ""]
    claims = seeds_claims(by_seed)
    if claims:
        out += ["The blog's claim, measure by measure:", ""] + claims + [""]
    return out


def seeds_section(recipe, name, by_seed, page, figures, runs, cache=None):
    """Markdown of one recipe's evaluation `name` over its seeds: table, claims, grids."""
    seeds = sorted(by_seed)
    first = by_seed[seeds[0]]
    runs0 = [r for r in first["runs"] if "epochs_done" in r]
    out = ["Made by: `RUNS=runs; %s -m reproduce.experiments run %s --seeds %s` (the jobs: "
           "\"Recipes\" below); measured by `python -m reproduce.evaluate` with %d samples "
           "per run (sample seed %d); %s at step %s (%s epochs); read from %s." % (
               experiments.PY, recipe, " ".join(map(str, seeds)), first["samples"],
               first["seed"], ", ".join(r["model"] for r in runs0),
               "/".join(sorted({str(r["step"]) for r in runs0})),
               "/".join(sorted({"%.2f" % r["epochs_done"] for r in runs0})),
               "reproduce/published/results_data/%s/" % recipe), ""]
    out += _judge_line(first)
    out += _seeds_tables(by_seed, "Standard deviations are sample standard deviations "
                         "(n - 1) over the seeds; the floor is the real data's (the same for "
                         "every seed: it does not depend on the training seed).")
    grids = figures_by_seed(recipe, name, by_seed, page, figures, runs)
    if grids:
        out += [grids, "", "Samples of each run at its last step, saved by the training runs.",
                ""]
    out += _loss_figures(recipe, name, by_seed, page, figures, runs,
                         "Loss curves of %s, every seed: the runs' TensorBoard scalars.", cache)
    return "\n".join(out)


# ---- a staged recipe: the same runs evaluated at several lengths ---------------------

STAGED = {  # what the blog claims and how long it trained (MODELS.md)
    "dragan_vs_gan_mnist": dict(
        claim="DRAGAN trains more stably and collapses less than a plain GAN. The blog "
              "compares the two by the PSNR between each digit's mean generated image and "
              "its mean real image (digit 9 shown).",
        length=(1000, lambda run: "%.0f%% of the 25 of hwalsuklee's code it derives from"
                % (100.0 * run["epochs_done"] / 25)),
        history="These runs replace the page's \"Recorded earlier\" sections: DRAGAN and GAN "
                "runs of seeds 547 (2, 4, 6 epochs) and 548 (4 epochs) made on 2026-11-24 by "
                "an earlier version of the code, whose inputs are gone (`git show "
                "dc48532:reproduce/published/results_data/recorded_2026-11-24.md`). Their "
                "numbers differ from these runs of the same seeds (e.g. seed 547 at 6 epochs: "
                "DRAGAN FID 2.25 then, GAN 2.99), because float32 training differs between "
                "CPUs from the first step and the code changed in between; seed 547 at 6 "
                "epochs favoured DRAGAN on FID, score and PSNR both times."),
}


def stage_epochs(by_seed):
    """The epochs the runs of one evaluation had trained (their first run's, rounded)."""
    runs = [r for r in by_seed[sorted(by_seed)[0]]["runs"] if "epochs_done" in r]
    return round(float(runs[0]["epochs_done"]), 2) if runs else float("nan")


def stages(by_name):
    """[(name, by_seed)] of a recipe's evaluations in the order of their training length."""
    return sorted(by_name.items(), key=lambda item: (stage_epochs(item[1]), item[0]))


def staged_training(recipe, seeds, runs, data=DATA):
    """{model: {seed: {steps, seconds, attempts, stopped, cpu, finished}}}: every training
    attempt of the recipe's training jobs for `seeds` (their logs under $RUNS/<recipe>/jobs/),
    summed per model and seed; kept as `data`/<recipe>/training.json, and read from there
    without --runs (None if neither has it)."""
    kept = os.path.join(data, recipe, "training.json")
    facts = {}
    for j in experiments.jobs_of(recipe, seeds) if runs else ():
        log = os.path.join(os.path.abspath(runs), recipe, "jobs", j.name + ".log")
        tries = job_log(log)[1] if j.kind == "train" else []
        if not tries:
            continue
        model = os.path.basename(j.argv[1])[len("run_"):-len(".py")]   # scripts/run_<model>.py
        seed = j.argv[j.argv.index("--seed") + 1]
        marker = log[:-len(".log")] + ".done.json"
        done = utils.read_json(marker) if os.path.exists(marker) else {}
        f = facts.setdefault(model, {}).setdefault(seed, dict(
            steps=0, seconds=0, attempts=0, stopped=0, cpu=None, finished=None))
        f["steps"] += sum(t[0] for t in tries)
        f["seconds"] += sum(t[1] for t in tries)
        f["attempts"] += len(tries)
        f["stopped"] += sum(t[2] for t in tries)
        f["cpu"] = done.get("cpu") or f["cpu"]
        f["finished"] = max(filter(None, [f["finished"], done.get("finished")]), default=None)
    if facts:
        utils.ensure_dir(os.path.dirname(kept))
        utils.write_json(kept, facts)
        return facts
    return utils.read_json(kept) if os.path.exists(kept) else None


def _training_line(recipe, training, last):
    """The budget sentence of a staged recipe (its last stage's runs `last`)."""
    runs0 = [r for r in last["runs"] if "epochs_done" in r]
    text = ("%s per model and seed (%s steps)" % (
        "/".join(sorted({"%g epochs" % r["epochs_done"] for r in runs0})),
        "/".join(sorted({"{:,}".format(r["step"]) for r in runs0}))))
    if recipe in STAGED:
        length, source = STAGED[recipe]["length"]
        text += ": %.1f%% of the blog's %s epochs (%s)" % (
            100.0 * runs0[0]["epochs_done"] / length, "{:,}".format(length), source(runs0[0]))
    if training:
        cells = []
        for model in sorted(training):
            for seed in sorted(training[model]):
                f = training[model][seed]
                cells.append("%s seed %s %s (%.2f steps/s%s)" % (
                    get_model(model).model_name, seed, blog_sections._hms(f["seconds"]),
                    f["steps"] / f["seconds"], "" if not f.get("stopped") else
                    ", stopped %s and resumed" % ("once" if f["stopped"] == 1 else
                                                  "%d times" % f["stopped"])))
        cpus = sorted({f["cpu"] for m in training.values() for f in m.values() if f["cpu"]})
        ends = sorted(f["finished"] for m in training.values() for f in m.values()
                      if f["finished"])
        text += (". Training wall time, every stage and attempt summed (one thread per run, "
                 "two runs side by side%s%s): %s" % (
                     ", CPU %s" % " / ".join(cpus) if cpus else "",
                     ", finished %s" % " to ".join(sorted({ends[0][:10], ends[-1][:10]}))
                     if ends else "",
                     "; ".join(cells)))
    return text


def stage_claims_table(ordered, first="DRAGAN", second="GAN"):
    """Markdown: the claim on each measure at each length, mean ± std and the seeds it
    holds in."""
    lines = ["| measure | epochs | %s | %s | %s's margin (+: as claimed) | seeds where %s is "
             "better |" % (first, second, first, first), "|---|---|---|---|---|---|"]
    for key, label, digits, higher, _ in MEASURES:
        for _, by_seed in ordered:
            pair = paired(by_seed, key, higher, first, second)
            if pair is None:
                return ""
            seeds, a, b, diff = pair
            won = [str(s) for s, d in zip(seeds, diff) if d > 0]
            lines.append("| %s (%s better) | %g | %s | %s | %s | %d of %d%s |" % (
                label, "higher" if higher else "lower", stage_epochs(by_seed),
                "%.*f ± %.*f" % ((digits, spread(a)[0], digits, spread(a)[1])),
                "%.*f ± %.*f" % ((digits, spread(b)[0], digits, spread(b)[1])),
                "%+.*f ± %.*f" % ((digits, spread(diff)[0], digits, spread(diff)[1])),
                len(won), len(seeds), " (%s)" % ", ".join(won) if won else ""))
    return "\n".join(lines)


def _grid_of(run, runs):
    """A run's last sample grid in its result folder (None without the folder)."""
    folder = local(run.get("result_folder"), runs)
    return latest_grid(folder, run["model"], run.get("epochs_done")) if folder and \
        os.path.isdir(folder) else None


def _mean_digits_of(run, runs):
    """The mean-digit figure evaluate.py drew for a run (None without the runs folder)."""
    path = local(run.get("mean_digits_png"), runs)
    return path if path and os.path.exists(path) else None


def figures_by_seed(recipe, name, by_seed, page, figures, runs, find=_grid_of, kind=""):
    """Markdown table of a figure per run (rows: seeds; columns: models), each copied into
    `figures` from `find(run, runs)`; '' if there is none."""
    seeds = sorted(by_seed)
    models = [r["model"] for r in by_seed[seeds[0]]["runs"]]
    rows, found = [], False
    for seed in seeds:
        cells = []
        for r in by_seed[seed]["runs"]:
            target = os.path.join(figures, "%s_%s_%s%s.png" % (recipe, name, slug(r), kind))
            source = find(r, runs)
            if source:
                shutil.copyfile(source, target)
            found = found or os.path.exists(target)
            cells.append("![%s seed %d](%s)" % (r["model"], seed, rel(target, page))
                         if os.path.exists(target) else "(not kept)")
        rows.append("| %d | %s |" % (seed, " | ".join(cells)))
    if not found:
        return ""
    return "\n".join(["| seed | %s |" % " | ".join(models), "|---" * (len(models) + 1) + "|"]
                     + rows)


LAST_STEPS = 500   # the loss balance: losses averaged over a run's last 500 steps


def _losses_of(run, runs, cache):
    """A run's d_loss and g_loss TensorBoard scalars ({} without its log folder), read once
    per `cache` (a dict the page's sections share)."""
    folder = local(run.get("log_folder"), runs)
    if not folder or not os.path.isdir(folder):
        return {}
    if folder not in cache:
        cache[folder] = read_scalars(folder, ("d_loss", "g_loss"))
    return cache[folder]


def loss_balance(recipe, by_seed, runs, data=DATA, cache=None):
    """{model: {seed: {d_loss, g_loss, from_step, to_step}}}: each run's d_loss and g_loss
    averaged over its last LAST_STEPS steps (TensorBoard scalars); kept as
    `data`/<recipe>/loss_balance.json and read from there without --runs (None if
    neither has them)."""
    cache = {} if cache is None else cache
    kept = os.path.join(data, recipe, "loss_balance.json")
    found = {}
    for seed in sorted(by_seed) if runs else ():
        for r in by_seed[seed]["runs"]:
            scalars = _losses_of(r, runs, cache)
            if not all(tag in scalars and len(scalars[tag][0]) for tag in ("d_loss", "g_loss")):
                continue
            last = int(scalars["d_loss"][0].max())
            entry = dict(from_step=last - LAST_STEPS + 1, to_step=last)
            for tag in ("d_loss", "g_loss"):
                steps, values = scalars[tag]
                entry[tag] = float(values[steps > last - LAST_STEPS].mean())
            found.setdefault(r["model"], {})[str(seed)] = entry
    if found:
        utils.ensure_dir(os.path.dirname(kept))
        utils.write_json(kept, found)
        return found
    return utils.read_json(kept) if os.path.exists(kept) else None


def loss_balance_table(balance):
    """Markdown: per model and seed, d_loss and g_loss over the last steps and their gap."""
    seeds = sorted({s for m in balance.values() for s in m}, key=int)
    lines = ["| model | loss | %s | mean ± std |" % " | ".join("seed %s" % s for s in seeds),
             "|---|---|%s---|" % ("---|" * len(seeds))]
    for model in sorted(balance):
        for key, label in (("d_loss", "d_loss"), ("g_loss", "g_loss"),
                           ("gap", "g_loss - d_loss")):
            values = [balance[model][s]["g_loss"] - balance[model][s]["d_loss"] if key == "gap"
                      else balance[model][s][key] for s in seeds]
            lines.append("| %s | %s | %s | %.2f ± %.2f |" % (
                model, label, " | ".join("%.2f" % v for v in values), *spread(values)))
    return "\n".join(lines)


def _loss_figures(recipe, name, by_seed, page, figures, runs, caption, cache=None):
    out, cache = [], {} if cache is None else cache
    seeds = sorted(by_seed)
    for model in [r["model"] for r in by_seed[seeds[0]]["runs"]]:
        target = os.path.join(figures, "%s_%s_%s_losses.png" % (recipe, name, model))
        series = []
        for seed in seeds:
            r = next(x for x in by_seed[seed]["runs"] if x["model"] == model)
            scalars = _losses_of(r, runs, cache)
            series += [("seed %d %s" % (seed, tag),) + scalars[tag] for tag in ("d_loss", "g_loss")
                       if tag in scalars and len(scalars[tag][0])]
        if series:
            window = max(1, min(50, max(len(x) for _, x, _ in series) // 20))
            plots.line_chart(target, series, title="%s d_loss and g_loss per seed%s" % (
                model, " (moving average of %d)" % window if window > 1 else ""), smooth=window)
        if os.path.exists(target):
            out += ["![%s losses per seed](%s)" % (model, rel(target, page)), "",
                    caption % model, ""]
    return out


def staged_section(recipe, by_name, page, figures, runs, data=DATA, cache=None, balance=None):
    """Markdown of a recipe evaluated at several lengths over its seeds: the claim at each
    length, then every length's tables, then the last length's grids side by side and the
    whole runs' loss curves."""
    ordered = stages(by_name)
    last_name, last = ordered[-1]
    seeds = sorted(last)
    first = last[seeds[0]]
    out = ["**The blog's claim:** %s" % STAGED.get(recipe, {}).get("claim", "?"), "",
           "**Made by:** `RUNS=runs; %s -m reproduce.experiments run %s --seeds %s` (its jobs "
           "under \"Recipes\": each stage resumes the one before and is then measured by "
           "`python -m reproduce.evaluate` with %d samples per run, sample seed %d); read from "
           "reproduce/published/results_data/%s/." % (
               experiments.PY, recipe, " ".join(map(str, seeds)), first["samples"],
               first["seed"], recipe), "",
           "**Budget:** %s." % _training_line(recipe, staged_training(recipe, seeds, runs, data),
                                                first), ""]
    if STAGED.get(recipe, {}).get("history"):
        out += [STAGED[recipe]["history"], ""]
    out += _judge_line(first)
    table = stage_claims_table(ordered)
    if table:
        out += ["### The claim at each length", "",
                "DRAGAN against GAN on each measure: mean ± sample standard deviation over "
                "the seeds, and in how many seeds DRAGAN is the better one.", "", table, ""]
    for name, by_seed in ordered:
        runs0 = [r for r in by_seed[sorted(by_seed)[0]]["runs"] if "epochs_done" in r]
        out += ["### At %g epochs (step %s; `%s.json`)" % (
            stage_epochs(by_seed), "/".join(sorted({str(r["step"]) for r in runs0})), name),
            ""] + _seeds_tables(by_seed)
    grids = figures_by_seed(recipe, last_name, last, page, figures, runs)
    if grids:
        out += ["### Samples at %g epochs, seed by seed" % stage_epochs(last), "", grids, "",
                "Each run's random 8x8 grid of its last epoch, saved by the training run.", ""]
    means = figures_by_seed(recipe, last_name, last, page, figures, runs, _mean_digits_of,
                            "_mean_digits")
    if means:
        out += ["The blog's PSNR compares these: each digit's mean binarised image, generated "
                "(top) and real (bottom), drawn by `python -m reproduce.evaluate --figures` "
                "at %g epochs:" % stage_epochs(last), "", means, ""]
    out += _loss_figures(recipe, "all", last, page, figures, runs,
                         "Loss curves of %s over the whole run (every stage), every seed: the "
                         "runs' TensorBoard scalars.", cache)
    if balance:
        out += ["The losses over each run's last %d steps (mean of the per-step TensorBoard "
                "scalars; DRAGAN's d_loss includes its penalty). The larger g_loss - d_loss, the "
                "more easily D tells real images from generated ones:" % LAST_STEPS,
                "", loss_balance_table(balance), ""]
    remark = os.path.join(data, recipe, "remark.md")
    if os.path.exists(remark):
        with open(remark) as f:
            out += ["**Seen in the grids and curves:** %s" % f.read().strip(), ""]
    return "\n".join(out)


def staged_closing(recipe, by_name, first="DRAGAN", second="GAN"):
    """Closing-note lines of a recipe over seeds: at each length, the measures where the
    claim holds in every seed, in some, in none; then the last length's claims in full."""
    ordered = stages(by_name) if len(by_name) > 1 else sorted(by_name.items())
    out = []
    if len(ordered) > 1:
        out.append("- %s: DRAGAN against GAN at each length, in how many of the seeds "
                   "DRAGAN is better (%s):" % (recipe, ", ".join(m[4] for m in MEASURES)))
        for _, by_seed in ordered:
            counts, seeds = _seed_counts(by_seed, first, second)
            out.append("  - %g epochs: %s of %d seeds; %s" % (
                stage_epochs(by_seed), ", ".join(map(str, counts)), len(seeds),
                "the claim holds in every seed on every measure" if min(counts) == len(seeds)
                else "no measure favours DRAGAN in a majority of seeds"
                if max(counts) * 2 <= len(seeds) else
                "DRAGAN is better in a majority of seeds on %d of %d measures" % (sum(
                    2 * c > len(seeds) for c in counts), len(MEASURES))))
    name, by_seed = ordered[-1]
    claims = seeds_claims(by_seed, first, second)
    if claims:
        out += ["- %s (%s%s), over seeds %s:" % (
            recipe, name, ", %g epochs" % stage_epochs(by_seed) if len(ordered) > 1 else "",
            ", ".join(map(str, sorted(by_seed))))] + ["  " + c for c in claims]
    return out


def _and(words):
    """'a, b and c' ('none' for no words)."""
    return "none" if not words else words[0] if len(words) == 1 else "%s and %s" % (
        ", ".join(words[:-1]), words[-1])


def _seed_counts(by_seed, first="DRAGAN", second="GAN"):
    """[seeds where `first` is better] per measure of MEASURES, and the seeds."""
    out = []
    for key, _, _, higher, _ in MEASURES:
        pair = paired(by_seed, key, higher, first, second)
        out.append(int((pair[3] > 0).sum()))
    return out, sorted(by_seed)


def dragan_claims(staged, studies, balances=None):
    """The closing note's summary of the DRAGAN blog's claims: what holds, at which length
    and setting, in how many seeds. `staged`: [(recipe, by_name)] of the staged MNIST
    comparisons; `studies`: the toy studies; `balances`: {recipe: loss_balance of its
    longest stage}."""
    lines = []
    for recipe, by_name in staged:
        parts = []
        for _, by_seed in reversed(stages(by_name)):
            counts, seeds = _seed_counts(by_seed)
            every = [m[4] for m, c in zip(MEASURES, counts) if c == len(seeds)]
            never = [m[4] for m, c in zip(MEASURES, counts) if c == 0]
            parts.append("at %g epochs, DRAGAN better in every seed on %s, GAN on %s" % (
                stage_epochs(by_seed), _and(every), _and(never)))
        lines.append("  - Better samples than GAN (MNIST, the blog's setting, %s, seeds %s): %s; "
                     "on the other measures the seeds disagree (margins: below)." % (
                         recipe, ", ".join(map(str, seeds)), "; ".join(parts)))
        balance = (balances or {}).get(recipe)
        if balance and "DRAGAN" in balance and "GAN" in balance:
            common = sorted(set(balance["DRAGAN"]) & set(balance["GAN"]), key=int)
            gap = {m: [balance[m][x]["g_loss"] - balance[m][x]["d_loss"] for x in common]
                   for m in ("DRAGAN", "GAN")}
            smaller = sum(a < b for a, b in zip(gap["DRAGAN"], gap["GAN"]))
            lines.append("  - More stable training (the same runs): D stays less far ahead "
                         "of G with DRAGAN in %d of %d seeds at the last stage (g_loss - d_loss "
                         "over the last %d steps %.2f ± %.2f against GAN's %.2f ± %.2f)." % (
                             smaller, len(common), LAST_STEPS, *spread(gap["DRAGAN"]),
                             *spread(gap["GAN"])))
    for study in studies:
        rows = {(r["dataset"], r["method"]): r for r in toy.study_summary(study)}
        for dataset in ("swissroll", "swissroll_gantoy"):
            gan = rows.get((dataset, "gan"))
            if not gan:
                continue
            methods = [rows[(dataset, m)] for m in toy.METHODS if (dataset, m) in rows]
            covered = {}        # method -> {seed: modes covered}
            for r in study["runs"]:
                if r["dataset"] == dataset:
                    covered.setdefault(r["method"], {})[r["seed"]] = r["modes_covered"]
            against = []
            for m in (r["method"] for r in methods if r["method"].startswith("dragan")):
                pairs = [(covered[m][x], covered["gan"][x]) for x in covered[m]
                         if x in covered["gan"]]
                against.append("%s more in %d, fewer in %d, as many in %d" % (
                    m, sum(a > b for a, b in pairs), sum(a < b for a, b in pairs),
                    sum(a == b for a, b in pairs)))
            lines.append("  - Fits the swiss roll where GAN and WGAN-GP do not (the paper's "
                         "figure; %s, %d seeds): modes covered of %d %s; seed by seed against "
                         "GAN: %s; seeds covering at least half the roll: %s." % (
                             toy.study_label(study), gan["seeds"], gan["num_modes"], ", ".join(
                                 "%s %.1f ± %.1f" % (r["method"], r["modes_mean"],
                                                     r["modes_std"]) for r in methods),
                             "; ".join(against) or "no DRAGAN form in this study", ", ".join(
                                 "%s %d of %d" % (r["method"], r["seeds"] - r["collapsed"],
                                                  r["seeds"]) for r in methods)))
    return ["- The DRAGAN blog's claims, what holds where (details in the lines below):"] + \
        lines if lines else []
