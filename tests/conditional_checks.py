"""Checks CGAN and ACGAN share (the Keras-GAN conditional machinery), called from
test_cgan.py and test_acgan.py on their opened models."""

import numpy as np
from conftest import global_vars

import utils
from tf_compat import tf


def step_feed(model, step=0):
    images, labels = model.batch(step)
    return model.step_feed(images, labels, utils.make_rng(model.config.seed, "step", step))


def update_isolation(model):
    """The D update changes every trainable D variable and nothing of G (D's BN statistics
    stay put); the G update changes G's trainable variables and moving statistics only."""
    sess = model.sess
    feed = step_feed(model, 1)
    d_all, g_all = global_vars(model, "discriminator/"), global_vars(model, "generator/")
    d_trainable = set(model.variables("discriminator"))
    g_changing = set(model.variables("generator")) | {
        v for v in g_all if "moving" in v.op.name}
    for phase, changed, must_change, fixed in [
            (model.phases[0], d_all, d_trainable, g_all),
            (model.phases[1], g_all, g_changing, d_all)]:
        before = sess.run(changed + fixed)
        sess.run(phase.train_op, feed)
        after = sess.run(changed + fixed)
        n = len(changed)
        moved = {v for v, b, a in zip(changed, before[:n], after[:n]) if not np.array_equal(b, a)}
        assert moved == must_change, phase.name
        assert all(np.array_equal(b, a) for b, a in zip(before[n:], after[n:])), phase.name


def one_adam_counter(model):
    """One Adam `iterations` counter, advanced by both D updates and the G update."""
    sess = model.sess
    counter = [v for v in model.graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)
               if v.op.name == "Adam/iterations"]
    assert len(counter) == 1
    feed = step_feed(model, 2)
    start = sess.run(counter[0])
    sess.run(model.phases[0].train_op, feed)
    assert sess.run(counter[0]) == start + 2      # the real and the fake D update
    sess.run(model.phases[1].train_op, feed)
    assert sess.run(counter[0]) == start + 3      # and the G update
