"""Exact resume, every variable: for every registered model, a run stopped at a step and
resumed ends in the straight run's checkpoint, bit for bit (float32, one machine), in
every variable the checkpoint holds: weights, batch-norm moving statistics and their
zero-debiasing shadows, optimizer slots and counters, the global step.

Each model (its reference recipe's settings on random 8x8 images, batches of 4, 2 steps
an epoch: checkpoints at the epochs' ends, steps 2 and 4) trains 4 steps straight, then
the same 4 steps as a chain of three runs on one folder, each a fresh session on the
folder's files:
  1. stopped by SIGTERM during step 1: the trainer's handler lets the step finish, saves
     there and draws the run's last sample grid there (the straight run draws none);
  2. resumed from step 1, killed after step 3, between checkpoints (nothing written after
     the step; as kill -9 would, the session is dropped);
  3. resumed from step 2, the checkpoint before the kill, to step 4.
Checkpoint 2 (written by run 2, after the SIGTERM resume) and checkpoint 4 (by run 3,
after the kill) must equal the straight run's, every tensor, and the losses of every step
the chain logged the straight run's. The graph is built once per model; a session (each
run's, as each process's) costs more than the steps. kill -9 of real processes (DRAGAN):
tests/test_faults.py.
"""

import os
import shutil
import signal
import types

import numpy as np
import pytest

import models
from models.trainer import Trainer
from tf_compat import tf

STEPS = 4           # a run's length
EPOCH = 2           # steps an epoch: checkpoints (and epoch grids) at 2 and 4
SIDE = 8            # image sides (CycleGAN's U-Net needs 16)


class Killed(Exception):
    """The run died (as by kill -9): nothing more is written."""


class Stopping(Trainer):
    """SIGTERM to this process during step `sigterm_at`, or death (`Killed`) right after
    step `killed_after`."""

    sigterm_at = killed_after = None

    def run_step(self, step):
        logs = super().run_step(step)
        if step + 1 == self.sigterm_at:
            os.kill(os.getpid(), signal.SIGTERM)      # the trainer's handler takes it
        if step + 1 == self.killed_after:
            raise Killed()
        return logs


def stopping(**when):
    return type("Stopping", (Stopping,), when)


def checkpoint_tensors(prefix):
    """{name: array} of every tensor a checkpoint holds."""
    reader = tf.train.load_checkpoint(prefix)
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def differing(a, b):
    """Names of the tensors of checkpoints `a` and `b` that are not bit for bit equal."""
    assert sorted(a) == sorted(b)
    return sorted(n for n in a if np.asarray(a[n]).dtype != np.asarray(b[n]).dtype
                  or np.asarray(a[n]).tobytes() != np.asarray(b[n]).tobytes())


def _empty(model):
    """Close the run and delete its folders: the next `train()` starts afresh."""
    model.close()
    for folder in (model.checkpoint_folder, model.result_folder, model.log_folder):
        shutil.rmtree(folder, ignore_errors=True)
    model.saver.set_last_checkpoints_with_time([])


@pytest.mark.parametrize("name", sorted(models.MODELS))
def test_runs_stopped_by_sigterm_or_killed_and_resumed_end_in_the_straight_checkpoint(
        name, tmp_path, capsys):
    with tiny_model(name, str(tmp_path)) as model:
        def checkpoint(step):
            return checkpoint_tensors(os.path.join(model.checkpoint_folder, "%s.model-%d"
                                                   % (model.model_name, step)))

        straight = model.train(keep_history=True)
        assert (straight.step, straight.stop_reason) == (STEPS, "done")
        expected = {step: checkpoint(step) for step in (EPOCH, STEPS)}
        # every global variable is there: optimizer slots, counters, moving statistics too
        variables = model.graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)
        assert sorted(expected[STEPS]) == sorted(v.op.name for v in variables)
        assert len(variables) > len(model.graph.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES))
        _empty(model)

        model.Trainer = stopping(sigterm_at=1)
        first = model.train(keep_history=True)
        assert (first.step, first.stop_reason) == (1, "SIGTERM")
        assert first.history == straight.history[:1]
        model.close()
        model.Trainer = stopping(killed_after=3)
        with pytest.raises(Killed):
            model.train()
        model.close()                       # what a killed process leaves: its files
        assert "(step 1)" in capsys.readouterr().out
        assert differing(expected[EPOCH], checkpoint(EPOCH)) == [], (
            "%s: after a SIGTERM stop and resume, these variables of checkpoint %d differ "
            "from the straight run's" % (name, EPOCH))
        model.Trainer = Trainer
        rest = model.train(keep_history=True)
        assert "(step %d)" % EPOCH in capsys.readouterr().out
        assert (rest.step, rest.history) == (STEPS, straight.history[EPOCH:])
        assert differing(expected[STEPS], checkpoint(STEPS)) == [], (
            "%s: after a kill between checkpoints and resume, these variables of checkpoint "
            "%d differ from the straight run's" % (name, STEPS))


def tiny_model(name, folder):
    """Model `name` with its reference recipe's settings (reproduce/reference.py) on random
    8x8 images (CycleGAN: 16x16 with 4 filters) in batches of 4, `EPOCH` steps an epoch."""
    import data
    from reproduce import reference
    recipe = reference.recipe(name)
    cls = recipe["model"]
    settings = dict(recipe["config"], max_steps=STEPS, save_every=0, sample_every=1000,
                    log_every=1000, train_subset=None, batch_size=4, **{
                        key: os.path.join(folder, key)
                        for key in ("checkpoint_dir", "result_dir", "log_dir")})
    if name == "cyclegan":
        settings.update(gf=4, df=4, sample_num=12, image_size=16, batch_size=1)
    elif name == "dcgan_pokemon":
        settings.update(image_size=SIDE)
    config = cls.Config(**settings)
    shape = ((SIDE, SIDE, 1) if config.dataset in data.IDX_DATASETS else
             (config.image_size, config.image_size, config.channels))
    n = EPOCH * config.batch_size * cls.batches_per_step_of(config)
    images = np.random.default_rng(0).random((n,) + shape, dtype=np.float32)
    dataset = types.SimpleNamespace(name="random", source="random images", images=images,
                                    images_b=images[::-1].copy(),
                                    labels=(np.arange(n) % 10).astype(np.int64), num_classes=10)
    model = cls(config, dataset)
    assert model.steps_per_epoch == EPOCH
    return model
