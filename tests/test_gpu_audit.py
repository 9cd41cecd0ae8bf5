"""GPU readiness on a CPU (reproduce/gpu_audit.py): every node of every registered model's
graph, in float32 and float64, has a GPU kernel for its types in the installed TensorFlow
(or is host-side by design); and the audit does catch a node without one. Graph
construction only: nothing is trained, no GPU is needed."""

import platform

import pytest

from models import MODELS, get_model
from reproduce import gpu_audit
from tf_compat import tf

DTYPES = ("float32", "float64")

# TensorFlow's Linux x86-64 wheel (requirements.txt; requirements-gpu.txt adds only the CUDA
# libraries) is a CUDA build; elsewhere (macOS, aarch64) there are no GPU kernels to audit,
# and this module checks only what the audit does there: refuse in one line (end of file).
GPU_KERNELS = tf.test.is_built_with_cuda() or (platform.system(), platform.machine()) == (
    "Linux", "x86_64")


def _assert_complete(result):
    assert result.ops > 100 and result.op_types > 20, result
    assert result.on_gpu + sum(result.host_side.values()) + sum(result.missing.values()) \
        == result.ops
    # TensorFlow's own lookup ran on every node and agreed with the audit's matching
    assert result.disagreements == [], result.disagreements


def test_this_tensorflow_registers_gpu_kernels():
    """The premise: the installed wheel is a CUDA build whose GPU kernels are listed on a
    machine without a GPU, float64 ones included."""
    assert tf.test.is_built_with_cuda()
    assert gpu_audit.gpu_kernel_count() > 1000
    conv = gpu_audit.registered_kernels()[("Conv2D", "GPU")]
    allowed = {t for k in conv for c in k.constraint for t in c.allowed_values.list.type}
    assert {tf.float32.as_datatype_enum, tf.float64.as_datatype_enum} <= allowed


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_node_of_a_models_graph_has_a_gpu_kernel(name, dtype):
    result = gpu_audit.audit_model(name, dtype, "blog")
    _assert_complete(result)
    assert result.missing == {}, gpu_audit.table([result])
    # what is host-side is only the summaries, the Saver's I/O and their string constants
    assert set(result.host_side) <= {op for op, _, _ in gpu_audit.HOST_SIDE}
    assert {"SaveV2", "RestoreV2", "ScalarSummary"} <= set(result.host_side)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_the_step_undo_and_nondeterministic_graphs_too(name):
    """--on-nonfinite skip (the step-undo copies) and --no-deterministic (TensorFlow builds
    some ops differently), in one graph. (ACGAN's float64 class loss once lacked one
    here: models/keras_losses.py.) In float64, where GPU kernels are missing if anywhere:
    `python -m reproduce.gpu_audit` checks both dtypes of every variant."""
    dtype = "float64"
    result = gpu_audit.audit_model(name, dtype, "skip+nondet",
                                   dict(on_nonfinite="skip", deterministic=False))
    _assert_complete(result)
    assert result.missing == {}, gpu_audit.table([result])


@pytest.mark.parametrize("name,preset", sorted((name, preset) for name in MODELS
                                               for preset in get_model(name).presets))
def test_every_preset_graph_has_gpu_kernels(name, preset):
    for dtype in DTYPES:
        result = gpu_audit.audit_model(name, dtype, "preset " + preset)
        _assert_complete(result)
        assert result.missing == {}, gpu_audit.table([result])


# ---- the audit is not hollow -------------------------------------------------------------

def _graph(dtype):
    """A tiny graph: a sparse softmax cross-entropy (no float64 GPU kernel), a string
    conversion (no GPU kernel at all), a histogram summary (host-side, but not on the
    list), and what does have GPU kernels (a matmul, a cast, a scalar summary)."""
    from tensorflow.python.ops import gen_nn_ops
    graph = tf.Graph()
    with graph.as_default():
        logits = tf.placeholder(dtype, [4, 3], name="logits")
        labels = tf.placeholder(tf.int64, [4], name="labels")
        loss, _ = gen_nn_ops.sparse_softmax_cross_entropy_with_logits(logits, labels)
        product = tf.matmul(logits, tf.cast(tf.ones([3, 2], tf.int32), dtype))
        tf.strings.as_string(product)
        tf.summary.histogram("logits", logits)
        tf.summary.scalar("loss", tf.reduce_mean(loss))
    return graph


def test_the_audit_catches_a_node_without_a_gpu_kernel_for_its_dtype():
    ok = gpu_audit.audit_graph(_graph(tf.float32))
    bad = gpu_audit.audit_graph(_graph(tf.float64))
    for result in (ok, bad):
        assert result.disagreements == []       # TensorFlow's own lookup says the same
        assert result.host_side == {"Const": 2, "ScalarSummary": 1}
    assert ok.missing == {"AsString(T=float32)": 1, "HistogramSummary(T=float32)": 1}
    assert bad.missing == {"AsString(T=float64)": 1, "HistogramSummary(T=float64)": 1,
                           "SparseSoftmaxCrossEntropyWithLogits(T=float64, Tlabels=int64)": 1}
    assert not gpu_audit.passed([ok]) and not gpu_audit.passed([bad])
    assert "SparseSoftmaxCrossEntropyWithLogits(T=float64, Tlabels=int64) x1" in \
        gpu_audit.table([bad])


def test_kernel_matching_checks_every_constrained_attr_and_the_label():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float64, [2], name="x")
        cast = tf.cast(x, tf.int32)                 # SrcT float64, DstT int32
        name = tf.identity(tf.constant(["a"]))      # a string passed through
    node = cast.op.node_def
    device, kernel = gpu_audit.find_gpu_kernel(node)
    assert device == "GPU" and {c.name for c in kernel.constraint} == {"SrcT", "DstT"}
    node.attr["DstT"].type = tf.string.as_datatype_enum      # no GPU Cast to a string
    assert gpu_audit.find_gpu_kernel(node) is None
    assert gpu_audit.tensorflow_lookup(node) == ""
    node.attr["DstT"].type = tf.int32.as_datatype_enum
    node.attr["_kernel"].s = b"no-such-label"                # a label no kernel has
    assert gpu_audit.find_gpu_kernel(node) is None
    assert gpu_audit.tensorflow_lookup(node) == ""
    # a string Identity has a GPU kernel, its argument kept in host memory
    device, kernel = gpu_audit.find_gpu_kernel(name.op.node_def)
    assert gpu_audit._all_in_host_memory("Identity", kernel)
    assert gpu_audit.tensorflow_lookup(name.op.node_def)


# ---- the command ----------------------------------------------------------------------------

def test_the_command_prints_the_table_and_exits_0_when_every_node_has_a_kernel(capsys):
    assert gpu_audit.main(["gan", "--dtype", "float32", "--graph", "blog"]) == 0
    out = capsys.readouterr().out
    assert "| model | graph | dtype | ops | op types | GPU kernel (host-memory) | host-side | " \
        "without GPU kernel |" in out
    assert "| gan | blog | float32 |" in out and "| none |" in out
    assert "SaveV2: the Saver's checkpoint writing" in out
    assert "agreed on every node" in out and "gpu_audit: every node of 1 graphs" in out


def test_the_command_exits_1_when_a_node_has_no_kernel(capsys, monkeypatch):
    monkeypatch.setattr(gpu_audit, "audit",
                        lambda names, dtypes, graphs: [gpu_audit.audit_graph(
                            _graph(tf.float64), "tiny", "blog", "float64")])
    assert gpu_audit.main(["gan"]) == 1
    out = capsys.readouterr().out
    assert "gpu_audit: FAILED: 1 of 1 graphs" in out


def test_the_command_help_and_an_unknown_model(capsys):
    with pytest.raises(SystemExit) as done:
        gpu_audit.main(["--help"])
    assert done.value.code == 0
    assert "python -m reproduce.gpu_audit" in capsys.readouterr().out
    with pytest.raises(SystemExit) as done:
        gpu_audit.main(["gan", "nosuch"])
    assert done.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gpu_audit: error: unknown model 'nosuch'"), err


def test_a_tensorflow_without_gpu_kernels_is_refused_in_one_line(capsys, monkeypatch):
    monkeypatch.setattr(gpu_audit, "gpu_kernel_count", lambda: 0)
    assert gpu_audit.main(["gan"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        "gpu_audit: error: this TensorFlow registers no GPU kernels"), err


if not GPU_KERNELS:         # a CPU-only TensorFlow: nothing to audit, only the refusal
    for _name in [n for n in list(globals()) if n.startswith("test_")
                  and n != "test_a_tensorflow_without_gpu_kernels_is_refused_in_one_line"]:
        del globals()[_name]
