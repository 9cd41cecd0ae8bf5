"""Write reproduce/RESULTS.md from finished runs: python -m reproduce.results.

    python -m reproduce.results --eval runs/mnist_hour/eval.json [--eval MORE.json ...]
                                [--toy reproduce/toy [--toy MORE ...]] [--out reproduce/RESULTS.md]

Inputs are what the recipes (reproduce/experiments.py) leave behind: the JSON of
`python -m reproduce.evaluate` (every run it measured; the runs' own folders are read
for the sample grids and loss curves) and the toy study's folder (`toy_study.json` and
its scatter plots). The page gets the tables, the latest epoch grid of every run, its
loss curves (from its TensorBoard events, drawn as PNG) and the mean digits of the blog's
PSNR, each figure with the command that made it. Figures are copied into
`reproduce/figures/` beside the page, so it stays readable without the run folders.
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

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import utils  # noqa: E402
from errors import GanReproError  # noqa: E402
from reproduce import evaluate, experiments, plots, toy  # noqa: E402

PROG = "python -m reproduce.results"
HERE = os.path.dirname(os.path.abspath(__file__))
CURVES = ("d_loss", "g_loss", "gradient_penalty", "d_loss_real", "d_loss_fake")


def read_scalars(log_folder, tags=CURVES):
    """{tag: (steps, values)} from a run's TensorBoard event files (a resumed run's later
    files win for a step written twice)."""
    from tf_compat import tf
    found = {}
    verbosity = tf.logging.get_verbosity()
    tf.logging.set_verbosity(tf.logging.ERROR)      # summary_iterator's deprecation notice
    for path in sorted(glob.glob(os.path.join(log_folder, "events.out.tfevents.*")),
                       key=os.path.getmtime):
        try:
            for event in tf.train.summary_iterator(path):
                for value in event.summary.value:
                    if value.tag in tags and value.HasField("simple_value"):
                        found.setdefault(value.tag, {})[event.step] = value.simple_value
        except (tf.errors.DataLossError, OSError):
            continue            # a file cut short by a crash: keep what was read
    tf.logging.set_verbosity(verbosity)
    return {tag: (np.array(sorted(v)), np.array([v[s] for s in sorted(v)]))
            for tag, v in found.items()}


def latest_grid(result_folder, model_name, epochs_done=None):
    """The epoch grid saved at `epochs_done` (a run evaluated before it went on training),
    else the newest epoch grid, else the newest fixed-noise grid of a run, or None."""
    if epochs_done is not None and float(epochs_done).is_integer() and epochs_done >= 1:
        path = os.path.join(result_folder, "%s_epoch%03d_test_all_classes.png"
                            % (model_name, int(epochs_done) - 1))
        if os.path.exists(path):
            return path
    for pattern in ("%s_epoch*_test_all_classes.png", "%s_train_*.png"):
        paths = sorted(glob.glob(os.path.join(result_folder, pattern % model_name)),
                       key=os.path.getmtime)
        if paths:
            return paths[-1]
    return None


def _rel(path, page):
    return os.path.relpath(path, os.path.dirname(os.path.abspath(page)))


def _command(command):
    """A run's recorded argv as a command to paste (`scripts/...py` gets the venv's python)."""
    if not command:
        return "?"
    return "%s %s" % (experiments.PY, command) if command.split()[0].endswith(".py") else command


def train_seed(run):
    """The seed a measured run was trained with (evaluate's JSON, else the run's
    config.json), or None."""
    if run.get("train_seed") is not None:
        return run["train_seed"]
    try:
        return utils.read_json(os.path.join(run["run"], "config.json"))["config"]["seed"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _slug(run):
    seed = train_seed(run)
    return "%s_%sstep%d" % (run["model"], "" if seed is None else "seed%d_" % seed, run["step"])


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
        slug = _slug(r)
        out += ["### %s, step %d (%.2f epochs)" % (r["model"], r["step"], r["epochs_done"]), "",
                "Trained by: `%s`" % _command(r.get("command")), ""]
        grid = latest_grid(r["result_folder"], r["model"], r.get("epochs_done"))
        if grid:
            target = os.path.join(figures, "%s_grid.png" % slug)
            shutil.copyfile(grid, target)
            out += ["![%s samples](%s)" % (r["model"], _rel(target, page)),
                    "", "Samples: %s (saved by the training run)." % os.path.basename(grid), ""]
        # Up to the evaluated step: the run may have trained on after it was measured.
        scalars = {tag: (steps[steps <= r["step"]], values[steps <= r["step"]])
                   for tag, (steps, values) in read_scalars(r["log_folder"]).items()}
        scalars = {tag: sv for tag, sv in scalars.items() if len(sv[0])}
        if scalars:
            target = os.path.join(figures, "%s_losses.png" % slug)
            steps = max(len(v[0]) for v in scalars.values())
            window = max(1, min(50, steps // 20))
            plots.line_chart(target, [(tag,) + scalars[tag] for tag in CURVES if tag in scalars],
                             title="%s losses per step%s" % (r["model"], (
                                 " (moving average of %d)" % window) if window > 1 else ""),
                             smooth=window)
            out += ["![%s losses](%s)" % (r["model"], _rel(target, page)), "",
                    "Loss curves: TensorBoard scalars of %s." % r["log_folder"], ""]
        if r.get("mean_digits_png") and os.path.exists(r["mean_digits_png"]):
            target = os.path.join(figures, "%s_mean_digits.png" % slug)
            shutil.copyfile(r["mean_digits_png"], target)
            out += ["![%s mean digits](%s)" % (r["model"], _rel(target, page)), "",
                    "Mean binarised digits (generated, then real test), from `%s`." %
                    report.get("command", "python -m reproduce.evaluate"), ""]
    return "\n".join(out)


def _toy_label(study):
    b = study["budget"]
    return "Adam lr %g, %d generator steps" % (b.get("lr", toy.DEFAULTS["lr"]), b["steps"])


def toy_section(study, toy_dir, page, figures, prefix=""):
    """Markdown of one toy study; its scatter plots are copied as figures/<prefix>toy_*.png."""
    out = ["Made by: `%s` (%d runs, %.0f s wall clock at %d thread per run; %s, "
           "batch %d, %d samples measured per run)."
           % (study["command"], len(study["runs"]), study["budget"]["seconds"],
              study["budget"]["threads"], _toy_label(study),
              study["budget"]["batch_size"], study["budget"]["eval_samples"]), "",
           toy.table(study["summary"]), "",
           "Modes covered: modes with >= 20 of 2,500 samples within 3 std of their centre "
           "(PacGAN's rule; swiss roll: 20 pieces of the roll, within 3 noise std of the "
           "curve). Collapsed: fewer than half of the modes. Reverse KL: KL(generated || "
           "data) over the modes, every sample at its nearest mode.", ""]
    plots_found = sorted(glob.glob(os.path.join(toy_dir, "toy_*.png")))
    for path in plots_found:
        target = os.path.join(figures, prefix + os.path.basename(path))
        if os.path.abspath(path) != os.path.abspath(target):
            shutil.copyfile(path, target)
        out += ["![%s](%s)" % (os.path.basename(path), _rel(target, page)), ""]
    if plots_found:
        out += ["Scatter plots: rows are the methods, columns the first seeds; the data in "
                "grey, 2,500 samples in blue.", ""]
    return "\n".join(out)


def _finite(values):
    values = np.asarray([v for v in values if isinstance(v, (int, float))], np.float64)
    return values[np.isfinite(values)]


def _seeds(*runs):
    seeds = sorted({train_seed(r) for r in runs} - {None})
    return ", seed %s" % " and ".join(str(x) for x in seeds) if seeds else ""


def closing_note(reports, studies):
    """Sentences comparing the numbers with the blog's and the paper's claims."""
    lines = []
    for report in reports:
        by_model = {r["model"]: r for r in report["runs"] if "fid" in r}
        if "DRAGAN" in by_model and "GAN" in by_model:
            d, g = by_model["DRAGAN"], by_model["GAN"]
            dp, gp = _finite(d["blog_psnr"]["per_digit"]), _finite(g["blog_psnr"]["per_digit"])
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
        rows = {(r["dataset"], r["method"]): r for r in study["summary"]}
        for dataset in sorted({r["dataset"] for r in study["summary"]}):
            gan = rows.get((dataset, "gan"))
            dragans = [rows[(dataset, m)] for m in ("dragan_blog", "dragan_paper")
                       if (dataset, m) in rows]
            if gan and dragans:
                parts = ", ".join("%s %d" % (r["method"], r["collapsed"]) for r in dragans)
                fewer = [r["method"] for r in dragans if r["collapsed"] < gan["collapsed"]]
                not_fewer = [r["method"] for r in dragans if r["method"] not in fewer]
                everything = all(r["collapsed"] == r["seeds"] for r in dragans + [gan])
                if everything:
                    verdict = ("Every seed of every method collapsed: by modes covered, "
                               "this budget cannot tell them apart.")
                elif fewer:     # judged form by form: the blog's and the paper's penalty
                    verdict = "Fewer collapsed seeds than GAN with %s, as the paper says%s." % (
                        " and ".join(fewer),
                        "; not with %s" % " and ".join(not_fewer) if not_fewer else "")
                else:
                    verdict = "No fewer collapsed seeds with DRAGAN here."
                # Reverse KL tells spread from collapse where the modes rule counts none.
                spread = [r["method"] for r in dragans
                          if r["reverse_kl_mean"] < gan["reverse_kl_mean"]]
                lines.append(
                    "- Toy %s (%s): collapsed seeds of %d: gan %d, %s; mean modes covered gan "
                    "%.1f, %s; mean reverse KL gan %.3f, %s. %s%s" % (
                        dataset, _toy_label(study), gan["seeds"], gan["collapsed"], parts,
                        gan["modes_mean"], ", ".join("%s %.1f" % (r["method"], r["modes_mean"])
                                                     for r in dragans),
                        gan["reverse_kl_mean"], ", ".join(
                            "%s %.3f" % (r["method"], r["reverse_kl_mean"]) for r in dragans),
                        verdict, " Lower reverse KL than GAN (mass spread over more modes) "
                        "with %s." % " and ".join(spread) if spread else ""))
    return "\n".join(lines) if lines else "(no finished runs to compare)"


def write_page(page, eval_paths, toy_dirs=()):
    figures = utils.ensure_dir(os.path.join(os.path.dirname(os.path.abspath(page)), "figures"))
    reports = []
    for path in eval_paths:
        if not os.path.exists(path):
            raise GanReproError("no evaluation %s: run the evaluate command of "
                                "reproduce/experiments.py first" % path)
        reports.append(utils.read_json(path))
    studies = []
    for toy_dir in toy_dirs:
        study_path = os.path.join(toy_dir, "toy_study.json")
        if not os.path.exists(study_path):
            raise GanReproError("no toy study in %s: run python -m reproduce.toy first" % toy_dir)
        studies.append(utils.read_json(study_path))
    out = ["# Results", "",
           "Generated by `%s` on %s from finished runs; do not edit by hand (the closing "
           "note is generated too: check it)." % (
               "python -m reproduce.results " + " ".join(
                   ["--eval %s" % p for p in eval_paths] + ["--toy %s" % d for d in toy_dirs]),
               datetime.date.today().isoformat()), "",
           "Quality is measured with classifiers the project trains itself (no Inception "
           "weights offline): classifier FID and score are not Inception FID / Inception "
           "score and compare only with each other and with the real-data floor beside "
           "them. See README, \"Evaluation\".", ""]
    for report, source in zip(reports, eval_paths):
        runs = ", ".join("%s at %g epochs%s" % (
            r["model"], round(r["epochs_done"], 2),
            "" if train_seed(r) is None else " (seed %d)" % train_seed(r))
            for r in report["runs"] if "epochs_done" in r)
        out += ["## Classifier metrics and the blog's PSNR%s" % (" (%s)" % runs if runs else ""),
                "", mnist_section(report, page, figures, source)]
    for i, (study, toy_dir) in enumerate(zip(studies, toy_dirs)):
        # Several studies (e.g. two learning rates): each one's plots get their own names.
        prefix = "study%d_" % (i + 1) if len(studies) > 1 else ""
        out += ["## Toy study: mode collapse on 2-D data%s" % (
            " (%s)" % _toy_label(study) if len(studies) > 1 else ""), "",
            toy_section(study, toy_dir, page, figures, prefix)]
    out += ["## Closing note", "", closing_note(reports, studies), "",
            "## Recipes", "", "Every experiment's commands and budget "
            "(`python -m reproduce.experiments`):", ""]
    for name in experiments.EXPERIMENTS:
        e = experiments.EXPERIMENTS[name]
        out += ["- **%s** (%s; budget: %s):" % (name, e["blog"], e["budget"]), ""]
        out += ["  ```sh"] + ["  " + c for c in e["commands"]] + ["  ```", ""]
    text = "\n".join(out).rstrip() + "\n"
    tmp = page + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, page)
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval", action="append", default=[], metavar="JSON",
                        help="an evaluation written by python -m reproduce.evaluate --json "
                             "(repeatable)")
    parser.add_argument("--toy", action="append", default=[], metavar="DIR",
                        help="a toy study's folder (python -m reproduce.toy --out; repeatable, "
                             "e.g. one per learning rate)")
    parser.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"),
                        help="the page to write [default: reproduce/RESULTS.md]")
    args = parser.parse_args(argv)
    if not args.eval and not args.toy:
        parser.error("nothing to report: give --eval JSON and/or --toy DIR")
    try:
        write_page(args.out, args.eval, args.toy)
    except (GanReproError, OSError, KeyError, ValueError) as e:
        print("%s: error: %s" % (PROG, e), file=sys.stderr)
        return 1
    print("wrote %s" % args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
