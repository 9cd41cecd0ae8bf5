"""Reference loss trajectories: short, fixed runs whose losses are recorded.

A recipe is a model class plus config overrides on top of the blog defaults:
fixed seed, a fixed small MNIST subset (the first N training images), a fixed
number of steps and fixed thread counts, so the losses repeat bit for bit on
the same CPU and TensorFlow build. `tests/test_reference.py` compares a fresh
run against the recorded file; only `python -m reproduce.record NAME` rewrites
that file.
"""

import os
import platform
import tempfile

import numpy as np

import utils

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE_DIR = os.path.join(HERE, "reference")

# Relative and absolute tolerance of the trajectory comparison. Same CPU, same
# TensorFlow build and same thread counts give identical numbers; the tolerance
# absorbs the last-bit differences of other CPUs' vector instructions.
RTOL, ATOL = 1e-4, 1e-6


# Recipe name -> the registered model (models.MODELS) and config overrides on
# top of its blog defaults: a small fixed subset, a few steps, fixed threads.
_COMMON = dict(seed=547, intra_op_threads=2, inter_op_threads=2, deterministic=True,
               sample_every=1000, save_every=0, log_every=10)
RECIPES = {
    "dragan": dict(dataset="mnist", train_subset=640, max_steps=15),
    "gan": dict(dataset="mnist", train_subset=640, max_steps=15),
    "dcgan": dict(dataset="mnist", train_subset=640, max_steps=15),
    "dcgan_pokemon": dict(dataset="pokemon", train_subset=256, batch_size=64, max_steps=6),
    "wgan": dict(dataset="mnist", train_subset=640, max_steps=6),
    "wgan_gp": dict(dataset="mnist", train_subset=640, max_steps=6),
    "cgan": dict(dataset="mnist", train_subset=640, max_steps=30),
    "acgan": dict(dataset="mnist", train_subset=640, max_steps=15),
    "infogan": dict(dataset="mnist", train_subset=640, max_steps=8),
    "cyclegan": dict(train_subset=64, max_steps=4),
}

# Rough seconds a recipe takes here (2 cores): the test runs the slowest first.
_SECONDS = dict(dragan=15, gan=12, dcgan=12, dcgan_pokemon=12, wgan=14, wgan_gp=14, cgan=8,
                acgan=12, infogan=16, cyclegan=20)


def expected_cost(name):
    return _SECONDS.get(name, 10)


def recipe(name):
    """{"model": class, "config": overrides} of recipe `name`."""
    from models import get_model
    return dict(model=get_model(name), config=dict(_COMMON, **RECIPES[name]))


def recipe_names():
    return sorted(RECIPES)


def run(name, data_dir=None, workdir=None):
    """Run recipe `name` from scratch in a throw-away folder.

    Returns:
      dict loss name -> list of per-step values (float).
    """
    chosen = recipe(name)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        settings = dict(chosen["config"], data_dir=data_dir,
                        checkpoint_dir=os.path.join(tmp, "checkpoint"),
                        result_dir=os.path.join(tmp, "results"), log_dir=os.path.join(tmp, "logs"))
        config = chosen["model"].Config(**settings)
        with chosen["model"](config, chosen["model"].load_data(config)) as model:
            history = model.train(keep_history=True).history
    return {key: [step[key] for step in history] for key in history[0]}


def run_many(names, data_dir=None, workers=2):
    """Run several recipes, `workers` at a time, each in a fresh spawned process (as
    `reproduce.record` runs one: the recipes fix their own thread counts, so running two
    side by side changes the time, not the numbers).

    Returns:
      dict name -> concurrent.futures.Future of `run(name)`'s result; the pool finishes
      them in the background (call `.result()`; an error is raised there).
    """
    import concurrent.futures
    import multiprocessing
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    futures = {name: pool.submit(_run_quietly, name, data_dir) for name in names}
    pool.shutdown(wait=False)
    return futures


def _run_quietly(name, data_dir=None):
    """`run(name)` without its progress lines (a background job's would mix with other output)."""
    import contextlib
    import io
    with contextlib.redirect_stdout(io.StringIO()):
        return run(name, data_dir)


def path(name):
    return os.path.join(REFERENCE_DIR, "%s.json" % name)


def record(name, data_dir=None):
    """Run recipe `name` and (over)write its reference file."""
    from tf_compat import onednn_enabled, tf    # first: it chooses TensorFlow's kernels
    losses = run(name, data_dir)
    chosen = recipe(name)
    utils.write_json(path(name), dict(
        model=chosen["model"].model_name, recipe=chosen["config"], losses=losses,
        tolerance=dict(rtol=RTOL, atol=ATOL),
        regenerate="python -m reproduce.record %s" % name,
        environment=dict(tensorflow=tf.__version__, numpy=np.__version__,
                         python=platform.python_version(), machine=platform.machine(),
                         onednn=onednn_enabled(), threads=_COMMON["intra_op_threads"],
                         processor=_cpu_name())))
    return losses


def load(name):
    return utils.read_json(path(name))


def compare(recorded, fresh):
    """(bit_exact, max relative difference) of two loss dicts; raises on other keys."""
    if sorted(recorded) != sorted(fresh):
        raise AssertionError("loss names differ: %s vs %s" % (sorted(recorded), sorted(fresh)))
    exact, worst = True, 0.0
    for key in recorded:
        a, b = np.asarray(recorded[key]), np.asarray(fresh[key])
        if a.shape != b.shape:
            raise AssertionError("%s: %d recorded steps, %d now" % (key, a.size, b.size))
        exact &= bool(np.array_equal(a, b))
        worst = max(worst, float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-12))))
    return exact, worst


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
