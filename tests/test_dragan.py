"""DRAGAN: the blog's architecture and parameter counts, its variable split, its two
updates and its sampler (tiny data, CPU). The machinery it trains on: tests/test_base.py."""

import collections

import numpy as np
import pytest
from conftest import build, fake_dataset

import ops
import utils
from models.dragan import DRAGAN
from models.gan import GAN
from tf_compat import tf


def make(run_dirs, dataset=None, **changes):
    return build(DRAGAN, run_dirs, dataset, **changes)


def test_trainable_parameter_counts_match_the_blog(run_dirs):
    model = make(run_dirs, batch_size=64, dataset=fake_dataset(64))
    assert utils.count_params(model.variables("discriminator")) == 6559169
    assert utils.count_params(model.variables("generator")) == 6707777
    with model.graph.as_default():
        total, _ = utils.show_all_variables()     # the blog's tf-slim model analyzer
    assert total == 6559169 + 6707777
    model62 = make(run_dirs, z_dim=62)
    assert utils.count_params(model62.variables("generator")) == 6640193


def test_variable_sets_by_scope_equal_the_blogs_substring_split_and_are_disjoint(run_dirs):
    model = make(run_dirs)
    all_vars = model.graph.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES)
    d_vars, g_vars = set(model.variables("discriminator")), set(model.variables("generator"))
    assert d_vars == {v for v in all_vars if "d_" in v.name}
    assert g_vars == {v for v in all_vars if "g_" in v.name}
    assert d_vars and g_vars and not d_vars & g_vars and d_vars | g_vars == set(all_vars)
    names = {v.op.name for v in all_vars}
    for scope in ["discriminator/d_conv1/w", "discriminator/d_bn2/gamma",
                  "discriminator/d_fc3/Matrix",
                  "discriminator/d_fc4/bias", "generator/g_fc1/Matrix", "generator/g_dc3/w",
                  "generator/g_bn3/beta", "generator/g_dc4/biases"]:
        assert scope in names


def test_d_step_changes_only_d_and_g_step_only_g(run_dirs):
    with make(run_dirs) as model:
        model.open()
        d_vars, g_vars = model.variables("discriminator"), model.variables("generator")
        images, labels = model.batch(0)
        feed = model.step_feed(images, labels, utils.make_rng(0, "step", 0))
        d_phase, g_phase = model.phases
        for phase, changed, fixed in [(d_phase, d_vars, g_vars), (g_phase, g_vars, d_vars)]:
            before = model.sess.run(changed + fixed)
            model.sess.run(phase.train_op, feed)
            after = model.sess.run(changed + fixed)
            n = len(changed)
            assert all(not np.array_equal(b, a) for b, a in zip(before[:n], after[:n])), phase.name
            assert all(np.array_equal(b, a) for b, a in zip(before[n:], after[n:])), phase.name


def test_sampler_shape_and_range(run_dirs):
    with make(run_dirs) as model:
        model.open()
        samples = model.samples()
        again = model.samples()
        fresh = model.samples(utils.make_rng(1, "x"))
    assert samples.shape == (64, 28, 28, 1)
    assert samples.min() >= 0.0 and samples.max() <= 1.0
    assert np.array_equal(samples, again)            # fixed noise, moving-average BN
    assert not np.array_equal(samples, fresh)


@pytest.mark.parametrize("cls,d_calls", [(GAN, 2), (DRAGAN, 3)])
def test_each_update_moves_the_bn_statistics_of_its_own_calls_in_order(run_dirs, cls, d_calls):
    """What each phase's run writes to the batch-norm moving statistics, read from the
    graph: the D update D's statistics once per D call (real, fake; DRAGAN's penalty's
    interpolates) and G's once, the G update G's and D's once each (D on the fake batch
    alone, as the blog's G step: it runs no D call on the real batch), and no write
    unordered with another access (read or write) of the same variable in the run."""
    model = build(cls, run_dirs)
    handles = {v.handle.op: v.op.name for v in model.graph.get_collection("variables")
               if v.op.name.endswith(("moving_mean", "moving_variance"))}

    expected = {"d": {"discriminator": d_calls, "generator": 1},
                "g": {"discriminator": 1, "generator": 1}}
    for phase in model.phases:
        run = ops.ancestors([phase.train_op])
        accesses = [op for op in run if op.type in ("AssignSubVariableOp", "ReadVariableOp")
                    and op.inputs[0].op in handles]
        writes = [op for op in accesses if op.type == "AssignSubVariableOp"]
        counts = collections.Counter(handles[op.inputs[0].op] for op in writes)
        assert len(counts) == 10                       # 2 D and 3 G layers, mean and variance
        assert all(n == expected[phase.name][name.split("/")[0]] for name, n in counts.items())
        before = {op: ops.ancestors([op]) for op in accesses}
        for a in accesses:
            for b in writes:
                if a is not b and a.inputs[0].op is b.inputs[0].op:
                    assert a in before[b] or b in before[a], (phase.name, a.name, b.name)
    g_run = ops.ancestors([model.phases[1].train_op])
    assert model.inputs.op not in g_run                 # the G update takes no real batch
