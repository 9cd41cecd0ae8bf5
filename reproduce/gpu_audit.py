"""GPU readiness, checked on a CPU: does every op of every model's graph have a GPU kernel?

    python -m reproduce.gpu_audit                    # every model, float32 and float64
    python -m reproduce.gpu_audit dragan cyclegan    # some models
    python -m reproduce.gpu_audit --dtype float64    # one dtype
    python -m reproduce.gpu_audit --graph blog       # the models' default graphs only

The installed TensorFlow wheel (Linux x86-64, `tensorflow==2.21.0`) is a CUDA build: it
registers its GPU kernels whether or not a GPU is there, and TensorFlow lists them
(`tensorflow.python.framework.kernels`). So a CPU can answer what a GPU session would do
with each node: run it on the GPU, or, finding no GPU kernel for its types, put it on the
CPU without a word (the models' sessions allow soft placement).

What is built: each registered model as its reference recipe has it (blog defaults, the
recipe's overrides, reproduce/reference.py), in the dtype asked for, on synthetic images
of the recipe data's shape (no data files needed; the kernels depend on op types and
dtypes, not on the pixels). Each model's graph is built several ways ("graph" column,
`--graph`): `blog` (its defaults: op determinism on, a non-finite loss stops the run),
`skip` (`--on-nonfinite skip`, which adds the step-undo copies), `nondet`
(`--no-deterministic`, with which TensorFlow builds some ops differently) and one per
preset (`--preset`). Every op of the finished graph is counted: the training updates,
the sampler, the summaries, the Saver's save and restore, the initializers (whose random
draws a run makes in a CPU-only session, models/base.py `_initialize`, but which are
counted all the same).

A node has a GPU kernel when a KernelDef for device "GPU" of its op type has type
constraints its attrs satisfy (every constrained attr: T, Tidx, DstT, dtype, ..., a list
attr element by element; the `_kernel` label alike); failing that, a KernelDef for
"DEFAULT" (TensorFlow's fallback for any device), as TensorFlow's own lookup does. Each
verdict is compared with TensorFlow's lookup itself (`FindKernelDef` through
`_pywrap_kernel_registry.TryFindKernelClass`, with the node placed on GPU:0); a
disagreement fails the audit.

Host-memory work needs no exception: TensorFlow registers GPU kernels for int32 shape
arithmetic (Shape, Range, int32 constants and maxima, ...), resource handles and string
pass-throughs with their arguments in host memory, and they count as GPU kernels; the
number in brackets in the "GPU kernel" column counts the nodes whose kernel keeps every
input and output in host memory. What has no
GPU kernel by design is listed in one place, `HOST_SIDE`, each entry with its reason;
only those op types (with the attrs the entry names) count as "host-side". Any other node
without a GPU kernel for its attrs is reported by op type and attrs, and the exit status
is 1.

What this does not show (docs/gpu.md): speed, whether the GPU kernels repeat bit for
bit under op determinism, and float64 agreement with the recorded references on a GPU:
`python -m reproduce.gpu_check` on a GPU machine checks those.
"""

import argparse
import collections
import contextlib
import io
import os
import sys
import tempfile
import time
import types

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DTYPES = ("float32", "float64")
GRAPHS = ("blog", "skip", "nondet", "presets")     # the kinds of graph built (graph_variants)

# Op types with no GPU kernel by design: they work on strings or files and run on the
# host (the placer puts them on the CPU). (op type, attrs the node must have or None for
# any, reason). Nothing else may lack a GPU kernel.
HOST_SIDE = (
    ("Const", {"dtype": "string"},
     "string constants (summary tags, the Saver's file and tensor names): strings live "
     "in host memory, and no op reads them on a GPU"),
    ("ScalarSummary", None,
     "TensorBoard scalars: serialises a Summary proto (a string) on the host; the loss "
     "crosses to the host once per summary written"),
    ("ImageSummary", None,
     "TensorBoard sample grids: PNG-encodes a uint8 grid fed from NumPy, on the host"),
    ("MergeSummary", None, "joins serialised Summary protos (strings) on the host"),
    ("SaveV2", None, "the Saver's checkpoint writing: file I/O on the host"),
    ("RestoreV2", None, "the Saver's checkpoint reading: file I/O on the host"),
)


def _host_side_reason(node_def):
    """HOST_SIDE's reason for this node, or None if it is not a host-side node."""
    from tf_compat import tf
    for op_type, attrs, reason in HOST_SIDE:
        if node_def.op != op_type:
            continue
        if attrs is None or all(name in node_def.attr and
                                tf.as_dtype(node_def.attr[name].type).name == value
                                for name, value in attrs.items()):
            return reason
    return None


# ---- the kernel registry ------------------------------------------------------------------

_KERNELS = None


def registered_kernels():
    """{(op type, device type): [KernelDef]} of every kernel this TensorFlow registered."""
    global _KERNELS
    if _KERNELS is None:
        import tf_compat  # noqa: F401  (TensorFlow loaded the project's way first)
        from tensorflow.python.framework import kernels
        table = collections.defaultdict(list)
        for kernel in kernels.get_all_registered_kernels().kernel:
            table[(kernel.op, kernel.device_type)].append(kernel)
        _KERNELS = dict(table)
    return _KERNELS


def gpu_kernel_count():
    """How many kernels are registered for device "GPU" (0 on a wheel without CUDA)."""
    return sum(len(k) for (_, device), k in registered_kernels().items() if device == "GPU")


def _attr_types(value):
    """The dtypes (enum values) an AttrValue holds: one for a type attr, each element of a
    list(type) attr; None for any other attr."""
    kind = value.WhichOneof("value")
    if kind == "type":
        return [value.type]
    if kind == "list" and value.list.type:
        return list(value.list.type)
    if kind == "list" and not any((value.list.s, value.list.i, value.list.f, value.list.b,
                                   value.list.shape, value.list.tensor, value.list.func)):
        return []          # an empty list: no element to constrain
    return None


def kernel_matches(kernel_def, node_def):
    """Whether `kernel_def` can run `node_def`: its label is the node's `_kernel` attr (or
    both empty) and every attr it constrains holds allowed types only."""
    label = node_def.attr["_kernel"].s.decode() if "_kernel" in node_def.attr else ""
    if kernel_def.label != label:
        return False
    for constraint in kernel_def.constraint:
        if constraint.name not in node_def.attr:
            return False
        held = _attr_types(node_def.attr[constraint.name])
        allowed = set(constraint.allowed_values.list.type)
        if held is None or any(t not in allowed for t in held):
            return False
    return True


def find_gpu_kernel(node_def):
    """(device type "GPU" or "DEFAULT", the KernelDef) a GPU would run `node_def` with, or
    None: a GPU kernel whose constraints the attrs meet, else a DEFAULT one (TensorFlow's
    fallback for a device with no kernel of its own)."""
    table = registered_kernels()
    for device in ("GPU", "DEFAULT"):
        for kernel in table.get((node_def.op, device), ()):
            if kernel_matches(kernel, node_def):
                return device, kernel
    return None


def tensorflow_lookup(node_def):
    """TensorFlow's own answer: the kernel class FindKernelDef picks for `node_def` placed on
    GPU:0 ("" for none), or None when this TensorFlow does not offer the lookup."""
    try:
        from tensorflow.python.util import _pywrap_kernel_registry
    except ImportError:
        return None
    placed = type(node_def)()
    placed.CopyFrom(node_def)
    placed.device = "/device:GPU:0"
    return _pywrap_kernel_registry.TryFindKernelClass(placed.SerializeToString()).decode()


def _all_in_host_memory(op_type, kernel_def):
    """Whether `kernel_def` keeps every input and output of `op_type` in host memory."""
    from tensorflow.python.framework import op_def_registry
    op_def = op_def_registry.get(op_type)
    args = [a.name for a in list(op_def.input_arg) + list(op_def.output_arg)] if op_def else []
    return bool(args) and set(args) <= set(kernel_def.host_memory_arg)


def describe(node_def):
    """`Op(attr=type, ...)`: the op type and its type attrs, e.g.
    `Cast(DstT=float32, SrcT=int32)`."""
    from tf_compat import tf
    parts = []
    for name in sorted(node_def.attr):
        held = _attr_types(node_def.attr[name])
        if held:
            parts.append("%s=%s" % (name, ",".join(tf.as_dtype(t).name for t in held)))
    return "%s(%s)" % (node_def.op, ", ".join(parts))


# ---- one graph ----------------------------------------------------------------------------

Audit = collections.namedtuple(
    "Audit", "model graph dtype ops op_types on_gpu host_memory host_side missing "
             "disagreements seconds")
Audit.__doc__ = """The audit of one graph.

  ops, op_types: the number of nodes and of distinct op types;
  on_gpu: nodes with a GPU (or DEFAULT) kernel for their attrs; host_memory: those of them
  whose kernel keeps every argument in host memory (shape arithmetic);
  host_side: {op type: nodes} of HOST_SIDE nodes (no GPU kernel, by design);
  missing: {`describe(node)`: nodes} without a GPU kernel and not host-side (should be {});
  disagreements: [(node name, this audit's verdict, TensorFlow's kernel class)] where the
  two lookups differ (should be []), None when TensorFlow's lookup is unavailable.
"""


def audit_graph(graph, model="graph", name="", dtype=""):
    """The Audit of every node of `graph`."""
    start = time.time()
    on_gpu = host_memory = 0
    host_side, missing = collections.Counter(), collections.Counter()
    disagreements = []
    lookup_available = True
    operations = graph.get_operations()
    for op in operations:
        node_def = op.node_def
        found = find_gpu_kernel(node_def)
        if found:
            on_gpu += 1
            host_memory += _all_in_host_memory(node_def.op, found[1])
        elif _host_side_reason(node_def):
            host_side[node_def.op] += 1
        else:
            missing[describe(node_def)] += 1
        if lookup_available:
            theirs = tensorflow_lookup(node_def)
            if theirs is None:
                lookup_available = False
            elif bool(theirs) != bool(found):
                disagreements.append((op.name, "a GPU kernel" if found else "none",
                                      theirs or "none"))
    return Audit(model, name, dtype, len(operations), len({op.type for op in operations}),
                 on_gpu, host_memory, dict(host_side), dict(missing),
                 disagreements if lookup_available else None, time.time() - start)


# ---- the models ----------------------------------------------------------------------------

def _images_like(config, n):
    """A dataset of `n` random images of the shape the recipe's data has (both CycleGAN
    domains), labels 0..9."""
    import data as data_lib
    if config.dataset in data_lib.IDX_DATASETS:
        shape = (28, 28, 1)
    else:
        shape = (config.image_size, config.image_size, config.channels)
    rng = np.random.default_rng(0)
    images = rng.random((n,) + shape, dtype=np.float32)
    return types.SimpleNamespace(name="audit", source="gpu_audit's random images",
                                 images=images, images_b=images[::-1].copy(),
                                 labels=(np.arange(n) % 10).astype(np.int64), num_classes=10)


def graph_variants(name, graphs=GRAPHS):
    """{graph name: config changes} model `name` is built with, of the kinds in `graphs`:
    "blog" (its defaults), "skip" (`--on-nonfinite skip`), "nondet" (`--no-deterministic`),
    "presets" (one graph per `--preset`, named "preset NAME")."""
    from models import get_model
    variants = {}
    if "blog" in graphs:
        variants["blog"] = {}
    if "skip" in graphs:
        variants["skip"] = dict(on_nonfinite="skip")
    if "nondet" in graphs:
        variants["nondet"] = dict(deterministic=False)
    if "presets" in graphs:
        for preset, changes in sorted(get_model(name).presets.items()):
            variants["preset " + preset] = dict(changes)
    return variants


def build_model(name, dtype, changes=None, folder=None):
    """Registered model `name` as its reference recipe builds it, in `dtype`, with `changes`
    to the config, on random images of the recipe data's shape (graph only: no session)."""
    from reproduce import reference
    chosen = reference.recipe(name)
    cls = chosen["model"]
    settings = dict(chosen["config"], dtype=dtype, **(changes or {}))
    if folder:
        settings.update({key: os.path.join(folder, key)
                         for key in ("checkpoint_dir", "result_dir", "log_dir")})
    config = cls.Config(**settings)
    return cls(config, _images_like(config, config.train_subset or 16 * config.batch_size))


def audit_model(name, dtype, graph="blog", changes=None):
    """The Audit of model `name` in `dtype`: its `graph` variant (see graph_variants), or
    the config `changes` given (then `graph` only names the row)."""
    start = time.time()
    if changes is None:
        changes = graph_variants(name)[graph]
    with tempfile.TemporaryDirectory(prefix="gpu_audit_") as folder:
        model = build_model(name, dtype, changes, folder)
        try:
            result = audit_graph(model.graph, name, graph, dtype)
        finally:
            model.close()
    return result._replace(seconds=time.time() - start)


def audit(names, dtypes=DTYPES, graphs=GRAPHS):
    """[Audit] of the `graphs` variants of each model in `names`, in each of `dtypes`."""
    return [audit_model(name, dtype, graph) for name in names
            for graph in graph_variants(name, graphs) for dtype in dtypes]


def passed(audits):
    """True if no node of any audit lacks a GPU kernel and both lookups always agreed."""
    return all(not a.missing and not a.disagreements for a in audits)


# ---- the report ----------------------------------------------------------------------------

def table(audits):
    """The Markdown table: model, graph, dtype, ops, op types, with a GPU kernel (of them
    host-memory), host-side, without GPU kernel."""
    lines = ["| model | graph | dtype | ops | op types | GPU kernel (host-memory) | host-side "
             "| without GPU kernel |", "|---|---|---|---|---|---|---|---|"]
    for a in audits:
        lines.append("| %s | %s | %s | %d | %d | %d (%d) | %d | %s |" % (
            a.model, a.graph, a.dtype, a.ops, a.op_types, a.on_gpu, a.host_memory,
            sum(a.host_side.values()),
            "none" if not a.missing else ", ".join("%s x%d" % item
                                                   for item in sorted(a.missing.items()))))
    return "\n".join(lines)


def report(audits):
    """The table, the host-side op types met with their reasons, and the verdict."""
    lines = [table(audits), ""]
    met = sorted({op_type for a in audits for op_type in a.host_side})
    if met:
        lines.append("host-side (no GPU kernel by design, gpu_audit.HOST_SIDE):")
        for op_type, attrs, reason in HOST_SIDE:
            if op_type in met:
                lines.append("  %s%s: %s" % (op_type, "" if attrs is None else " " + ", ".join(
                    "%s=%s" % kv for kv in sorted(attrs.items())), reason))
    disagreements = [(a, d) for a in audits for d in (a.disagreements or ())]
    for a, (node, ours, theirs) in disagreements:
        lines.append("DISAGREE %s %s %s: %s: this audit finds %s, TensorFlow's lookup %s"
                     % (a.model, a.graph, a.dtype, node, ours, theirs))
    if any(a.disagreements is None for a in audits):
        lines.append("note: TensorFlow's own kernel lookup (_pywrap_kernel_registry) is not "
                     "available here; only this audit's matching was used")
    else:
        lines.append("TensorFlow's own kernel lookup (FindKernelDef, node on GPU:0) agreed on "
                     "every node" if not disagreements else
                     "TensorFlow's own kernel lookup disagreed on %d nodes" % len(disagreements))
    graphs, failing = len(audits), sum(1 for a in audits if a.missing or a.disagreements)
    nodes = sum(a.ops for a in audits)
    if failing:
        lines.append("gpu_audit: FAILED: %d of %d graphs have nodes without a GPU kernel for "
                     "their types (they would run on the CPU without a word)" % (failing, graphs))
    else:
        lines.append("gpu_audit: every node of %d graphs (%d nodes) has a GPU kernel for its "
                     "types or is host-side by design" % (graphs, nodes))
    return "\n".join(lines)


def build_parser():
    from models import MODELS
    parser = argparse.ArgumentParser(prog="python -m reproduce.gpu_audit", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", metavar="MODEL",
                        help="registered models to audit (default: all: %s)"
                        % ", ".join(sorted(MODELS)))
    parser.add_argument("--dtype", choices=DTYPES + ("both",), default="both",
                        help="the graphs' float type (default: both)")
    parser.add_argument("--graph", action="append", choices=GRAPHS, dest="graphs",
                        help="which graphs of each model (repeatable; default: all): blog "
                        "(its defaults), skip (--on-nonfinite skip), nondet "
                        "(--no-deterministic), presets (each --preset)")
    return parser


def main(argv=None):
    from models import MODELS
    parser = build_parser()
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in MODELS]
    if unknown:
        parser.exit(2, "gpu_audit: error: unknown model %r (choose from %s)\n"
                    % (unknown[0], ", ".join(sorted(MODELS))))
    names = args.names or sorted(MODELS)
    dtypes = DTYPES if args.dtype == "both" else (args.dtype,)
    from tf_compat import tf          # first: TensorFlow loads the project's way
    count = gpu_kernel_count()
    print("TensorFlow %s, CUDA build: %s; %d GPU kernels registered"
          % (tf.__version__, tf.test.is_built_with_cuda(), count), flush=True)
    if not count:
        print("gpu_audit: error: this TensorFlow registers no GPU kernels (a CPU-only build), "
              "so it cannot say what a GPU would run", file=sys.stderr)
        return 1
    with contextlib.redirect_stdout(io.StringIO()):     # the models' variable tables
        audits = audit(names, dtypes, args.graphs or GRAPHS)
    print(report(audits))
    return 0 if passed(audits) else 1


if __name__ == "__main__":
    sys.exit(main())
