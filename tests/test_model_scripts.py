"""Every `scripts/run_<name>.py` as a user runs it: `--help` shows the blog's
defaults (in-process: the script is `main(Model)`), and a run of the script file with a
step limit on tiny data writes a checkpoint, a sample grid and an event file. The runs are
forks of one process that imported TensorFlow once (tests/forkserver.py: the script file
runs as `__main__` with its command line); run_dragan.py has its own, longer tests in
test_scripts.py, where it also starts as a fresh interpreter.)"""

import atexit
import concurrent.futures
import os
import pathlib
import shutil
import tempfile
import threading

import numpy as np
import pytest
from conftest import background, make_tiny_mnist, make_tiny_sprites
from forkserver import ForkServer
from skimage import io as skio

from models import MODELS, get_model
from models.cli import main

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAMES = sorted(n for n in MODELS if n != "dragan")
FAST = ["--batch-size", "8", "--log-every", "1", "--save-every", "0", "--sample-every", "2",
        "--max-steps", "2"]


def start_script_runs(workers=2):
    """Start every script once on tiny data with a step limit, `workers` at a time, in a
    throw-away folder, each a fork of one server process (started with the first run).
    Returns name -> Future of (finished run: returncode, stdout, stderr; its folder)."""
    root = pathlib.Path(tempfile.mkdtemp(prefix="gan-repro-scripts-"))
    atexit.register(shutil.rmtree, str(root), True)
    mnist, sprites = make_tiny_mnist(root), make_tiny_sprites(root)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1",
               GAN_REPRO_CACHE_DIR=str(root / "cache"))
    env.pop("GAN_DATA_DIR", None)
    servers, lock = [], threading.Lock()

    def run(name, data, cwd):
        with lock:
            if not servers:
                servers.append(ForkServer(root / "forkserver", env))
                atexit.register(servers[0].close)       # before the rmtree (last in, first out)
        script = os.path.join(REPO, "scripts", "run_%s.py" % name)
        return servers[0].run(script, ["--data-dir", str(data)] + FAST, cwd), cwd

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers)
    futures = {}
    for name in NAMES:
        config = get_model(name).Config()
        data = sprites if config.dataset in ("pokemon", "folder") else mnist
        cwd = root / name
        cwd.mkdir()
        futures[name] = pool.submit(run, name, data, cwd)
    pool.shutdown(wait=False)
    return futures


@pytest.fixture(scope="module")
def script_runs():
    """name -> Future of (process, folder); started at collection (see conftest)."""
    return background("scripts", start_script_runs)


@pytest.mark.parametrize("name", NAMES)
def test_script_trains_and_writes_checkpoint_grid_and_events(name, script_runs):
    config = get_model(name).Config()
    proc, tmp_path = script_runs[name].result()
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "finished at step 2" in proc.stdout
    assert "Traceback" not in proc.stderr
    checkpoints = list((tmp_path / "checkpoint").glob("*/*/*.model-2.index"))
    assert len(checkpoints) == 1, checkpoints
    assert (checkpoints[0].parent / "config.json").exists()
    # the step-2 grid: epoch 0 batch 2, or (WGAN: 5 batches a step) a later epoch
    grids = sorted((tmp_path / "results").glob("*/*/*_train_*.png"))
    assert grids, list((tmp_path / "results").rglob("*"))
    grid = skio.imread(str(grids[-1]))
    size = int(np.ceil(np.sqrt(config.sample_num)))
    h = config.image_size if config.dataset in ("pokemon", "folder") else 28
    assert grid.shape[:2] == (size * h, size * h) and grid.max() > grid.min()
    assert grid.ndim == (3 if config.channels == 3 else 2)
    assert list((tmp_path / "logs").glob("*/events.out.tfevents.*"))


@pytest.mark.parametrize("name", NAMES)
def test_help_shows_the_blog_defaults(name, capsys):
    with pytest.raises(SystemExit) as done:
        main(get_model(name), ["--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    config = get_model(name).Config()
    assert "--max-steps" in text and "--data-dir" in text
    assert "--batch-size BATCH_SIZE" in text and "default: %d" % config.batch_size in text
    assert "blog" in text
