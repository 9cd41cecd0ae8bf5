"""Write reproduce/published/RESULTS.md from finished runs: python -m reproduce.results.

    python -m reproduce.results [--runs runs] [--blog RECIPE ...] [--over-seeds RECIPE ...]
                                [--eval JSON ...] [--toy reproduce/published/toy ...]
                                [--out reproduce/published/RESULTS.md]

`--blog RECIPE` gives a blog run its section (reproduce/blog_sections.py). `--over-seeds
RECIPE` aggregates a recipe's evaluations over its seeds (the
`$RUNS/<recipe>/seed<S>/<name>.json` of `python -m reproduce.experiments run RECIPE`;
reproduce/seeds_sections.py): every measure per seed, and its mean +- sample standard
deviation, so that a claim such as "DRAGAN's blog PSNR is higher than GAN's" is stated
with its spread (a staged recipe's: at each length). Every evaluation JSON the page reads is kept in
`reproduce/published/results_data/` (its paths under --runs written as `$RUNS/...`), and a recipe
whose JSONs are not under --runs is read from there: the page can be regenerated
without the run folders (its figures are then the ones already in `reproduce/published/figures/`).

Inputs are what the recipes (reproduce/experiments.py) leave behind: the JSON of
`python -m reproduce.evaluate` (every run it measured; the runs' own folders are read
for the sample grids and loss curves) and the toy study's folder (`toy_study.json` and
its scatter plots). The page gets the tables, the latest epoch grid of every run, its
loss curves (from its TensorBoard events, drawn as PNG) and the mean digits of the blog's
PSNR, each figure with the command that made it. Figures are copied into
`reproduce/published/figures/` beside the page, so it stays readable without the run folders.
A closing note compares the numbers with the blog's claim (DRAGAN better than GAN) and
the paper's (fewer collapsed seeds); read it before publishing.

Exit status: 0, 1 (a missing or unreadable input), 2 (bad flags).
"""

import argparse
import datetime
import glob
import math
import os
import shutil
import sys

import utils
from errors import GanReproError
from reproduce import blog_sections, evaluate, experiments, plots, toy
from reproduce.run_files import (
    CURVES, DATA, PUBLISHED, finite, latest_grid, read_scalars, recipe_evaluations, rel, slug,
    train_seed)
from reproduce.seeds_sections import (
    dragan_claims, loss_balance, seeds_section, stage_epochs, staged_closing, staged_section,
    stages)

PROG = "python -m reproduce.results"


def _command(command):
    """A run's recorded argv as a command to paste (`scripts/...py` gets the venv's python)."""
    if not command:
        return "?"
    return "%s %s" % (experiments.PY, command) if command.split()[0].endswith(".py") else command


def mnist_section(report, page, figures, source=None):
    """Markdown of one evaluate.py JSON (read from `source`): tables, grids, curves, mean
    digits."""
    runs = report["runs"]
    out = ["Measured by: `%s` (%d samples per run, seed %d%s)." % (
        report.get("command", "python -m reproduce.evaluate"), report["samples"],
        report["seed"], "; this page read %s" % source if source else ""), ""]
    judged = [r for r in runs if "fid" in r]
    if judged:
        j = judged[0]["judge"]
        out += ["Judge (%s): %.2f%% test accuracy (target %.0f%%), %d epochs, %.0f s to train."
                % (j["dataset"], 100 * j["test_accuracy"], 100 * j["target_accuracy"],
                   j["epochs"], j["seconds"]), ""]
    out += [evaluate.table(runs), ""]
    for r in runs:
        stem = slug(r)
        out += ["### %s, step %d (%.2f epochs)" % (r["model"], r["step"], r["epochs_done"]), "",
                "Trained by: `%s`" % _command(r.get("command")), ""]
        grid = latest_grid(r["result_folder"], r["model"], r.get("epochs_done"))
        if grid:
            target = os.path.join(figures, "%s_grid.png" % stem)
            shutil.copyfile(grid, target)
            out += ["![%s samples](%s)" % (r["model"], rel(target, page)),
                    "", "Samples: %s (saved by the training run)." % os.path.basename(grid), ""]
        # Up to the evaluated step: the run may have trained on after it was measured.
        scalars = {tag: (steps[steps <= r["step"]], values[steps <= r["step"]])
                   for tag, (steps, values) in read_scalars(r["log_folder"]).items()}
        scalars = {tag: sv for tag, sv in scalars.items() if len(sv[0])}
        if scalars:
            target = os.path.join(figures, "%s_losses.png" % stem)
            steps = max(len(v[0]) for v in scalars.values())
            window = max(1, min(50, steps // 20))
            plots.line_chart(target, [(tag,) + scalars[tag] for tag in CURVES if tag in scalars],
                             title="%s losses per step%s" % (r["model"], (
                                 " (moving average of %d)" % window) if window > 1 else ""),
                             smooth=window)
            out += ["![%s losses](%s)" % (r["model"], rel(target, page)), "",
                    "Loss curves: TensorBoard scalars of %s." % r["log_folder"], ""]
        if r.get("mean_digits_png") and os.path.exists(r["mean_digits_png"]):
            target = os.path.join(figures, "%s_mean_digits.png" % stem)
            shutil.copyfile(r["mean_digits_png"], target)
            out += ["![%s mean digits](%s)" % (r["model"], rel(target, page)), "",
                    "Mean binarised digits (generated, then real test), from `%s`." %
                    report.get("command", "python -m reproduce.evaluate"), ""]
    return "\n".join(out)


def toy_section(study, toy_dir, page, figures, prefix=""):
    """Markdown of one toy study; its scatter plots are copied as figures/<prefix>toy_*.png."""
    out = ["Made by: `%s` (%d runs, %.0f s wall clock at %d thread per run; %s; %d samples "
           "measured per run)."
           % (study["command"], len(study["runs"]), study["budget"]["seconds"],
              study["budget"]["threads"], toy.study_label(study), study["budget"]["eval_samples"]),
           "",
           toy.table(toy.study_summary(study)), "",
           "Mean ± sample standard deviation over the seeds. Modes covered: modes with >= 20 "
           "of 2,500 samples within 3 std of their centre (PacGAN's rule; swiss roll: 20 "
           "pieces of the roll, within 3 noise std of the curve). Collapsed: fewer than half "
           "of the modes. Reverse KL: KL(generated || "
           "data) over the modes, every sample at its nearest mode.", ""]
    if study["budget"].get("setting") == "gan_toy":
        out += ["This setting is that of WGAN-GP's toy code (`gan_toy.py` in "
                "igul222/improved_wgan_training): its networks, batch, optimizer and data "
                "scaling. That code is likely the lineage of the DRAGAN paper's swiss-roll "
                "figure, but this is not verified: the paper does not publish its toy code. "
                "Differences from it: its 100,000 generator steps are cut to the stated share, "
                "and DRAGAN's two penalty forms (lambda %s) are added beside its GAN and "
                "WGAN-GP." % ", ".join("%s %g" % kv for kv in sorted(
                    study["budget"].get("dragan_lambda", toy.DRAGAN_LAMBDA).items())), ""]
    found = sorted(glob.glob(os.path.join(toy_dir, "toy_*.png")))
    levels = [p for p in found if os.path.basename(p).startswith("toy_levels_")]
    for group, caption in (
            ([p for p in found if p not in levels],
             "Scatter plots: rows are the methods, columns the first seeds; the data in "
             "grey, 2,500 samples in blue."),
            (levels, "Level sets, laid out as the DRAGAN paper's figure: rows are the "
             "methods, columns phases of training (the generator step above each), for the "
             "first seed; D's output as filled contours behind the data (orange) and the "
             "samples (green).")):
        for path in group:
            target = os.path.join(figures, prefix + os.path.basename(path))
            if os.path.abspath(path) != os.path.abspath(target):
                shutil.copyfile(path, target)
            out += ["![%s](%s)" % (os.path.basename(path), rel(target, page)), ""]
        if group:
            out += [caption, ""]
    remark = os.path.join(toy_dir, "remark.md")     # what a person saw in the figures
    if os.path.exists(remark):
        with open(remark) as f:
            out += ["**Seen in the figures:** %s" % f.read().strip(), ""]
    return "\n".join(out)


def _seeds(*runs):
    seeds = sorted({train_seed(r) for r in runs} - {None})
    return ", seed %s" % " and ".join(str(x) for x in seeds) if seeds else ""


# Seeds fewer than GAN's that a DRAGAN form must collapse before the page says it collapses
# fewer: one seed either way is what a last-bit change to a penalised method moves (the
# toy studies rerun after the toy's Adam moved onto the update builder).
COLLAPSE_MARGIN = 2


def collapse_verdict(gan, dragans):
    """The toy verdict on "DRAGAN collapses less than GAN" for one data set: GAN's summary
    row against each DRAGAN form's (toy.summarise rows), judged form by form."""
    if all(r["collapsed"] == r["seeds"] for r in dragans + [gan]):
        return ("Every seed of every method collapsed: by modes covered, this budget "
                "cannot tell them apart.")

    def named(rows):
        return " and ".join("%s (%d vs GAN's %d of %d)" % (
            r["method"], r["collapsed"], gan["collapsed"], r["seeds"]) for r in rows)
    fewer = [r for r in dragans if gan["collapsed"] - r["collapsed"] >= COLLAPSE_MARGIN]
    close = [r for r in dragans if r not in fewer
             and abs(gan["collapsed"] - r["collapsed"]) < COLLAPSE_MARGIN]
    more = [r for r in dragans if r not in fewer and r not in close]
    parts = (["fewer collapsed seeds than GAN with %s, as the paper says" % named(fewer)]
             if fewer else [])
    parts += ["about as many collapsed seeds as GAN (within one) with %s" % named(close)] \
        if close else []
    parts += ["more collapsed seeds than GAN with %s" % named(more)] if more else []
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def closing_note(reports, studies):
    """Sentences comparing the numbers with the blog's and the paper's claims."""
    lines = []
    for report in reports:
        by_model = {r["model"]: r for r in report["runs"] if "fid" in r}
        if "DRAGAN" in by_model and "GAN" in by_model:
            d, g = by_model["DRAGAN"], by_model["GAN"]
            dp, gp = finite(d["blog_psnr"]["per_digit"]), finite(g["blog_psnr"]["per_digit"])
            wins = sum(1 for a, b in zip(d["blog_psnr"]["per_digit"], g["blog_psnr"]["per_digit"])
                       if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a > b)
            better = [d["fid"] < g["fid"], d["score"] > g["score"],
                      d["kl_uniform"] < g["kl_uniform"],
                      (dp.mean() if len(dp) else -math.inf) > (gp.mean() if len(gp) else -math.inf)]
            lines.append(
                "- MNIST, equal budget (DRAGAN step %d, GAN step %d%s): classifier FID %.2f vs "
                "%.2f (floor %.2f), score %.2f vs %.2f (real %.2f), KL to uniform %.4f vs %.4f, "
                "blog PSNR mean %.2f vs %.2f dB (DRAGAN higher on %d of 10 digits). DRAGAN is "
                "better on %d of these 4 measures: %s the blog's claim that DRAGAN beats GAN."
                % (d["step"], g["step"], _seeds(d, g), d["fid"], g["fid"], d["real"]["fid"],
                   d["score"], g["score"], d["real"]["score"], d["kl_uniform"], g["kl_uniform"],
                   dp.mean() if len(dp) else float("nan"),
                   gp.mean() if len(gp) else float("nan"), wins, sum(better),
                   "this agrees with" if sum(better) >= 3 else
                   "this does not clearly support" if sum(better) == 2 else
                   "this contradicts"))
    for study in studies:
        summary = toy.study_summary(study)
        rows = {(r["dataset"], r["method"]): r for r in summary}
        for dataset in sorted({r["dataset"] for r in summary}):
            gan = rows.get((dataset, "gan"))
            dragans = [rows[(dataset, m)] for m in ("dragan_blog", "dragan_paper")
                       if (dataset, m) in rows]
            if gan and dragans:
                verdict = collapse_verdict(gan, dragans)
                # Reverse KL tells spread from collapse where the modes rule counts none.
                spread = [r["method"] for r in dragans
                          if r["reverse_kl_mean"] < gan["reverse_kl_mean"]]
                methods = [rows[(dataset, m)] for m in toy.METHODS if (dataset, m) in rows]
                lines.append(
                    "- Toy %s (%s): modes covered of %d, mean ± std over %d seeds: %s; "
                    "collapsed seeds: %s; mean reverse KL: %s. %s%s" % (
                        dataset, toy.study_label(study), gan["num_modes"], gan["seeds"],
                        ", ".join("%s %.1f ± %.1f" % (r["method"], r["modes_mean"],
                                                      r["modes_std"]) for r in methods),
                        ", ".join("%s %d" % (r["method"], r["collapsed"]) for r in methods),
                        ", ".join("%s %.3f" % (r["method"], r["reverse_kl_mean"])
                                  for r in methods),
                        verdict, " Lower reverse KL than GAN (mass spread over more modes) "
                        "with %s." % " and ".join(spread) if spread else ""))
    return "\n".join(lines) if lines else "(no finished runs to compare)"


def _read_inputs(eval_paths, toy_dirs):
    """(evaluation reports, toy studies), or a one-line
    GanReproError naming what is missing."""
    reports, studies = [], []
    for path in eval_paths:
        if not os.path.exists(path):
            raise GanReproError("no evaluation %s: run the evaluate command of "
                                "reproduce/experiments.py first" % path)
        reports.append(utils.read_json(path))
    for toy_dir in toy_dirs:        # a study not run yet: None (its section says so)
        study_path = os.path.join(toy_dir, "toy_study.json")
        studies.append(utils.read_json(study_path) if os.path.exists(study_path) else None)
    return reports, studies


def _header(command):
    return ["# Results", "",
            "Generated by `python -m reproduce.results %s` on %s from finished runs; do not "
            "edit by hand (the closing note is generated too: check it). Without the run "
            "folders, the same command without `--runs` rebuilds its tables and claims from "
            "the evaluations kept in `reproduce/published/results_data/` (the sample grids "
            "and loss curves are read from the run folders)." % (
                command, datetime.date.today().isoformat()), "",
            "Quality is measured with classifiers the project trains itself (no Inception "
            "weights offline): classifier FID and score are not Inception FID / Inception "
            "score and compare only with each other and with the real-data floor beside "
            "them. See docs/evaluation.md.", ""]


def _recipes_section():
    out = ["", "## Recipes", "", "Every experiment's commands and budget "
           "(`python -m reproduce.experiments`; `RUNS` is any folder, e.g. `runs`, and "
           "`python -m reproduce.experiments run NAME --runs DIR` runs them all):", ""]
    for name in experiments.EXPERIMENTS:
        e = experiments.EXPERIMENTS[name]
        out += ["- **%s** (%s; budget: %s):" % (name, e["blog"], experiments.budget_of(name)), ""]
        out += ["  ```sh"] + ["  " + c for c in experiments.commands(name)] + ["  ```", ""]
    return out


def write_page(page, eval_paths, toy_dirs=(), recipes=(), runs=None, data=DATA,
               blogs=()):
    """Write the results page `page` (Markdown) and its figures beside it; returns the text."""
    figures = utils.ensure_dir(os.path.join(os.path.dirname(os.path.abspath(page)), "figures"))
    reports, studies = _read_inputs(eval_paths, toy_dirs)
    over_seeds = [(recipe, recipe_evaluations(recipe, runs, data)) for recipe in recipes]
    command = " ".join(
        (["--runs $RUNS"] if runs else []) + ["--blog %s" % r for r in blogs] +
        ["--over-seeds %s" % r for r in recipes] +
        ["--eval %s" % p for p in eval_paths] + ["--toy %s" % d for d in toy_dirs])
    out, blog_closing = _header(command), []
    cache = {}                  # log folder -> its loss scalars, read once for the page
    staged = [(recipe, by_name) for recipe, by_name in over_seeds if len(by_name) > 1]
    balances = {recipe: loss_balance(recipe, stages(by_name)[-1][1], runs, data, cache)
                for recipe, by_name in staged}
    if blogs:
        out += blog_sections.page_part(
            blogs, runs, page, figures, data, rel,
            lambda recipe: recipe_evaluations(recipe, runs, data)["eval"], blog_closing)
    for recipe, by_name in over_seeds:
        if len(by_name) > 1:
            ordered = stages(by_name)
            out += ["## DRAGAN vs GAN over %d seeds at %s epochs: %s" % (
                len({s for _, b in ordered for s in b}),
                ", ".join("%g" % stage_epochs(b) for _, b in ordered), recipe), "",
                staged_section(recipe, by_name, page, figures, runs, data, cache,
                               balances[recipe])]
            continue
        for name, by_seed in sorted(by_name.items()):
            out += ["## DRAGAN vs GAN over %d seeds: %s (%s)" % (len(by_seed), recipe, name), "",
                    seeds_section(recipe, name, by_seed, page, figures, runs, cache)]
    for report, source in zip(reports, eval_paths):
        runs_text = ", ".join("%s at %g epochs%s" % (
            r["model"], round(r["epochs_done"], 2),
            "" if train_seed(r) is None else " (seed %d)" % train_seed(r))
            for r in report["runs"] if "epochs_done" in r)
        out += ["## Classifier metrics and the blog's PSNR%s" % (
            " (%s)" % runs_text if runs_text else ""), "",
            mnist_section(report, page, figures, source)]
    for i, (study, toy_dir) in enumerate(zip(studies, toy_dirs)):
        if study is None:
            recipe = [n for n in experiments.EXPERIMENTS if any(
                toy_dir.rstrip("/") in c for c in experiments.commands(n)
                if "reproduce.toy" in c)]
            out += ["## Toy study in %s: not run yet" % toy_dir, "", "No `toy_study.json` "
                    "there yet: `%s`." % ("%s -m reproduce.experiments run %s" % (
                        experiments.PY, recipe[0]) if recipe else "python -m reproduce.toy "
                        "--out " + toy_dir), ""]
            continue
        # Several studies (e.g. two learning rates): each one's plots get their own names.
        prefix = "study%d_" % (i + 1) if len(studies) > 1 else ""
        out += ["## Toy study: mode collapse on 2-D data%s" % (
            " (%s)" % toy.study_label(study) if len(studies) > 1 else ""), "",
            toy_section(study, toy_dir, page, figures, prefix)]
    studies = [s for s in studies if s is not None]
    out += ["## Closing note", ""] + blog_closing + dragan_claims(staged, studies, balances) + [
        closing_note(reports, studies)]
    for recipe, by_name in over_seeds:
        out += staged_closing(recipe, by_name)
    out += _recipes_section()
    text = "\n".join(out).rstrip() + "\n"
    with utils.atomic_path(page) as tmp, open(tmp, "w") as f:
        f.write(text)
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", metavar="DIR",
                        help="the runs folder of `experiments run` ($RUNS), where "
                             "--over-seeds finds a recipe's evaluations [default: none: read "
                             "them from reproduce/published/results_data/]")
    parser.add_argument("--blog", action="append", default=[], metavar="RECIPE",
                        help="a blog run's recipe (%s; repeatable): its section with "
                             "grids, curves, measures and verdict" % ", ".join(
                                 blog_sections.BLOGS))
    parser.add_argument("--over-seeds", action="append", default=[], metavar="RECIPE",
                        help="a recipe whose evaluations are aggregated over its seeds "
                             "(repeatable)")
    parser.add_argument("--eval", action="append", default=[], metavar="JSON",
                        help="an evaluation written by python -m reproduce.evaluate --json "
                             "(repeatable)")
    parser.add_argument("--toy", action="append", default=[], metavar="DIR",
                        help="a toy study's folder (python -m reproduce.toy --out; repeatable, "
                             "e.g. one per learning rate)")
    parser.add_argument("--out", default=os.path.join(PUBLISHED, "RESULTS.md"),
                        help="the page to write [default: reproduce/published/RESULTS.md]")
    args = parser.parse_args(argv)
    if not (args.eval or args.toy or args.over_seeds or args.blog):
        parser.error("nothing to report: give --blog RECIPE, --over-seeds RECIPE, --eval JSON "
                     "and/or --toy DIR")
    not_blogs = [r for r in args.blog if r not in blog_sections.BLOGS]
    if not_blogs:
        parser.error("--blog %s: not a blog run; use one of %s" % (
            ", ".join(not_blogs), ", ".join(blog_sections.BLOGS)))
    unknown = [r for r in args.over_seeds if r not in experiments.EXPERIMENTS]
    if unknown:
        parser.error("unknown recipe %s: use one of %s" % (", ".join(unknown),
                                                           ", ".join(experiments.EXPERIMENTS)))
    try:
        write_page(args.out, args.eval, args.toy, args.over_seeds, args.runs,
                   blogs=args.blog)
    except (GanReproError, OSError, KeyError, ValueError) as e:
        print("%s: error: %s" % (PROG, e), file=sys.stderr)
        return 1
    print("wrote %s" % args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
