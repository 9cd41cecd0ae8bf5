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


def _recipes():
    from models.dragan import DRAGAN
    return {
        "dragan": dict(model=DRAGAN, config=dict(
            dataset="mnist", train_subset=640, max_steps=30, seed=547,
            intra_op_threads=2, inter_op_threads=2, deterministic=True,
            sample_every=1000, save_every=0, log_every=10)),
    }


def recipe_names():
    return sorted(_recipes())


def run(name, data_dir=None, workdir=None):
    """Run recipe `name` from scratch in a throw-away folder.

    Returns:
      dict loss name -> list of per-step values (float).
    """
    from models.base import load_training_data
    recipe = _recipes()[name]
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        settings = dict(recipe["config"], data_dir=data_dir,
                        checkpoint_dir=os.path.join(tmp, "checkpoint"),
                        result_dir=os.path.join(tmp, "results"), log_dir=os.path.join(tmp, "logs"))
        config = recipe["model"].Config(**settings)
        with recipe["model"](config, load_training_data(config)) as model:
            history = model.train(keep_history=True).history
    return {key: [step[key] for step in history] for key in history[0]}


def path(name):
    return os.path.join(REFERENCE_DIR, "%s.json" % name)


def record(name, data_dir=None):
    """Run recipe `name` and (over)write its reference file."""
    import tensorflow
    losses = run(name, data_dir)
    recipe = _recipes()[name]
    utils.write_json(path(name), dict(
        model=recipe["model"].model_name, recipe=recipe["config"], losses=losses,
        tolerance=dict(rtol=RTOL, atol=ATOL),
        regenerate="python -m reproduce.record %s" % name,
        environment=dict(tensorflow=tensorflow.__version__, numpy=np.__version__,
                         python=platform.python_version(), machine=platform.machine(),
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
