"""The one place that prepares TensorFlow 2.21 for the project's TF1-style graphs.

Import `tf` and `slim` from here, never `tensorflow` / `tf_slim` directly:

    from tf_compat import tf, slim

What it does, once per process:
- sets `TF_CPP_MIN_LOG_LEVEL=2` (unless the user set it) so TF's C++ start-up
  chatter stays out of the progress output, and then keeps TF's Python logger to
  errors too (its deprecation notices);
- sets `TF_ENABLE_ONEDNN_OPTS=1` (unless the user set it): TensorFlow leaves its
  oneDNN CPU kernels off by default on this kind of CPU, and its default conv
  backward and transposed-conv kernels run at half their speed (DRAGAN's
  iteration: about 870 ms -> 430 ms here). The variable is read once, when
  TensorFlow loads, so it is set here, before the import. The reference
  trajectories are recorded with it on; `TF_ENABLE_ONEDNN_OPTS=0` gives
  TensorFlow's defaults (other last bits, so the trajectories then agree only
  within their tolerance or not at all);
- imports TensorFlow and switches to graph mode (`disable_eager_execution`), so
  placeholders, `Session`, `Saver` and `FileWriter` behave as in TF 1.x;
- restores the alias `tensorflow.python.framework.ops.Tensor`, which TF 2.21
  removed but tf-slim 1.1.0 still reads at import time (`slim.batch_norm` needs
  it). Without this shim `import tf_slim` fails.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_ONEDNN_TOO_LATE = "tensorflow" in sys.modules and "TF_ENABLE_ONEDNN_OPTS" not in os.environ
if _ONEDNN_TOO_LATE:
    # Too late to choose the kernels: say so rather than silently run another set.
    print("tf_compat: TensorFlow was imported before tf_compat, so its default kernels "
          "stay (oneDNN off); import tf_compat first", file=sys.stderr)
else:
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


def onednn_enabled():
    """Whether TensorFlow's oneDNN CPU kernels were asked for when it loaded."""
    return (not _ONEDNN_TOO_LATE
            and os.environ.get("TF_ENABLE_ONEDNN_OPTS", "").lower() in ("1", "true"))


def _import_tensorflow():
    """Import TensorFlow; with a quiet log level, hide the CUDA-stub lines it
    prints on CPU-only machines (they ignore TF_CPP_MIN_LOG_LEVEL). Errors raised
    by the import are still shown, and so is everything on a machine with an
    NVIDIA driver, where a failing GPU is worth a line."""
    quiet = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") not in ("", "0")
    if not quiet or "tensorflow" in sys.modules:
        import tensorflow
        return tensorflow
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow
        if not os.path.exists("/proc/driver/nvidia"):
            # No NVIDIA driver: look for GPUs now, so the "failed call to cuInit" line
            # TensorFlow logs at its first search goes here and not into a run's output.
            tensorflow.config.list_physical_devices("GPU")
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return tensorflow


_tf2 = _import_tensorflow()
tf = _tf2.compat.v1
tf.disable_eager_execution()
if os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") not in ("", "0"):
    # The same quiet for TensorFlow's Python logger: its deprecation notices (e.g. the
    # Saver's remove_checkpoint, each time an old checkpoint is pruned) are not the user's.
    tf.get_logger().setLevel("ERROR")

# --- tf-slim shim (keep it here, and only here) -------------------------------
# tf_slim 1.1.0 does `from tensorflow.python.framework.ops import Tensor`-style
# lookups; TF 2.21 moved the class to tensor.py and dropped the alias.
from tensorflow.python.framework import ops as _tf_ops  # noqa: E402

if not hasattr(_tf_ops, "Tensor"):
    from tensorflow.python.framework import tensor as _tf_tensor  # noqa: E402

    _tf_ops.Tensor = _tf_tensor.Tensor

import tf_slim as slim  # noqa: E402


def set_op_determinism(enabled):
    """Turn TensorFlow's op determinism on or off (process-wide).

    With it on, ops without a deterministic kernel raise instead of running, and
    random ops need a graph seed (the models always set one).
    """
    if enabled:
        _tf2.config.experimental.enable_op_determinism()
    else:
        _tf2.config.experimental.disable_op_determinism()


__all__ = ["tf", "slim", "set_op_determinism", "onednn_enabled"]
