"""Run configurations: one dataclass per model, every setting declared once.

A setting is declared once, with its type, help text, bounds and whether it may change
when a run is resumed: the settings every model has in `TrainConfig`, the ones several
models share in `SHARED`, a model's own in its config class (`setting`). A model's config
class then only gives defaults, each with where it comes from (`default`), or pins a
setting it does not use (`fixed`); a `note` adds what the setting means for that model to
the help text. The command line is generated from the fields (`build_parser`), so a new
field is a new flag; unknown keys are rejected (`from_dict`), so a misspelt setting never
passes silently; a renamed setting's former name is still read from a saved config.json
and accepted on the command line (`Setting.renamed_from`).
"""

import argparse
import dataclasses
import difflib
import math

from errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Setting:
    """One setting's declaration and its default.

    type: int, float, str or bool.
    help: one line for `--help`.
    default, source: the default and where it comes from (shown in `--help`).
    choices: allowed values. minimum / maximum: inclusive bounds for numbers.
    resumable: True if the value may differ when resuming a checkpoint (run length,
      folders, cadence); False if it changes the math.
    flag: False to keep the field off the command line.
    note: what the setting means for one model, appended to `help`.
    renamed_from: (former name, {former value: value}): how a config.json written
      before the rename, or the former flag, gives this setting.
    """

    type: type
    help: str
    default: object = None
    source: str = None
    choices: tuple = None
    minimum: float = None
    maximum: float = None
    resumable: bool = False
    flag: bool = True
    note: str = None
    renamed_from: tuple = None

    def field(self):
        text = self.help + (" (%s)" % self.note if self.note else "")
        return dataclasses.field(default=self.default, metadata=dict(
            help=text, source=self.source, choices=self.choices, minimum=self.minimum,
            maximum=self.maximum, resumable=self.resumable, flag=self.flag,
            renamed_from=self.renamed_from))


class _Default:
    def __init__(self, **changes):
        self.changes = changes


def setting(type, default, help, source=None, **declaration):
    """Declare a setting in a config class body (a setting no other config declares)."""
    return Setting(type, help, default, source, **declaration)


def default(value, source=None, note=None):
    """In a config class body: the default of a setting declared in a base class or in
    `SHARED`, with where it comes from (and what it means for this model: `note`, else
    the base class's note)."""
    changes = dict(default=value, source=source)
    if note is not None:
        changes.update(note=note)
    return _Default(**changes)


def fixed(value):
    """In a config class body: a setting the model does not use, pinned to `value` and off
    the command line (it stays in config.json)."""
    return _Default(default=value, source=None, choices=(value,), flag=False)


# Settings several models share (a model has one when its config gives it a default).
SHARED = dict(
    z_dim=Setting(int, "noise dimension", minimum=1),
    d_lr=Setting(float, "learning rate of D", minimum=0.0),
    g_lr=Setting(float, "learning rate of G", minimum=0.0),
    lr=Setting(float, "learning rate of every update", minimum=0.0),
    beta1=Setting(float, "Adam beta1", minimum=0.0, maximum=1.0),
    beta2=Setting(float, "Adam beta2", minimum=0.0, maximum=1.0),
    adam_epsilon=Setting(float, "Adam epsilon", minimum=0.0),
    adam_counter=Setting(
        str, "'shared': one Adam iteration counter for the updates of every network, so "
        "each update's bias correction counts every update (one Keras Adam object compiled "
        "into every model); 'separate': one Adam per network", choices=("shared", "separate"),
        renamed_from=("shared_adam_iterations", {True: "shared", False: "separate"})),
    rho=Setting(float, "RMSprop rho", minimum=0.0, maximum=1.0),
    rms_epsilon=Setting(float, "RMSprop epsilon", minimum=0.0),
    bn_momentum=Setting(float, "momentum of the batch-norm moving statistics", minimum=0.0,
                        maximum=1.0),
    bn_epsilon=Setting(float, "batch-norm variance epsilon", minimum=0.0),
    leak=Setting(float, "slope of the leaky ReLUs", minimum=0.0, maximum=1.0),
    dropout_rate=Setting(float, "dropout rate", minimum=0.0, maximum=0.99),
)


class Config:
    """Base of the config dataclasses: a subclass's body holds `setting`, `default` and
    `fixed` entries (no annotations); they become its dataclass fields, the base classes'
    first, in their order, then its new ones in the order written."""

    _settings = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        settings = dict(cls._settings)
        for name, value in list(vars(cls).items()):
            if isinstance(value, Setting):
                if name in settings or name in SHARED:
                    raise TypeError("%s.%s is declared already: give it a default()"
                                    % (cls.__name__, name))
                settings[name] = value
            elif isinstance(value, _Default):
                base = settings.get(name) or SHARED.get(name)
                if base is None:
                    raise TypeError("%s.%s: no such setting (declare it with setting())"
                                    % (cls.__name__, name))
                settings[name] = dataclasses.replace(base, **value.changes)
            else:
                continue
            delattr(cls, name)
        cls._settings = settings
        cls.__annotations__ = {name: s.type for name, s in settings.items()}
        for name, s in settings.items():
            setattr(cls, name, s.field())
        dataclasses.dataclass(cls)



class TrainConfig(Config):
    """Settings every model shares: data, run length, seeds, folders, cadence."""

    # data
    dataset = setting(str, "mnist", "training data: an IDX set, 'pokemon' (the sprite "
                      "PNGs in --data-dir or $GAN_DATA_DIR/pokemon/regular), or an image "
                      "folder (<dir>/<class>/*.png|jpg, given by --data-dir)",
                      choices=("mnist", "fashion-mnist", "pokemon", "folder"))
    data_dir = setting(str, None, "where the data is: a folder holding the IDX files "
                       "(or <name>/ below it), or the image folder for --dataset folder or "
                       "pokemon; default: $GAN_DATA_DIR, then the per-user cache (an IDX "
                       "set: then a download)", resumable=True)
    idx_splits = setting(str, "train+test", "MNIST/Fashion-MNIST: which IDX splits to "
                         "train on ('train': the 60,000 of keras' load_data(); 'train+test': "
                         "all 70,000)", source="hwalsuklee's loader: all 70k",
                         choices=("train+test", "train"))
    folder_split = setting(str, "train", "image folders: 'train' keeps a seeded 80% (the "
                           "other 20% is validation), 'all' keeps every image",
                           source="DRAGAN blog: 80/20", choices=("train", "all"))
    train_subset = setting(int, 0, "use only the first N training examples (0: all)",
                           minimum=0)
    image_size = setting(int, 28, "image folders: resize images to SIZE x SIZE",
                         source="blog: 28x28 MNIST jpgs", minimum=4)
    channels = setting(int, 1, "image folders: 1 (grayscale) or 3 (RGB)",
                       source="blog: grayscale", choices=(1, 3))
    folder_preprocess = setting(
        str, "blog", "image folders: 'blog' keeps (img<127)*(255-img) (inverts dark-on-"
        "light digits, zeroes the background); 'none' just scales to [0,1]",
        source="DRAGAN blog", choices=("blog", "none"))
    reshuffle_each_epoch = setting(bool, False, "draw a new data order every epoch",
                                   source="blog: shuffled once")

    # run length and seeds
    batch_size = setting(int, 64, "images per batch", minimum=1)
    epochs = setting(int, 25, "epochs to train", minimum=1, resumable=True)
    max_steps = setting(int, 0, "stop after this many steps in all, counted from step 0 "
                        "across resumes (0: no limit)", minimum=0, resumable=True)
    seed = setting(int, 547, "one seed for the graph and every NumPy draw (data order, "
                   "noise, perturbations)", source="hwalsuklee's MNIST loader seed",
                   minimum=0)

    # outputs
    checkpoint_dir = setting(str, "checkpoint", "root folder of checkpoints", source="blog",
                             resumable=True)
    result_dir = setting(str, "results", "root folder of sample grids", source="blog",
                         resumable=True)
    log_dir = setting(str, "logs", "root folder of TensorBoard event files", source="blog",
                      resumable=True)
    sample_every = setting(int, 10, "save the sample grids (PNG + TensorBoard images) "
                           "every N steps", source="blog: 10", minimum=1, resumable=True)
    sample_num = setting(int, 64, "samples in a grid", source="blog: batch size 64",
                         minimum=1, note="8x8 for 64")
    grid_mapping = setting(str, "exact", "'exact' maps the model's output range onto "
                           "0..255; 'blog' maps x -> 0.5x+0.5 (washed-out sigmoid samples, "
                           "blog quirk 6)", choices=("exact", "blog"), resumable=True)
    log_every = setting(int, 10, "print a progress line every N steps", minimum=1,
                        resumable=True)
    save_every = setting(int, 500, "also save a checkpoint every N steps (always at each "
                         "epoch end, at the end and on Ctrl-C or SIGTERM; 0: only those)",
                         source="blog: each epoch end", minimum=0, resumable=True)
    max_to_keep = setting(int, 5, "checkpoints kept", source="tf Saver default, as the blog",
                          minimum=1, resumable=True)
    keep_steps = setting(str, "", "also keep the checkpoints of these steps for good, "
                         "comma-separated (e.g. 4000,10000), in the folder's kept/, which "
                         "--max-to-keep never prunes", source="project: quality over "
                         "training", resumable=True)
    keep_every = setting(int, 0, "also keep every N-th step's checkpoint for good, in kept/ "
                         "(0: none)", source="project: quality over training", minimum=0,
                         resumable=True)

    # execution
    intra_op_threads = setting(int, 2, "threads inside one op (0: TensorFlow decides; "
                               "fixed by default so losses repeat bit for bit)", minimum=0,
                               resumable=True)
    inter_op_threads = setting(int, 2, "ops run in parallel (0: TensorFlow decides)",
                               minimum=0, resumable=True)
    deterministic = setting(bool, True, "enable TensorFlow op determinism", resumable=True)
    tf32 = setting(bool, False, "allow TensorFloat-32 on NVIDIA GPUs (Ampere and later): "
                   "faster float32 matmuls and convolutions with 10-bit-mantissa inputs; "
                   "off, float32 on a GPU is float32. It changes only rounding, so a run may "
                   "resume with the other choice (no effect on a CPU or in float64)",
                   source="faithful float32; TensorFlow's own default is on", resumable=True)
    dtype = setting(str, "float32", "float type of the whole graph: 'float32' (the blogs'), "
                    "or 'float64', whose trajectories agree across CPUs, thread counts, "
                    "oneDNN on/off and GPUs to ~1e-9 (docs/reproducibility.md; it runs one "
                    "op at a time); a checkpoint of the other type is refused",
                    source="the blogs: float32", choices=("float32", "float64"))
    on_nonfinite = setting(str, "stop", "a NaN or infinite loss: 'stop' the run (nothing "
                           "saved, exit status 1; the last good checkpoint stays the latest) "
                           "or 'skip' the step (its updates undone, a warning; 20 in a row "
                           "stop the run)", choices=("stop", "skip"), resumable=True)

    def __post_init__(self):
        self.validate()

    # -- checks ---------------------------------------------------------------

    def validate(self):
        """Raise ConfigError naming the first field whose value is out of bounds."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            meta = f.metadata
            if value is None:
                continue
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError("%s must be a finite number, got %r" % (f.name, value))
            if meta.get("choices") and value not in meta["choices"]:
                raise ConfigError("%s must be one of %s, got %r"
                                  % (f.name, ", ".join(map(str, meta["choices"])), value))
            if meta.get("minimum") is not None and value < meta["minimum"]:
                raise ConfigError("%s must be >= %s, got %r" % (f.name, meta["minimum"], value))
            if meta.get("maximum") is not None and value > meta["maximum"]:
                raise ConfigError("%s must be <= %s, got %r" % (f.name, meta["maximum"], value))
        if self.dataset == "folder" and not self.data_dir:
            raise ConfigError("--dataset folder needs --data-dir pointing at the image folder")
        self.kept_steps()

    def kept_steps(self):
        """The steps of --keep-steps as a sorted tuple of ints (ConfigError if malformed)."""
        words = [w.strip() for w in (self.keep_steps or "").split(",") if w.strip()]
        try:
            steps = sorted({int(w) for w in words})
        except ValueError:
            raise ConfigError("keep_steps must be step numbers separated by commas (e.g. "
                              "4000,10000), got %r" % self.keep_steps) from None
        if steps and steps[0] < 1:
            raise ConfigError("keep_steps must be steps >= 1, got %d" % steps[0])
        return tuple(steps)


    @classmethod
    def upgrade(cls, values):
        """A saved or given dict with the former names of renamed settings replaced by
        the current ones (a config.json written before the rename)."""
        values = dict(values)
        for name, s in cls._settings.items():
            if s.renamed_from and s.renamed_from[0] in values:
                old, mapping = s.renamed_from
                former = values.pop(old)
                if name not in values:
                    if former not in mapping:
                        raise ConfigError("%s (now %s) must be one of %s, got %r"
                                          % (old, name, ", ".join(map(str, mapping)), former))
                    values[name] = mapping[former]
        return values

    @classmethod
    def from_dict(cls, values):
        """Build from a dict, rejecting unknown keys (with a suggestion); former names of
        renamed settings are read as the current ones."""
        values = cls.upgrade(values)
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = [k for k in values if k not in names]
        if unknown:
            hints = []
            for k in unknown:
                close = difflib.get_close_matches(k, names, n=1)
                hints.append("%s%s" % (k, " (did you mean %s?)" % close[0] if close else ""))
            raise ConfigError("unknown %s setting(s): %s" % (cls.__name__, ", ".join(hints)))
        return cls(**values)

    def to_dict(self):
        return dataclasses.asdict(self)

    def replace(self, **changes):
        """A copy with some fields changed (validated)."""
        return self.from_dict({**self.to_dict(), **changes})

    def resume_mismatches(self, saved):
        """Fields that change the math and differ from a saved config dict.

        Returns:
          list of (name, saved value, this value); keys the saved config lacks are
          reported too (as '<missing>'); a former name counts as its setting.
        """
        out, saved = [], self.upgrade(saved)
        for f in dataclasses.fields(self):
            if f.metadata.get("resumable"):
                continue
            mine = getattr(self, f.name)
            theirs = saved.get(f.name, "<missing>")
            if theirs != mine:
                out.append((f.name, theirs, mine))
        return out


# --- command line ----------------------------------------------------------------

def _bounded(kind, name, minimum, maximum):
    """An argparse type that converts with `kind` and checks the bounds."""
    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                "expected %s, got %r" % (kind.__name__, text)) from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError("must be a finite number, got %s" % text)
        if minimum is not None and value < minimum:
            raise argparse.ArgumentTypeError("must be >= %s, got %s" % (minimum, text))
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError("must be <= %s, got %s" % (maximum, text))
        return value
    convert.__name__ = kind.__name__
    return convert


def _field_type(config_cls, f):
    hints = {"int": int, "float": float, "str": str, "bool": bool}
    kind = f.type if isinstance(f.type, type) else hints.get(str(f.type))
    if kind is None:
        raise TypeError("%s.%s: unsupported field type %r" % (config_cls.__name__, f.name, f.type))
    return kind


def build_parser(config_cls, prog=None, description=None, epilog=None):
    """An argparse parser with one `--flag-name` per field of `config_cls`.

    Help texts show the default and where it comes from; numbers are checked
    against their bounds at parse time.
    """
    parser = argparse.ArgumentParser(
        prog=prog, description=description, epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    for f in dataclasses.fields(config_cls):
        meta = f.metadata
        if not meta.get("flag", True):
            continue
        kind = _field_type(config_cls, f)
        text = meta.get("help", "")
        default_text = "default: %s" % (f.default,)
        if meta.get("source"):
            default_text += " (%s)" % meta["source"]
        help_text = "%s [%s]" % (text, default_text)
        option = "--" + f.name.replace("_", "-")
        if kind is bool:
            parser.add_argument(option, dest=f.name, action=argparse.BooleanOptionalAction,
                                default=f.default, help=help_text)
            continue
        if kind in (int, float):
            arg_type = _bounded(kind, f.name, meta.get("minimum"), meta.get("maximum"))
        else:
            arg_type = str
        parser.add_argument(option, dest=f.name, type=arg_type, default=f.default,
                            choices=meta.get("choices"), metavar=None if meta.get("choices")
                            else f.name.upper(), help=help_text.replace("%", "%%"))
        if meta.get("renamed_from"):
            _former_flags(parser, f.name, *meta["renamed_from"])
    return parser


def _former_flags(parser, name, former, mapping):
    """The flags of a renamed setting's former name, still accepted, not listed: a former
    bool `--former` / `--no-former` sets the values `mapping` gives True and False."""
    if set(mapping) != {True, False}:
        raise TypeError("%s: only a former bool setting keeps its flags" % former)
    option = former.replace("_", "-")
    for prefix, value in (("--", mapping[True]), ("--no-", mapping[False])):
        parser.add_argument(prefix + option, dest=name, action="store_const", const=value,
                            default=argparse.SUPPRESS, help=argparse.SUPPRESS)
