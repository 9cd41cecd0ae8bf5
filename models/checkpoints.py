"""A model's checkpoints and run folder: finding, checking, restoring, saving, locking.

`CheckpointStore` is a collaborator of `models.base.GANModel`: it is given the folder,
the model's name and registry key, the graph's saver and variables, the run's config and
its data facts (`RunFacts`), and gets the session with each call. A run folder
`<checkpoint_dir>/<MODEL>_<data>_<batch>_<z_dim>/<MODEL>/` holds `<MODEL>.model-<step>`
checkpoints (the blog's naming), `config.json` (settings, registry key, data, command,
versions, device) and `state.json` (step, epoch, data order). What each fault does to a
run (a second run on the folder, a damaged or half-written checkpoint, a full disk,
another model's or dtype's checkpoint): docs/faults.md.
"""

import collections
import contextlib
import datetime
import os
import platform
import re
import shutil
import sys
import time

import numpy as np

import utils
from errors import CheckpointError, ConfigError, OutputError
from tf_compat import tf


# What a run's state.json and config.json record of its data, and what a resume checks.
KEPT = "kept"     # the checkpoints kept for good (--keep-steps, --keep-every), one folder down

RunFacts = collections.namedtuple(
    "RunFacts", "num_examples num_batches batches_per_step steps_per_epoch dataset_name "
                "dataset_source image_shape")


class CheckpointStore:
    """Checkpoint discovery, validation, saving and the folder lock of one run.

    Args:
      folder: the run's checkpoint folder (`GANModel.checkpoint_folder`).
      model_name, key: the model's name (checkpoints are `<model_name>.model-<step>`)
        and registry key, both checked against a folder's config.json.
      saver, graph, dtype: the model graph's Saver, the graph (its variables' names,
        shapes and float type are checked against a checkpoint's) and float type.
      config: the run's TrainConfig (config.json; `resume_mismatches`).
      facts: RunFacts (state.json; a resume needs the same data).
    """

    def __init__(self, folder, model_name, key, saver, graph, dtype, config, facts):
        self.checkpoint_folder, self.model_name, self.key = folder, model_name, key
        self.saver, self.graph, self.dtype = saver, graph, dtype
        self.config, self.facts = config, facts
        self.last_good = None       # the checkpoint restored or last written
        self._folder_lock = None

    def _checkpoints(self):
        """Checkpoint prefixes in the folder, newest (highest step) first: those the
        Saver's state file names and every `<MODEL>.model-<step>` with an index on disk
        (so a lost or unreadable state file, or one a restarted Saver rewrote, hides
        none). TensorFlow writes a checkpoint's data and index as `*.tempstate*` files
        and renames them, the index last: a save that did not finish has no index, so it
        is never among them."""
        folder = self.checkpoint_folder
        if not os.path.isdir(folder):
            return []
        found = {}
        state = tf.train.get_checkpoint_state(folder)    # None if missing or unreadable
        for path in ([state.model_checkpoint_path] + list(state.all_model_checkpoint_paths)
                     if state else []):
            if path:    # the state file may hold absolute paths of a folder that was moved
                found[os.path.basename(path)] = None
        pattern = re.compile(re.escape(self.model_name) + r"\.model-\d+\.index")
        for name in os.listdir(folder):
            if pattern.fullmatch(name):
                found[name[:-len(".index")]] = None
        return [os.path.join(folder, name) for name in sorted(found, key=step_of, reverse=True)]

    def latest(self):
        """The newest checkpoint in the folder (not checked; see `restore_latest`)."""
        found = self._checkpoints()
        return found[0] if found else None

    def restore_latest(self, sess):
        """Restore the newest checkpoint that restores into `sess` (and remember it as
        the last good one).

        A damaged one (truncated, flipped bytes, files missing: TensorFlow's CRC32C
        checks fail) is passed over with a message on stderr, for the one before it.

        Returns:
          its path, or None if the folder holds no checkpoint.
        Raises:
          CheckpointError / ConfigError: another model's checkpoint, other settings or
            variables, or every checkpoint damaged.
        """
        found = self._checkpoints()
        if not found:
            return None
        self._check_run_config()
        mine = re.compile(re.escape(self.model_name) + r"\.model-\d+")
        foreign = [os.path.basename(p) for p in found if not mine.fullmatch(os.path.basename(p))]
        if foreign:
            raise CheckpointError("%s holds %s, a checkpoint of another model (%s writes "
                                  "%s.model-<step>): use another --checkpoint-dir"
                                  % (self.checkpoint_folder, foreign[0], self.model_name,
                                     self.model_name))
        damaged = []
        for path in found:
            problem = self._restore_problem(sess, path)
            if problem is None:
                for bad, why in damaged:
                    print("%s: checkpoint %s is damaged (%s); falling back to %s"
                          % (self.model_name, bad, why, os.path.basename(path)),
                          file=sys.stderr, flush=True)
                # The Saver prunes (max_to_keep) and lists what it knows of: the ones
                # before this one, not the damaged ones after it.
                older = [p for p in found if step_of(p) <= step_of(path)]
                self.saver.set_last_checkpoints_with_time([
                    (p, os.path.getmtime(p + ".index")) for p in
                    older[:self.config.max_to_keep][::-1] if os.path.exists(p + ".index")])
                self.last_good = path
                return path
            damaged.append((path, problem))
        raise CheckpointError(
            "every checkpoint in %s is damaged (%s): move the folder away to "
            "start afresh, or put back a copy" % (self.checkpoint_folder, "; ".join(
                "%s: %s" % (os.path.basename(p), why) for p, why in damaged)))

    def _restore_problem(self, sess, path):
        """Restore `path`; None if that worked, else why it is damaged. Raises if the
        checkpoint is readable but not this model's (names or shapes differ)."""
        try:
            saved_vars = dict(tf.train.list_variables(path))
            saved_dtypes = tf.train.load_checkpoint(path).get_variable_to_dtype_map()
        except (tf.errors.OpError, ValueError) as e:
            return first_line(e)
        self._check_variables(path, saved_vars, saved_dtypes)
        try:
            self.saver.restore(sess, path)
        except (tf.errors.OpError, ValueError) as e:
            return first_line(e)
        return None

    def _read_run_file(self, name):
        """A JSON file of the checkpoint folder (config.json, state.json), or None."""
        path = os.path.join(self.checkpoint_folder, name)
        if not os.path.exists(path):
            return None
        try:
            return utils.read_json(path)
        except (OSError, ValueError) as e:
            raise CheckpointError("cannot read %s (%s): put back a copy, or delete it to resume "
                                  "without checking the run's settings" % (path, e)) from e

    def _check_run_config(self):
        """Refuse a folder whose config.json names another model or other settings,
        or whose state.json counted other training data."""
        saved = self._read_run_file("config.json")
        if saved is not None:
            key = self.key
            theirs, mine = saved.get("model"), self.model_name
            if theirs == mine and saved.get("key", key) != key:
                theirs, mine = saved.get("key"), key    # e.g. DCGAN and DCGAN Pokemon
            if theirs != mine:
                raise CheckpointError("%s holds a %s checkpoint, not %s: use another "
                                      "--checkpoint-dir" % (self.checkpoint_folder, theirs, mine))
            diffs = self.config.resume_mismatches(saved.get("config", {}))
            if diffs:
                raise ConfigError("the checkpoint in %s was made with other settings (%s); "
                                  "resume with the same flags or use another --checkpoint-dir"
                                  % (self.checkpoint_folder, ", ".join(
                                      "%s=%r there, %r here" % d for d in diffs)))
        state = self._read_run_file("state.json") or {}
        seen, facts = state.get("num_examples"), self.facts
        if seen is not None and seen != facts.num_examples:
            raise ConfigError("the training data changed since the checkpoint in %s "
                              "(%d examples then, %d now): an exact resume needs the "
                              "same data" % (self.checkpoint_folder, seen, facts.num_examples))
        then = (state.get("num_batches"), state.get("batches_per_step"))
        if None not in then and then != (facts.num_batches, facts.batches_per_step):
            raise ConfigError("the checkpoint in %s was made with %d batches an epoch and %d a "
                              "step, this run has %d and %d (another --batch-size or critic "
                              "count?): resume with the same flags or use another "
                              "--checkpoint-dir" % ((self.checkpoint_folder,) + then + (
                                  facts.num_batches, facts.batches_per_step)))

    def _check_variables(self, path, saved_vars, saved_dtypes=None):
        """Refuse a checkpoint whose variable names, shapes or float type are not this
        model's."""
        other = sorted({saved_dtypes[v.op.name].name for v in self.graph.get_collection(
            tf.GraphKeys.GLOBAL_VARIABLES) if v.op.name in (saved_dtypes or {})
            and v.dtype.base_dtype.is_floating and saved_dtypes[v.op.name] != self.dtype})
        if other:
            raise CheckpointError("checkpoint %s holds %s variables, this run is %s (--dtype): "
                                  "resume it with --dtype %s or use another --checkpoint-dir"
                                  % (path, other[0], self.dtype.name, other[0]))
        wanted = {v.op.name: v.get_shape().as_list()
                  for v in self.graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)}
        missing = sorted(set(wanted) - set(saved_vars))
        extra = sorted(set(saved_vars) - set(wanted))
        shapes = sorted(n for n in set(wanted) & set(saved_vars) if wanted[n] != saved_vars[n])
        if missing or extra or shapes:
            problems = []
            if shapes:
                n = shapes[0]
                problems.append("%s has shape %s there, %s here" % (n, saved_vars[n], wanted[n]))
            if missing:
                problems.append("%d variables missing (e.g. %s)" % (len(missing), missing[0]))
            if extra:
                problems.append("%d unknown variables (e.g. %s)" % (len(extra), extra[0]))
            raise CheckpointError("checkpoint %s does not fit this %s: %s; nothing was "
                                  "overwritten, use another --checkpoint-dir"
                                  % (path, self.model_name, "; ".join(problems)))

    def write_config(self, device):
        """Write config.json: settings, registry key, data, command, versions, `device`."""
        facts = self.facts
        utils.write_json(os.path.join(self.checkpoint_folder, "config.json"), dict(
            model=self.model_name, key=self.key,
            config=self.config.to_dict(),
            dataset=dict(name=facts.dataset_name, source=facts.dataset_source,
                         num_examples=facts.num_examples, image_shape=list(facts.image_shape)),
            command=" ".join(sys.argv),
            versions=dict(python=platform.python_version(), numpy=np.__version__,
                          tensorflow=tf.__version__),
            device=device,
            written=datetime.datetime.now().isoformat(timespec="seconds")))

    def save(self, sess, step):
        """Write checkpoint `<MODEL>.model-<step>` of `sess` and `state.json` (the graph's
        global step must hold `step` already).

        Raises:
          CheckpointError: it cannot be written (full disk, unwritable folder); the
            checkpoints written before are untouched.
        """
        prefix = os.path.join(self.checkpoint_folder, self.model_name + ".model")
        target = "%s-%d" % (prefix, step)
        hint = ("the last good checkpoint, %s, is untouched; free some space or use another "
                "--checkpoint-dir" % (self.last_good or "none"))
        with writing("checkpoint", target, CheckpointError, hint):
            utils.ensure_dir(self.checkpoint_folder)
            path = self.saver.save(sess, prefix, global_step=step, write_meta_graph=False)
        self.last_good = path
        facts = self.facts
        epoch, index = divmod(step, facts.steps_per_epoch)
        with writing("the run state", os.path.join(self.checkpoint_folder, "state.json")):
            utils.write_json(os.path.join(self.checkpoint_folder, "state.json"), dict(
                step=step, epoch=epoch, step_in_epoch=index,
                steps_per_epoch=facts.steps_per_epoch, batches_per_step=facts.batches_per_step,
                num_batches=facts.num_batches, num_examples=facts.num_examples,
                checkpoint=os.path.basename(path),
                data_order="permutation of seed %d%s" % (
                    self.config.seed, ", per epoch" if self.config.reshuffle_each_epoch else "")))
        return path

    def keep(self, path):
        """Keep checkpoint `path` (just written) for good: hard links (a copy where the file
        system has none) of its files in the folder's `kept/`, which the Saver never
        prunes and a resume never reads."""
        kept = os.path.join(self.checkpoint_folder, KEPT)
        with writing("a kept checkpoint in", kept):
            utils.ensure_dir(kept)
            for name in sorted(os.listdir(self.checkpoint_folder)):
                if name.startswith(os.path.basename(path) + "."):
                    source, target = (os.path.join(self.checkpoint_folder, name),
                                      os.path.join(kept, name))
                    if os.path.exists(target):
                        os.remove(target)
                    try:
                        os.link(source, target)
                    except OSError:
                        shutil.copyfile(source, target)

    def lock(self):
        """Hold the checkpoint folder's lock (see `utils.lock_folder`) or refuse.

        With GAN_REPRO_LOCK_WAIT=seconds in the environment (the recipe runner sets it for
        its jobs) a busy folder is waited for that long before refusing: the run holding
        it may be an earlier attempt of the same job, told to stop (its runner or Ray
        worker died) and finishing its step and its save."""
        wait = _lock_wait()
        deadline, said = time.time() + wait, False
        while True:
            try:
                self._folder_lock = utils.lock_folder(self.checkpoint_folder)
                return
            except utils.FolderBusy as busy:
                if time.time() >= deadline:
                    raise CheckpointError("another run is using %s (%s): wait for it to end, "
                                          "or use another --checkpoint-dir%s"
                                          % (self.checkpoint_folder, busy, " (waited %g s)"
                                             % wait if wait else "")) from None
                if not said:
                    print("%s: another run is using %s (%s); waiting up to %g s for it to end"
                          % (self.model_name, self.checkpoint_folder, busy, wait),
                          file=sys.stderr, flush=True)
                    said = True
                time.sleep(0.2)
            except OSError as e:
                raise OutputError("cannot create the checkpoint folder %s: %s"
                                  % (self.checkpoint_folder, e)) from e

    def unlock(self):
        lock, self._folder_lock = self._folder_lock, None
        if lock is not None:
            lock.close()

    def remove_unfinished_saves(self):
        """Delete what saves killed half-way left in the checkpoint folder: TensorFlow's
        `*.tempstate*` files (a checkpoint's data and index are written under such names
        and renamed when complete), the Saver's `checkpoint.tmp*` and our JSON temp files."""
        folder = self.checkpoint_folder
        for name in os.listdir(folder):
            if (".tempstate" in name or name.startswith("checkpoint.tmp")
                    or name.startswith("tmp") and name.endswith(".tmp")):
                path = os.path.join(folder, name)
                if os.path.isfile(path):
                    os.remove(path)


def _lock_wait():
    """Seconds to wait for a busy checkpoint folder: GAN_REPRO_LOCK_WAIT, default 0."""
    value = os.environ.get("GAN_REPRO_LOCK_WAIT", "").strip()
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        raise ConfigError("GAN_REPRO_LOCK_WAIT must be a number of seconds, got %r"
                          % value) from None


@contextlib.contextmanager
def writing(what, path, error=OutputError, hint="free some space or choose another folder"):
    """Turn a failed write (full disk, unwritable folder) into a one-line error."""
    try:
        yield
    except (OSError, tf.errors.OpError) as e:
        raise error("cannot write %s %s: %s (%s)" % (what, path, first_line(e), hint)) from e


def first_line(error):
    """The line of an error message that says what went wrong (for a TensorFlow op
    error, the line above its `[[{{node ...}}]]`, not "Graph execution error:")."""
    text = getattr(error, "message", None) or str(error)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if line.startswith("[[") and i > 0:
            return lines[i - 1]
    return lines[0] if lines else type(error).__name__


def step_of(path):
    """The step of a checkpoint prefix `...-<step>` (-1 if it has none)."""
    match = re.search(r"-(\d+)$", path)
    return int(match.group(1)) if match else -1


def kept_checkpoints(folder):
    """The checkpoints kept for good in run folder `folder` (its `kept/`), oldest first:
    [(step, prefix)]; a kept save that did not finish (no index) is not among them."""
    kept = os.path.join(folder, KEPT)
    if not os.path.isdir(kept):
        return []
    prefixes = [os.path.join(kept, n[:-len(".index")]) for n in os.listdir(kept)
                if n.endswith(".index") and ".tempstate" not in n]
    return sorted((step_of(p), p) for p in prefixes if step_of(p) >= 0)
