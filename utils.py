"""Helpers shared by every model: variable summary, image grids, run folders,
seeding, and the run-config file.

From the DRAGAN blog's `utils.py`: `show_all_variables` (tf-slim model
analyzer) and the grid saver. Unlike the blog's `show_result`, which maps every
image through 0.5*x+0.5 (right for tanh outputs, washed out for the sigmoid
outputs of DRAGAN), `make_grid` maps the model's own output range onto 0..255;
`mapping="blog"` restores the blog's look.
"""

import contextlib
import datetime
import fcntl
import hashlib
import json
import math
import os
import platform
import sys
import tempfile

import numpy as np


# --- variables -----------------------------------------------------------------

def show_all_variables(scope=None):
    """Print the trainable variables and their sizes (tf-slim model analyzer).

    Returns:
      (total number of parameters, total bytes), as the analyzer counts them.
    """
    from tf_compat import slim, tf
    model_vars = tf.trainable_variables(scope=scope)
    return slim.model_analyzer.analyze_vars(model_vars, print_info=True)


def count_params(variables):
    """Number of scalars in a list of variables."""
    return int(sum(np.prod(v.get_shape().as_list()) for v in variables))


# --- image grids ---------------------------------------------------------------

def grid_shape(n):
    """(rows, cols) for n images: as square as possible, rows <= cols (8x8 for 64)."""
    rows = max(1, int(math.floor(math.sqrt(n))))
    cols = int(math.ceil(n / rows))
    return rows, cols


def to_uint8(images, value_range=(0.0, 1.0), mapping="exact"):
    """Map images onto 0..255.

    Args:
      images: float array [..., H, W, C].
      value_range: (low, high) of the model's output, e.g. (0, 1) for sigmoid,
        (-1, 1) for tanh.
      mapping: "exact" maps value_range onto 0..255; "blog" applies the DRAGAN
        blog's 0.5*x+0.5 whatever the range (washed-out sigmoid samples).
    """
    images = np.asarray(images, dtype=np.float32)
    if mapping == "blog":
        scaled = 0.5 * images + 0.5
    elif mapping == "exact":
        low, high = value_range
        scaled = (images - low) / float(high - low)
    else:
        raise ValueError("mapping must be 'exact' or 'blog', got %r" % (mapping,))
    return np.round(np.clip(scaled, 0.0, 1.0) * 255.0).astype(np.uint8)


def make_grid(images, grid_size=None, value_range=(0.0, 1.0), mapping="exact", pad=0):
    """Tile a batch into one image.

    Args:
      images: [N, H, W, C] floats (C = 1 or 3), or [N, H, W] grayscale.
      grid_size: (rows, cols); default `grid_shape(N)`. Cells beyond N stay black.
      value_range, mapping: see `to_uint8`.
      pad: pixels of black between cells.
    Returns:
      uint8 [rows*H + (rows-1)*pad, cols*W + (cols-1)*pad, C].
    """
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
        raise ValueError("make_grid expects [N, H, W, C] with C in (1, 3, 4), got %s"
                         % (images.shape,))
    n, h, w, c = images.shape
    rows, cols = grid_size or grid_shape(n)
    if rows * cols < n:
        raise ValueError("a %dx%d grid cannot hold %d images" % (rows, cols, n))
    tiles = to_uint8(images, value_range, mapping)
    grid = np.zeros((rows * h + (rows - 1) * pad, cols * w + (cols - 1) * pad, c), np.uint8)
    for i in range(n):
        r, col = divmod(i, cols)
        y, x = r * (h + pad), col * (w + pad)
        grid[y:y + h, x:x + w] = tiles[i]
    return grid


def save_grid(path, images, grid_size=None, value_range=(0.0, 1.0), mapping="exact", pad=0):
    """Tile `images` (see `make_grid`) and write them as a PNG, atomically.

    Returns:
      The uint8 grid [H, W, C] that was written.
    """
    from skimage import io as skio

    grid = make_grid(images, grid_size, value_range, mapping, pad)
    with atomic_path(path, suffix=".tmp.png") as tmp:
        skio.imsave(tmp, grid[..., 0] if grid.shape[-1] == 1 else grid, check_contrast=False)
    return grid


# --- folders, files, seeds -----------------------------------------------------

def ensure_dir(path):
    """Create `path` (and parents) if needed; return it."""
    os.makedirs(path, exist_ok=True)
    return path


@contextlib.contextmanager
def atomic_path(path, suffix=".tmp"):
    """A temporary path beside `path` (ending in `suffix`) to write to: renamed to `path`
    when the block ends, removed if it raises. So a reader never sees half a file."""
    ensure_dir(os.path.dirname(path) or ".")
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", suffix=suffix)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())   # mkstemp makes 0600; give the usual mode
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        _remove_quietly(tmp)
        raise


def write_json(path, obj):
    """Write `obj` as indented JSON, atomically (temp file + rename)."""
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")


def _remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass


class FolderBusy(Exception):
    """Another process holds the lock of a folder; str() says which, where known."""


def lock_folder(folder):
    """Take the exclusive lock of a run folder, creating the folder if needed.

    `flock` on `<folder>.lock`, beside the folder (so a refused run adds nothing to
    it): the kernel releases the lock when its holder closes it or dies (kill -9
    included), so a killed run never leaves it stuck. The file notes the holder's
    pid, host, start time and command for the message of a run that is refused,
    and stays behind after the run (harmless).

    Returns:
      the open lock file; closing it releases the lock.
    Raises:
      FolderBusy: another process holds it. OSError: the folder cannot be created.
    """
    path = os.path.normpath(ensure_dir(folder)) + ".lock"
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip()
        handle.close()
        raise FolderBusy(holder or "a process that is just starting") from None
    except BaseException:
        handle.close()
        raise
    try:
        handle.seek(0)
        handle.truncate()
        handle.write("pid %d on %s, started %s: %s\n" % (
            os.getpid(), platform.node(), datetime.datetime.now().isoformat(timespec="seconds"),
            " ".join(sys.argv)))
        handle.flush()
    except OSError:
        pass        # a full disk: the lock holds all the same, only the note is missing
    return handle


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_json(path):
    with open(path) as f:
        return json.load(f)


def make_rng(seed, *keys):
    """A NumPy Generator for one purpose of one run.

    The same (seed, keys) always gives the same stream, so a stream can be
    recreated after a restart (e.g. keys=("step", 123) for the noise of step 123)
    without keeping any global RNG state.
    """
    return np.random.default_rng(np.random.SeedSequence(entropy=int(seed), spawn_key=tuple(
        int(k) if isinstance(k, (int, np.integer)) else _key_to_int(k) for k in keys)))


def _key_to_int(key):
    """Stable integer for a string key (no Python hash randomisation)."""
    return int.from_bytes(hashlib.sha256(str(key).encode("utf-8")).digest()[:8], "little")


def cpu_name():
    """This machine's CPU model ("AMD EPYC ...", from /proc/cpuinfo), else what the
    platform module says."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
