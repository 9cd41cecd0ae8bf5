"""reproduce.collect: the loss balance of a finished run, read from its TensorBoard
scalars, with the spread between blocks of steps as its noise."""

import numpy as np
import pytest

from reproduce import collect, quality
from tf_compat import tf


def test_loss_balance_is_g_minus_d_over_the_last_steps_in_blocks(tmp_path):
    logs = tmp_path / "seed1" / "logs" / "DRAGAN_mnist_64_128"
    logs.mkdir(parents=True)
    writer = tf.summary.FileWriter(str(logs))
    for step in range(1, 601):      # g - d = step / 100: block means 1.505, 2.505, ...
        writer.add_summary(tf.Summary(value=[
            tf.Summary.Value(tag="g_loss", simple_value=step / 100.0 + 1.0),
            tf.Summary.Value(tag="d_loss", simple_value=1.0)]), step)
    writer.close()
    state = dict(step=600, steps_per_epoch=100)
    got = collect.loss_balance_rows("dragan", "dragan", 1, str(tmp_path / "seed1"), state,
                                    str(tmp_path))
    assert [r["draw"] for r in got] == list(range(collect.BALANCE_BLOCKS))
    assert {(r["measure"], r["step"], r["epochs"], r["model"]) for r in got} == {
        ("loss_balance", 600, 6.0, "DRAGAN")}
    values = [r["value"] for r in got]
    assert values == pytest.approx([1.505 + i for i in range(5)], abs=1e-5)
    assert np.mean(values) == pytest.approx(np.mean(np.arange(101, 601) / 100.0), abs=1e-5)
    assert got[0]["reference"] == "steps 101-200, block 1 of 5"
    # A run whose last steps are not all logged gives no rows, not a shorter window.
    assert collect.loss_balance_rows("dragan", "dragan", 1, str(tmp_path / "seed1"),
                                     dict(state, step=700), str(tmp_path)) == []
    assert quality.read_scalars(str(logs), ("g_loss",))["g_loss"][0][-1] == 600
