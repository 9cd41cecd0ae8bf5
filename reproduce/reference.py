"""Reference loss trajectories: short, fixed runs whose losses are recorded.

A recipe is a registered model plus config overrides on top of its blog defaults: a
fixed seed, a fixed small subset of the data, a fixed number of steps and fixed thread
counts. Each reference file records the recipe twice:

- float64 (`--dtype float64`): the platform-independent trajectory. float64 rounding is
  far below anything the few steps of a recipe can amplify, so any CPU (AVX2, AVX-512),
  any thread count, oneDNN on or off and a GPU give it to ~1e-9; it is compared at
  `FLOAT64_RTOL`. A float64 reference that moves means the model's math changed.
- float32 (the blogs' type): a same-platform fact. Other kernels (vector extensions,
  oneDNN, thread counts, a GPU) round differently and GAN training amplifies that, so
  the float32 trajectory is bit-exact only on the platform whose `fingerprint` it
  carries. Elsewhere what holds is checked instead: the losses before any update (at
  the initial weights and step 0's feeds, `initial`) agree with the float64 ones within
  `INITIAL_RTOL`, and two fresh processes give bit-identical float32 trajectories.

Runs go to fresh processes (`python -m reproduce.reference NAME... --dtype D`, each
recipe on its own graph and session, one after the other), since the oneDNN choice is
read once, when TensorFlow loads. `tests/test_reference.py` compares
fresh runs with the files; only `python -m reproduce.record NAME` rewrites them.
"""

import argparse
import concurrent.futures
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

import utils

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
REFERENCE_DIR = os.path.join(HERE, "reference")

FLOAT64_RTOL, FLOAT64_ATOL = 1e-6, 1e-12   # float64 trajectories, any platform
INITIAL_RTOL, INITIAL_ATOL = 1e-5, 1e-8        # float32 initial losses against float64 ones
DRIFT = 1e-3                               # "apart" in the float32-vs-float64 drift table

# Recipe name -> the registered model (models.MODELS) and config overrides on top of its
# blog defaults: a small fixed subset, a few steps, fixed threads; and `seconds`, its rough
# cost (`expected_cost`).
_COMMON = dict(seed=547, intra_op_threads=2, inter_op_threads=2, deterministic=True,
               sample_every=1000, save_every=0, log_every=10)
RECIPES = {
    "dragan": dict(dataset="mnist", train_subset=640, max_steps=15, seconds=15),
    "gan": dict(dataset="mnist", train_subset=640, max_steps=15, seconds=12),
    "dcgan": dict(dataset="mnist", train_subset=640, max_steps=15, seconds=12),
    "dcgan_pokemon": dict(dataset="pokemon", train_subset=256, batch_size=64, max_steps=6,
                          seconds=12),
    "wgan": dict(dataset="mnist", train_subset=640, max_steps=6, seconds=14),
    "wgan_gp": dict(dataset="mnist", train_subset=640, max_steps=6, seconds=14),
    "cgan": dict(dataset="mnist", train_subset=640, max_steps=30, seconds=8),
    "acgan": dict(dataset="mnist", train_subset=640, max_steps=15, seconds=12),
    "infogan": dict(dataset="mnist", train_subset=640, max_steps=8, seconds=16),
    "cyclegan": dict(train_subset=64, max_steps=4, seconds=20),
}


def expected_cost(name):
    """Rough seconds of recipe `name` in float32 on 2 cores (its `seconds`; float64 takes
    about twice as long): the tests start the slowest first."""
    return RECIPES[name].get("seconds", 10)


def recipe(name):
    """{"model": class, "config": overrides} of recipe `name`."""
    from models import get_model
    overrides = {k: v for k, v in RECIPES[name].items() if k != "seconds"}
    return dict(model=get_model(name), config=dict(_COMMON, **overrides))


def recipe_names():
    return sorted(RECIPES)


def run_here(name, dtype="float32", threads=None, steps=None, data_dir=None, workdir=None,
             initial=True):
    """Run recipe `name` from scratch in this process, in a throw-away folder.

    Args:
      dtype: "float32" or "float64".
      threads: intra-op threads (default: the recipe's).
      steps: stop after this many steps (at most the recipe's; default: the recipe's).
      initial: also compute the losses before any update.
    Returns:
      dict(losses={loss name: [per-step values]}, initial={loss name: value before any
      update} (see GANModel.initial_losses; {} without `initial`)).
    """
    chosen = recipe(name)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        settings = dict(chosen["config"], data_dir=data_dir, dtype=dtype,
                        checkpoint_dir=os.path.join(tmp, "checkpoint"),
                        result_dir=os.path.join(tmp, "results"), log_dir=os.path.join(tmp, "logs"))
        if threads:
            settings["intra_op_threads"] = threads
        if steps:
            settings["max_steps"] = min(steps, settings["max_steps"])
        config = chosen["model"].Config(**settings)
        with chosen["model"](config, chosen["model"].load_data(config)) as model:
            initial = model.initial_losses() if initial else {}
            history = model.train(keep_history=True).history
    return dict(losses={key: [step[key] for step in history] for key in history[0]},
                initial=initial)


def run(names, dtype="float32", threads=None, onednn=None, steps=None, data_dir=None,
        initial=True):
    """Run recipes in a fresh process, one after the other; `onednn` True/False sets
    TF_ENABLE_ONEDNN_OPTS for it (None: this process's setting).

    Args:
      names: a recipe name or a list of them.
    Returns:
      {name: run_here's dict and fingerprint=that process's `fingerprint`}, and the
      process's wall time in seconds under "seconds"; for a single name, that name's dict.
    """
    single = isinstance(names, str)
    names = [names] if single else list(names)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    if onednn is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = "1" if onednn else "0"
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "losses.json")
        command = [sys.executable, "-m", "reproduce.reference"] + names + [
            "--dtype", dtype, "--json", out] + (["--threads", str(threads)] if threads else []) + (
                ["--steps", str(steps)] if steps else []) + (
                ["--data-dir", data_dir] if data_dir else []) + (
                [] if initial else ["--no-initial"])
        start = time.time()
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        seconds = round(time.time() - start, 1)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()
            raise RuntimeError("recipes %s (%s, threads %s, oneDNN %s) failed: %s"
                               % (", ".join(names), dtype, threads, onednn, lines[-1] if lines
                                  else "exit status %d" % done.returncode))
        with open(out) as f:
            results = json.load(f)
    if single:
        return dict(results[names[0]], seconds=seconds)
    return dict(results, seconds=seconds)


def run_many(jobs, workers=2, data_dir=None):
    """Start `run`s, `workers` at a time, each in a fresh process.

    Args:
      jobs: {key: `run`'s keyword arguments (names=..., dtype=..., ...)}, started in order.
    Returns:
      {key: concurrent.futures.Future of `run(...)`'s result} (`.result()` raises a
      failed run's error).
    """
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers)
    futures = {key: pool.submit(run, data_dir=data_dir, **job) for key, job in jobs.items()}
    pool.shutdown(wait=False)
    return futures


# ---- files ----------------------------------------------------------------------------

def path(name):
    return os.path.join(REFERENCE_DIR, "%s.json" % name)


def load(name):
    return utils.read_json(path(name))


def write(name, float64_run, float32_run):
    """(Over)write recipe `name`'s reference file with both runs (`run`'s results)."""
    chosen = recipe(name)
    utils.write_json(path(name), dict(
        model=chosen["model"].model_name, recipe=chosen["config"],
        regenerate="python -m reproduce.record %s" % name,
        float64=dict(losses=float64_run["losses"], initial=float64_run["initial"],
                     tolerance=dict(rtol=FLOAT64_RTOL, atol=FLOAT64_ATOL),
                     recorded_on=float64_run["fingerprint"]),
        float32=dict(losses=float32_run["losses"], initial=float32_run["initial"],
                     fingerprint=float32_run["fingerprint"],
                     initial_tolerance=dict(rtol=INITIAL_RTOL, atol=INITIAL_ATOL))))


def fingerprint(threads, inter_threads=2):
    """What a float32 trajectory's last bits depend on, on this machine and process."""
    from tf_compat import onednn_enabled, tf, visible_gpus   # first: it chooses the kernels
    return dict(processor=utils.cpu_name(), vector_extensions=_vector_extensions(),
                machine=platform.machine(), tensorflow=tf.__version__, numpy=np.__version__,
                python=platform.python_version(), onednn=onednn_enabled(),
                intra_op_threads=threads, inter_op_threads=inter_threads,
                device="GPU" if visible_gpus() else "CPU")


def fingerprint_differences(recorded, here):
    """[(key, recorded value, value here)] where two fingerprints differ."""
    return [(k, recorded.get(k), here.get(k)) for k in sorted(set(recorded) | set(here))
            if recorded.get(k) != here.get(k)]


# ---- comparisons ----------------------------------------------------------------------

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


def assert_close(recorded, fresh, rtol, atol, steps=None):
    """Every loss of `fresh` within rtol/atol of `recorded` (the first `steps` steps)."""
    if sorted(recorded) != sorted(fresh):
        raise AssertionError("loss names differ: %s vs %s" % (sorted(recorded), sorted(fresh)))
    for key, values in recorded.items():
        np.testing.assert_allclose(np.asarray(fresh[key])[:steps], np.asarray(values)[:steps],
                                   rtol=rtol, atol=atol, err_msg=key)


def drift_step(float32_losses, float64_losses, threshold=DRIFT):
    """The first step (1-based) at which some loss of the float32 trajectory is more than
    `threshold` (relative) from the float64 one; None if none is."""
    steps = len(next(iter(float64_losses.values())))
    for i in range(steps):
        for key, values in float64_losses.items():
            a, b = values[i], float32_losses[key][i]
            if abs(a - b) > threshold * max(abs(a), 1e-12):
                return i + 1
    return None


# The CPU features whose kernels round differently (FMA, the vector widths, bf16/AMX paths).
_FEATURES = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni",
             "amx_tile", "amx_bf16", "asimd", "sve")


def _vector_extensions():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    have = set(line.split(":", 1)[1].split())
                    return [x for x in _FEATURES if x in have]
    except OSError:
        pass
    return []


def main(argv=None):
    """Recipe runs in this process (what `run` starts): their losses as JSON."""
    parser = argparse.ArgumentParser(prog="python -m reproduce.reference",
                                     description="Run reference recipes one after the other "
                                     "and write their losses (used by reproduce.record and "
                                     "the tests).")
    parser.add_argument("names", nargs="+", choices=recipe_names())
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--threads", type=int, default=None, help="intra-op threads "
                        "(default: the recipe's)")
    parser.add_argument("--steps", type=int, default=None, help="stop after this many "
                        "steps (at most the recipe's; default: the recipe's)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--no-initial", dest="initial", action="store_false",
                        help="skip the losses before any update")
    parser.add_argument("--json", required=True, help="file to write the losses to")
    args = parser.parse_args(argv)
    import contextlib
    import io
    results = {}
    for name in args.names:
        with contextlib.redirect_stdout(io.StringIO()):
            result = run_here(name, args.dtype, args.threads, args.steps, args.data_dir,
                              initial=args.initial)
        threads = args.threads or recipe(name)["config"]["intra_op_threads"]
        inter = 1 if args.dtype == "float64" else recipe(name)["config"]["inter_op_threads"]
        results[name] = dict(result, fingerprint=fingerprint(threads, inter))
    utils.write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
