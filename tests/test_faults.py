"""Fault injection: kill -9 at any moment, damaged checkpoints, two runs on one folder, full
disk and unwritable folders, bad data, foreign checkpoints, non-finite losses, bad flags.

The kill -9 runs are real processes running scripts/run_dragan.py's `main()` on tiny 8x8 IDX
data. They are forked from one "zygote" process that imported TensorFlow once (an import costs
~5 s, a fork nothing); each child logs every step's losses, and all of them together must equal
an uninterrupted run's, step for step. Where the machine allows an unprivileged mount
namespace (`unshare -rm`), the zygote also mounts a 40 MB tmpfs, so the full-disk check fills
a real file system; elsewhere the same check runs with the disk-full error injected into
the run's third save (as TensorFlow raises it: a partial temp file, then ResourceExhausted),
and the in-process failing writers run everywhere.

`FAULTS_REPORT=path` writes the table of the closing note (fault class, times injected, runs
recovered, losses identical after resume) to `path` as Markdown; `FAULTS_SEED` changes the
random kill moments and damaged bytes (default 7).
"""

import gzip
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import time

import numpy as np
import pytest
from forkserver import ForkClient

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SEED = int(os.environ.get("FAULTS_SEED", "7"))
STEPS = 24                      # 48 images, batch 8: 6 steps an epoch
TMPFS_MB = 40                   # a checkpoint of the 8x8 DRAGAN is 17.5 MB: the third does not fit
REPORT = {}                     # fault class -> [injected, runs recovered, losses identical]


def note(fault, injected=0, recovered=0, identical=None):
    row = REPORT.setdefault(fault, [0, 0, None])
    row[0] += injected
    row[1] += recovered
    if identical is not None:
        row[2] = identical if row[2] is None else row[2] and identical


@pytest.fixture(scope="module", autouse=True)
def _write_report():
    yield
    path = os.environ.get("FAULTS_REPORT")
    if path:
        lines = ["| fault class | injected | runs recovered | losses identical after resume |",
                 "|---|---|---|---|"]
        for fault, (injected, recovered, identical) in REPORT.items():
            same = "n/a" if identical is None else "yes" if identical else "NO"
            lines.append("| %s | %d | %d | %s |" % (fault, injected, recovered, same))
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")


# ---- the zygote: one TensorFlow import, a fork per run ---------------------------------------

def _zygote():
    """Serve fork requests on stdin (tests/forkserver.py's loop): each a training run."""
    from forkserver import serve
    from models.cli import main
    from models.dragan import DRAGAN
    serve(lambda cmd: _child(cmd, main, DRAGAN))


def _child(cmd, main, model_cls):
    """A forked run: output to its log, the kill of `cmd["kill"]` armed, then main()."""
    import traceback
    log = os.open(cmd["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    code = 99
    try:
        code = main(_instrumented(model_cls, cmd), cmd["argv"])
    except SystemExit as done:
        code = done.code
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code if isinstance(code, int) else 98)


def _instrumented(model_cls, cmd):
    """`model_cls` that appends each step's losses to cmd["losses"] and, once step
    kill["after"] is done, SIGKILLs itself at the moment kill["kind"] names:
      timer: kill["delay"] seconds later, wherever the run is;
      checkpoint: while TensorFlow writes the next checkpoint (its *.tempstate* files exist);
      state: after the Saver wrote a checkpoint, before state.json;
      grid: with the next sample grid's PNG half written;
      hold: never; it sleeps, holding the folder's lock, until the test kills it;
      enospc: no kill: the Saver's save of step kill["at"] fails as on a full disk."""
    import threading
    import skimage.io
    import utils

    kill = cmd.get("kill") or {}
    kind, after = kill.get("kind"), kill.get("after", 0)
    armed = threading.Event()

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    def watch(folder):
        while True:
            try:
                if any(".tempstate" in name for name in os.listdir(folder)):
                    die()
            except OSError:
                pass
            time.sleep(0.0002)

    real_imsave, real_write_json = skimage.io.imsave, utils.write_json

    def imsave(path, *args, **kwargs):
        real_imsave(path, *args, **kwargs)
        if armed.is_set() and kind == "grid":
            os.truncate(path, os.path.getsize(path) // 2)
            die()

    def write_json(path, obj):
        if armed.is_set() and kind == "state" and os.path.basename(path) == "state.json":
            die()
        real_write_json(path, obj)

    skimage.io.imsave, utils.write_json = imsave, write_json
    if kind == "enospc":
        _fill_disk_at(kill["at"])

    class InstrumentedTrainer(model_cls.Trainer):
        def run_step(self, step):
            logs = super().run_step(step)
            with open(cmd["losses"], "a") as f:
                f.write(json.dumps({"step": step + 1, "pid": os.getpid(),
                                    "losses": {k: float(v) for k, v in logs.items()}}) + "\n")
            if step + 1 >= after and kind and not armed.is_set():
                armed.set()
                if kind == "timer":
                    threading.Timer(kill["delay"], die).start()
                elif kind == "checkpoint":
                    threading.Thread(target=watch, args=(self.run.checkpoint_folder,),
                                     daemon=True).start()
                elif kind == "hold":
                    time.sleep(600)
            return logs

    class Instrumented(model_cls):
        Trainer = InstrumentedTrainer

    Instrumented.__module__ = model_cls.__module__
    return Instrumented


def _fill_disk_at(step):
    """Make the Saver's save of `step` fail as TensorFlow does on a full disk: a partial
    temp file of the data shard, then ResourceExhaustedError naming ENOSPC."""
    from tf_compat import tf
    real_save = tf.train.Saver.save

    def save(self, sess, prefix, global_step=None, **kwargs):
        if global_step == step:
            with open("%s-%d.data-00000-of-00001.tempstate1" % (prefix, step), "wb") as f:
                f.write(b"partial")
            raise tf.errors.ResourceExhaustedError(
                None, None, "%s-%d.data-00000-of-00001.tempstate1; No space left on device"
                % (prefix, step))
        return real_save(self, sess, prefix, global_step=global_step, **kwargs)
    tf.train.Saver.save = save


class Zygote(ForkClient):
    """The test's end of the zygote."""

    name = "zygote"

    def __init__(self, root):
        self.tmpfs = str(root / "small")
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1",
                   GAN_REPRO_CACHE_DIR=str(root / "cache"))
        env.pop("GAN_DATA_DIR", None)
        command = [sys.executable, os.path.abspath(__file__), "--zygote"]
        if _can_mount_tmpfs(root / "probe"):
            command = ["unshare", "-rm", "sh", "-c", 'mkdir -p "$1" && mount -t tmpfs -o '
                       'size=%dm tmpfs "$1" && shift && exec "$@"' % TMPFS_MB, "sh",
                       self.tmpfs] + command
        else:
            self.tmpfs = None
        super().__init__(command, root / "zygote.err", env, str(root))

    def start(self, argv, log, losses, kill=None):
        return self._ask(op="start", argv=argv, log=str(log), losses=str(losses),
                         kill=kill)["pid"]

    def wait(self, pid, timeout=120):
        return super().wait(pid, timeout)


def _can_mount_tmpfs(folder):
    folder.mkdir()
    try:
        return subprocess.run(["unshare", "-rm", "sh", "-c", 'mount -t tmpfs -o size=1m tmpfs "$1"',
                               "sh", str(folder)], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _write_idx(folder, images, labels):
    """8x8 uint8 images [N, 8, 8] and labels [N] as gzipped IDX train files."""
    folder.mkdir(parents=True)
    n, h, w = images.shape
    with gzip.open(folder / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, h, w) + images.astype(np.uint8).tobytes())
    with gzip.open(folder / "train-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + labels.astype(np.uint8).tobytes())


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The zygote, tiny 8x8 MNIST-like IDX data and the command line of a run on it."""
    from conftest import blobs
    root = tmp_path_factory.mktemp("faults")
    images, labels = blobs(48, size=8)
    _write_idx(root / "data" / "mnist", (images[..., 0] * 255).round(), labels)
    zygote = Zygote(root)

    def argv(name, steps=STEPS, **flags):
        args = ["--data-dir", str(root / "data"), "--idx-splits", "train", "--batch-size", "8",
                "--max-steps", str(steps), "--save-every", "1", "--sample-every", "1",
                "--sample-num", "4", "--log-every", "1"]
        for key in ("checkpoint_dir", "result_dir", "log_dir"):
            args += ["--" + key.replace("_", "-"), flags.pop(key, str(root / name / key))]
        for key, value in flags.items():
            args += ["--" + key.replace("_", "-"), str(value)]
        return args

    # The uninterrupted run starts at once and runs beside the in-process tests.
    straight_pid = zygote.start(argv("straight", save_every=0, sample_every=1000),
                                root / "straight.log", root / "straight.jsonl")
    yield dict(root=root, zygote=zygote, argv=argv, straight_pid=straight_pid)
    zygote.close()


def read_losses(path):
    records = []
    if os.path.exists(path):
        with open(path) as f:
            records = [json.loads(line) for line in f if line.endswith("\n")]
    return records


def wait_for_step(path, step, pid, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if any(r["step"] >= step and r["pid"] == pid for r in read_losses(path)):
            return
        time.sleep(0.02)
    raise AssertionError("run %d never reached step %d" % (pid, step))


@pytest.fixture(scope="module")
def straight(world):
    """The uninterrupted run's losses, step by step (from a child, as every other run)."""
    root = world["root"]
    assert world["zygote"].wait(world["straight_pid"]) == 0, (root / "straight.log").read_text()
    records = read_losses(root / "straight.jsonl")
    assert [r["step"] for r in records] == list(range(1, STEPS + 1))
    return {r["step"]: r["losses"] for r in records}


def checkpoint_steps(folder):
    return sorted(int(n[len("DRAGAN.model-"):-len(".index")]) for n in os.listdir(folder)
                  if n.startswith("DRAGAN.model-") and n.endswith(".index"))


def damage(folder, step, how, rng):
    """Truncate or flip one bit of checkpoint `step`'s data or index file."""
    suffix = ".index" if how == "flip index" else ".data-00000-of-00001"
    path = os.path.join(folder, "DRAGAN.model-%d%s" % (step, suffix))
    blob = bytearray(open(path, "rb").read())
    if how == "truncate data":
        blob = blob[:rng.randrange(len(blob))]
    else:
        blob[rng.randrange(len(blob))] ^= 1 << rng.randrange(8)
    with open(path, "wb") as f:
        f.write(blob)


# ---- 1 + 2: damaged checkpoints, a second run on the folder ------------------------------

def test_damaged_checkpoints_at_random_bytes_fall_back_to_the_one_before(run_dirs, capsys):
    """Truncations and bit flips anywhere in the latest checkpoint's data or index: each is
    caught (TensorFlow's CRC32C checks), the one before is restored, and said so; with every
    checkpoint damaged the run refuses, naming them, and overwrites nothing."""
    from conftest import fake_dataset

    from errors import CheckpointError
    from models.dragan import DRAGAN, DRAGANConfig
    config = DRAGANConfig(batch_size=8, save_every=1, sample_every=1000, log_every=1000,
                          max_steps=2, **run_dirs)
    rng = random.Random(SEED + 1)
    with DRAGAN(config, fake_dataset(48, size=8)) as model:
        model.train()
        folder = model.checkpoint_folder
        latest, before = (os.path.join(folder, "DRAGAN.model-%d" % s) for s in (2, 1))
        files = {p: open(p, "rb").read() for p in (latest + ".index",
                                                   latest + ".data-00000-of-00001")}
        trials = ["truncate data", "flip data", "flip index"] * 2
        for how in trials:
            damage(folder, 2, how, rng)
            model.close()
            assert model.open() == 1
            err = capsys.readouterr().err
            assert "checkpoint %s is damaged (" % latest in err, (how, err)
            assert "falling back to DRAGAN.model-1" in err
            for path, blob in files.items():
                with open(path, "wb") as f:
                    f.write(blob)
        note("damaged latest checkpoint, random bytes (in-process)", injected=len(trials),
             recovered=len(trials))
        model.close()
        assert model.open() == 2                          # undamaged: the latest again
        for path in (latest, before):
            with open(path + ".index", "r+b") as f:
                f.truncate(100)
        snapshot = {n: open(os.path.join(folder, n), "rb").read() for n in os.listdir(folder)}
        model.close()
        with pytest.raises(CheckpointError, match="every checkpoint in .* is damaged.*"
                                                  "DRAGAN.model-2: .*DRAGAN.model-1: "):
            model.train()
        assert snapshot == {n: open(os.path.join(folder, n), "rb").read()
                            for n in os.listdir(folder)}
        note("every checkpoint damaged (refused, nothing written)", injected=1)


def test_a_second_run_on_the_folder_is_refused_and_a_dead_runs_lock_is_free(tmp_path):
    import utils
    folder = str(tmp_path / "ckpt")
    first = utils.lock_folder(folder)
    with pytest.raises(utils.FolderBusy, match="pid %d on " % os.getpid()):
        utils.lock_folder(folder)
    first.close()
    utils.lock_folder(folder).close()           # released: free again
    # a process that dies holding it (kill -9) leaves it free
    holder = subprocess.Popen([sys.executable, "-c", "import utils, time; held = "
                               "utils.lock_folder(%r); print('held', flush=True); "
                               "time.sleep(600)" % folder],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(utils.FolderBusy, match="pid %d on " % holder.pid):
        utils.lock_folder(folder)
    holder.kill()
    holder.wait(timeout=30)
    utils.lock_folder(folder).close()
    note("second run on the same checkpoint folder", injected=2, recovered=1)


def test_with_a_lock_wait_a_run_waits_for_a_busy_folder_then_refuses(tmp_path, monkeypatch,
                                                                       capsys):
    """GAN_REPRO_LOCK_WAIT (the recipe runner's jobs: an earlier attempt may be saving): the
    lock is waited for, said so, and taken when freed; still held at the end, refused."""
    import threading

    import utils
    from errors import CheckpointError
    from models.checkpoints import CheckpointStore
    folder = str(tmp_path / "ckpt")
    store = CheckpointStore(folder, "DRAGAN", "dragan", *[None] * 5)
    held = utils.lock_folder(folder)
    monkeypatch.setenv("GAN_REPRO_LOCK_WAIT", "30")
    release = threading.Timer(0.5, held.close)
    release.start()
    start = time.time()
    store.lock()
    release.join()
    assert 0.4 < time.time() - start < 10
    assert "DRAGAN: another run is using %s (pid %d on " % (folder, os.getpid()) in \
        capsys.readouterr().err
    monkeypatch.setenv("GAN_REPRO_LOCK_WAIT", "0.3")
    with pytest.raises(CheckpointError, match=r"another run is using .* \(waited 0.3 s\)"):
        CheckpointStore(folder, "DRAGAN", "dragan", *[None] * 5).lock()
    store.unlock()
    note("second run on the same checkpoint folder (waiting for it, GAN_REPRO_LOCK_WAIT)",
         injected=2, recovered=1)


# ---- 3: full disk, unwritable folders -----------------------------------------------------

def _dragan_main(args, capsys):
    from models.cli import main
    from models.dragan import DRAGAN
    try:
        code = main(DRAGAN, args)
    except SystemExit as done:
        code = done.code
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return code, out, [line for line in err.splitlines()
                       if line.startswith("run_dragan.py: error:")]


def test_failing_writers_and_unwritable_folders_are_one_line_errors(world, tmp_path, capsys,
                                                                    monkeypatch):
    """ENOSPC from the Saver and from state.json, folders that cannot be created: exit 1,
    one line naming what could not be written, the checkpoints before untouched."""
    import errno

    import utils
    from tf_compat import tf
    data_args = world["argv"]("x")[:4]
    base = data_args + ["--batch-size", "8", "--save-every", "1", "--sample-every", "1000",
                        "--log-every", "1000", "--max-steps", "4", "--result-dir",
                        str(tmp_path / "results"), "--log-dir", str(tmp_path / "logs")]
    ckpt = tmp_path / "checkpoint"
    folder = ckpt / "DRAGAN_mnist_8_128" / "DRAGAN"
    real_save = tf.train.Saver.save
    calls = []

    def failing_save(self, sess, prefix, global_step=None, **kwargs):
        calls.append(global_step)
        if global_step == 3:
            # as a full disk makes TensorFlow fail: a partial temp file, then the error
            open("%s-3.data-00000-of-00001.tempstate123" % prefix, "wb").write(b"partial")
            raise tf.errors.ResourceExhaustedError(None, None, "%s-3.data-00000-of-00001."
                                                   "tempstate123; No space left on device"
                                                   % prefix)
        return real_save(self, sess, prefix, global_step=global_step, **kwargs)

    monkeypatch.setattr(tf.train.Saver, "save", failing_save)
    code, _, errors = _dragan_main(base + ["--checkpoint-dir", str(ckpt)], capsys)
    assert code == 1 and len(errors) == 1, errors
    assert "cannot write checkpoint %s-3: " % (folder / "DRAGAN.model") in errors[0]
    assert "No space left on device" in errors[0]
    assert "the last good checkpoint, %s-2, is untouched" % (folder / "DRAGAN.model") in errors[0]
    assert checkpoint_steps(str(folder)) == [1, 2]
    kept = {n: (folder / n).read_bytes() for n in os.listdir(folder)
            if n.startswith("DRAGAN.model-") and ".tempstate" not in n}
    monkeypatch.setattr(tf.train.Saver, "save", real_save)

    real_write_json = utils.write_json

    def no_space(path, obj):
        if os.path.basename(path) == "state.json":
            raise OSError(errno.ENOSPC, "No space left on device", path)
        return real_write_json(path, obj)
    monkeypatch.setattr(utils, "write_json", no_space)
    code, out, errors = _dragan_main(base + ["--checkpoint-dir", str(ckpt)], capsys)
    assert code == 1 and len(errors) == 1, errors
    assert "resuming from %s-2 (step 2)" % (folder / "DRAGAN.model") in out   # the partial one gone
    assert "cannot write the run state %s: " % (folder / "state.json") in errors[0], errors[0]
    assert "No space left on device" in errors[0]
    assert all((folder / n).read_bytes() == blob for n, blob in kept.items())
    assert not [n for n in os.listdir(folder) if ".tempstate" in n]
    assert checkpoint_steps(str(folder)) == [1, 2, 3]      # the Saver wrote 3 before state.json
    monkeypatch.undo()
    note("disk full (failing Saver / state.json writer)", injected=2)

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for flag, fragment in [("--checkpoint-dir", "cannot create the checkpoint folder"),
                           ("--result-dir", "cannot write sample grids in"),
                           ("--log-dir", "cannot write TensorBoard events in")]:
        args = base + ["--checkpoint-dir", str(ckpt), "--sample-every", "1", flag,
                       str(blocker / "sub")]
        code, out, errors = _dragan_main(args, capsys)
        assert code == 1 and len(errors) == 1 and fragment in errors[0], (flag, errors)
        assert str(blocker) in errors[0]
        assert all((folder / n).read_bytes() == blob for n, blob in kept.items())
        if flag != "--checkpoint-dir":     # the checkpoints survived it all: 3 restores
            assert "resuming from %s-3 (step 3)" % (folder / "DRAGAN.model") in out
            note("disk full (failing Saver / state.json writer)", recovered=1)
            note("unwritable output folder (checkpoint, results, logs)", recovered=1)
    note("unwritable output folder (checkpoint, results, logs)", injected=3)


# ---- 4: bad data ---------------------------------------------------------------------------

def _png(path, array, mode=None, **save_args):
    from PIL import Image
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array, np.uint8), mode).save(path, **save_args)
    return path


def test_bad_data_of_every_kind_is_one_line_naming_the_file(world, tmp_path, capsys):
    good = os.path.join(world["root"], "data", "mnist")
    images = "train-images-idx3-ubyte.gz"
    labels = "train-labels-idx1-ubyte.gz"

    def idx_case(name, write):
        folder = tmp_path / name / "mnist"
        shutil.copytree(good, folder)
        return folder / write(folder)

    def empty(folder):
        (folder / images).write_bytes(b"")
        return images

    def truncated_header(folder):
        (folder / images).write_bytes(gzip.compress(struct.pack(">II", 0x803, 48)))
        return images

    def truncated_pixels(folder):
        raw = gzip.decompress((folder / images).read_bytes())
        (folder / images).write_bytes(gzip.compress(raw[:-7]))
        return images

    def truncated_gzip(folder):
        blob = (folder / labels).read_bytes()
        (folder / labels).write_bytes(blob[:len(blob) // 2])
        return labels

    def wrong_magic(folder):
        (folder / labels).write_bytes((folder / images).read_bytes())
        return labels

    def missing(folder):
        (folder / labels).unlink()
        return labels

    cases = [("empty IDX file", empty), ("IDX header cut", truncated_header),
             ("IDX pixels cut", truncated_pixels), ("truncated gzip", truncated_gzip),
             ("wrong magic number", wrong_magic), ("missing IDX file", missing)]
    for name, write in cases:
        bad = idx_case(name.replace(" ", "_"), write)
        code, _, errors = _dragan_main(["--data-dir", str(bad.parent.parent), "--idx-splits",
                                        "train"], capsys)
        assert code == 1 and len(errors) == 1, (name, errors)
        assert bad.name in errors[0], (name, errors[0])

    folders = tmp_path / "folders"
    ok = np.zeros((8, 8), np.uint8)
    _png(folders / "cut" / "a" / "ok.png", ok)
    noise = np.random.default_rng(0).integers(0, 256, (32, 32, 3))
    whole = _png(folders / "cut" / "a" / "cut.png", noise)          # 3 kB that do not compress
    whole.write_bytes(whole.read_bytes()[:1500])
    _png(folders / "zero" / "a" / "ok.png", ok)
    (folders / "zero" / "a" / "zero.png").write_bytes(b"")
    _png(folders / "text" / "a" / "ok.png", ok)
    (folders / "text" / "a" / "notes.jpg").write_text("this is text, not a JPEG")
    _png(folders / "link" / "a" / "ok.png", ok)
    os.symlink(str(tmp_path / "gone.png"), str(folders / "link" / "a" / "gone.png"))
    (folders / "nothing" / "a").mkdir(parents=True)
    (folders / "nothing" / "a" / "readme.txt").write_text("no images here")
    for name, fragment in [("cut", "cut.png"), ("zero", "zero.png"), ("text", "notes.jpg"),
                           ("link", "gone.png"), ("nothing", "no images found in"),
                           ("absent", "does not exist")]:
        code, _, errors = _dragan_main(["--dataset", "folder", "--data-dir",
                                        str(folders / name)], capsys)
        assert code == 1 and len(errors) == 1 and fragment in errors[0], (name, errors)
    note("bad data: IDX (empty, cut header/pixels/gzip, wrong magic, missing) and image files "
         "(cut, empty, text, broken link, none, no folder)", injected=len(cases) + 6)


def test_mixed_image_modes_sizes_and_one_class_load_as_documented(tmp_path):
    """What the blog's loader would do with them (docs/faults.md): every image converted to
    the channels asked for (alpha and palette transparency on white), resized to one size; a
    folder of one class is one class (the unconditional GANs ignore labels)."""
    from PIL import Image

    import data
    folder = tmp_path / "digits" / "7"
    _png(folder / "rgb.png", np.full((30, 20, 3), 200), "RGB")
    _png(folder / "gray.png", np.full((10, 10), 50), "L")
    rgba = np.zeros((12, 9, 4), np.uint8)
    rgba[..., 3] = 0                                            # fully transparent
    _png(folder / "rgba.png", rgba, "RGBA")
    palette = Image.new("P", (9, 7), 1)
    palette.putpalette([0, 0, 255, 255, 0, 0] + [0] * 762)
    palette.save(folder / "palette.png", transparency=0)
    _png(folder / "sixteen.png", np.full((6, 6), 0), "L")
    Image.fromarray(np.full((6, 6), 65535, np.uint16)).save(folder / "sixteen.png")
    _png(folder / "cmyk.jpg", np.zeros((8, 8, 3)), "RGB")
    Image.open(folder / "cmyk.jpg").convert("CMYK").save(folder / "cmyk.jpg")
    for channels in (1, 3):
        ds = data.load_image_folder(tmp_path / "digits", size=(8, 8), channels=channels,
                                    preprocess="none", split="all")
        assert ds.images.shape == (6, 8, 8, channels) and ds.num_classes == 1
        assert ds.class_names == ["7"] and (ds.labels == 0).all()
        assert 0.0 <= ds.images.min() and ds.images.max() <= 1.0
        means = sorted(np.round(ds.images.mean(axis=(1, 2, 3)), 2).tolist())
        assert means[-1] == 1.0                           # the transparent RGBA: white
    note("mixed image sizes / modes (RGB, L, RGBA, P, 16-bit, CMYK), one class: loaded as "
         "documented", injected=1, recovered=1)


# ---- 5: foreign checkpoints -----------------------------------------------------------------

def test_foreign_checkpoints_are_refused_naming_the_mismatch_and_nothing_is_overwritten(
        world, tmp_path, capsys):
    """A GAN checkpoint in DRAGAN's folder, DRAGAN checkpoints of another z_dim or batch size,
    with and without the run's config.json (another model and z_dim with it: test_dragan.py):
    refused with the mismatch named, the folder byte for byte as before."""
    import utils
    from models.cli import main
    from models.dragan import DRAGAN
    base = world["argv"]("x")[:4] + ["--save-every", "0", "--sample-every", "1000",
                                     "--log-every", "1000", "--max-steps", "1", "--result-dir",
                                     str(tmp_path / "r"), "--log-dir", str(tmp_path / "l")]
    assert main(DRAGAN, base + ["--batch-size", "8", "--checkpoint-dir",
                                str(tmp_path / "dragan")]) == 0
    capsys.readouterr()
    sources = {"GAN": tmp_path / "gan" / "GAN_mnist_8_128" / "GAN",
               "DRAGAN": tmp_path / "dragan" / "DRAGAN_mnist_8_128" / "DRAGAN"}
    # A GAN checkpoint: GAN's variables are DRAGAN's (the penalty has none), so DRAGAN's
    # files under GAN's names, with GAN's config.json and Saver state, are one.
    shutil.copytree(sources["DRAGAN"], sources["GAN"])
    for name in os.listdir(sources["GAN"]):
        if name.startswith("DRAGAN.model-"):
            os.rename(sources["GAN"] / name, sources["GAN"] / name.replace("DRAGAN", "GAN"))
    for name in ("checkpoint", "config.json"):
        text = (sources["GAN"] / name).read_text()
        (sources["GAN"] / name).write_text(text.replace('"DRAGAN"', '"GAN"').replace(
            "DRAGAN.model", "GAN.model"))
    assert utils.read_json(str(sources["GAN"] / "config.json"))["model"] == "GAN"
    cases = [("GAN", "8", "128", [], False, "holds GAN.model-1, a checkpoint of another model"),
             ("DRAGAN", "8", "62", ["--z-dim", "62"], False,
              "generator/g_fc1/Matrix has shape [128, 1024] there, [62, 1024] here"),
             ("DRAGAN", "16", "128", ["--batch-size", "16"], True, "batch_size=8 there, 16 here"),
             ("DRAGAN", "16", "128", ["--batch-size", "16"], False,
              "6 batches an epoch and 1 a step, this run has 3 and 1 (another --batch-size")]
    for i, (source, batch, z_dim, flags, keep_config, fragment) in enumerate(cases):
        root = tmp_path / ("case%d" % i)
        folder = root / ("DRAGAN_mnist_%s_%s" % (batch, z_dim)) / "DRAGAN"
        shutil.copytree(sources[source], folder)
        if not keep_config:
            os.remove(folder / "config.json")
        before = {n: (folder / n).read_bytes() for n in sorted(os.listdir(folder))}
        code, _, errors = _dragan_main(base + ["--batch-size", "8"] + flags +
                                       ["--checkpoint-dir", str(root)], capsys)
        assert code in (1, 2) and len(errors) == 1 and fragment in errors[0], errors
        assert before == {n: (folder / n).read_bytes() for n in sorted(os.listdir(folder))}
    note("foreign checkpoint (other model, z_dim, batch size; with and without config.json)",
         injected=len(cases))


# ---- 6: non-finite losses -------------------------------------------------------------------

def test_non_finite_loss_stops_or_skips_the_step_undoing_its_updates(tmp_path, capsys):
    from conftest import dirs_in, fake_dataset

    from models.trainer import TrainingDiverged
    from models.dragan import DRAGAN, DRAGANConfig
    from tf_compat import tf

    def make(name, dataset, **changes):
        settings = dict(batch_size=8, save_every=1, sample_every=1000, log_every=1000,
                        **dirs_in(tmp_path, name))
        settings.update(changes)
        return DRAGAN(DRAGANConfig(**settings), dataset)

    def train(name, dataset, **changes):
        with make(name, dataset, **changes) as model:
            return model.train(keep_history=True).history, model.checkpoint_folder

    poisoned = fake_dataset(48, size=8)
    with make("run", poisoned, max_steps=5) as model:
        poisoned.images[model.data_order(0)[2 * 8]] = np.nan     # the first image of step 3
        folder = model.checkpoint_folder
        with pytest.raises(TrainingDiverged, match=r"non-finite .*d_loss.* at step 3; stopped "
                                                   r"without saving, the last good checkpoint "
                                                   r"is .*model-2"):
            model.train()
    assert checkpoint_steps(folder) == [1, 2]
    note("non-finite loss, --on-nonfinite stop", injected=1)

    skipped, _ = train("run", poisoned, max_steps=3, on_nonfinite="skip")
    err = capsys.readouterr().err
    assert "non-finite d_loss" in err and "at step 3; step skipped (its updates undone)" in err
    assert len(skipped) == 1 and np.isnan(skipped[0]["d_loss"])
    # The skipped step changed nothing: checkpoint 3 holds checkpoint 2's values, every one
    # (weights, Adam slots and powers, BN statistics).
    reader2 = tf.train.load_checkpoint(os.path.join(folder, "DRAGAN.model-2"))
    reader3 = tf.train.load_checkpoint(os.path.join(folder, "DRAGAN.model-3"))
    names = [n for n in reader2.get_variable_to_shape_map() if n != "global_step"]
    assert len(names) > 20 and reader3.get_tensor("global_step") == 3
    assert all(np.array_equal(reader2.get_tensor(n), reader3.get_tensor(n)) for n in names)
    rest, _ = train("run", poisoned, max_steps=5)              # resumed, in stop mode again
    assert len(rest) == 2 and all(np.isfinite(v) for step in rest for v in step.values())
    note("non-finite loss, --on-nonfinite skip", injected=1, recovered=1)


# ---- 7: bad flags ---------------------------------------------------------------------------

def test_every_bound_of_every_model_is_enforced_by_the_command_line(capsys):
    import dataclasses

    from models import MODELS, get_model
    from models.cli import main
    from models.config import build_parser
    checked = 0
    for name in MODELS:
        config = get_model(name).Config
        parser = build_parser(config)
        for field in dataclasses.fields(config):
            meta = field.metadata
            if not meta.get("flag", True) or field.type not in (int, float, "int", "float"):
                continue
            flag = "--" + field.name.replace("_", "-")
            bad = ["nan", "inf"] if field.type in (float, "float") else []
            if meta.get("minimum") is not None:
                bad.append(str(meta["minimum"] - 1))
            if meta.get("maximum") is not None:
                bad.append(str(meta["maximum"] + 1))
            for value in bad:
                with pytest.raises(SystemExit) as exit_info:
                    parser.parse_args([flag, value])
                assert exit_info.value.code == 2
                err = capsys.readouterr().err
                assert flag in err and ("must be" in err), (name, flag, value, err)
                checked += 1
    assert checked > 150
    for model, args, fragment in [("dragan", ["--lambd", "-1"], "must be >= 0"),
                                  ("dragan", ["--batch-size", "0"], "must be >= 1"),
                                  ("wgan", ["--n-critic", "0"], "must be >= 1"),
                                  ("wgan_gp", ["--gp-weight", "nan"], "must be a finite number"),
                                  ("dragan", ["--on-nonfinite", "ignore"], "invalid choice")]:
        with pytest.raises(SystemExit) as exit_info:
            main(get_model(model), args)
        assert exit_info.value.code == 2
        assert fragment in capsys.readouterr().err, (model, args)
    note("bad flags (every bound of every model, nan/inf)", injected=checked + 5)


# ---- 1 + 2 + 3 in real processes: kill -9 at any moment, a full file system ---------------

def test_kill_9_at_random_moments_resumes_with_the_losses_of_a_straight_run(world, straight):
    """Episodes on one run folder: each starts the same command, is killed at some moment
    (or finds its latest checkpoint damaged first), and the next one must resume from the
    last complete checkpoint; in the end every step's losses, whichever run computed them,
    equal the uninterrupted run's. One episode also starts a second run on the folder while
    the first holds it: the second must refuse, and after kill -9 the lock is free again."""
    zygote, root = world["zygote"], world["root"]
    rng = random.Random(SEED)
    argv = world["argv"]("killed")
    folder = str(root / "killed" / "checkpoint_dir" / "DRAGAN_mnist_8_128" / "DRAGAN")
    losses, log = root / "killed.jsonl", root / "killed.log"
    episodes = [("timer", None), ("checkpoint", None), ("grid", None), ("state", None),
                ("hold", None), ("timer", "truncate data"), ("checkpoint", "flip data"),
                ("external", "flip index")]
    classes = {"timer": "kill -9 at a random moment (timer in the run)",
               "external": "kill -9 at a random moment (from outside)",
               "checkpoint": "kill -9 while a checkpoint is written",
               "state": "kill -9 between checkpoint and state.json",
               "grid": "kill -9 while a sample grid is written",
               "hold": "kill -9 of a run holding the folder lock"}
    reached, previous = 0, None
    for kind, harm in episodes:
        done = checkpoint_steps(folder) if os.path.isdir(folder) else []
        expected = done[-1] if done else None
        if harm:
            assert len(done) >= 2, "too few checkpoints to damage the latest: %s" % done
            damage(folder, done[-1], harm, rng)
            expected = done[-2]
        after = max(reached, expected or 0) + 1
        kill = dict(kind=kind, after=after, delay=rng.uniform(0.0, 0.4))
        start = os.path.getsize(log) if log.exists() else 0
        pid = zygote.start(argv, log, losses, None if kind == "external" else kill)
        if kind == "external":
            wait_for_step(losses, after, pid)
            time.sleep(rng.uniform(0.0, 0.3))
            os.kill(pid, signal.SIGKILL)
        elif kind == "hold":
            wait_for_step(losses, after, pid)
            second = zygote.start(argv, root / "second.log", root / "second.jsonl")
            assert zygote.wait(second) == 1
            text = (root / "second.log").read_text()
            assert "Traceback" not in text, text
            assert "run_dragan.py: error: another run is using %s (pid %d on " % (folder, pid) \
                in text, text
            assert not (root / "second.jsonl").exists()
            note("second run on the same checkpoint folder", injected=1, recovered=1)
            os.kill(pid, signal.SIGKILL)
        status = zygote.wait(pid)
        out = log.read_text()[start:]
        assert "Traceback" not in out, out
        assert status == -signal.SIGKILL, "episode %s ended with %s:\n%s" % (kind, status, out)
        if expected is None:
            assert "resuming from" not in out, out
        else:
            assert "resuming from %s (step %d)" % (os.path.join(folder, "DRAGAN.model-%d"
                                                                 % expected), expected) in out, out
        if harm:
            assert ("checkpoint %s is damaged (" % os.path.join(folder, "DRAGAN.model-%d"
                                                                 % done[-1])) in out, out
            assert "falling back to DRAGAN.model-%d" % expected in out, out
            note("damaged latest checkpoint (%s)" % harm, injected=1, recovered=1)
        else:
            assert "is damaged" not in out, out
        if previous:                 # the run after a kill started where it had to
            note(classes[previous], recovered=1)
        note(classes[kind], injected=1)
        previous = kind
        reached = max(r["step"] for r in read_losses(losses))
        assert not [n for n in os.listdir(folder) if n.endswith(".lock")]

    # the last run: no kill, to the end
    start = log.stat().st_size
    pid = zygote.start(argv, log, losses)
    assert zygote.wait(pid) == 0, log.read_text()[start:]
    out = log.read_text()[start:]
    assert "resuming from" in out and "finished at step %d" % STEPS in out, out
    note(classes[previous], recovered=1)
    assert not [n for n in os.listdir(folder) if ".tempstate" in n or n.endswith(".tmp")]

    records = read_losses(losses)
    assert {r["step"] for r in records} == set(range(1, STEPS + 1))
    identical = all(r["losses"] == straight[r["step"]] for r in records)
    for fault in list(classes.values()) + ["damaged latest checkpoint (truncate data)",
                                            "damaged latest checkpoint (flip data)",
                                            "damaged latest checkpoint (flip index)"]:
        note(fault, identical=identical)
    mismatched = [(r["step"], r["pid"]) for r in records if r["losses"] != straight[r["step"]]]
    assert identical, "steps whose losses differ from the straight run: %s" % mismatched
    assert len(records) > STEPS            # some steps were computed twice, identically

    # every grid that exists is a whole PNG (a killed write leaves at most a .tmp.png)
    from PIL import Image
    grids = root / "killed" / "result_dir" / "DRAGAN_mnist_8_128" / "DRAGAN"
    names = [n for n in os.listdir(grids) if n.endswith(".png") and not n.endswith(".tmp.png")]
    assert len(names) >= STEPS
    for name in names:
        with Image.open(grids / name) as image:
            image.load()


def test_full_disk_is_a_clear_error_and_the_last_checkpoint_resumes(world, straight):
    """A real file system that fills up (a 40 MB tmpfs in the zygote's mount namespace): the
    third 17.5 MB checkpoint does not fit; the run ends with one line naming the checkpoint,
    the reason and the last good one; the next run resumes from that one. Without a mount
    namespace the third save fails as TensorFlow's does on a full disk (injected)."""
    zygote, root = world["zygote"], world["root"]
    real = zygote.tmpfs is not None
    fault = "disk full (real tmpfs)" if real else "disk full (third save failing as on ENOSPC)"
    ckpt = os.path.join(zygote.tmpfs if real else str(root / "full"), "checkpoint")
    folder = os.path.join(ckpt, "DRAGAN_mnist_8_128", "DRAGAN")
    losses, log = root / "full.jsonl", root / "full.log"
    pid = zygote.start(world["argv"]("full", checkpoint_dir=ckpt), log, losses,
                       kill=None if real else dict(kind="enospc", at=3))
    assert zygote.wait(pid) == 1
    out = log.read_text()
    errors = [line for line in out.splitlines() if line.startswith("run_dragan.py: error:")]
    assert "Traceback" not in out and len(errors) == 1, out
    assert "cannot write checkpoint %s-3: " % os.path.join(folder, "DRAGAN.model") in errors[0]
    assert "No space left on device" in errors[0] or "ResourceExhausted" in errors[0], errors[0]
    assert "the last good checkpoint, %s-2, is untouched" % os.path.join(
        folder, "DRAGAN.model") in errors[0], errors[0]
    note(fault, injected=1)
    start = len(out)
    pid = zygote.start(world["argv"]("full", steps=2, checkpoint_dir=ckpt), log, losses)
    assert zygote.wait(pid) == 0, log.read_text()[start:]
    out = log.read_text()[start:]
    assert "resuming from %s-2 (step 2)" % os.path.join(folder, "DRAGAN.model") in out, out
    records = read_losses(losses)
    identical = all(r["losses"] == straight[r["step"]] for r in records)
    note(fault, recovered=1, identical=identical)
    assert [r["step"] for r in records] == [1, 2, 3] and identical



if __name__ == "__main__" and sys.argv[1:] == ["--zygote"]:
    _zygote()
