"""The machinery every model trains on (models/base.py, trainer.py, checkpoints.py),
exercised through DRAGAN (tiny data, CPU): seeds and exact resume, event files and grids,
the run folder and its config.json, refusing another model's or shape's checkpoint, the
non-finite-loss guard, the model contract (registry key, prior, examples per epoch).
The faults (damaged checkpoints, locks, full disks, kill -9): tests/test_faults.py; the
command line: tests/test_scripts.py."""

import glob
import os
import shutil

import numpy as np
import pytest
from conftest import build, dirs_in, fake_dataset, train_history

import utils
from errors import CheckpointError, ConfigError
from models import MODELS, get_model
from models.dragan import DRAGAN
from models.trainer import TrainingDiverged
from tf_compat import SessionPolicy, tf


def make(run_dirs, dataset=None, **changes):
    return build(DRAGAN, run_dirs, dataset, **changes)


def train(run_dirs, dataset=None, **changes):
    return train_history(DRAGAN, run_dirs, dataset, **changes)


def test_seed_decides_the_losses(tmp_path):
    # Same seed, same losses, and resume, every variable bit for bit: tests/test_resume.py.
    straight = train(dirs_in(tmp_path, "straight"), max_steps=2)
    other = train(dirs_in(tmp_path, "other"), max_steps=2, seed=548)
    assert [s["d_loss"] for s in other] != [s["d_loss"] for s in straight]
    assert all(np.isfinite(v) for s in straight for v in s.values())


def test_kept_checkpoints_survive_max_to_keep_and_a_resume(tmp_path):
    from models.checkpoints import kept_checkpoints
    dirs = dirs_in(tmp_path, "kept")
    keep = dict(max_to_keep=1, save_every=1, keep_steps="2", keep_every=3)
    train(dirs, max_steps=2, **keep)
    train(dirs, max_steps=4, **keep)               # resumed
    folder = os.path.join(dirs["checkpoint_dir"], "DRAGAN_mnist_8_128", "DRAGAN")
    rolling = sorted(n for n in os.listdir(folder) if n.endswith(".index"))
    assert rolling == ["DRAGAN.model-4.index"]                # max_to_keep pruned the rest
    kept = kept_checkpoints(folder)
    assert [s for s, _ in kept] == [2, 3]
    reader = tf.train.load_checkpoint(kept[0][1])           # step 2's weights, restorable
    assert int(reader.get_tensor("global_step")) == 2
    with pytest.raises(ConfigError, match="keep_steps"):
        make(dirs, keep_steps="4000,x")


def _events(log_dir):
    found = {}
    images = []
    for path in glob.glob(os.path.join(log_dir, "*", "events.out.tfevents.*")):
        for event in tf.train.summary_iterator(path):
            for value in event.summary.value:
                if value.HasField("image"):
                    images.append((event.step, value.tag, value.image.width, value.image.height))
                else:
                    found.setdefault(value.tag, []).append(event.step)
    return found, images


def test_event_file_has_every_loss_once_per_step_and_the_grid(run_dirs):
    train(run_dirs, max_steps=4, sample_every=2)
    scalars, images = _events(run_dirs["log_dir"])
    for tag in ("d_loss_real", "d_loss_fake", "d_loss", "g_loss"):
        assert sorted(scalars[tag]) == [1, 2, 3, 4], tag
    assert [(s, t) for s, t, _, _ in sorted(images)] == [(2, "samples/fixed_noise/image"),
                                                         (4, "samples/fixed_noise/image")]
    assert images[0][2:] == (224, 224)
    grids = sorted(os.listdir(os.path.join(run_dirs["result_dir"], "DRAGAN_mnist_8_128", "DRAGAN")))
    assert "DRAGAN_train_00_0002.png" in grids and "DRAGAN_train_00_0004.png" in grids


def test_checkpoint_folder_layout_and_config(run_dirs):
    train(run_dirs, max_steps=2)
    folder = os.path.join(run_dirs["checkpoint_dir"], "DRAGAN_mnist_8_128", "DRAGAN")
    assert os.path.exists(os.path.join(folder, "DRAGAN.model-2.index"))
    saved = utils.read_json(os.path.join(folder, "config.json"))
    assert saved["model"] == "DRAGAN" and saved["key"] == "dragan"
    assert saved["config"]["lambd"] == 0.25
    state = utils.read_json(os.path.join(folder, "state.json"))
    assert (state["step"], state["epoch"], state["step_in_epoch"]) == (2, 0, 2)
    assert (state["batches_per_step"], state["steps_per_epoch"]) == (1, 6)


def _snapshot(folder, skip=()):
    return {f: open(os.path.join(folder, f), "rb").read() for f in sorted(os.listdir(folder))
            if f not in skip}


def test_checkpoint_of_another_model_is_refused_and_kept(run_dirs):
    train(run_dirs, max_steps=1)
    folder = os.path.join(run_dirs["checkpoint_dir"], "DRAGAN_mnist_8_128", "DRAGAN")
    config_path = os.path.join(folder, "config.json")
    original = utils.read_json(config_path)
    for field, value, message in [
            ("model", "GAN", "holds a GAN checkpoint, not DRAGAN"),
            # the same model name under another registry key (as DCGAN and DCGAN Pokemon)
            ("key", "dragan_other", "holds a dragan_other checkpoint, not dragan")]:
        utils.write_json(config_path, dict(original, **{field: value}))
        before = _snapshot(folder)
        with pytest.raises(CheckpointError, match=message):
            make(run_dirs).train()
        assert _snapshot(folder) == before, field


def test_checkpoint_with_other_shapes_is_refused_naming_the_variable(run_dirs, tmp_path):
    train(run_dirs, max_steps=1, z_dim=62)
    src = os.path.join(run_dirs["checkpoint_dir"], "DRAGAN_mnist_8_62", "DRAGAN")
    dst = os.path.join(run_dirs["checkpoint_dir"], "DRAGAN_mnist_8_128", "DRAGAN")
    shutil.copytree(src, dst)
    with pytest.raises(ConfigError, match="z_dim=62 there, 128 here"):
        make(run_dirs).train()
    os.remove(os.path.join(dst, "config.json"))
    with pytest.raises(CheckpointError,
                       match=r"generator/g_fc1/Matrix has shape \[62, 1024\] there"):
        make(run_dirs).train()


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(run_dirs):
    train(run_dirs, max_steps=2)
    folder = os.path.join(run_dirs["checkpoint_dir"], "DRAGAN_mnist_8_128", "DRAGAN")
    before = _snapshot(folder, skip=("config.json",))   # rewritten by every run
    broken = fake_dataset()
    broken.images[:] = np.nan
    with pytest.raises(TrainingDiverged, match=r"non-finite .*d_loss.* at step 3.*DRAGAN.model-2"):
        train(run_dirs, dataset=broken, max_steps=5)
    assert _snapshot(folder, skip=("config.json",)) == before


def test_every_registered_model_knows_its_key():
    for name in MODELS:
        assert get_model(name).registry_key() == name
    assert type("Unregistered", (DRAGAN,), {}).registry_key() is None


def test_the_default_prior_is_the_sampler_feed_and_an_epoch_counts_every_image(run_dirs):
    model = make(run_dirs, dataset=fake_dataset(50))
    feed, requested = model.prior_feed(np.random.default_rng(0), 10)
    assert requested is None and set(feed) == {model.sample_z_input}
    assert feed[model.sample_z_input].shape == (model.config.sample_num, model.config.z_dim)
    assert model.num_examples == 50 and model.num_batches == 6
    assert model.evaluations == ("classifier",)


def test_the_session_policy_seeds_draws_on_the_cpu_and_runs_float64_one_op_at_a_time():
    policy = SessionPolicy(2, 2, seed=5)
    graph = policy.graph()
    assert graph.seed == 5
    with graph.as_default():
        v = tf.Variable(tf.random_normal([3]))
        init = tf.global_variables_initializer()
    with policy.session(graph) as a, policy.session(graph) as b:
        policy.initialize(a, init)
        policy.initialize(b, init)
        assert np.array_equal(a.run(v), b.run(v))
    assert policy.proto().inter_op_parallelism_threads == 2
    assert SessionPolicy(2, 2, float64=True).proto().inter_op_parallelism_threads == 1
    assert SessionPolicy(2).proto(gpu=False).device_count["GPU"] == 0


def test_only_the_session_policy_opens_sessions():
    """The models, the toy study, the judges and the bench share tf_compat.SessionPolicy:
    no other module of the project makes a Session or a ConfigProto of its own."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    own = []
    for folder in ("", "models", "reproduce", "scripts"):
        for path in sorted(glob.glob(os.path.join(repo, folder, "*.py"))):
            # profile_step.py runs the hand-written bench graph with that graph's own
            # session settings (shared/bench/tf1_model.py), as the driver does.
            if os.path.basename(path) in ("tf_compat.py", "profile_step.py"):
                continue
            with open(path, encoding="utf-8") as f:
                text = f.read()
            own += [os.path.relpath(path, repo) for name in ("Session(", "ConfigProto(")
                    if name in text]
    assert own == []


def test_the_checkpoint_store_works_without_a_model(tmp_path):
    """CheckpointStore is given what it checks and records (no GANModel behind it):
    it saves, restores the newest, and refuses a resume on other data."""
    from models.checkpoints import CheckpointStore, RunFacts
    from models.config import TrainConfig
    policy = SessionPolicy(1, seed=3)
    graph = policy.graph()
    with graph.as_default():
        v = tf.Variable(tf.random_normal([4]), name="v")
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        saver, init = tf.train.Saver(), tf.global_variables_initializer()
    config = TrainConfig(checkpoint_dir=str(tmp_path))
    facts = RunFacts(100, 12, 1, 12, "blobs", "test", (28, 28, 1))

    def store(facts):
        return CheckpointStore(str(tmp_path / "run"), "Toy", None, saver, graph, tf.float32,
                               config, facts)
    with policy.session(graph) as sess:
        policy.initialize(sess, init)
        written = sess.run(v)
        store(facts).save(sess, 7)
    assert utils.read_json(str(tmp_path / "run" / "state.json"))["step"] == 7
    with policy.session(graph) as sess:
        again = store(facts)
        assert again.restore_latest(sess).endswith("Toy.model-7") == again.last_good.endswith(
            "Toy.model-7") is True
        assert np.array_equal(sess.run(v), written) and sess.run(step) == 0
        with pytest.raises(ConfigError, match="training data changed .*100 examples then, 90 now"):
            store(facts._replace(num_examples=90)).restore_latest(sess)


def test_the_trainer_trains_a_run_that_is_not_a_model(tmp_path):
    """The training loop is a collaborator (models/trainer.Trainer), not a base class of
    GANModel: given only what its doc lists, here a one-variable run with no GANModel
    behind it, it runs the phases with their feeds, saves, writes grids and events."""
    import collections
    from models.base import GANModel, Phase, scalar_summaries
    from models.config import TrainConfig
    from models.trainer import Trainer, step_runs
    assert not issubclass(GANModel, Trainer) and GANModel.Trainer is Trainer
    policy = SessionPolicy(1, seed=3)
    graph = policy.graph()
    with graph.as_default():
        v = tf.Variable(5.0, name="v")
        x = tf.placeholder(tf.float32, [], name="x")
        loss = tf.square(v - x)
        train_op = tf.train.GradientDescentOptimizer(0.25).minimize(loss)
        phase = Phase("only", train_op, scalar_summaries({"loss": loss}), {"loss": loss},
                      scopes=("v",), feed=lambda images, labels, rng: {x: float(images)})
        init = tf.global_variables_initializer()
    events = collections.Counter()

    class Store:
        last_good = None

        def lock(self):
            events["lock"] += 1

        def unlock(self):
            events["unlock"] += 1

        def remove_unfinished_saves(self):
            pass

    class Run:                          # what Trainer's doc says it uses, and nothing else
        phases, model_name, steps_per_epoch, step_undo = [phase], "Toy", 3, None
        config = TrainConfig(epochs=2, log_every=100, sample_every=2, save_every=0)
        checkpoints, writer = Store(), None
        result_folder = checkpoint_folder = log_folder = str(tmp_path)

        def __init__(self):
            self.graph = graph

        def open(self):
            self.device = policy.device()
            self.sess = policy.session(graph)
            policy.initialize(self.sess, init)
            return 0

        def total_steps(self):
            return 5

        def step_runs(self, step, rng):
            return step_runs(self.phases, lambda step, draw: (step, None), step, rng)

        def save(self, step):
            events["save %d" % step] += 1

        def save_training_grids(self, step):
            events["grids %d" % step] += 1

        def save_grid(self, name, rng=None):
            events[name] += 1

    run = Run()
    result = Trainer(run).train(keep_history=True)
    assert result.step == 5 and result.stop_reason == "done"
    # step s feeds x = s: v <- v - 0.25 * 2 (v - s), logged before the update
    want, value = [], 5.0
    for s in range(5):
        want.append((value - s) ** 2)
        value -= 0.5 * (value - s)
    assert [h["loss"] for h in result.history] == pytest.approx(want)
    assert run.sess.run(v) == pytest.approx(value)
    assert events == {"lock": 1, "unlock": 1, "save 3": 1, "save 5": 1, "grids 2": 1,
                      "grids 4": 1, "grids 5": 1, "Toy_epoch000_test_all_classes.png": 1}
    run.writer.close()
    assert glob.glob(str(tmp_path / "events.out.tfevents.*"))
    run.sess.close()
