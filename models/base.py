"""`GANModel`: the one machinery every model uses (a TF1 graph on tf.compat.v1).

A model subclasses `GANModel` and supplies only what is its own: a config class,
`build_model()` (placeholders, networks, losses, optimizers, summaries; it returns the
graph's `Built` record: the ordered update `phases`, each with the feed function that
makes its NumPy draws and the variable scopes it changes, and the `sampler`),
`sample_feed`, and what the evaluation may ask of it (`prior_feed`, `evaluations`).
This module holds the graph, the session, the data batches and the samples. The rest
is elsewhere, in collaborators: `models/trainer.py` (`Trainer`, which `train()` makes:
the loop, progress, Ctrl-C and SIGTERM, the NaN guard); `models/checkpoints.py`
(`CheckpointStore`, `self.checkpoints`: checkpoints, config.json and state.json, the
lock); `tf_compat.SessionPolicy` (`self.policy`: threads, seed, CPU-drawn initial values,
the process-wide switches); `models/cli.py` (the command line of `scripts/run_<name>.py`).

Conventions every model follows (docs/adding-a-model.md): networks are methods
`generator(z, ..., is_training)` / `discriminator(x, ..., is_training)` (the DRAGAN
blog's names) whose variable scope is opened with `reuse=self.reuse(scope)`; the feed
of each D (critic) update is `step_feed(images, labels, rng)`, a G update that draws
its own noise has `g_feed`, one without reuses the D update's feed. Every NumPy draw
comes from a Generator of (seed, purpose, step), so a step can be recreated after a
restart; sessions have fixed thread counts, so losses repeat bit for bit
(docs/reproducibility.md).
"""

import abc
import collections
import os

import numpy as np

import data as data_lib
import utils
from errors import CheckpointError, ConfigError, DataError
from models import key_of
from models.checkpoints import CheckpointStore, RunFacts, writing
from models.config import TrainConfig
from models.trainer import StepUndo, Trainer, step_runs
from tf_compat import SessionPolicy, tf

# One update of a training step: run `train_op` `repeat` times (n_critic for
# critics), fetching `fetches` (a dict of scalar tensors, logged) each time and
# writing `summary` after the last time.
#   feed:   callable(images, labels, rng) -> feed dict, called before every run of
#           `train_op`; None reuses the feed of the run before (e.g. the blog's G
#           update with D's noise). The first phase must have one.
#   batch:  True if `feed` gets a fresh batch of real images and labels; False
#           passes None for both (e.g. a generator update that only needs noise).
#   scopes: the top-level variable scopes whose trainable variables the update may
#           change (e.g. ("discriminator",)); every trainable variable is in some
#           phase's (tests/test_phases.py checks both on every registered model).
Phase = collections.namedtuple("Phase",
                               "name train_op summary fetches repeat feed batch scopes")
Phase.__new__.__defaults__ = (1, None, True, ())

# What a model's graph is, as `build_model` returns it: the update `phases` in the
# order a training step runs them (each with its feed function and variable scopes)
# and the `sampler` (the generator's output for the sample grids, fed by the model's
# `sample_feed` / `prior_feed`). A run's `Trainer` executes it.
Built = collections.namedtuple("Built", "phases sampler")

def scalar_summaries(logs):
    """One merged summary of scalar tensors, each named by its key (a Phase's `summary`)."""
    return tf.summary.merge([tf.summary.scalar(k, v) for k, v in sorted(logs.items())])


class GANModel(abc.ABC):
    """Base class: the shared Session / Saver / FileWriter / loop.

    Subclasses set `model_name`, `Config`, `input_range`, `output_range` and
    implement `build_model`, `sample_feed`.
    """

    model_name = None
    Config = TrainConfig
    Trainer = Trainer           # the training loop `train()` runs (models/trainer.py)
    input_range = (0.0, 1.0)    # value range the model wants its real images in
    output_range = (0.0, 1.0)   # value range of the generator's images
    presets = {}                # named sets of defaults, e.g. {"paper": {...}}
    # More fixed grids beside the fixed-noise one, set in build_model:
    # {name: (feed of `sampler`, (rows, cols))}, e.g. conditional sweeps. Saved
    # with it as <MODEL>_<name>_<epoch>_<batch>.png and as TensorBoard images
    # "samples/<name>".
    extra_grids = {}
    grid_size = None            # (rows, cols) of the fixed-noise grid; None: square
    # What `reproduce.evaluate` measures of a trained model (it maps each name to a
    # measurement): "classifier" (the judge's FID, score and class histogram and the
    # blog's PSNR; MNIST / Fashion-MNIST runs), "conditional" (the judge's accuracy on the
    # labels `prior_feed` requests), "categorical_code" (InfoGAN's c1 matched to digits),
    # "pairs" (CycleGAN's translations against the true pairs).
    evaluations = ("classifier",)

    def __init__(self, config, dataset):
        if not isinstance(config, self.Config):
            raise TypeError("%s needs a %s, got %s" % (type(self).__name__,
                                                       self.Config.__name__, type(config).__name__))
        self.config = config
        self.dataset = dataset
        num_examples = self.count_examples(dataset)
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
        self.step_undo = None       # StepUndo ops, with on_nonfinite="skip"
        self.device = None          # `describe_device` of the session, set by `open`
        self._orders = {}           # order name -> (epoch, its permutation) (`batch_indices`)
        # Threads, seed, CPU-drawn initial values, op determinism and TensorFloat-32:
        # tf_compat.SessionPolicy. TensorFlow builds some ops differently while op
        # determinism is on (the sparse softmax cross-entropy, the bias-add gradient,
        # ...), so the switches are set before building: the graph does not depend on
        # what an earlier model in the process left.
        self.policy = SessionPolicy.of_config(config)
        self.graph = self.policy.graph()
        with self.graph.as_default():
            self.built = self.build_model()
            self._build_common()
        self.graph.finalize()

    # ---- what a model supplies --------------------------------------------------

    @abc.abstractmethod
    def build_model(self):
        """Create placeholders, networks, losses, optimizers, summaries; return the
        graph's `Built` record.

        Its `phases` (list of Phase, run in order each step; their fetches are the
        logged losses; a feed function gets images float32 [batch, H, W, C] in
        `input_range`, labels int64 [batch] and the step's NumPy Generator; their scopes
        the variables each may change) and its `sampler` (generator output with
        `is_training=False` for the sample grids).
        """

    @property
    def phases(self):
        """The update phases of a training step, in order (`Built.phases`)."""
        return self.built.phases

    @property
    def sampler(self):
        """The generator's output for the sample grids (`Built.sampler`)."""
        return self.built.sampler

    @abc.abstractmethod
    def sample_feed(self, rng=None):
        """Feed for `self.sampler`: the fixed noise if rng is None, else fresh noise."""

    def prior_feed(self, rng, n):
        """About `n` fresh draws from the generator's prior, for the evaluation.

        Returns:
          (feed of `self.sampler`, int [len] labels the samples were asked for, or None).
          Default: `sample_feed(rng)` (the sampler's own size) and None.
        """
        return self.sample_feed(rng), None

    @classmethod
    def card(cls):
        """The model's blog card (models/cards.py: its blog, length, shown points, grid and
        the project's run plan), or None for a model without one."""
        from models.cards import card_of
        return card_of(cls.registry_key())

    @classmethod
    def registry_key(cls):
        """The name the model is registered under in `models.MODELS` (its script is
        `scripts/run_<key>.py`), or None."""
        return key_of(cls)

    def count_examples(self, dataset):
        """The examples an epoch draws from (batches of an epoch = this // batch size):
        every training image; a two-domain model counts its pairs."""
        return len(dataset.images)

    @classmethod
    def load_data(cls, config):
        """The training set a config asks for (a model with other data overrides this)."""
        return data_lib.load_training_set(config)

    # ---- names and folders ------------------------------------------------------
    # Facts of a run that follow from the class and its config alone, without data or a
    # graph: `reproduce/experiments.py` and the tests read them from here.

    @classmethod
    def data_tag_of(cls, config):
        """The data set's part of the run-folder name: the IDX set's name, or the image
        folder's name for --dataset folder."""
        if config.dataset == "folder":
            return os.path.basename(os.path.normpath(config.data_dir))
        return config.dataset

    @classmethod
    def run_name(cls, config):
        """The blog's run-folder name, e.g. DRAGAN_mnist_64_128 (model, data, batch size,
        z_dim where the model has one)."""
        parts = [cls.model_name, cls.data_tag_of(config), str(config.batch_size)]
        if hasattr(config, "z_dim"):
            parts.append(str(config.z_dim))
        return "_".join(parts)

    @classmethod
    def run_path(cls, config):
        """A run's checkpoint (and result) folder below --checkpoint-dir (--result-dir),
        e.g. DRAGAN_mnist_64_128/DRAGAN."""
        return os.path.join(cls.run_name(config), cls.model_name)

    @classmethod
    def batches_per_step_of(cls, config):
        """Real batches one training step draws: one, unless the model's phases draw
        more (a critic's n_critic). `_build_common` checks it against the phases built."""
        return 1

    @classmethod
    def steps_per_epoch_of(cls, config, num_examples):
        """Training steps in an epoch of `num_examples` examples (the incomplete last
        batch and the last batches_per_step - 1 batches go unused)."""
        return (num_examples // config.batch_size) // cls.batches_per_step_of(config)

    @property
    def model_dir(self):
        """The blog's run-folder name, e.g. DRAGAN_mnist_64_128 (`run_name`)."""
        return self.run_name(self.config)

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
        if not isinstance(self.built, Built):
            raise TypeError("%s.build_model must return a Built(phases, sampler), got %r"
                            % (type(self).__name__, self.built))
        if not self.phases or self.phases[0].feed is None:
            raise ValueError("%s: the first phase needs a feed function" % self.model_name)
        unscoped = [p.name for p in self.phases if not p.scopes]
        if unscoped:
            raise ValueError("%s: phase %s names no variable scopes it updates" % (
                self.model_name, ", ".join(unscoped)))
        self.batches_per_step = sum(p.repeat for p in self.phases if p.feed and p.batch)
        if self.batches_per_step != self.batches_per_step_of(self.config):
            raise ValueError("%s: its phases draw %d batches a step, its batches_per_step_of "
                             "says %d: make them agree" % (self.model_name,
                                                          self.batches_per_step,
                                                          self.batches_per_step_of(self.config)))
        self.steps_per_epoch = self.steps_per_epoch_of(self.config, self.num_examples)
        if self.steps_per_epoch < 1:
            raise DataError("%s has %d training images, fewer than the %d batches of %d one "
                            "%s step needs (lower --batch-size or the critic iterations)"
                            % (self.dataset.source, self.num_examples, self.batches_per_step,
                               self.config.batch_size, self.model_name))
        self.global_step = tf.Variable(0, trainable=False, dtype=tf.int64, name="global_step")
        self._step_value = tf.placeholder(tf.int64, [], name="global_step_value")
        self._set_step = tf.assign(self.global_step, self._step_value)
        self.saver = tf.train.Saver(max_to_keep=self.config.max_to_keep)
        self.checkpoints = CheckpointStore(
            self.checkpoint_folder, self.model_name, self.registry_key(), self.saver,
            self.graph, self.dtype, self.config,
            RunFacts(self.num_examples, self.num_batches, self.batches_per_step,
                     self.steps_per_epoch, getattr(self.dataset, "name", None),
                     getattr(self.dataset, "source", None),
                     self.image_shape))
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
        self.step_undo = StepUndo(tf.group(*backups), tf.group(*restores))

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

    def image_input(self, name, size="batch"):
        """A placeholder of images [size, h, w, c] of the training data's shape in the
        model's dtype; size "batch" is the config's batch size, None any."""
        size = self.config.batch_size if size == "batch" else size
        return tf.placeholder(self.dtype, [size] + list(self.image_shape), name=name)

    def noise_input(self, name, size="batch", dim=None):
        """A placeholder of noise [size, dim] (default: the config's z_dim) in the model's
        dtype; size "batch" is the config's batch size, None any."""
        size = self.config.batch_size if size == "batch" else size
        return tf.placeholder(self.dtype, [size, dim or self.config.z_dim], name=name)

    def variables(self, scope):
        """Trainable variables under a scope (e.g. "discriminator")."""
        return self.graph.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope=scope)

    # ---- session and restore -------------------------------------------------

    def open(self):
        """Create the session; restore the newest intact checkpoint or initialise.

        Returns:
          the step to start from (0 for a new run).
        """
        if self.sess is not None:
            return self.start_step
        self.device = self.policy.device()
        self.sess = self.policy.session(self.graph)
        try:
            latest = self.checkpoints.restore_latest(self.sess)
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
        with writing("the run's config", os.path.join(self.checkpoint_folder, "config.json")):
            self.checkpoints.write_config(self.device)
        return self.start_step

    def _initialize(self, sess=None):
        """Initialise every variable of a new run (in `sess`, default the model's session)
        from values drawn on the CPU (tf_compat.SessionPolicy.initialize): a run starts
        from the same weights on every device (and, the draws being float32 and keyed by
        variable name, in both dtypes)."""
        self.policy.initialize(sess or self.sess, self._init_op)

    def initial_losses(self):
        """Every logged loss before any update: each phase's losses at the initial weights,
        on step 0's first feed for that phase, in a throw-away session (the variables set
        afresh before each phase, since some losses are read after an update inside the
        phase's own run). What float32 and float64 must agree on to float32 rounding."""
        losses, seen = {}, set()
        with self.policy.session(self.graph) as sess:
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
        self.sess = self.policy.session(self.graph)
        try:
            # falls back past damaged checkpoints
            latest = self.checkpoints.restore_latest(self.sess)
            if not latest:
                raise CheckpointError("no %s checkpoint in %s: train one first "
                                      "(scripts/run_<name>.py with the same flags)"
                                      % (self.model_name, self.checkpoint_folder))
        except BaseException:
            self.close()
            raise
        self.start_step = int(self.sess.run(self.global_step))
        return latest, self.start_step

    def save(self, step):
        """Checkpoint the session at `step` (its global step set to it first) and write
        state.json (CheckpointStore.save)."""
        self.sess.run(self._set_step, {self._step_value: step})
        return self.checkpoints.save(self.sess, step)

    def close(self):
        self.checkpoints.unlock()
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

    # ---- training (the loop is the collaborator `self.Trainer`) ---------------------

    def train(self, keep_history=False):
        """Train until `epochs` or `max_steps`, resuming from the latest checkpoint
        (`Trainer.train`: its returns, stop reasons and errors)."""
        return self.Trainer(self).train(keep_history)

    def total_steps(self):
        """The steps this run trains to: `epochs` epochs, at most `max_steps`."""
        steps = self.config.epochs * self.steps_per_epoch
        return min(steps, self.config.max_steps) if self.config.max_steps else steps

    def step_runs(self, step, rng):
        """The session runs of training step `step`: (phase, repeat index, feed), the
        feeds made lazily from this run's batches and `rng` (trainer.step_runs)."""
        return step_runs(self.phases, self.batch, step, rng)


    # ---- data -------------------------------------------------------------------

    def data_order(self, epoch):
        """Indices of the training examples in the order of `epoch`."""
        key = ("order", epoch) if self.config.reshuffle_each_epoch else ("order",)
        return utils.make_rng(self.config.seed, *key).permutation(self.num_examples)

    def batch_indices(self, step, draw=0, order=None):
        """Indices of the `draw`-th batch of a step in `order(epoch)` (default
        `data_order`).

        A function of (step, draw) alone: step i of an epoch takes batches
        i * batches_per_step + draw of the epoch's order (the last batches_per_step
        - 1 batches of an epoch may go unused, as the incomplete last batch does).
        """
        order = order or self.data_order
        epoch, index = divmod(step, self.steps_per_epoch)
        cached = self._orders.get(order.__name__)
        if cached is None or cached[0] != epoch:
            cached = self._orders[order.__name__] = (epoch, order(epoch))
        bs = self.config.batch_size
        start = (index * self.batches_per_step + draw) * bs
        return cached[1][start:start + bs]

    def scale_inputs(self, images):
        """Training images in [0, 1] mapped onto the model's `input_range`."""
        lo, hi = self.input_range
        if (lo, hi) == (0.0, 1.0):
            return images
        return (images * (hi - lo) + lo).astype(np.float32)

    def batch(self, step, draw=0):
        """(images in `input_range`, labels) of the `draw`-th batch of a step (see
        `batch_indices`)."""
        idx = self.batch_indices(step, draw)
        return self.scale_inputs(self.dataset.images[idx]), self.dataset.labels[idx]

    # ---- samples ----------------------------------------------------------------

    def samples(self, rng=None):
        """Generator samples for a grid (fixed noise if rng is None)."""
        return self.sess.run(self.sampler, self.sample_feed(rng))

    def save_grid(self, name, rng=None, summary_step=None):
        """Write a sample grid PNG into the result folder (and to TensorBoard as the image
        "samples/fixed_noise" of `summary_step`)."""
        path = os.path.join(self.result_folder, name)
        grid = utils.save_grid(path, self.samples(rng), grid_size=self.grid_size,
                               value_range=self.output_range, mapping=self.config.grid_mapping)
        if summary_step is not None and self.writer is not None:
            self.writer.add_summary(grid_summary("samples/fixed_noise", path, grid),
                                    summary_step)
        return grid

    def save_training_grids(self, step):
        """The fixed-noise grid and every extra grid of step `step` (PNG + TensorBoard)."""
        epoch, index = divmod(step - 1, self.steps_per_epoch)
        suffix = "%02d_%04d.png" % (epoch, index + 1)
        self.save_grid("%s_train_%s" % (self.model_name, suffix), summary_step=step)
        for name in sorted(self.extra_grids):
            feed, grid_size = self.extra_grids[name]
            path = os.path.join(self.result_folder, "%s_%s_%s" % (self.model_name, name, suffix))
            grid = utils.save_grid(path, self.sess.run(self.sampler, feed), grid_size=grid_size,
                                   value_range=self.output_range,
                                   mapping=self.config.grid_mapping)
            if self.writer is not None:
                self.writer.add_summary(grid_summary("samples/" + name, path, grid), step)


def grid_summary(name, path, grid):
    """The TensorBoard image summary of a grid just written as the PNG `path`, holding that
    file's bytes: what `tf.summary.image(name, grid[None], max_outputs=1)` gives (its tag
    "<name>/image", the same pixels), without a session run and a second PNG encoding.

    Args:
      name: the image's name, e.g. "samples/fixed_noise".
      path: the PNG `utils.save_grid` wrote.
      grid: uint8 [H, W, C], the grid it wrote (its size and channels).
    """
    with open(path, "rb") as f:
        png = f.read()
    height, width, channels = grid.shape
    image = tf.Summary.Image(height=height, width=width, colorspace=channels,
                             encoded_image_string=png)
    return tf.Summary(value=[tf.Summary.Value(tag=name + "/image", image=image)])
