"""Shared fixtures: tiny datasets and run folders, so tests stay fast on 2 CPU cores."""

import gzip
import os
import struct
import subprocess
import sys
import tempfile
import types

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def installed_checkout():
    """The checkout a fresh interpreter started outside it imports the project from, as the
    scripts the tests start do (None: the project is not installed)."""
    code = ("import importlib.util as u; s = u.find_spec('models'); "
            "print(s.submodule_search_locations[0] if s else '')")
    with tempfile.TemporaryDirectory() as elsewhere:
        found = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, capture_output=True,
                               text=True, check=True).stdout.strip()
    return os.path.dirname(found) if found else None


def pytest_sessionstart(session):
    """Stop at once, with the fix, when the processes the tests start would not import this
    checkout: the project is not installed (requirements.txt installs it, editable), or the
    venv's editable install is another checkout (a worktree sharing a venv)."""
    found = installed_checkout()
    if found is None:
        pytest.exit("gan-repro is not installed in %s: run `pip install -r requirements.txt` "
                    "(it installs this checkout, editable) from %s" % (sys.prefix, REPO), 4)
    if os.path.realpath(found) != os.path.realpath(REPO):
        pytest.exit("this venv's gan-repro is %s, not this checkout (%s): run the tests with "
                    "PYTHONPATH=%s, or from a venv where this checkout is installed"
                    % (found, REPO, REPO), 4)


def blobs(n, size=28, seed=0):
    """n [size, size, 1] float images in [0, 1]: a bright blob on black, labelled 0..9."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    labels = np.arange(n) % 10
    images = np.empty((n, size, size, 1), np.float32)
    for i in range(n):
        cy, cx = rng.uniform(size * 0.3, size * 0.7, 2)
        r = 2 + labels[i] * size / 40.0
        images[i, ..., 0] = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
    return images, labels.astype(np.int64)


def fake_dataset(n=48, size=28, seed=0):
    images, labels = blobs(n, size, seed)
    return types.SimpleNamespace(name="fake", source="fake blobs", images=images,
                                 labels=labels, num_classes=10)


FAST = dict(batch_size=8, log_every=1000, save_every=0, sample_every=1000)


def build(cls, run_dirs, dataset=None, **changes):
    """A `cls` model on tiny fake data (or `dataset`) with fast settings; `changes` win."""
    return cls(cls.Config(**dict(FAST, **dict(run_dirs, **changes))), dataset or fake_dataset())


def train_history(cls, run_dirs, dataset=None, **changes):
    """The per-step losses of training a `build(cls, ...)` model (resuming its folder)."""
    with build(cls, run_dirs, dataset, **changes) as model:
        return model.train(keep_history=True).history


def dirs_in(root, name=""):
    """Output folders of one run under root/name, as config keyword arguments."""
    base = root / name if name else root
    return {k: str(base / k) for k in ("checkpoint_dir", "result_dir", "log_dir")}


def global_vars(model, prefix):
    """A model's global variables whose names start with prefix."""
    from tf_compat import tf
    return [v for v in model.graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)
            if v.op.name.startswith(prefix)]


def placeholders_of(tensor_or_op):
    """Names of the placeholders a tensor or op depends on (data and control inputs)."""
    seen, stack, found = set(), [getattr(tensor_or_op, "op", tensor_or_op)], set()
    while stack:
        op = stack.pop()
        if op.name in seen:
            continue
        seen.add(op.name)
        if op.type == "Placeholder":
            found.add(op.name)
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)
    return found


def write_idx(folder, images, labels, split="train"):
    """Write uint8 images [N, 28, 28] and labels [N] as gzipped IDX files."""
    os.makedirs(folder, exist_ok=True)
    prefix = "train" if split == "train" else "t10k"
    n = len(images)
    with gzip.open(os.path.join(folder, "%s-images-idx3-ubyte.gz" % prefix), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 28, 28) + np.asarray(images, np.uint8).tobytes())
    with gzip.open(os.path.join(folder, "%s-labels-idx1-ubyte.gz" % prefix), "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + np.asarray(labels, np.uint8).tobytes())


def make_tiny_mnist(root):
    """root/data/mnist/ with 40 train + 24 test blob 'digits' as IDX .gz; returns root/data."""
    images, labels = blobs(64)
    pixels = (images[..., 0] * 255).astype(np.uint8)
    folder = root / "data" / "mnist"
    write_idx(str(folder), pixels[:40], labels[:40], "train")
    write_idx(str(folder), pixels[40:], labels[40:], "test")
    return root / "data"


@pytest.fixture
def tiny_mnist_dir(tmp_path):
    """A folder holding mnist/ with 40 train + 24 test blob 'digits' as IDX .gz."""
    return make_tiny_mnist(tmp_path)


@pytest.fixture
def run_dirs(tmp_path):
    """Output folders of one run as config keyword arguments."""
    return dict(checkpoint_dir=str(tmp_path / "checkpoint"), result_dir=str(tmp_path / "results"),
                log_dir=str(tmp_path / "logs"))


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Never write to the user's cache from a test."""
    monkeypatch.setenv("GAN_REPRO_CACHE_DIR", str(tmp_path / "cache"))


def make_tiny_sprites(root):
    """root/sprites/: 16 RGBA 'sprites' (68x56, transparent background) as PNG."""
    from PIL import Image
    rng = np.random.default_rng(0)
    folder = root / "sprites"
    folder.mkdir()
    for i in range(16):
        rgba = np.zeros((56, 68, 4), np.uint8)
        y, x = rng.integers(5, 30, 2)
        rgba[y:y + 20, x:x + 30, :3] = rng.integers(0, 256, 3)
        rgba[y:y + 20, x:x + 30, 3] = 255
        Image.fromarray(rgba, "RGBA").save(str(folder / ("sprite%02d.png" % i)))
    return folder


@pytest.fixture
def tiny_sprite_dir(tmp_path):
    """A folder of 16 RGBA 'sprites' (68x56, transparent background) as PNG."""
    return make_tiny_sprites(tmp_path)


@pytest.fixture(autouse=True)
def _op_determinism_on():
    """Start every test with TensorFlow's op determinism on.

    It is process-wide and the models switch it, so without this a test's
    outcome (an unseeded random op raises only when it is on) would depend on
    which tests ran before it.
    """
    from tf_compat import set_op_determinism

    set_op_determinism(True)
    yield


# ---- slow process-based checks, started in the background --------------------------
#
# The reference trajectories and the per-model script runs each need fresh processes
# (a TensorFlow import, a graph build, a few steps). The in-process tests keep about one
# core busy, so as soon as the selected tests are known these jobs start beside them,
# one process at a time (two when nothing else is selected); their tests collect the
# results. Nothing about the checks changes, only when they run.

_BACKGROUND = {}


def pytest_collection_finish(session):
    if session.config.option.collectonly:
        return
    files = {os.path.basename(str(item.fspath)) for item in session.items}
    workers = 2 if files <= {"test_reference.py", "test_model_scripts.py"} else 1
    if "test_model_scripts.py" in files:
        import test_model_scripts
        _BACKGROUND["scripts"] = test_model_scripts.start_script_runs(workers)
    if "test_reference.py" in files:
        import test_reference
        _BACKGROUND["reference"] = test_reference.start_runs(workers)


def background(key, start):
    """The jobs started for `key` at collection, or `start()`'s if none were."""
    if key not in _BACKGROUND:
        _BACKGROUND[key] = start()
    return _BACKGROUND[key]


def pytest_sessionfinish(session):
    for futures in _BACKGROUND.values():       # an early stop (-x, Ctrl-C): start no more
        for future in futures.values():
            future.cancel()


def pytest_terminal_summary(terminalreporter):
    """Say which float32 reference check ran (bit-exact golden or the cross-platform one)
    and whether the Ray runner was tested."""
    module = sys.modules.get("test_reference")
    if module is not None and "reference" in _BACKGROUND:
        for line in module.summary():
            terminalreporter.write_line(line)
    runner_tests = sys.modules.get("test_runner")
    if runner_tests is not None:
        for line in runner_tests.summary():
            terminalreporter.write_line(line)
    # No skip goes unnamed: every skipped test with its reason (the opt-in slow judges; the
    # platform-dependent checks do not skip: without a CUDA build, a mount namespace or Ray
    # they check what that platform gives instead, and Ray's summary line says so).
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        terminalreporter.write_line("SKIPPED %s: %s" % (report.nodeid, reason))
