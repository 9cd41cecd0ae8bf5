"""The results page's section of each blog run (reproduce/experiments.py `BLOG_RUNS`).

For every recipe of `BLOG_RUNS` (CGAN, WGAN, ACGAN, CycleGAN, DCGAN on MNIST and on
Pokemon sprites, InfoGAN, WGAN-GP) one section: what the blog shows (from the spec), the
command, the budget as steps and as a share of the blog's length with the wall time and
CPU it took, the final sample grids in the blog's layout, the loss curves, the measures
that apply beside their real-data floors, and a verdict line made from those numbers.
An optional `remark.md` beside the kept evaluation (reproduce/published/results_data/<recipe>/)
adds what a person saw in the grids.

The numbers come from the evaluation JSON `python -m reproduce.results` keeps in
reproduce/published/results_data/<recipe>/ (with the training job's wall time and machine, read
from the runner's done-marker when the runs folder is there), so the tables and
verdicts regenerate without the runs; grids and curves are copied into figures/ while
the run folders exist and reused from there after.
"""

import collections
import glob
import os
import re
import shutil

import numpy as np

import utils
from reproduce import evaluate, experiments, plots, run_files

# What each blog shows or claims (../shared/spec/MODELS.md), and its length in steps or
# epochs (a step: one iteration of the blog's loop; WGAN / WGAN-GP: one G iteration).
BLOGS = {
    "cgan": dict(title="CGAN与GAN的区别", length=(20000, "steps"), grids=("blog",), shows=(
        "A 2x5 grid of digits 0 to 9 every 200 iterations (Keras-GAN `cgan.py`): the label "
        "decides which digit the generator draws.")),
    "wgan": dict(title="WGAN与DCGAN的区别", length=(4000, "steps"), grids=("train",), shows=(
        "A 5x5 grid of digits every 50 iterations over 4,000 (Keras-GAN `wgan.py`): a "
        "weight-clipped critic trained 5 times per generator step learns digits; the "
        "critic's loss is the Wasserstein estimate.")),
    "acgan": dict(title="One Day One GAN, day 4 (ACGAN)", length=(14000, "steps"),
                  grids=("blog",), shows=(
        "A 10x10 grid every 200 iterations, a digit per line of the grid (Keras-GAN "
        "`acgan.py`'s `sample_images` asks for digit j in tile (i, j), so each row runs 0 "
        "to 9 and each column is one digit): the auxiliary classifier makes every tile the "
        "digit it was asked for.")),
    "cyclegan": dict(title="CycleGAN模型原理", length=(200, "epochs"), grids=("train",), shows=(
        "Rows A and B of original, translated and reconstructed images every 200 batches "
        "(Keras-GAN `cyclegan.py`, apple2orange in the blog; here regular <-> shiny "
        "Pokemon sprites): translations that change the domain and cycles that return "
        "the original.")),
    "dcgan_pokemon": dict(title="GAN 生成手写数字和 Pokemon 实战 (Pokemon)",
                          length=(5000, "epochs"), grids=("train",), shows=(
        "An 8x8 grid of 40x40 sprites after 5,000 epochs of the DCGAN with an MSE loss: "
        "coloured sprite-like blobs on white, with the sprites' palette and layout.")),
    "dcgan": dict(title="GAN 生成手写数字和 Pokemon 实战 (MNIST)", length=(40, "epochs"),
                  grids=("train",), shows=(
        "The blog's 8x8 grid of digits after 40 epochs (also shown at 50 and 100) and its "
        "per-epoch loss curves (after the TensorFlow DCGAN tutorial).")),
    "infogan": dict(title="Принцип ИнфоГАН", length=(40000, "steps"),
                    grids=("code1_sweep", "code2_sweep", "book_4x4"), shows=(
        "The book's grids after 40,000 steps: the one-hot label picks the digit, and "
        "sweeping the continuous codes c1 and c2 for a fixed digit changes its tilt and "
        "stroke width (the paper reports the categorical code as a ~95% unsupervised "
        "classifier).")),
    "wgan_gp": dict(title="WGAN-GP与WGAN的区别", length=(30000, "steps"), grids=("train",),
                    shows=(
        "A 5x5 grid of digits every 100 iterations over 30,000 (Keras-GAN `wgan_gp.py`): "
        "with the gradient penalty in place of clipping, cleaner digits than WGAN's.")),
}


def display_name(recipe):
    """The model's name as the page shows it (the registry's, Pokemon marked)."""
    from models import get_model
    name = get_model(recipe).model_name.replace("_", "-")     # WGAN_GP: the blog's WGAN-GP
    return name + " (Pokemon)" if recipe == "dcgan_pokemon" else name


# ---- the training facts kept beside an evaluation --------------------------------------

def _job_log(marker):
    """(times the job resumed, steps its finishing attempt trained or None) from the log
    beside a done-marker."""
    resumed, attempts = run_files.job_log(marker[:-len(".done.json")] + ".log")
    if resumed is None:
        return None, None
    finished = [steps for steps, _, stopped in attempts if not stopped]
    return resumed, finished[-1] if finished else None


def training_facts(recipe, seed, runs):
    """{seconds, resumed, host, cpu, finished} of a recipe's training job, from the
    runner's done-marker under `runs` (any recipe's jobs/ folder that ran it: the latest
    whose attempt trained; a rerun that found the run finished trains 0 steps), or
    None."""
    name = "%s_seed%d" % (recipe, seed)
    markers = sorted(glob.glob(os.path.join(os.path.abspath(runs), "*", "jobs",
                                            name + ".done.json")), key=os.path.getmtime)
    logs = {m: _job_log(m) for m in markers}
    markers = [m for m in markers if logs[m][1] != 0]
    if not markers:
        return None
    marker = utils.read_json(markers[-1])
    local = marker.get("where") == os.uname()[1]
    cpu = marker.get("cpu") or (utils.cpu_name() if local else None)
    return dict(seconds=marker.get("seconds"), resumed=logs[markers[-1]][0],
                trained=logs[markers[-1]][1],
                host=marker.get("where"), cpu=cpu, cores=os.cpu_count() if local else None,
                finished=marker.get("finished"),
                recipe_folder=os.path.basename(os.path.dirname(os.path.dirname(markers[-1]))))


def _hms(seconds):
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return "%d:%02d:%02d" % (h, m, s) if h else "%d:%02d" % (m, s)


def budget_text(recipe, run, training):
    """'N steps (E epochs): P% of the blog's L; wall W on CPU' for a measured run."""
    length, unit = BLOGS[recipe]["length"]
    done = run["step"] if unit == "steps" else run["epochs_done"]
    text = "%d steps (%.2f epochs): %.0f%% of the blog's %s %s" % (
        run["step"], run["epochs_done"], 100.0 * done / length, "{:,}".format(length), unit)
    if training and training.get("seconds"):
        trained = training.get("trained") or run["step"]     # steps of the timed attempt
        text += "; training took %s wall (%.2f steps/s)%s, one thread, two runs side by side" % (
            _hms(training["seconds"]), trained / training["seconds"],
            "" if not training.get("resumed") else
            " in its last attempt, %s steps (the run was resumed from a checkpoint %d time%s; "
            "the earlier attempts' time is not counted here)" % (
                "{:,}".format(trained), training["resumed"],
                "" if training["resumed"] == 1 else "s"))
        if training.get("cpu"):
            text += ", CPU %s%s" % (training["cpu"], " (%d cores)" % training["cores"]
                                    if training.get("cores") else "")
        if training.get("finished"):
            text += ", finished %s" % training["finished"][:10]
    return text


# ---- grids and curves -----------------------------------------------------------------

_GRID = re.compile(r"_(\d+)_(\d+)\.png$")


def final_grid(result_folder, model_name, name):
    """The last saved grid `<MODEL>_<name>_<epoch>_<batch>.png` of a run, or None."""
    found = []
    for path in glob.glob(os.path.join(result_folder, "%s_%s_*.png" % (model_name, name))):
        m = _GRID.search(os.path.basename(path))
        if m and os.path.basename(path)[:-len(m.group(0))] == "%s_%s" % (model_name, name):
            found.append((int(m.group(1)), int(m.group(2)), path))
    return max(found)[2] if found else None


MIN_WIDTH = 320


def copy_enlarged(source, target, min_width=MIN_WIDTH):
    """Copy a grid PNG, enlarged by a whole factor (nearest neighbour) to >= min_width."""
    from PIL import Image
    with Image.open(source) as im:
        factor = max(1, -(-min_width // im.width))
        if factor == 1:
            shutil.copyfile(source, target)
            return
        with utils.atomic_path(target) as tmp:
            im.resize((im.width * factor, im.height * factor), Image.NEAREST).save(
                tmp, format="PNG")


def _figure_lines(recipe, run, runs, page, figures, rel):
    out = []
    folder = evaluate_path(run.get("result_folder"), runs)
    for name in BLOGS[recipe]["grids"]:
        target = os.path.join(figures, "%s_%s.png" % (recipe, name))
        grid = final_grid(folder, run["model"], name) if folder and os.path.isdir(folder) \
            else None
        if grid:
            copy_enlarged(grid, target)
        if os.path.exists(target):
            out += ["![%s %s grid](%s)" % (run["model"], name, rel(target, page)), "",
                    "`%s` grid at step %d (%s), saved by the training run; small grids "
                    "enlarged to at least %d pixels wide, nearest neighbour." % (
                        name, run["step"], os.path.basename(grid) if grid else
                        "kept from the run", MIN_WIDTH), ""]
    target = os.path.join(figures, "%s_losses.png" % recipe)
    logs = evaluate_path(run.get("log_folder"), runs)
    if logs and os.path.isdir(logs):
        scalars = {t: sv for t, sv in run_files.read_scalars(logs, None).items()
                   if ("loss" in t or t == "gradient_penalty") and len(sv[0])}
        if scalars:
            longest = max(len(s) for s, _ in scalars.values())
            window = max(1, min(200, longest // 50))
            plots.line_chart(target, [(t,) + scalars[t] for t in sorted(scalars)],
                             title="%s losses per step%s" % (run["model"], (
                                 " (moving average of %d)" % window) if window > 1 else ""),
                             smooth=window)
    if os.path.exists(target):
        out += ["![%s losses](%s)" % (run["model"], rel(target, page)), "",
                "Loss curves: the run's TensorBoard scalars.", ""]
    return out


def evaluate_path(path, runs):
    """A kept `$RUNS/...` path on this machine (None without --runs)."""
    if path and path.startswith("$RUNS"):
        return path.replace("$RUNS", os.path.abspath(runs)) if runs else None
    return path


# ---- measures and verdicts -------------------------------------------------------------

def _pct(x):
    return "%.1f%%" % (100.0 * x)


def headline(recipe, run):
    """(headline measure text, floor text) of a run."""
    if "cyclegan" in run:
        c = evaluate._floats(run["cyclegan"])
        return ("PSNR A->B %.2f dB, B->A %.2f dB" % (c["AB"]["model_psnr"], c["BA"]["model_psnr"]),
                "identity %.2f / %.2f dB" % (c["AB"]["baseline_psnr"], c["BA"]["baseline_psnr"]))
    if "sprites" in run:
        s = run["sprites"]
        return ("pixel-PCA FD %.2f ± %.2f" % (s["pca_fd"], s["pca_fd_std"]),
                "real sprites %.2f" % s["floor_pca_fd"])
    if "conditional" in run:
        return ("label accuracy %s" % _pct(run["conditional"]["accuracy"]),
                "judge on real test digits %s" % _pct(run["judge"]["test_accuracy"]))
    if "infogan_c1" in run:
        return ("c1 matched to digits %s" % _pct(run["infogan_c1"]["matching_accuracy"]),
                "judge on real test digits %s" % _pct(run["judge"]["test_accuracy"]))
    return ("classifier FID %.2f" % run["fid"], "real %.2f" % run["real"]["fid"])


def verdict(recipe, run):
    """(answer, line) from the numbers: answer "yes", "no" or "in pixel statistics"
    (the sprites, where no measure sees creatures); the line says where the run matches
    what the blog shows and where it does not, with the thresholds it used."""
    length, unit = BLOGS[recipe]["length"]
    done = run["step"] if unit == "steps" else run["epochs_done"]
    short = "" if done >= length else " at %.0f%% of the blog's length" % (100.0 * done / length)
    if "cyclegan" in run:
        c = evaluate._floats(run["cyclegan"])
        beats = [d for d in ("AB", "BA") if c[d]["model_psnr"] > c[d]["baseline_psnr"]
                 and c[d]["model_l1"] < c[d]["baseline_l1"]]
        if len(beats) == 2:
            return "yes", (
                "Reproduced in both directions%s: the translations are closer to the true "
                "shiny/regular pairs than the untranslated sprites are (PSNR higher and L1 "
                "lower than the identity baseline)." % short)
        return "no", (
            "Not reproduced%s: %s the translations closer to the true pairs than the "
            "untranslated sprites (PSNR higher and L1 lower than the identity baseline). The "
            "cycle (original -> translated -> reconstructed) may still look right in the "
            "grid; the numbers say the translation does not move the colours toward the "
            "true pair." % (short, "only in %s are" % beats[0] if beats else
                            "in neither direction are"))
    if "sprites" in run:
        s = run["sprites"]
        ratio = s["pca_fd"] / s["floor_pca_fd"]
        copy = (" Samples are not copies of training sprites (nearest-sprite distance %.2f "
                "times a real sprite's)." % s["nn_ratio"] if s["nn_ratio"] > 0.7 else
                " But the samples sit close to training sprites (nearest-sprite distance "
                "%.2f times a real sprite's): look for copies." % s["nn_ratio"])
        return ("in pixel statistics" if ratio <= 2 else "no"), (
            "Pixel statistics %s the sprites'%s: FD %.1f times the real halves' (close: "
            "within 2 times).%s Whether the samples look like creatures, as in the blog's "
            "grid, this measure cannot say: the grid above can." % (
                "close to" if ratio <= 2 else "away from", short, ratio, copy))
    parts = []
    hist = np.asarray(run["histogram"], np.float64)
    share = hist.min() / hist.sum()
    digits_ok = run["score"] >= 8.0 and share >= 0.05
    parts.append("The judge reads the samples as %s (classifier score %.2f of 10, real %.2f; "
                 "the rarest class %s of samples; FID %.1f times the real floor)" % (
                     "digits of every class" if digits_ok else "digits only in part",
                     run["score"], run["real"]["score"], _pct(share),
                     run["fid"] / run["real"]["fid"]))
    ok, extra = digits_ok, ""
    if "conditional" in run:
        acc = run["conditional"]["accuracy"]
        parts.append("it %s the digit it is asked for in %s of samples (worst digit %s)" % (
            "draws" if acc >= 0.9 else "often misses", _pct(acc),
            _pct(min(run["conditional"]["per_class"]))))
        ok, extra = ok and acc >= 0.9, ", label accuracy >= 90%"
    elif "infogan_c1" in run:
        acc = run["infogan_c1"]["matching_accuracy"]
        parts.append("the categorical code c1 (the one-hot label input) %s the digit: matched "
                     "one-to-one to the judge's digits it agrees on %s of samples (the blog's D "
                     "learns it from the real labels, so it is supervised; the paper's ~95%% is "
                     "unsupervised)" % (
                         "carries" if acc >= 0.8 else "only partly carries", _pct(acc)))
        ok, extra = ok and acc >= 0.8, ", c1 matching >= 80%"
    return ("yes" if ok else "no"), "%s. %s%s (thresholds: score >= 8, every class >= 5%%%s)." % (
        "; ".join(parts), "Reproduced" if ok else "Not reproduced", short, extra)


# ---- the sections -----------------------------------------------------------------------

def keep_training_facts(recipe, by_seed, runs, data):
    """Add each seed's training facts (when --runs has them) to its kept evaluation."""
    for seed, report in by_seed.items():
        facts = training_facts(recipe, seed, runs) if runs else None
        if facts:
            report["training"] = facts
            utils.write_json(os.path.join(data, recipe, "seed%d_eval.json" % seed),
                             run_files.portable(report, runs))


def section(recipe, by_seed, runs, page, figures, rel):
    """Markdown of one blog recipe (its first seed's evaluation)."""
    seed = sorted(by_seed)[0]
    report = by_seed[seed]
    run = report["runs"][0]
    blog = BLOGS[recipe]
    out = ["### %s: %s" % (display_name(recipe), blog["title"]), "",
           "**The blog shows:** %s" % blog["shows"], "",
           "**Made by:** `RUNS=runs; %s -m reproduce.experiments run %s` (its jobs under "
           "\"Recipes\"; training: `%s`), seed %d." % (
               experiments.PY, recipe, _train_command(run), seed), "",
           "**Budget:** %s. Recipe: %s." % (budget_text(recipe, run, report.get("training")),
                                            experiments.budget_of(recipe)), ""]
    out += _figure_lines(recipe, run, runs, page, figures, rel)
    out += ["**Measures** (`%s`, %s):" % (report.get("command", evaluate.PROG),
                                         "%d samples" % report["samples"]
                                         if "fid" in run else "its own evaluation"), "",
            evaluate.table([run]), ""]
    out += ["**Verdict:** %s" % verdict(recipe, run)[1], ""]
    remark = os.path.join(os.path.dirname(page), "results_data", recipe, "remark.md")
    if os.path.exists(remark):
        with open(remark) as f:
            out += ["**Seen in the grids:** %s" % f.read().strip(), ""]
    return "\n".join(out)


def _train_command(run):
    command = run.get("command") or "?"
    return "%s %s" % (experiments.PY, command) if command.endswith(".py") or \
        command.split()[0].endswith(".py") else command


def summary_table(rows):
    """Markdown: model, budget, headline measure, floor, verdict's first words."""
    lines = ["| model | blog | budget | headline measure | floor | reproduced? |",
             "|---|---|---|---|---|---|"]
    for recipe, run, _ in rows:
        if run is None:
            lines.append("| %s | %s | not run yet | - | - | - |" % (
                display_name(recipe), BLOGS[recipe]["title"]))
            continue
        value, floor = headline(recipe, run)
        length, unit = BLOGS[recipe]["length"]
        done = run["step"] if unit == "steps" else run["epochs_done"]
        lines.append("| %s | %s | %d steps, %.0f%% of the blog's | %s | %s | %s |" % (
            display_name(recipe), BLOGS[recipe]["title"], run["step"], 100.0 * done / length,
            value, floor, verdict(recipe, run)[0]))
    return "\n".join(lines)


def closing_line(rows):
    """The closing note's bullet on the blog runs: which reproduce, at which share of the
    blog's length, which do not, which are not run yet."""
    groups = collections.OrderedDict((k, []) for k in ("yes", "in pixel statistics", "no", None))
    for recipe, run, _ in rows:
        if run is None:
            groups[None].append(display_name(recipe))
            continue
        length, unit = BLOGS[recipe]["length"]
        done = run["step"] if unit == "steps" else run["epochs_done"]
        groups[verdict(recipe, run)[0]].append("%s (%.0f%%)" % (display_name(recipe),
                                                                100.0 * done / length))
    words = {"yes": "reproduced by their verdicts' thresholds", "in pixel statistics":
             "reproduced in pixel statistics only", "no": "not reproduced", None: "not run yet"}
    return ("- The blog runs, one seed each (547), in brackets the share of the blog's length: "
            + "; ".join("%s: %s" % (words[k], ", ".join(v)) for k, v in groups.items() if v)
            + ". Each section says why, with its numbers and grids.")


def page_part(recipes, runs, page, figures, data, rel, read, closing=None):
    """The page's part for `recipes`: a summary table, then a section each. `read(recipe)`
    gives {seed: report} or raises GanReproError when the recipe has no evaluation.
    `closing`: a list to append the closing note's line on these runs to."""
    from errors import GanReproError
    rows, sections = [], []
    for recipe in recipes:
        try:
            by_seed = read(recipe)
        except GanReproError:
            rows.append((recipe, None, None))
            sections.append("### %s: %s\n\nNot run yet: `RUNS=runs; %s -m "
                            "reproduce.experiments run %s` (budget: %s).\n" % (
                                display_name(recipe), BLOGS[recipe]["title"], experiments.PY,
                                recipe, experiments.budget_of(recipe)))
            continue
        keep_training_facts(recipe, by_seed, runs, data)
        by_seed = {s: run_files.portable(r, runs) for s, r in by_seed.items()}
        report = by_seed[sorted(by_seed)[0]]
        rows.append((recipe, report["runs"][0], report))
        sections.append(section(recipe, by_seed, runs, page, figures, rel))
    if closing is not None:
        closing.append(closing_line(rows))
    return ["## The blogs' results, model by model", "",
            "Each blog run of `reproduce/experiments.py` (`blog_results` runs them all), "
            "trained once (seed 547) at the blog's defaults and length or at the stated "
            "share of it, then measured. \"reproduced?\" is yes only where the numbers show "
            "what the blog's figure shows, by the thresholds its verdict names; for the "
            "Pokemon sprites, which no offline measure can judge as creatures, at most \"in "
            "pixel statistics\". Look at the grids too. Wall times are as measured by the "
            "runner, on a machine that may have been doing other work at the same time; "
            "`python -m reproduce.bench` gives each model's speed on an idle one.", "",
            summary_table(rows), ""] + sections
