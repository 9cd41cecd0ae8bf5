"""The command line of `scripts/run_<name>.py`: flags from the model's config, one run.

    python scripts/run_dragan.py --help
"""

import os
import signal
import sys

import utils
from errors import GanReproError, report
from models.config import build_parser
from models.trainer import StopAborted, signal_label


def parser_of(model_cls, prog=None):
    """The argparse parser of `scripts/run_<key>.py` (a `--preset` flag where the model
    has presets)."""
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
    return parser


def parse_flags(model_cls, argv=None, prog=None):
    """The config fields (a dict) that flags `argv` give the model's script: a preset's
    defaults first, explicit flags over them. Bad flags exit with status 2 (argparse)."""
    parser = parser_of(model_cls, prog)
    if model_cls.presets:
        known, _ = parser.parse_known_args(argv)
        if known.preset:
            parser.set_defaults(**model_cls.presets[known.preset])
    args = vars(parser.parse_args(argv))
    args.pop("preset", None)
    return args


def config_of(model_cls, argv=()):
    """The config a run of `scripts/run_<key>.py` with flags `argv` trains with (what
    `reproduce/experiments.py` reads a job's run folder from)."""
    return model_cls.Config.from_dict(parse_flags(model_cls, list(argv)))


def main(model_cls, argv=None):
    """Command-line entry point of `scripts/run_<name>.py`.

    Exit status: 0 done, 1 bad data / checkpoint / diverged / I/O error,
    2 bad flags, 130 stopped by Ctrl-C (SIGINT), 143 stopped by SIGTERM (128 + the
    signal's number, as a shell reports a process the signal ended; a checkpoint was
    saved at the step reached, or, after the signal came twice, the last one stands).
    """
    prog = (os.path.basename(sys.argv[0]) if argv is None
            else "run_%s.py" % (model_cls.registry_key() or model_cls.model_name.lower()))
    args = parse_flags(model_cls, argv, prog)
    try:
        config = model_cls.Config.from_dict(args)
        dataset = model_cls.load_data(config)
        with model_cls(config, dataset) as model:
            with model.graph.as_default():
                utils.show_all_variables()
            result = model.train()
    except (GanReproError, OSError) as e:
        return report(prog, e)
    except StopAborted as aborted:
        print("%s: %s again: stopped without saving; the last checkpoint is %s"
              % (prog, signal_label(aborted.signal_name), aborted.last_good or
                 "none (none was written yet)"), file=sys.stderr, flush=True)
        return 128 + signal.Signals[aborted.signal_name]
    if result.stop_reason == "done":
        return 0
    return 128 + signal.Signals[result.stop_reason]
