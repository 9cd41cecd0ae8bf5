"""The one training machinery every model uses (TF1 graph on tf.compat.v1).

A model subclasses `GANModel` and supplies only what is its own: a config class,
`build_model()` (placeholders, networks, losses, optimizers, summaries, the
ordered update `phases`, each with the feed function that makes its NumPy draws,
and the `sampler`). Everything else lives here, once:

- one `tf.Graph` per model, seeded with `config.seed`; every NumPy draw comes
  from a Generator derived from (seed, purpose, step), so a step's noise can be
  recreated after a restart without saved RNG state;
- `Session` with fixed thread counts (losses repeat bit for bit) and GPU
  `allow_growth`;
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
  last good checkpoint.
"""

import abc
import collections
import datetime
import math
import os
import platform
import signal
import sys
import threading
import time

import numpy as np

import data as data_lib
import utils
from errors import CheckpointError, ConfigError, DataError, GanReproError
from models.config import TrainConfig, build_parser
from tf_compat import set_op_determinism, tf

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
        self.sess = None
        self.writer = None
        self.graph = tf.Graph()
        # TensorFlow builds some ops differently while op determinism is on (the sparse
        # softmax cross-entropy, the bias-add gradient, ...): set it before building, so
        # the graph does not depend on what an earlier model in the process left.
        set_op_determinism(config.deterministic)
        with self.graph.as_default():
            tf.set_random_seed(config.seed)
            self.build_model()
            self._build_common()
        self.graph.finalize()

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
                               inter_op_parallelism_threads=cfg.inter_op_threads,
                               allow_soft_placement=True)
        proto.gpu_options.allow_growth = True
        return proto

    def open(self):
        """Create the session; restore the latest checkpoint or initialise.

        Returns:
          the step to start from (0 for a new run).
        """
        if self.sess is not None:
            return self.start_step
        set_op_determinism(self.config.deterministic)
        latest = self._latest_checkpoint()
        if latest:
            self._check_checkpoint(latest)
        self.sess = tf.Session(graph=self.graph, config=self.session_config())
        if latest:
            try:
                self.saver.restore(self.sess, latest)
            except (tf.errors.OpError, ValueError) as e:
                raise CheckpointError("cannot restore %s: %s" % (latest, _first_line(e)))
            self.start_step = int(self.sess.run(self.global_step))
            print("%s: resuming from %s (step %d)" % (self.model_name, latest, self.start_step),
                  flush=True)
        else:
            self.sess.run(self._init_op)
            self.start_step = 0
        self._write_run_config()
        return self.start_step

    def restore_latest(self):
        """Open a session on the latest checkpoint, writing nothing (for evaluation).

        Returns:
          (checkpoint path, its global step).
        Raises:
          CheckpointError: no checkpoint, or one that does not fit this model.
        """
        latest = self._latest_checkpoint()
        if not latest:
            raise CheckpointError("no %s checkpoint in %s: train one first "
                                  "(scripts/run_<name>.py with the same flags)"
                                  % (self.model_name, self.checkpoint_folder))
        self._check_checkpoint(latest)
        set_op_determinism(self.config.deterministic)
        self.sess = tf.Session(graph=self.graph, config=self.session_config())
        try:
            self.saver.restore(self.sess, latest)
        except (tf.errors.OpError, ValueError) as e:
            raise CheckpointError("cannot restore %s: %s" % (latest, _first_line(e)))
        self.start_step = int(self.sess.run(self.global_step))
        return latest, self.start_step

    def close(self):
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

    def _latest_checkpoint(self):
        folder = self.checkpoint_folder
        state = tf.train.get_checkpoint_state(folder) if os.path.isdir(folder) else None
        if state is None or not state.model_checkpoint_path:
            return None
        # The state file may hold absolute paths of a folder that was moved.
        return os.path.join(folder, os.path.basename(state.model_checkpoint_path))

    def _check_checkpoint(self, path):
        """Refuse a checkpoint made by another model or with other settings."""
        config_path = os.path.join(self.checkpoint_folder, "config.json")
        if os.path.exists(config_path):
            saved = utils.read_json(config_path)
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
        try:
            saved_vars = dict(tf.train.list_variables(path))
        except (tf.errors.OpError, ValueError) as e:
            raise CheckpointError("cannot read checkpoint %s: %s" % (path, _first_line(e)))
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
            raise CheckpointError("checkpoint %s does not fit this %s: %s"
                                  % (path, self.model_name, "; ".join(problems)))
        state_path = os.path.join(self.checkpoint_folder, "state.json")
        if os.path.exists(state_path):
            seen = utils.read_json(state_path).get("num_examples")
            if seen is not None and seen != self.num_examples:
                raise ConfigError("the training data changed since the checkpoint in %s "
                                  "(%d examples then, %d now): an exact resume needs the "
                                  "same data" % (self.checkpoint_folder, seen, self.num_examples))

    def _write_run_config(self):
        utils.write_json(os.path.join(self.checkpoint_folder, "config.json"), dict(
            model=self.model_name,
            config=self.config.to_dict(),
            dataset=dict(name=self.dataset.name, source=self.dataset.source,
                         num_examples=self.num_examples, image_shape=list(self.image_shape)),
            command=" ".join(sys.argv),
            versions=dict(python=platform.python_version(), numpy=np.__version__,
                          tensorflow=tf.__version__),
            written=datetime.datetime.now().isoformat(timespec="seconds")))

    def save(self, step):
        """Write checkpoint `<MODEL>.model-<step>` and `state.json`."""
        self.sess.run(self._set_step, {self._step_value: step})
        prefix = os.path.join(utils.ensure_dir(self.checkpoint_folder), self.model_name + ".model")
        path = self.saver.save(self.sess, prefix, global_step=step, write_meta_graph=False)
        epoch, index = divmod(step, self.steps_per_epoch)
        utils.write_json(os.path.join(self.checkpoint_folder, "state.json"), dict(
            step=step, epoch=epoch, step_in_epoch=index, steps_per_epoch=self.steps_per_epoch,
            batches_per_step=self.batches_per_step, num_batches=self.num_batches,
            num_examples=self.num_examples, checkpoint=os.path.basename(path),
            data_order="permutation of seed %d%s" % (
                self.config.seed, ", per epoch" if self.config.reshuffle_each_epoch else "")))
        return path

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

        Returns:
          TrainResult(step reached, stop reason "done" or "interrupted",
          history: list of per-step loss dicts if keep_history else None).
        """
        cfg = self.config
        step = self.open()
        self.writer = tf.summary.FileWriter(self.log_folder, self.graph)
        if step > 0:
            # Drop events a crashed run wrote after this checkpoint.
            self.writer.add_session_log(tf.SessionLog(status=tf.SessionLog.START), step + 1)
        total = self.total_steps()
        history = [] if keep_history else None
        progress = _Progress(self.model_name, step, total, cfg.log_every)
        stop_reason, saved_at = "done", step if step > 0 else None
        with _StopOnSigint() as interrupted:
            while step < total:
                if interrupted.is_set():
                    stop_reason = "interrupted"
                    break
                epoch, index = divmod(step, self.steps_per_epoch)
                logs = self.run_step(step)
                step += 1
                if keep_history:
                    history.append({k: float(v) for k, v in logs.items()})
                progress.update(step, epoch, index + 1, self.steps_per_epoch, logs)
                if step % cfg.sample_every == 0:
                    self.save_training_grids(step)
                end_of_epoch = index + 1 == self.steps_per_epoch
                if end_of_epoch:
                    self.save_grid("%s_epoch%03d_test_all_classes.png" % (self.model_name, epoch),
                                   rng=utils.make_rng(cfg.seed, "epoch-grid", epoch))
                if end_of_epoch or (cfg.save_every and step % cfg.save_every == 0):
                    self.save(step)
                    saved_at = step
        if saved_at != step:
            self.save(step)
        if step % cfg.sample_every and step > 0:
            self.save_training_grids(step)
        self.writer.flush()
        progress.finish(step, stop_reason, self.checkpoint_folder)
        return TrainResult(step, stop_reason, history)

    def run_step(self, step):
        """Run every phase of training step `step` (0-based); returns the losses.

        Every random draw of the step comes from one Generator seeded by
        (seed, "step", step), taken in phase order, so the step can be recreated
        after a restart.
        """
        rng = utils.make_rng(self.config.seed, "step", step)
        logs, feed, draw = {}, None, 0
        for phase in self.phases:
            for r in range(phase.repeat):
                if phase.feed is not None:
                    images = labels = None
                    if phase.batch:
                        images, labels = self.batch(step, draw)
                        draw += 1
                    feed = phase.feed(images, labels, rng)
                if r + 1 < phase.repeat:
                    _, values = self.sess.run([phase.train_op, phase.fetches], feed)
                else:
                    _, summary, values = self.sess.run(
                        [phase.train_op, phase.summary, phase.fetches], feed)
                    self.writer.add_summary(summary, step + 1)
                self._check_finite(values, step + 1)
                logs.update(values)
        return logs

    def _check_finite(self, logs, step):
        bad = sorted(k for k, v in logs.items() if not np.all(np.isfinite(v)))
        if bad:
            last = self._latest_checkpoint()
            raise TrainingDiverged(
                "non-finite %s (%s) at step %d; stopped without saving, the last good "
                "checkpoint is %s" % (", ".join(bad), ", ".join("%s=%s" % (k, logs[k]) for k in bad),
                                      step, last or "none (no checkpoint was written yet)"))


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
    text = getattr(error, "message", None) or str(error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__


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
