"""scripts/run_dragan.py as a user runs it: a subprocess on tiny data.

The first test starts the script as fresh interpreters (training, then the same command
resuming); the signal and refusal tests run the script file in forks of one process that
imported TensorFlow once (tests/forkserver.py: the script runs as `__main__` with its
command line, its own signal handlers and exit status), which saves an import a run."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from forkserver import ForkServer
from skimage import io as skio

import utils
from models.cli import main
from models.dragan import DRAGAN

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(REPO, "scripts", "run_dragan.py")
FAST = ["--batch-size", "8", "--log-every", "1", "--save-every", "0"]


def run_script(args, cwd, timeout=240):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    env.pop("GAN_DATA_DIR", None)
    return subprocess.run([sys.executable, SCRIPT] + args, cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The fork server for this module's runs (the environment run_script gives)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    env.pop("GAN_DATA_DIR", None)
    env["GAN_REPRO_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    forks = ForkServer(tmp_path_factory.mktemp("forkserver"), env)
    yield forks
    forks.close()


def assert_one_line_error(proc, *fragments):
    assert proc.returncode not in (0, None), proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("run_dragan.py: error:")]
    assert len(errors) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


def run_main(args, capsys):
    """scripts/run_dragan.py's main() in-process (a subprocess costs a TF import): its exit
    status, stdout and stderr. Any exception it lets out fails the test."""
    try:
        code = main(DRAGAN, args)
    except SystemExit as done:                 # argparse: --help, bad flags
        code = done.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error_in(code, err, *fragments):
    assert code not in (0, None), err
    errors = [line for line in err.splitlines() if line.startswith("run_dragan.py: error:")]
    assert len(errors) == 1, err
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


def test_help_documents_the_blog_defaults(capsys):
    code, out, _ = run_main(["--help"], capsys)
    assert code == 0
    text = " ".join(out.split())
    for fragment in ["--lambd LAMBD", "default: 0.25 (blog: 0.25; paper: 10)", "--z-dim Z_DIM",
                     "default: 128", "--max-steps", "--data-dir", "--preset {paper}",
                     "--sample-every", "default: 10 (blog: 10)", "--gp-norm {blog,sample}"]:
        assert fragment in text, fragment


def test_training_writes_checkpoint_grid_and_events_then_resumes(tmp_path, tiny_mnist_dir):
    args = ["--data-dir", str(tiny_mnist_dir), "--max-steps", "3", "--sample-every", "2"] + FAST
    proc = run_script(args, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "finished at step 3" in proc.stdout
    run = "DRAGAN_mnist_8_128"
    ckpt = tmp_path / "checkpoint" / run / "DRAGAN"
    assert (ckpt / "DRAGAN.model-3.index").exists() and (ckpt / "config.json").exists()
    grid = skio.imread(str(tmp_path / "results" / run / "DRAGAN" / "DRAGAN_train_00_0002.png"))
    assert grid.shape == (224, 224) and grid.dtype == np.uint8 and grid.max() > grid.min()
    assert list((tmp_path / "logs" / run).glob("events.out.tfevents.*"))
    saved = utils.read_json(str(ckpt / "config.json"))
    assert saved["dataset"]["num_examples"] == 64 and saved["config"]["max_steps"] == 3

    proc = run_script(args[:3] + ["5"] + args[4:], tmp_path)       # same command, longer
    assert proc.returncode == 0, proc.stderr
    assert "resuming from" in proc.stdout and "(step 3)" in proc.stdout
    assert "finished at step 5" in proc.stdout
    assert (ckpt / "DRAGAN.model-5.index").exists()


def _signal_at_step_2(server, pid, out, signum):
    """Send `signum` to run `pid` once it logged step 2 to `out` (or after 120 s); its
    (exit code, stdout)."""
    deadline = time.time() + 120
    while time.time() < deadline:
        if os.path.exists(out) and " step 2/" in open(out).read():
            break
        time.sleep(0.02)
    os.kill(pid, signum)
    code = server.wait(pid, 120)
    return code, open(out).read()


def test_ctrl_c_saves_a_checkpoint_and_exits_cleanly(tmp_path, tiny_mnist_dir, server):
    pid, out, err = server.start(SCRIPT, ["--data-dir", str(tiny_mnist_dir), "--max-steps",
                                          "100000"] + FAST, tmp_path)
    code, out = _signal_at_step_2(server, pid, out, signal.SIGINT)
    err = open(err).read()
    assert code == 130, err
    assert "Traceback" not in err and "stopped by Ctrl-C" in out
    state = utils.read_json(str(tmp_path / "checkpoint" / "DRAGAN_mnist_8_128" / "DRAGAN"
                                / "state.json"))
    assert state["step"] >= 2
    assert (tmp_path / "checkpoint" / "DRAGAN_mnist_8_128" / "DRAGAN" /
            ("DRAGAN.model-%d.index" % state["step"])).exists()


def _checkpoint_values(prefix):
    from tf_compat import tf
    reader = tf.train.load_checkpoint(prefix)
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def test_sigterm_saves_a_checkpoint_exits_143_and_resumes_bit_for_bit(tmp_path, tiny_mnist_dir,
                                                                      server):
    """SIGTERM (kill, Slurm, Kubernetes) as Ctrl-C: the step finishes, a checkpoint is
    saved at the step reached, exit 143; the same command then resumes, and its losses and
    final checkpoint equal those of an unbroken run (started beside it) bit for bit, every
    variable (D's batch-norm moving statistics included: docs/faults.md). Each run is a
    fork of the server: the SIGTERM goes to the run alone, as `kill PID` would."""
    from reproduce.quality import read_scalars
    steps = 40
    args = ["--data-dir", str(tiny_mnist_dir), "--max-steps", str(steps), "--intra-op-threads",
            "1", "--inter-op-threads", "1"] + FAST
    (tmp_path / "stopped").mkdir()
    (tmp_path / "straight").mkdir()
    straight, _, straight_err = server.start(SCRIPT, args, tmp_path / "straight")
    pid, out, err = server.start(SCRIPT, args, tmp_path / "stopped")
    code, out = _signal_at_step_2(server, pid, out, signal.SIGTERM)
    err = open(err).read()
    assert code == 143, err
    assert "Traceback" not in err and "SIGTERM: finishing this step" in err, err
    last = out.strip().splitlines()[-1]
    assert "DRAGAN: stopped by SIGTERM at step" in last and "resumes from it" in last, out
    folder = tmp_path / "stopped" / "checkpoint" / "DRAGAN_mnist_8_128" / "DRAGAN"
    state = utils.read_json(str(folder / "state.json"))
    assert 2 <= state["step"] < steps and "at step %d " % state["step"] in last
    assert (folder / ("DRAGAN.model-%d.index" % state["step"])).exists()

    proc = server.run(SCRIPT, args, tmp_path / "stopped")           # the same command again
    assert proc.returncode == 0, proc.stderr
    assert ("(step %d)" % state["step"] in proc.stdout
            and "finished at step %d" % steps in proc.stdout)
    assert server.wait(straight, 240) == 0, open(straight_err).read()
    run = "DRAGAN_mnist_8_128"
    resumed = read_scalars(str(tmp_path / "stopped" / "logs" / run))
    unbroken = read_scalars(str(tmp_path / "straight" / "logs" / run))
    assert sorted(resumed) == sorted(unbroken) and "d_loss" in resumed
    for tag in unbroken:
        assert list(resumed[tag][0]) == list(range(1, steps + 1)), tag
        np.testing.assert_array_equal(resumed[tag][1], unbroken[tag][1], err_msg=tag)
    a = _checkpoint_values(str(folder / ("DRAGAN.model-%d" % steps)))
    b = _checkpoint_values(str(tmp_path / "straight" / "checkpoint" / run / "DRAGAN" /
                               ("DRAGAN.model-%d" % steps)))
    assert sorted(a) == sorted(b)
    assert any("/moving_" in name for name in a)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_missing_data_dir_is_a_one_line_error(tmp_path, capsys):
    code, _, err = run_main(["--data-dir", str(tmp_path / "nope")], capsys)
    assert_one_line_error_in(code, err, "does not exist")


def test_empty_and_corrupt_image_folders_are_one_line_errors(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run_main(["--dataset", "folder", "--data-dir", str(empty)], capsys)
    assert_one_line_error_in(code, err, "no images")
    bad = tmp_path / "digits" / "3"
    bad.mkdir(parents=True)
    (bad / "broken.jpg").write_bytes(b"not a jpeg at all")
    code, _, err = run_main(["--dataset", "folder", "--data-dir", str(tmp_path / "digits")],
                            capsys)
    assert_one_line_error_in(code, err, "broken.jpg")


def test_unknown_flag_exits_2_with_usage(capsys):
    code, _, err = run_main(["--no-such-flag"], capsys)
    assert code == 2
    assert "usage: run_dragan.py" in err and "unrecognized arguments" in err


@pytest.mark.parametrize("args,fragment", [(["--lambd", "-1"], "must be >= 0"),
                                           (["--batch-size", "0"], "must be >= 1"),
                                           (["--epochs", "two"], "expected int"),
                                           (["--gp-norm", "l1"], "invalid choice")])
def test_out_of_range_flags_exit_2(args, fragment, capsys):
    # the same parser the script uses, in-process (a subprocess costs a TF import)
    with pytest.raises(SystemExit) as exit_info:
        main(DRAGAN, args)
    assert exit_info.value.code == 2
    assert fragment in capsys.readouterr().err


def test_checkpoint_folder_of_another_model_is_refused(tmp_path, tiny_mnist_dir, server):
    folder = tmp_path / "checkpoint" / "DRAGAN_mnist_8_128" / "DRAGAN"
    folder.mkdir(parents=True)
    utils.write_json(str(folder / "config.json"), {"model": "WGAN", "config": {}})
    (folder / "checkpoint").write_text('model_checkpoint_path: "WGAN.model-7"\n')
    (folder / "WGAN.model-7.index").write_bytes(b"")
    before = sorted(os.listdir(folder))
    proc = server.run(SCRIPT, ["--data-dir", str(tiny_mnist_dir), "--max-steps", "1"] + FAST,
                      tmp_path)
    assert_one_line_error(proc, "holds a WGAN checkpoint, not DRAGAN")
    assert sorted(os.listdir(folder)) == before
