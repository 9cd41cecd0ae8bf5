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


def conditional_grid_layout(model):
    """The fixed-noise grid: 10x10, row r = one noise vector z_r, column j = digit j, tile
    (r, j) = G(z_r, j) exactly; checked also by tiling images that encode their label.
    Returns the grid's feed."""
    samples = model.samples()
    assert samples.shape == (100, 28, 28, 1)
    assert samples.min() >= -1.0 and samples.max() <= 1.0
    assert np.array_equal(samples, model.samples())          # fixed noise, moving BN
    feed = model.sample_feed()
    z = feed[model.sample_z_input].reshape(10, 10, -1)
    labels = feed[model.sample_labels_input].reshape(10, 10)
    assert model.grid_size == (10, 10)
    assert (labels == np.arange(10)[None, :]).all()           # column j: digit j
    assert (z == z[:, :1]).all() and not np.array_equal(z[0, 0], z[1, 0])  # row r: z_r
    # tile (r, j) of the grid is G(z_r, digit j)
    grid = utils.make_grid(samples, model.grid_size, value_range=(-1, 1))
    for r, j in [(0, 0), (3, 7), (4, 6), (9, 9)]:
        alone = model.sess.run(model.sampler, {model.sample_z_input: z[r, :1],
                                               model.sample_labels_input: [j]})
        tile = grid[28 * r:28 * (r + 1), 28 * j:28 * (j + 1)]
        assert np.array_equal(tile, utils.to_uint8(alone[0], (-1, 1)))
    other = model.sess.run(model.sampler, {model.sample_z_input: z[3, :1],
                                           model.sample_labels_input: [2]})
    assert not np.array_equal(other[0], samples[37])             # the label matters
    # images filled with label / 10, tiled the same way: column j holds digit j only
    stand_in = np.broadcast_to(feed[model.sample_labels_input][:, None, None, None] / 10.0,
                               samples.shape)
    tiles = utils.make_grid(stand_in, model.grid_size, value_range=(-1, 1))
    for j in range(10):
        assert (tiles[:, 28 * j:28 * (j + 1)] == utils.to_uint8(j / 10.0, (-1, 1))).all()
    return feed
