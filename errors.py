"""The one exception type for problems a user can fix (bad data, bad flags, a foreign checkpoint).

Command-line entry points catch `GanReproError`, print its message on one line
and exit with a non-zero status; anything else is a bug and keeps its traceback.
"""


class GanReproError(Exception):
    """An error caused by the user's input, with a message that says what to do."""


class DataError(GanReproError):
    """Missing, empty, corrupt or unreadable data."""


class ConfigError(GanReproError):
    """A bad flag or config value, or a config that does not match a checkpoint."""


class CheckpointError(GanReproError):
    """A checkpoint that cannot be restored into the model being built."""


class OutputError(GanReproError):
    """An output that cannot be written: a full disk, an unwritable or missing folder."""


def report(prog, error):
    """Print a user error as one line `PROG: error: MESSAGE` and return the command's exit
    status: 2 for a bad flag or setting (ConfigError), 1 for everything else."""
    import sys
    print("%s: error: %s" % (prog, error), file=sys.stderr)
    return 2 if isinstance(error, ConfigError) else 1
