"""What the results page reads from finished runs: TensorBoard scalars, sample grids, a run's
training seed, and a recipe's evaluations (from `$RUNS` or, kept there, from
`reproduce/published/results_data/`). Used by `reproduce.results`, `reproduce.blog_sections`
and `reproduce.seeds_sections`."""

import glob
import os
import re

import numpy as np

import utils
from errors import GanReproError
from tf_compat import tf

HERE = os.path.dirname(os.path.abspath(__file__))

PUBLISHED = os.path.join(HERE, "published")   # the page, its figures, its kept data

DATA = os.path.join(PUBLISHED, "results_data")

CURVES = ("d_loss", "g_loss", "gradient_penalty", "d_loss_real", "d_loss_fake")


def read_scalars(log_folder, tags=CURVES):
    """{tag: (steps, values)} from a run's TensorBoard event files (a resumed run's later
    files win for a step written twice); `tags` None: every scalar."""
    found = {}
    verbosity = tf.logging.get_verbosity()
    tf.logging.set_verbosity(tf.logging.ERROR)      # summary_iterator's deprecation notice
    for path in sorted(glob.glob(os.path.join(log_folder, "events.out.tfevents.*")),
                       key=os.path.getmtime):
        try:
            for event in tf.train.summary_iterator(path):
                for value in event.summary.value:
                    if (tags is None or value.tag in tags) and value.HasField("simple_value"):
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


def rel(path, page):
    return os.path.relpath(path, os.path.dirname(os.path.abspath(page)))


def train_seed(run):
    """The seed a measured run was trained with (evaluate's JSON, else the run's
    config.json), or None."""
    if run.get("train_seed") is not None:
        return run["train_seed"]
    try:
        return utils.read_json(os.path.join(run["run"], "config.json"))["config"]["seed"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def slug(run):
    seed = train_seed(run)
    return "%s_%sstep%d" % (run["model"], "" if seed is None else "seed%d_" % seed, run["step"])


def finite(values):
    values = np.asarray([v for v in values if isinstance(v, (int, float))], np.float64)
    return values[np.isfinite(values)]


def portable(obj, runs):
    """`obj` with every path under `runs` written as $RUNS/... (for results_data/)."""
    prefix = os.path.abspath(runs) if runs else None
    if isinstance(obj, dict):
        return {k: portable(v, runs) for k, v in obj.items()}
    if isinstance(obj, list):
        return [portable(v, runs) for v in obj]
    if isinstance(obj, str) and prefix and prefix in obj:
        return obj.replace(prefix, "$RUNS")
    return obj


def local(path, runs):
    """A $RUNS/... path of a kept JSON on this machine (None if there is no --runs)."""
    if path and path.startswith("$RUNS"):
        return path.replace("$RUNS", os.path.abspath(runs)) if runs else None
    return path


def recipe_evaluations(recipe, runs=None, data=DATA):
    """{json name: {seed: report}} of a recipe's evaluations: from $RUNS/<recipe>/seed<S>/
    when --runs has them (then kept in `data`/<recipe>/), else from `data`/<recipe>/."""
    found = {}
    pattern = os.path.join(os.path.abspath(runs), recipe, "seed*", "*.json") if runs else None
    paths = sorted(glob.glob(pattern)) if pattern else []
    kept = utils.ensure_dir(os.path.join(data, recipe)) if paths else os.path.join(data, recipe)
    for path in paths:
        seed_dir = os.path.basename(os.path.dirname(path))
        report = utils.read_json(path)
        if "runs" not in report:
            continue
        name = os.path.splitext(os.path.basename(path))[0]
        seed = int(seed_dir[len("seed"):])
        found.setdefault(name, {})[seed] = report
        utils.write_json(os.path.join(kept, "%s_%s.json" % (seed_dir, name)),
                         portable(report, runs))
    if not found:
        for path in sorted(glob.glob(os.path.join(data, recipe, "seed*_*.json"))):
            seed_dir, name = os.path.splitext(os.path.basename(path))[0].split("_", 1)
            found.setdefault(name, {})[int(seed_dir[len("seed"):])] = utils.read_json(path)
    if not found:
        raise GanReproError("no evaluations of %s under %s or in %s: run python -m "
                            "reproduce.experiments run %s first" % (
                                recipe, os.path.join(runs or "$RUNS", recipe), kept, recipe))
    return found


_ATTEMPT = re.compile(r": (finished|stopped by [A-Z]+) at step \d+ \((\d+) steps in "
                      r"(\d+):(\d\d):(\d\d)")


def job_log(log_path):
    """(resumes, attempts) of a job's log in one reading: how many of its starts resumed
    from a checkpoint (a refused start is not one), and [(steps, seconds, stopped)] of
    every training attempt it reports (finished, or stopped by a signal: stopped True);
    (None, []) without a log."""
    resumes, found = 0, []
    try:
        with open(log_path, errors="replace") as f:
            for line in f:
                resumes += ": resuming from " in line
                m = _ATTEMPT.search(line)
                if m:
                    h, mi, se = (int(x) for x in m.groups()[2:])
                    found.append((int(m.group(2)), 3600 * h + 60 * mi + se,
                                  m.group(1) != "finished"))
    except OSError:
        return None, []
    return resumes, found
