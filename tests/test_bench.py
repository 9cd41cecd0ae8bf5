"""The benchmark's pieces: FLOP counting, the table, data load timing, the CLI."""

import types

import pytest
from conftest import make_tiny_mnist

from reproduce import bench


def test_update_flops_counts_the_ops_an_update_runs_times_its_repeats():
    from models.base import Phase
    from tf_compat import tf
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [8, 16])
        w = tf.get_variable("w", [16, 4], initializer=tf.zeros_initializer())
        unused = tf.matmul(tf.ones([100, 100]), tf.ones([100, 100]))   # not in the update
        loss = tf.reduce_sum(tf.matmul(x, w))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    model = types.SimpleNamespace(graph=graph, phases=[Phase("a", train, None, {}, repeat=1),
                                                       Phase("b", train, None, {}, repeat=3)])
    flops = bench.update_flops(model)
    matmuls = 2 * (2 * 8 * 16 * 4)            # forward x.w and the gradient x^T.dy
    assert unused.op.type == "MatMul"
    assert 4 * matmuls <= flops < 4 * matmuls + 4 * 1000    # + a few element-wise ops


def test_table_lists_results_and_errors():
    result = dict(model="dragan", configuration="project", batch_size=64, bare_s=0.5,
                  loop_s=0.505, loop_overhead=0.01, gflop_per_it=31.9, gflops=63.8,
                  ceiling_gflops=70.0, peak_host_mib=1200.0)
    text = bench.table([result, dict(model="gan", configuration="tf-defaults",
                                     error="no data")])
    lines = text.splitlines()
    assert [c.strip() for c in lines[0].split("|")][:4] == [
        "model", "configuration", "batch", "bare ms/it"]
    assert [c.strip() for c in lines[2].split("|")][:11] == [
        "dragan", "project", "64", "500.0", "2.00", "1.98", "+1.0%", "31.90", "63.8", "91%",
        "1200"]
    assert "error: no data" in lines[3]


def test_data_load_times_decode_once_then_read_the_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("GAN_DATA_DIR", raising=False)
    rows = bench.data_load_times(str(make_tiny_mnist(tmp_path)))
    assert [(name, n) for name, n, _, _ in rows] == [("mnist", 64)]
    assert all(decode > 0 and cached > 0 for _, _, decode, cached in rows)


def test_cli_rejects_unknown_models_and_bad_counts(capsys):
    with pytest.raises(SystemExit) as e:
        bench.main(["nope"])
    assert e.value.code == 2
    assert "unknown model(s) nope" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.main(["dragan", "--rounds", "0"])
    assert "must be at least 1" in capsys.readouterr().err
