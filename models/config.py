"""Run configurations: one dataclass per model, one field per setting.

Every field carries its help text, where its default comes from, its bounds and
whether it may change when a run is resumed. The command line is generated from
the fields (`build_parser`), so a new field is a new flag; unknown keys are
rejected (`from_dict`), so a misspelt setting never passes silently.
"""

import argparse
import dataclasses
import difflib
import math
from dataclasses import dataclass

from errors import ConfigError


def setting(default, help, source=None, choices=None, minimum=None, maximum=None,
            resumable=False, flag=True):
    """A config field.

    Args:
      default: the default value (the blog's, where the blog has one).
      help: one line for `--help`.
      source: where the default comes from (shown in `--help`).
      choices: allowed values.
      minimum / maximum: inclusive bounds for numbers.
      resumable: True if the value may differ when resuming a checkpoint
        (run length, folders, cadence); False if it changes the math.
      flag: False to keep the field off the command line.
    """
    return dataclasses.field(default=default, metadata=dict(
        help=help, source=source, choices=choices, minimum=minimum, maximum=maximum,
        resumable=resumable, flag=flag))


@dataclass
class TrainConfig:
    """Settings every model shares: data, run length, seeds, folders, cadence."""

    # data
    dataset: str = setting("mnist", "training data: an IDX set, 'pokemon' (the sprite "
                           "PNGs in --data-dir or $GAN_DATA_DIR/pokemon/regular), or an "
                           "image folder (<dir>/<class>/*.png|jpg, given by --data-dir)",
                           choices=("mnist", "fashion-mnist", "pokemon", "folder"))
    data_dir: str = setting(None, "where the data is: a folder holding the IDX files "
                            "(or <name>/ below it), or the image folder for "
                            "--dataset folder; default: $GAN_DATA_DIR, then the "
                            "per-user cache, then a download", resumable=True)
    idx_splits: str = setting("train+test", "MNIST/Fashion-MNIST: which IDX splits to "
                              "train on ('train+test': all 70,000 images; 'train': the "
                              "60,000 of keras' load_data())",
                              source="hwalsuklee's loader: all 70k",
                              choices=("train+test", "train"))
    folder_split: str = setting("train", "image folders: 'train' keeps a seeded 80% "
                                "(the other 20% is validation), 'all' keeps every image",
                                source="DRAGAN blog: 80/20", choices=("train", "all"))
    train_subset: int = setting(0, "use only the first N training examples "
                                "(0: all)", minimum=0)
    image_size: int = setting(28, "image folders: resize images to SIZE x SIZE",
                              source="blog: 28x28 MNIST jpgs", minimum=4)
    channels: int = setting(1, "image folders: 1 (grayscale) or 3 (RGB)",
                            source="blog: grayscale", choices=(1, 3))
    folder_preprocess: str = setting(
        "blog", "image folders: 'blog' keeps (img<127)*(255-img) (inverts dark-on-"
        "light digits, zeroes the background); 'none' just scales to [0,1]",
        source="DRAGAN blog", choices=("blog", "none"))
    reshuffle_each_epoch: bool = setting(
        False, "draw a new data order every epoch (the blog shuffles once at load)",
        source="blog: shuffled once")

    # run length and seeds
    batch_size: int = setting(64, "images per batch", minimum=1)
    epochs: int = setting(25, "epochs to train", minimum=1, resumable=True)
    max_steps: int = setting(0, "stop after this many steps in all, counted from "
                             "step 0 across resumes (0: no limit)", minimum=0,
                             resumable=True)
    seed: int = setting(547, "one seed for the graph and every NumPy draw (data "
                        "order, noise, perturbations)",
                        source="hwalsuklee's MNIST loader seed", minimum=0)

    # outputs
    checkpoint_dir: str = setting("checkpoint", "root folder of checkpoints",
                                  source="blog", resumable=True)
    result_dir: str = setting("results", "root folder of sample grids",
                              source="blog", resumable=True)
    log_dir: str = setting("logs", "root folder of TensorBoard event files",
                           source="blog", resumable=True)
    sample_every: int = setting(10, "save the fixed-noise grid (PNG + TensorBoard "
                                "image) every N steps", source="blog: 10",
                                minimum=1, resumable=True)
    sample_num: int = setting(64, "samples in a grid (8x8 for 64)",
                              source="blog: batch size 64", minimum=1)
    grid_mapping: str = setting("exact", "'exact' maps the model's output range onto "
                                "0..255; 'blog' maps x -> 0.5x+0.5 (washed-out "
                                "sigmoid samples, blog quirk 6)",
                                choices=("exact", "blog"), resumable=True)
    log_every: int = setting(10, "print a progress line every N steps", minimum=1,
                             resumable=True)
    save_every: int = setting(500, "also save a checkpoint every N steps (always at "
                              "each epoch end, at the end and on Ctrl-C or "
                              "SIGTERM; 0: only those)", source="blog: each epoch end", minimum=0,
                              resumable=True)
    max_to_keep: int = setting(5, "checkpoints kept", source="tf Saver default, "
                               "as the blog", minimum=1, resumable=True)

    # execution
    intra_op_threads: int = setting(2, "threads inside one op (0: TensorFlow "
                                    "decides; fixed by default so losses repeat "
                                    "bit for bit)", minimum=0, resumable=True)
    inter_op_threads: int = setting(2, "ops run in parallel (0: TensorFlow decides)",
                                    minimum=0, resumable=True)
    deterministic: bool = setting(True, "enable TensorFlow op determinism",
                                  resumable=True)
    tf32: bool = setting(False, "allow TensorFloat-32 on NVIDIA GPUs (Ampere and later): "
                         "faster float32 matmuls and convolutions with 10-bit-mantissa "
                         "inputs; off, float32 on a GPU is float32. It changes only rounding, "
                         "so a run may resume with the other choice (no effect on a CPU or "
                         "in float64)", source="faithful float32; TensorFlow's own default "
                         "is on", resumable=True)
    dtype: str = setting("float32", "float type of the whole graph: 'float32' (the blogs'), "
                         "or 'float64', whose trajectories agree across CPUs, thread counts, "
                         "oneDNN on/off and GPUs to ~1e-9 (README, Reproducibility; it runs "
                         "one op at a time); a checkpoint of the other type is refused", source="the blogs: float32",
                         choices=("float32", "float64"))
    on_nonfinite: str = setting("stop", "a NaN or infinite loss: 'stop' the run (nothing "
                                "saved, exit status 1; the last good checkpoint stays the "
                                "latest) or 'skip' the step (its updates undone, a "
                                "warning; 20 in a row stop the run)",
                                choices=("stop", "skip"), resumable=True)

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

    @classmethod
    def from_dict(cls, values):
        """Build from a dict, rejecting unknown keys (with a suggestion)."""
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
          list of (name, saved value, this value); keys the saved config lacks or
          that this class does not know are reported too.
        """
        out = []
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
            raise argparse.ArgumentTypeError("expected %s, got %r" % (kind.__name__, text))
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
    return parser
