"""The one training machinery every model uses (TF1 graph on tf.compat.v1).

A model subclasses `GANModel` and supplies only what is its own: a config class,
`build_model()` (placeholders, networks, losses, optimizers, summaries, the
ordered update `phases`, each with the feed function that makes its NumPy draws,
and the `sampler`). Everything else lives here, once:

- one `tf.Graph` per model, seeded with `config.seed`; every NumPy draw comes
  from a Generator derived from (seed, purpose, step), so a step's noise can be
  recreated after a restart without saved RNG state;
- `Session` with fixed thread counts (losses repeat bit for bit) and GPU
  `allow_growth`; TensorFloat-32 off unless `--tf32` (process-wide, set with op
  determinism); the device it trains on printed before the first step and kept in
  `config.json` (`tf_compat.describe_device`);
- `Saver` into `<checkpoint_dir>/<MODEL>_<data>_<batch>_<z_dim>/<MODEL>/<MODEL>.model-<step>`
  (the blog's naming) with the run's `config.json` and `state.json` beside it;
- the update schedule: a step (one generator iteration) runs the phases in
  order, each `repeat` times (n_critic for critics); a phase that draws real
  data takes the next batch of the epoch's order, so a step consumes
  `batches_per_step` batches;
- exact resume: the global step gives epoch and position in the epoch, the data
  order is a function of the seed (and epoch), and every random draw of a step
  comes from one Generator seeded by (seed, step), so N steps + resume + M steps
  equals N+M steps straight;
- `FileWriter` with scalar summaries every step and the fixed-noise grid as an
  image summary; grids written as PNG every `sample_every` steps and at each
  epoch end;
- a progress line with steps/s and ETA; Ctrl-C finishes the step, saves and
  exits; a non-finite loss stops the run before anything is saved, keeping the
  last good checkpoint (`--on-nonfinite skip`: the step is undone and skipped);
- faults: a run holds a lock on its checkpoint folder (`flock`, which the kernel
  drops when the process dies, kill -9 included), so a second run on it refuses;
  resume takes the newest checkpoint that restores (TensorFlow checks every
  block and tensor of a checkpoint against its CRC32C), falling back past a
  damaged or partly written one and saying so; a checkpoint, grid or log that
  cannot be written (full disk, unwritable folder) ends the run with a one-line
  error, the last good checkpoint untouched.
"""

import abc
import collections
import contextlib
import datetime
import math
import os
import platform
import re
import signal
import sys
import threading
import time

import numpy as np

import data as data_lib
import utils
from errors import CheckpointError, ConfigError, DataError, GanReproError, OutputError
from models.config import TrainConfig, build_parser
from tf_compat import describe_device, device_line, set_op_determinism, set_tensor_float_32, tf

# One update of a training step: run `train_op` `repeat` times (n_critic for
# critics), fetching `fetches` (a dict of scalar tensors, logged) each time and
# writing `summary` after the last time.
#   feed:  callable(images, labels, rng) -> feed dict, called before every run of
#          `train_op`; None reuses the feed of the run before (e.g. the blog's G
#          update with D's noise). The first phase must have one.
#   batch: True if `feed` gets a fresh batch of real images and labels; False
#          passes None for both (e.g. a generator update that only needs noise).
Phase = collections.namedtuple("Phase", "name train_op summary fetches repeat feed batch")
Phase.__new__.__defaults__ = (1, None, True)

TrainResult = collections.namedtuple("TrainResult", "step stop_reason history")


def scalar_summaries(logs):
    """One merged summary of scalar tensors, each named by its key (a Phase's `summary`)."""
    return tf.summary.merge([tf.summary.scalar(k, v) for k, v in sorted(logs.items())])


class TrainingDiverged(GanReproError):
    """A loss became NaN or infinite."""


class GANModel(abc.ABC):
    """Base class: the shared Session / Saver / FileWriter / loop.

    Subclasses set `model_name`, `Config`, `input_range`, `output_range` and
    implement `build_model`, `sample_feed`.
    """

    model_name = None
    Config = TrainConfig
    input_range = (0.0, 1.0)    # value range the model wants its real images in
    output_range = (0.0, 1.0)   # value range of the generator's images
    presets = {}                # named sets of defaults, e.g. {"paper": {...}}
    # More fixed grids beside the fixed-noise one, set in build_model:
    # {name: (feed of `sampler`, (rows, cols))}, e.g. conditional sweeps. Saved
    # with it as <MODEL>_<name>_<epoch>_<batch>.png and as TensorBoard images
    # "samples/<name>".
    extra_grids = {}
    grid_size = None            # (rows, cols) of the fixed-noise grid; None: square

    def __init__(self, config, dataset):
        if not isinstance(config, self.Config):
            raise TypeError("%s needs a %s, got %s" % (type(self).__name__,
                                                       self.Config.__name__, type(config).__name__))
        self.config = config
        self.dataset = dataset
        num_examples = len(dataset.images)
        if num_examples < config.batch_size:
            raise DataError("%s has %d training images, fewer than one batch of %d "
                            "(lower --batch-size)" % (dataset.source, num_examples,
                                                      config.batch_size))
        self.num_examples = num_examples
        self.num_batches = num_examples // config.batch_size
        self.image_shape = tuple(int(d) for d in dataset.images.shape[1:])
        self.dtype = tf.as_dtype(config.dtype)     # of placeholders, variables and math
        self.sess = None
        self.writer = None
        self.device = None          # `describe_device` of the session, set by `open`
        self._last_good = None      # the checkpoint restored or last written
        self._initial_values = None  # {initializer input: value} (see `_initialize`)
        self.graph = tf.Graph()
        # TensorFlow builds some ops differently while op determinism is on (the sparse
        # softmax cross-entropy, the bias-add gradient, ...): set it before building, so
        # the graph does not depend on what an earlier model in the process left.
        # TensorFloat-32 likewise (process-wide, off unless --tf32).
        self._set_process_switches()
        with self.graph.as_default():
            tf.set_random_seed(config.seed)
            self.build_model()
            self._build_common()
        self.graph.finalize()

    def _set_process_switches(self):
        """Set what TensorFlow keeps per process to this run's config: op determinism
        and TensorFloat-32 (called when the model is built and when a session opens, so
        another model built in between in the same process changes nothing)."""
        set_op_determinism(self.config.deterministic)
        set_tensor_float_32(self.config.tf32)

    # ---- what a model supplies --------------------------------------------------

    @abc.abstractmethod
    def build_model(self):
        """Create placeholders, networks, losses, optimizers, summaries.

        Must set `self.phases` (list of Phase, run in order each step; their
        fetches are the logged losses; a feed function gets images float32
        [batch, H, W, C] in `input_range`, labels int64 [batch] and the step's
        NumPy Generator) and `self.sampler` (generator output with
        `is_training=False` for the sample grids).
        """

    @abc.abstractmethod
    def sample_feed(self, rng=None):
        """Feed for `self.sampler`: the fixed noise if rng is None, else fresh noise."""

    @classmethod
    def load_data(cls, config):
        """The training set a config asks for (a model with other data overrides this)."""
        return load_training_data(config)

    # ---- names and folders ------------------------------------------------------

    @property
    def data_tag(self):
        if self.config.dataset == "folder":
            return os.path.basename(os.path.normpath(self.config.data_dir))
        return self.config.dataset

    @property
    def model_dir(self):
        """The blog's run-folder name, e.g. DRAGAN_mnist_64_128."""
        parts = [self.model_name, self.data_tag, str(self.config.batch_size)]
        if hasattr(self.config, "z_dim"):
            parts.append(str(self.config.z_dim))
        return "_".join(parts)

    @property
    def checkpoint_folder(self):
        return os.path.join(self.config.checkpoint_dir, self.model_dir, self.model_name)

    @property
    def result_folder(self):
        return os.path.join(self.config.result_dir, self.model_dir, self.model_name)

    @property
    def log_folder(self):
        return os.path.join(self.config.log_dir, self.model_dir)

    # ---- graph pieces every model has -------------------------------------------

    def _build_common(self):
        if not self.phases or self.phases[0].feed is None:
            raise ValueError("%s: the first phase needs a feed function" % self.model_name)
        self.batches_per_step = sum(p.repeat for p in self.phases if p.feed and p.batch)
        self.steps_per_epoch = self.num_batches // max(self.batches_per_step, 1)
        if self.steps_per_epoch < 1:
            raise DataError("%s has %d training images, fewer than the %d batches of %d one "
                            "%s step needs (lower --batch-size or the critic iterations)"
                            % (self.dataset.source, self.num_examples, self.batches_per_step,
                               self.config.batch_size, self.model_name))
        self.global_step = tf.Variable(0, trainable=False, dtype=tf.int64, name="global_step")
        self._step_value = tf.placeholder(tf.int64, [], name="global_step_value")
        self._set_step = tf.assign(self.global_step, self._step_value)
        channels = self.sampler.get_shape().as_list()[-1]
        self._grid_value = tf.placeholder(tf.uint8, [1, None, None, channels], name="grid")
        self._grid_summary = tf.summary.image("samples/fixed_noise", self._grid_value,
                                              max_outputs=1)
        self._extra_grid_summaries = {
            name: tf.summary.image("samples/" + name, self._grid_value, max_outputs=1)
            for name in sorted(self.extra_grids)}
        self.saver = tf.train.Saver(max_to_keep=self.config.max_to_keep)
        self._init_op = tf.global_variables_initializer()
        if self.config.on_nonfinite == "skip":
            self._build_step_undo()

    def _build_step_undo(self):
        """Ops that copy every global variable (weights, optimizer slots and counters,
        BN statistics) aside before a step and back after a non-finite one. The copies
        are in no collection, so checkpoints do not hold them."""
        backups, restores = [], []
        with tf.name_scope("step_undo"):
            for var in self.graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES):
                copy = tf.Variable(tf.zeros(var.get_shape(), var.dtype.base_dtype),
                                   trainable=False, collections=[],
                                   name=var.op.name.replace("/", "_") + "_before_step")
                backups.append(tf.assign(copy, var))
                restores.append(tf.assign(var, copy))
        self._backup_step, self._undo_step = tf.group(*backups), tf.group(*restores)

    def reuse(self, scope):
        """For `tf.variable_scope(scope, reuse=...)`: False the first time this model
        builds the network `scope`, True after (training, inference and sampler copies)."""
        built = getattr(self, "_built_scopes", set())
        self._built_scopes = built | {scope}
        return scope in built

    def require_image_sides(self, multiple):
        """ConfigError unless the image height and width are multiples of `multiple`
        (networks that halve or double the size twice need 4)."""
        h, w = self.image_shape[:2]
        if h % multiple or w % multiple:
            raise ConfigError("%s's networks need image sides divisible by %d, got %dx%d "
                              "(choose another --image-size)" % (self.model_name, multiple, h, w))

    def variables(self, scope):
        """Trainable variables under a scope (e.g. "discriminator")."""
        return self.graph.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope=scope)

    # ---- session, restore, save -------------------------------------------------

    def session_config(self):
        cfg = self.config
        proto = tf.ConfigProto(intra_op_parallelism_threads=cfg.intra_op_threads,
                               inter_op_parallelism_threads=self.inter_op_threads(),
                               allow_soft_placement=True)
        proto.gpu_options.allow_growth = True
        return proto

    def inter_op_threads(self):
        """Ops run at once: the config's, but 1 in float64. Measured: with 2, the float64
        DRAGAN graph's D weight gradients varied between repeats of the same step (1 run in
        8-15 under load; never with 1), and GAN training amplifies such a difference to
        percents within 15 steps; float64 is the verification type, so it runs its ops
        one at a time (intra-op threads still apply)."""
        return 1 if self.dtype == tf.float64 else self.config.inter_op_threads

    def open(self):
        """Create the session; restore the newest intact checkpoint or initialise.

        Returns:
          the step to start from (0 for a new run).
        """
        if self.sess is not None:
            return self.start_step
        self._set_process_switches()
        self.device = describe_device(self.config.intra_op_threads, self.config.tf32)
        self.sess = tf.Session(graph=self.graph, config=self.session_config())
        try:
            latest = self._restore_latest()
        except BaseException:
            self.close()
            raise
        if latest:
            self.start_step = int(self.sess.run(self.global_step))
            print("%s: resuming from %s (step %d)" % (self.model_name, latest, self.start_step),
                  flush=True)
        else:
            self._initialize()
            self.start_step = 0
        self._last_good = latest
        with _writing("the run's config", os.path.join(self.checkpoint_folder, "config.json")):
            self._write_run_config()
        return self.start_step

    def _initialize(self, sess=None):
        """Initialise every variable of a new run (in `sess`, default the model's session),
        from values drawn in a session that sees no GPU: TensorFlow does not promise that a
        seeded random op gives a GPU the numbers it gives a CPU, so this way a run starts
        from the same weights on every device (and, the draws being float32 and keyed by
        variable name, in both dtypes)."""
        if self._initial_values is None:
            variables = self.graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)
            initial = [v.initializer.inputs[1] for v in variables]
            cpu_only = self.session_config()
            cpu_only.device_count["GPU"] = 0
            with tf.Session(graph=self.graph, config=cpu_only) as cpu:
                self._initial_values = dict(zip(initial, cpu.run(initial)))
        (sess or self.sess).run(self._init_op, self._initial_values)

    def initial_losses(self):
        """Every logged loss before any update: each phase's losses at the initial weights,
        on step 0's first feed for that phase, in a throw-away session (the variables set
        afresh before each phase, since some losses are read after an update inside the
        phase's own run). What float32 and float64 must agree on to float32 rounding."""
        losses, seen = {}, set()
        self._set_process_switches()
        with tf.Session(graph=self.graph, config=self.session_config()) as sess:
            for phase, _, feed in self.step_runs(0, utils.make_rng(self.config.seed, "step", 0)):
                if phase.name not in seen:
                    seen.add(phase.name)
                    self._initialize(sess)
                    losses.update(sess.run(phase.fetches, feed))
        return {k: float(v) for k, v in losses.items()}

    def restore_latest(self):
        """Open a session on the newest intact checkpoint, writing nothing (evaluation).

        Returns:
          (checkpoint path, its global step).
        Raises:
          CheckpointError: no checkpoint, or none that fits this model.
        """
        self._set_process_switches()
        self.sess = tf.Session(graph=self.graph, config=self.session_config())
        try:
            latest = self._restore_latest()      # falls back past damaged checkpoints
            if not latest:
                raise CheckpointError("no %s checkpoint in %s: train one first "
                                      "(scripts/run_<name>.py with the same flags)"
                                      % (self.model_name, self.checkpoint_folder))
        except BaseException:
            self.close()
            raise
        self.start_step = int(self.sess.run(self.global_step))
        return latest, self.start_step

    def close(self):
        self._unlock()
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        if self.sess is not None:
            self.sess.close()
            self.sess = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

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
        return [os.path.join(folder, name) for name in sorted(found, key=_step_of, reverse=True)]

    def _latest_checkpoint(self):
        """The newest checkpoint in the folder (not checked; see `_restore_latest`)."""
        found = self._checkpoints()
        return found[0] if found else None

    def _restore_latest(self):
        """Restore the newest checkpoint that restores into `self.sess`.

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
            problem = self._restore_problem(path)
            if problem is None:
                for bad, why in damaged:
                    print("%s: checkpoint %s is damaged (%s); falling back to %s"
                          % (self.model_name, bad, why, os.path.basename(path)),
                          file=sys.stderr, flush=True)
                # The Saver prunes (max_to_keep) and lists what it knows of: the ones
                # before this one, not the damaged ones after it.
                older = [p for p in found if _step_of(p) <= _step_of(path)]
                self.saver.set_last_checkpoints_with_time([
                    (p, os.path.getmtime(p + ".index")) for p in
                    older[:self.config.max_to_keep][::-1] if os.path.exists(p + ".index")])
                return path
            damaged.append((path, problem))
        raise CheckpointError("every checkpoint in %s is damaged (%s): move the folder away to "
                              "start afresh, or put back a copy" % (self.checkpoint_folder, "; ".join(
                                  "%s: %s" % (os.path.basename(p), why) for p, why in damaged)))

    def _restore_problem(self, path):
        """Restore `path`; None if that worked, else why it is damaged. Raises if the
        checkpoint is readable but not this model's (names or shapes differ)."""
        try:
            saved_vars = dict(tf.train.list_variables(path))
            saved_dtypes = tf.train.load_checkpoint(path).get_variable_to_dtype_map()
        except (tf.errors.OpError, ValueError) as e:
            return _first_line(e)
        self._check_variables(path, saved_vars, saved_dtypes)
        try:
            self.saver.restore(self.sess, path)
        except (tf.errors.OpError, ValueError) as e:
            return _first_line(e)
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
                                  "without checking the run's settings" % (path, e))

    def _check_run_config(self):
        """Refuse a folder whose config.json names another model or other settings,
        or whose state.json counted other training data."""
        saved = self._read_run_file("config.json")
        if saved is not None:
            if saved.get("model") != self.model_name:
                raise CheckpointError("%s holds a %s checkpoint, not %s: use another "
                                      "--checkpoint-dir" % (self.checkpoint_folder,
                                                            saved.get("model"), self.model_name))
            diffs = self.config.resume_mismatches(saved.get("config", {}))
            if diffs:
                raise ConfigError("the checkpoint in %s was made with other settings (%s); "
                                  "resume with the same flags or use another --checkpoint-dir"
                                  % (self.checkpoint_folder, ", ".join(
                                      "%s=%r there, %r here" % d for d in diffs)))
        state = self._read_run_file("state.json") or {}
        seen = state.get("num_examples")
        if seen is not None and seen != self.num_examples:
            raise ConfigError("the training data changed since the checkpoint in %s "
                              "(%d examples then, %d now): an exact resume needs the "
                              "same data" % (self.checkpoint_folder, seen, self.num_examples))
        then = (state.get("num_batches"), state.get("batches_per_step"))
        if None not in then and then != (self.num_batches, self.batches_per_step):
            raise ConfigError("the checkpoint in %s was made with %d batches an epoch and %d a "
                              "step, this run has %d and %d (another --batch-size or critic "
                              "count?): resume with the same flags or use another "
                              "--checkpoint-dir" % ((self.checkpoint_folder,) + then + (
                                  self.num_batches, self.batches_per_step)))

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

    def _write_run_config(self):
        utils.write_json(os.path.join(self.checkpoint_folder, "config.json"), dict(
            model=self.model_name,
            config=self.config.to_dict(),
            dataset=dict(name=self.dataset.name, source=self.dataset.source,
                         num_examples=self.num_examples, image_shape=list(self.image_shape)),
            command=" ".join(sys.argv),
            versions=dict(python=platform.python_version(), numpy=np.__version__,
                          tensorflow=tf.__version__),
            device=self.device,
            written=datetime.datetime.now().isoformat(timespec="seconds")))

    def save(self, step):
        """Write checkpoint `<MODEL>.model-<step>` and `state.json`.

        Raises:
          CheckpointError: it cannot be written (full disk, unwritable folder); the
            checkpoints written before are untouched.
        """
        self.sess.run(self._set_step, {self._step_value: step})
        prefix = os.path.join(self.checkpoint_folder, self.model_name + ".model")
        target = "%s-%d" % (prefix, step)
        hint = ("the last good checkpoint, %s, is untouched; free some space or use another "
                "--checkpoint-dir" % (self._last_good or "none"))
        with _writing("checkpoint", target, CheckpointError, hint):
            utils.ensure_dir(self.checkpoint_folder)
            path = self.saver.save(self.sess, prefix, global_step=step, write_meta_graph=False)
        self._last_good = path
        epoch, index = divmod(step, self.steps_per_epoch)
        with _writing("the run state", os.path.join(self.checkpoint_folder, "state.json")):
            utils.write_json(os.path.join(self.checkpoint_folder, "state.json"), dict(
                step=step, epoch=epoch, step_in_epoch=index,
                steps_per_epoch=self.steps_per_epoch, batches_per_step=self.batches_per_step,
                num_batches=self.num_batches, num_examples=self.num_examples,
                checkpoint=os.path.basename(path),
                data_order="permutation of seed %d%s" % (
                    self.config.seed, ", per epoch" if self.config.reshuffle_each_epoch else "")))
        return path

    def _lock(self):
        """Hold the checkpoint folder's lock (see `utils.lock_folder`) or refuse."""
        try:
            self._folder_lock = utils.lock_folder(self.checkpoint_folder)
        except utils.FolderBusy as busy:
            raise CheckpointError("another run is using %s (%s): wait for it to end, or use "
                                  "another --checkpoint-dir" % (self.checkpoint_folder, busy))
        except OSError as e:
            raise OutputError("cannot create the checkpoint folder %s: %s"
                              % (self.checkpoint_folder, e))

    def _unlock(self):
        lock, self._folder_lock = getattr(self, "_folder_lock", None), None
        if lock is not None:
            lock.close()

    def _remove_unfinished_saves(self):
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

    # ---- data -------------------------------------------------------------------

    def data_order(self, epoch):
        """Indices of the training examples in the order of `epoch`."""
        key = ("order", epoch) if self.config.reshuffle_each_epoch else ("order",)
        return utils.make_rng(self.config.seed, *key).permutation(self.num_examples)

    def batch(self, step, draw=0):
        """(images in `input_range`, labels) of the `draw`-th batch of a step.

        A function of (step, draw) alone: step i of an epoch takes batches
        i * batches_per_step + draw of the epoch's order (the last batches_per_step
        - 1 batches of an epoch may go unused, as the incomplete last batch does).
        """
        epoch, index = divmod(step, self.steps_per_epoch)
        if epoch != getattr(self, "_order_epoch", None):
            self._order = self.data_order(epoch)
            self._order_epoch = epoch
        bs = self.config.batch_size
        start = (index * self.batches_per_step + draw) * bs
        idx = self._order[start:start + bs]
        images = self.dataset.images[idx]
        lo, hi = self.input_range
        if (lo, hi) != (0.0, 1.0):
            images = (images * (hi - lo) + lo).astype(np.float32)
        return images, self.dataset.labels[idx]

    # ---- samples ----------------------------------------------------------------

    def samples(self, rng=None):
        """Generator samples for a grid (fixed noise if rng is None)."""
        return self.sess.run(self.sampler, self.sample_feed(rng))

    def save_grid(self, name, rng=None, summary_step=None):
        """Write a sample grid PNG into the result folder (and to TensorBoard)."""
        grid = utils.save_grid(os.path.join(self.result_folder, name), self.samples(rng),
                               grid_size=self.grid_size,
                               value_range=self.output_range, mapping=self.config.grid_mapping)
        if summary_step is not None and self.writer is not None:
            summary = self.sess.run(self._grid_summary, {self._grid_value: grid[None]})
            self.writer.add_summary(summary, summary_step)
        return grid

    def save_training_grids(self, step):
        """The fixed-noise grid and every extra grid of step `step` (PNG + TensorBoard)."""
        epoch, index = divmod(step - 1, self.steps_per_epoch)
        suffix = "%02d_%04d.png" % (epoch, index + 1)
        self.save_grid("%s_train_%s" % (self.model_name, suffix), summary_step=step)
        for name in sorted(self.extra_grids):
            feed, grid_size = self.extra_grids[name]
            grid = utils.save_grid(
                os.path.join(self.result_folder, "%s_%s_%s" % (self.model_name, name, suffix)),
                self.sess.run(self.sampler, feed), grid_size=grid_size,
                value_range=self.output_range, mapping=self.config.grid_mapping)
            if self.writer is not None:
                self.writer.add_summary(self.sess.run(self._extra_grid_summaries[name],
                                                      {self._grid_value: grid[None]}), step)

    # ---- the loop ---------------------------------------------------------------

    def total_steps(self):
        steps = self.config.epochs * self.steps_per_epoch
        return min(steps, self.config.max_steps) if self.config.max_steps else steps

    def train(self, keep_history=False):
        """Train until `epochs` or `max_steps`, resuming from the latest checkpoint.

        Holds the checkpoint folder's lock throughout (a second run on the folder
        refuses). A non-finite loss stops the run (TrainingDiverged) or, with
        `on_nonfinite="skip"`, undoes and skips the step.

        Returns:
          TrainResult(step reached, stop reason "done" or "interrupted",
          history: list of per-step loss dicts if keep_history else None; a
          skipped step's entry holds its non-finite losses).
        """
        self._lock()
        try:
            self._remove_unfinished_saves()
            return self._train(keep_history)
        finally:
            self._unlock()

    def _train(self, keep_history):
        cfg = self.config
        step = self.open()
        print(device_line(self.device), flush=True)
        with _writing("TensorBoard events in", self.log_folder):
            self.writer = tf.summary.FileWriter(self.log_folder, self.graph)
            if step > 0:
                # Drop events a crashed run wrote after this checkpoint.
                self.writer.add_session_log(tf.SessionLog(status=tf.SessionLog.START), step + 1)
        total = self.total_steps()
        history = [] if keep_history else None
        progress = _Progress(self.model_name, step, total, cfg.log_every)
        stop_reason, saved_at = "done", step if step > 0 else None
        skipped_in_a_row = 0
        with _StopOnSigint() as interrupted:
            while step < total:
                if interrupted.is_set():
                    stop_reason = "interrupted"
                    break
                epoch, index = divmod(step, self.steps_per_epoch)
                try:
                    logs = self.run_step(step)
                    skipped_in_a_row = 0
                except _NonFinite as bad:
                    if cfg.on_nonfinite == "stop":
                        raise TrainingDiverged("%s; stopped without saving, the last good "
                                               "checkpoint is %s" % (bad, self._last_good or
                                               "none (no checkpoint was written yet)"))
                    self.sess.run(self._undo_step)
                    skipped_in_a_row += 1
                    print("%s: %s; step skipped (its updates undone)" % (self.model_name, bad),
                          file=sys.stderr, flush=True)
                    if skipped_in_a_row >= MAX_SKIPPED_IN_A_ROW:
                        raise TrainingDiverged(
                            "%d steps in a row had non-finite losses (the last: %s); stopped "
                            "without saving, the last good checkpoint is %s"
                            % (skipped_in_a_row, bad, self._last_good or "none"))
                    logs = bad.logs
                step += 1
                if keep_history:
                    history.append({k: float(v) for k, v in logs.items()})
                progress.update(step, epoch, index + 1, self.steps_per_epoch, logs)
                with _writing("sample grids in", self.result_folder):
                    if step % cfg.sample_every == 0:
                        self.save_training_grids(step)
                    end_of_epoch = index + 1 == self.steps_per_epoch
                    if end_of_epoch:
                        self.save_grid("%s_epoch%03d_test_all_classes.png"
                                       % (self.model_name, epoch),
                                       rng=utils.make_rng(cfg.seed, "epoch-grid", epoch))
                if end_of_epoch or (cfg.save_every and step % cfg.save_every == 0):
                    self.save(step)
                    saved_at = step
        if saved_at != step:
            self.save(step)
        with _writing("sample grids in", self.result_folder):
            if step % cfg.sample_every and step > 0:
                self.save_training_grids(step)
        with _writing("TensorBoard events in", self.log_folder):
            self.writer.flush()
        progress.finish(step, stop_reason, self.checkpoint_folder)
        return TrainResult(step, stop_reason, history)

    def run_step(self, step):
        """Run every phase of training step `step` (0-based); returns the losses.

        Every random draw of the step comes from one Generator seeded by
        (seed, "step", step), taken in phase order, so the step can be recreated
        after a restart. Raises _NonFinite at the first non-finite loss (with
        `on_nonfinite="skip"` after copying the variables aside, to undo the step).
        """
        rng = utils.make_rng(self.config.seed, "step", step)
        logs = {}
        if self.config.on_nonfinite == "skip":
            self.sess.run(self._backup_step)
        for phase, r, feed in self.step_runs(step, rng):
            if r + 1 < phase.repeat:
                _, values = self.sess.run([phase.train_op, phase.fetches], feed)
            else:
                _, summary, values = self.sess.run(
                    [phase.train_op, phase.summary, phase.fetches], feed)
                self.writer.add_summary(summary, step + 1)
            logs.update(values)
            _check_finite(values, step + 1, logs)
        return logs

    def step_runs(self, step, rng):
        """The session runs of training step `step`, in order: (phase, repeat index,
        feed). Lazy: each feed is made (the phase's feed function on the step's next
        batch, drawing from `rng`; or the feed before) only when the run before is done."""
        feed, draw = None, 0
        for phase in self.phases:
            for r in range(phase.repeat):
                if phase.feed is not None:
                    images = labels = None
                    if phase.batch:
                        images, labels = self.batch(step, draw)
                        draw += 1
                    feed = phase.feed(images, labels, rng)
                yield phase, r, feed


MAX_SKIPPED_IN_A_ROW = 20   # --on-nonfinite skip: this many in a row stop the run


class _NonFinite(Exception):
    """A step's loss was NaN or infinite (the loop stops or skips the step)."""

    def __init__(self, message, logs):
        super().__init__(message)
        self.logs = logs


def _check_finite(values, step, logs):
    bad = sorted(k for k, v in values.items() if not np.all(np.isfinite(v)))
    if bad:
        raise _NonFinite("non-finite %s (%s) at step %d" % (
            ", ".join(bad), ", ".join("%s=%s" % (k, values[k]) for k in bad), step), logs)


@contextlib.contextmanager
def _writing(what, path, error=OutputError, hint="free some space or choose another folder"):
    """Turn a failed write (full disk, unwritable folder) into a one-line error."""
    try:
        yield
    except (OSError, tf.errors.OpError) as e:
        raise error("cannot write %s %s: %s (%s)" % (what, path, _first_line(e), hint)) from e


# ---- helpers of the loop ------------------------------------------------------

class _StopOnSigint:
    """Ctrl-C sets a flag the loop checks between steps; a second Ctrl-C aborts."""

    def __enter__(self):
        self._event = threading.Event()
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self._event

    def _handle(self, signum, frame):
        if self._event.is_set():
            raise KeyboardInterrupt
        self._event.set()
        print("\nCtrl-C: finishing this step and saving a checkpoint (Ctrl-C again "
              "to abort without saving)", file=sys.stderr, flush=True)

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


class _Progress:
    """One line every `every` steps: losses, steps/s over the window, ETA."""

    def __init__(self, name, start, total, every):
        self.name, self.start, self.total, self.every = name, start, total, every
        self.t0 = self.t_last = time.time()
        self.last_step = start

    def update(self, step, epoch, index, num_batches, logs):
        if step % self.every and step != self.total:
            return
        now = time.time()
        rate = (step - self.last_step) / max(now - self.t_last, 1e-9)
        self.t_last, self.last_step = now, step
        eta = (self.total - step) / rate if rate > 0 else float("inf")
        losses = " ".join("%s %.4f" % (k, float(v)) for k, v in sorted(logs.items()))
        print("%s epoch %d [%d/%d] step %d/%d %s | %.2f steps/s ETA %s"
              % (self.name, epoch, index, num_batches, step, self.total, losses, rate,
                 _hms(eta)), flush=True)

    def finish(self, step, reason, folder):
        elapsed = time.time() - self.t0
        done = step - self.start
        print("%s: %s at step %d (%d steps in %s, %.2f steps/s); checkpoint in %s"
              % (self.name, "stopped by Ctrl-C" if reason == "interrupted" else "finished",
                 step, done, _hms(elapsed), done / max(elapsed, 1e-9), folder), flush=True)


def _hms(seconds):
    if not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    return "%d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60)


def _first_line(error):
    """The line of an error message that says what went wrong (for a TensorFlow op
    error, the line above its `[[{{node ...}}]]`, not "Graph execution error:")."""
    text = getattr(error, "message", None) or str(error)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if line.startswith("[[") and i > 0:
            return lines[i - 1]
    return lines[0] if lines else type(error).__name__


def _step_of(path):
    """The step of a checkpoint prefix `...-<step>` (-1 if it has none)."""
    match = re.search(r"-(\d+)$", path)
    return int(match.group(1)) if match else -1


# ---- data and command line ------------------------------------------------------

def load_training_data(config):
    """The training set a config asks for (float32 [N,H,W,C] in [0,1])."""
    if config.dataset == "folder":
        dataset = data_lib.load_image_folder(
            config.data_dir, size=(config.image_size, config.image_size),
            channels=config.channels, preprocess=config.folder_preprocess,
            split=config.folder_split, seed=config.seed)
    elif config.dataset in data_lib.NAMED_FOLDERS:
        folder = data_lib.locate_named_folder(config.dataset, config.data_dir)
        dataset = data_lib.load_image_folder(
            folder, size=(config.image_size, config.image_size), channels=config.channels,
            preprocess=config.folder_preprocess, split=config.folder_split, seed=config.seed)
    else:
        splits = ("train",) if config.idx_splits == "train" else ("train", "test")
        dataset = data_lib.load_idx_dataset(config.dataset, data_dir=config.data_dir,
                                            splits=splits)
    if config.train_subset:
        dataset.images = dataset.images[:config.train_subset]
        dataset.labels = dataset.labels[:config.train_subset]
    return dataset


def main(model_cls, argv=None):
    """Command-line entry point of `scripts/run_<name>.py`.

    Exit status: 0 done, 1 bad data / checkpoint / diverged / I/O error,
    2 bad flags, 130 stopped by Ctrl-C.
    """
    prog = os.path.basename(sys.argv[0]) if argv is None else "run_%s.py" % model_cls.model_name.lower()
    module_doc = sys.modules[model_cls.__module__].__doc__ or ""
    epilog = ("Running the same command again resumes from the latest checkpoint.\n"
              "TensorBoard: tensorboard --logdir LOG_DIR")
    parser = build_parser(model_cls.Config, prog=prog, description=module_doc.strip(),
                          epilog=epilog)
    if model_cls.presets:
        parser.add_argument("--preset", choices=sorted(model_cls.presets), default=None,
                            help="start from a named set of defaults (explicit flags still "
                                 "win): " + "; ".join("%s = %s" % (k, v) for k, v in
                                                      sorted(model_cls.presets.items())))
        known, _ = parser.parse_known_args(argv)
        if known.preset:
            parser.set_defaults(**model_cls.presets[known.preset])
    args = vars(parser.parse_args(argv))
    args.pop("preset", None)
    try:
        config = model_cls.Config.from_dict(args)
        dataset = model_cls.load_data(config)
        with model_cls(config, dataset) as model:
            with model.graph.as_default():
                utils.show_all_variables()
            result = model.train()
    except ConfigError as e:
        print("%s: error: %s" % (prog, e), file=sys.stderr)
        return 2
    except GanReproError as e:
        print("%s: error: %s" % (prog, e), file=sys.stderr)
        return 1
    except OSError as e:
        print("%s: error: %s" % (prog, e), file=sys.stderr)
        return 1
    return 130 if result.stop_reason == "interrupted" else 0
