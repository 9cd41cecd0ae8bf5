"""The one place that prepares TensorFlow 2.21 for the project's TF1-style graphs.

Import `tf` and `slim` from here, never `tensorflow` / `tf_slim` directly:

    from tf_compat import tf, slim

What it does, once per process:
- sets `TF_CPP_MIN_LOG_LEVEL=2` (unless the user set it) so TF's C++ start-up
  chatter stays out of the progress output, and then keeps TF's Python logger to
  errors too (its deprecation notices);
- sets `TF_ENABLE_ONEDNN_OPTS=1` (unless the user set it): TensorFlow leaves its
  oneDNN CPU kernels off by default on some CPUs, where its default conv
  backward and transposed-conv kernels are much slower (docs/speed.md). The
  variable is read once, when TensorFlow loads, so it is set here, before the
  import. The reference
  trajectories are recorded with it on; `TF_ENABLE_ONEDNN_OPTS=0` gives
  TensorFlow's defaults (other last bits, so the trajectories then agree only
  within their tolerance or not at all);
- imports TensorFlow and switches to graph mode (`disable_eager_execution`), so
  placeholders, `Session`, `Saver` and `FileWriter` behave as in TF 1.x;
- restores the alias `tensorflow.python.framework.ops.Tensor`, which TF 2.21
  removed but tf-slim 1.1.0 still reads at import time (`slim.batch_norm` needs
  it). Without this shim `import tf_slim` fails.

It also holds `SessionPolicy`, how every graph of the project gets its session (the
models' runs, the toy study, the judges, the bench): threads, the graph seed, initial
values drawn on the CPU, the process-wide switches (`set_op_determinism`,
`set_tensor_float_32`) and `describe_device`, the one description of the device a run
trains on (its `device:` line and config.json).
"""

import os
import shutil
import subprocess
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
        # TF 2.21's public API has no disable_op_determinism; its framework module has.
        from tensorflow.python.framework import config as _tf_config
        _tf_config.disable_op_determinism()


def set_tensor_float_32(enabled):
    """Allow or forbid TensorFloat-32 (process-wide).

    TensorFlow allows it by default: on NVIDIA GPUs from Ampere on, float32 matmuls
    and convolutions then round their inputs to a 10-bit mantissa. The project turns
    it off unless a run asks for it (`--tf32`), so float32 on a GPU is float32. No
    effect on CPUs or in float64.
    """
    _tf2.config.experimental.enable_tensor_float_32_execution(bool(enabled))


def tensor_float_32_enabled():
    """Whether TensorFloat-32 is allowed in this process now."""
    return bool(_tf2.config.experimental.tensor_float_32_execution_enabled())


def visible_gpus():
    """Names of the GPUs TensorFlow can use in this process (e.g. ["GPU:0"])."""
    return [d.name.replace("/physical_device:", "") for d in
            _tf2.config.list_physical_devices("GPU")]


def describe_device(intra_op_threads=2, tf32=None):
    """The device a session of this process trains on, as a JSON-able dict.

    A session places every op it can on the first visible GPU (soft placement puts
    the rest on the CPU), so that GPU is the device when there is one, else the CPU.

    Args:
      intra_op_threads: the session's intra-op thread count (0: TensorFlow's choice).
      tf32: whether TensorFloat-32 is allowed; default: this process's state now.
    Returns:
      dict(kind "GPU"/"CPU", name, tf32, gpus_visible, intra_op_threads, and for a
      GPU compute_capability and memory_gib where they can be read).
    """
    tf32 = tensor_float_32_enabled() if tf32 is None else bool(tf32)
    gpus = _tf2.config.list_physical_devices("GPU")
    info = dict(kind="GPU" if gpus else "CPU", tf32=tf32, gpus_visible=len(gpus),
                intra_op_threads=intra_op_threads)
    if not gpus:
        info["name"] = "CPU"
        return info
    try:
        details = _tf2.config.experimental.get_device_details(gpus[0])
    except (ValueError, RuntimeError):
        details = {}
    name = details.get("device_name") or "GPU"
    info.update(name=name, device=gpus[0].name.replace("/physical_device:", ""),
                compute_capability=list(details.get("compute_capability") or []) or None,
                memory_gib=_gpu_memory_gib(name))
    return info


def _gpu_memory_gib(name):
    """Total memory in GiB of the GPUs called `name`, from `nvidia-smi`; None when it is
    missing, fails, or GPUs of that name differ in memory (then which one TensorFlow
    calls GPU:0 is not known here). Read this way because TensorFlow's own memory query
    starts the device."""
    if not shutil.which("nvidia-smi"):
        return None
    try:
        done = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total",
                               "--format=csv,noheader,nounits"],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    sizes = set()
    for line in done.stdout.splitlines() if done.returncode == 0 else []:
        gpu, _, mib = line.rpartition(",")
        if gpu.strip() == name and mib.strip().isdigit():
            sizes.add(int(mib.strip()))
    return round(sizes.pop() / 1024.0) if len(sizes) == 1 else None


def device_line(info):
    """The one line a training run prints before its first step, from `describe_device`'s
    dict, e.g. `device: GPU:0 NVIDIA H200 (139 GiB), TF32 off`."""
    if info["kind"] == "GPU":
        memory = " (%d GiB)" % info["memory_gib"] if info.get("memory_gib") else ""
        more = ("; %d GPUs visible, the run uses the first" % info["gpus_visible"]
                if info.get("gpus_visible", 1) > 1 else "")
        return "device: %s %s%s, TF32 %s%s" % (info.get("device", "GPU:0"), info["name"],
                                               memory, "on" if info["tf32"] else "off", more)
    threads = info.get("intra_op_threads")
    return "device: CPU, %s (no GPU visible; for a GPU see README)" % (
        "%d intra-op thread%s" % (threads, "" if threads == 1 else "s") if threads
        else "intra-op threads chosen by TensorFlow")


class SessionPolicy:
    """How every graph of the project gets its session: the models' runs, the toy study,
    the judges and the bench alike.

    - threads: fixed intra- and inter-op counts (repeatable numbers need fixed counts);
      float64 runs its ops one at a time (`inter_op_threads`);
    - seeding: `graph()` makes a graph with the graph seed set, so every random op's
      draws follow from the seed;
    - initial values drawn on the CPU (`initialize`): TensorFlow does not promise that a
      seeded random op gives a GPU the numbers it gives a CPU, so a graph's variables are
      drawn once in a session that sees no GPU and fed to the initializers; a run starts
      from the same weights on every device;
    - the process-wide switches (`apply`): op determinism and TensorFloat-32, set before
      a graph is built and again before a session opens, so another graph built in
      between in the same process changes nothing;
    - soft placement and growing GPU memory, and the device line (`device`).
    """

    def __init__(self, intra_op_threads=1, inter_op_threads=None, seed=0,
                 deterministic=True, tf32=False, float64=False):
        self.intra_op_threads = intra_op_threads
        self.inter_op_threads = (intra_op_threads if inter_op_threads is None
                                 else inter_op_threads)
        self.seed, self.deterministic, self.tf32 = seed, deterministic, tf32
        self.float64 = float64
        self._initial = {}          # graph -> {initializer input: value}

    @classmethod
    def of_config(cls, config):
        """The policy of a model's run (a models.config.TrainConfig)."""
        return cls(config.intra_op_threads, config.inter_op_threads, config.seed,
                   config.deterministic, config.tf32, config.dtype == "float64")

    def apply(self):
        """Set the process-wide switches to this policy's."""
        set_op_determinism(self.deterministic)
        set_tensor_float_32(self.tf32)

    def ops_at_once(self):
        """Inter-op threads: the policy's, but 1 in float64. Measured: with 2, the float64
        DRAGAN graph's D weight gradients varied between repeats of the same step (1 run
        in 8-15 under load; never with 1), and GAN training amplifies such a difference to
        percents within 15 steps; float64 is the verification type, so it runs its ops
        one at a time (intra-op threads still apply)."""
        return 1 if self.float64 else self.inter_op_threads

    def proto(self, gpu=True):
        """The session's ConfigProto (`gpu=False`: one that sees no GPU)."""
        proto = tf.ConfigProto(intra_op_parallelism_threads=self.intra_op_threads,
                               inter_op_parallelism_threads=self.ops_at_once(),
                               allow_soft_placement=True)
        proto.gpu_options.allow_growth = True
        if not gpu:
            proto.device_count["GPU"] = 0
        return proto

    def graph(self):
        """A new graph with this policy's seed, the switches set (build it under
        `with graph.as_default():`)."""
        self.apply()
        graph = tf.Graph()
        with graph.as_default():
            tf.set_random_seed(self.seed)
        return graph

    def session(self, graph):
        """A session on `graph` under this policy."""
        self.apply()
        return tf.Session(graph=graph, config=self.proto())

    def initialize(self, sess, init_op):
        """Initialise every global variable of `sess`'s graph with `init_op` (the graph's
        global initializer) from values drawn once, in a session that sees no GPU."""
        graph = sess.graph
        if graph not in self._initial:
            variables = graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)
            inputs = [v.initializer.inputs[1] for v in variables]
            with tf.Session(graph=graph, config=self.proto(gpu=False)) as cpu:
                self._initial[graph] = dict(zip(inputs, cpu.run(inputs)))
        sess.run(init_op, self._initial[graph])

    def device(self):
        """`describe_device` of a session under this policy."""
        return describe_device(self.intra_op_threads, self.tf32)


__all__ = ["tf", "slim", "SessionPolicy", "set_op_determinism", "set_tensor_float_32",
           "tensor_float_32_enabled", "onednn_enabled", "visible_gpus", "describe_device",
           "device_line"]
