"""What a GPU run needs that a CPU can check: the device line and config.json record,
TensorFloat-32 off unless --tf32, reproduce.gpu_check without a GPU, requirements-gpu.txt.
Nothing here runs on a GPU."""

import os
import subprocess
import sys

from conftest import dirs_in, fake_dataset

import utils
from models.config import build_parser
from models.gan import GAN, GANConfig
from reproduce import gpu_check
from tf_compat import describe_device, device_line, tensor_float_32_enabled

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tiny_run(tmp_path, **changes):
    settings = dict(batch_size=8, max_steps=1, log_every=1000, save_every=0, sample_every=1000,
                    **dirs_in(tmp_path))
    settings.update(changes)
    with GAN(GANConfig(**settings), fake_dataset(48)) as model:
        model.train()
        folder = model.checkpoint_folder
    return utils.read_json(os.path.join(folder, "config.json"))


def test_a_run_prints_its_device_before_the_first_step_and_records_it(tmp_path, capsys):
    saved = tiny_run(tmp_path)
    out = capsys.readouterr().out.splitlines()
    devices = [i for i, line in enumerate(out) if line.startswith("device: ")]
    finished = [i for i, line in enumerate(out) if "finished at step 1" in line]
    assert len(devices) == 1 and finished and devices[0] < finished[0], out
    # this machine has no GPU: the CPU with the run's threads
    assert out[devices[0]] == ("device: CPU, 2 intra-op threads (no GPU visible; for a GPU "
                               "see README)")
    device = saved["device"]
    assert (device["kind"], device["name"], device["tf32"]) == ("CPU", "CPU", False)
    assert saved["config"]["tf32"] is False
    assert not tensor_float_32_enabled()


def test_tf32_flag_parses_is_recorded_and_set(tmp_path, capsys):
    args = vars(build_parser(GANConfig).parse_args(["--tf32"]))
    assert args["tf32"] is True
    assert vars(build_parser(GANConfig).parse_args([]))["tf32"] is False
    saved = tiny_run(tmp_path, tf32=True)
    assert saved["config"]["tf32"] is True and saved["device"]["tf32"] is True
    assert tensor_float_32_enabled()
    # TF32 changes only rounding: a run may resume with the other choice
    assert GANConfig(batch_size=8).resume_mismatches(saved["config"]) == []
    tiny_run(tmp_path, tf32=False, max_steps=2)        # resumes, and switches it off again
    assert not tensor_float_32_enabled()


def test_device_line_of_a_gpu():
    info = dict(kind="GPU", name="NVIDIA H200", device="GPU:0", memory_gib=140, tf32=False,
                gpus_visible=1)
    assert device_line(info) == "device: GPU:0 NVIDIA H200 (140 GiB), TF32 off"
    info.update(memory_gib=None, tf32=True, gpus_visible=2)
    assert device_line(info) == ("device: GPU:0 NVIDIA H200, TF32 on; 2 GPUs visible, the run "
                                 "uses the first")
    assert describe_device(0, False)["kind"] == "CPU"
    assert "chosen by TensorFlow" in device_line(describe_device(0, False))


def test_gpu_check_without_a_gpu_says_so_in_one_line_and_exits_1():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run([sys.executable, "-m", "reproduce.gpu_check", "--no-bench"], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "gpu_check: no GPU visible to TensorFlow ("), lines
    assert "see README" in lines[0]


def test_gpu_check_asks_tensorflow_when_a_driver_is_there(monkeypatch, capsys):
    monkeypatch.setattr(gpu_check, "no_gpu_reason", lambda: None)
    gpus, reason = gpu_check.visible_gpus()      # TensorFlow sees none on this machine
    assert gpus == [] and "TensorFlow lists no GPU" in reason
    monkeypatch.setattr(gpu_check, "visible_gpus", lambda: ([], "pretend"))
    assert gpu_check.main(["dragan"]) == 1
    assert capsys.readouterr().out.startswith("gpu_check: no GPU visible to TensorFlow (pretend)")


def test_gpu_check_hidden_gpus_and_summary(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert "hides every GPU" in gpu_check.no_gpu_reason()
    text = gpu_check.summary([("a", True, "fine"), ("b", False, "off by 1")])
    assert "FAILED" in text.splitlines()[1] and text.endswith("1 of 2 checks FAILED")


def requirement_lines(name):
    with open(os.path.join(REPO, name)) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def test_requirements_gpu_is_requirements_with_the_cuda_wheels():
    cpu, gpu = requirement_lines("requirements.txt"), requirement_lines("requirements-gpu.txt")
    assert "tensorflow==2.21.0" in cpu and "tensorflow[and-cuda]==2.21.0" in gpu
    assert ([line for line in cpu if line != "tensorflow==2.21.0"]
            == [line for line in gpu if line != "tensorflow[and-cuda]==2.21.0"])


def test_gpu_check_with_a_pretended_gpu_runs_every_check(monkeypatch, capsys):
    """The GPU path's logic, with the recipe runs and the bench replaced (no GPU here)."""
    import types

    from reproduce import reference as real
    losses = {"d_loss": [1.0, 0.5], "g_loss": [2.0, 1.5]}
    runs = []

    def run(names, dtype, data_dir=None):
        runs.append(dtype)
        return dict({n: dict(losses=losses, fingerprint=dict(device="GPU")) for n in names},
                    seconds=1.0)

    fake = types.SimpleNamespace(FLOAT64_RTOL=1e-6, compare=real.compare, run=run,
                                 recipe_names=lambda: ["dragan", "gan"],
                                 load=lambda name: {"float64": {"losses": losses}})
    monkeypatch.setattr(gpu_check, "visible_gpus", lambda: (["GPU:0"], None))
    monkeypatch.setattr(gpu_check, "_reference", lambda: fake)
    monkeypatch.setattr(gpu_check, "run_bench", lambda path, data_dir=None: (True, "fine"))
    assert gpu_check.main([]) == 0
    out = capsys.readouterr().out
    assert runs == ["float64", "float32", "float32"]
    assert out.startswith("device: ") and "TensorFloat-32: off" in out
    assert "float64 dragan" in out and "float32 repeat gan" in out
    assert out.rstrip().endswith("gpu_check: every check held (7)")
    fake.load = lambda name: {"float64": {"losses": dict(losses, d_loss=[1.0, 0.6])}}
    assert gpu_check.main(["dragan", "--no-bench"]) == 1
    assert "1 of 4 checks FAILED" in capsys.readouterr().out
