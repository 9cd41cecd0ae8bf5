"""The loop's machinery for speed (issue 35): the feeds made ahead by the worker thread,
the summaries written from it, the grids' TensorBoard images from the PNG's bytes."""

import types

import numpy as np
import pytest

import utils
from models.base import Phase, grid_summary
from models.trainer import _Ahead, step_runs
from tf_compat import tf


def _fake_run(total_draws):
    """A run whose step has a phase with a fresh batch and noise, repeated twice, and one
    reusing its feed; the summaries it is handed go to `written`."""
    images = np.arange(40 * 2, dtype=np.float32).reshape(40, 2)

    def batch(step, draw):
        total_draws.append((step, draw))
        idx = utils.make_rng(0, "order").permutation(40)[(2 * step + draw) * 4:][:4]
        return images[idx], idx

    def feed(images, labels, rng):
        return {"x": images, "z": rng.standard_normal((4, 3)), "y": labels}

    phases = [Phase("d", None, None, {}, repeat=2, feed=feed, scopes=("d",)),
              Phase("g", None, None, {}, scopes=("g",))]
    written = []
    run = types.SimpleNamespace(
        config=types.SimpleNamespace(seed=7),
        step_runs=lambda step, rng: step_runs(phases, batch, step, rng),
        writer=types.SimpleNamespace(add_summary=lambda s, step: written.append((s, step))))
    return run, written


def test_feeds_made_ahead_are_the_feeds_made_in_step():
    draws = []
    run, _ = _fake_run(draws)
    ahead = _Ahead(run, total=4)
    try:
        got = [ahead.runs(step) for step in range(4)]
    finally:
        ahead.close()
    # each batch of the 4 steps made once, none past the run's last step
    assert sorted(draws) == [(s, d) for s in range(4) for d in range(2)]
    for step, runs in enumerate(got):
        lazy = list(run.step_runs(step, utils.make_rng(7, "step", step)))
        assert [(p.name, r) for p, r, _ in runs] == [("d", 0), ("d", 1), ("g", 0)]
        assert [(p.name, r) for p, r, _ in lazy] == [(p.name, r) for p, r, _ in runs]
        for (_, _, a), (_, _, b) in zip(runs, lazy):
            assert sorted(a) == sorted(b)
            assert all(np.array_equal(a[k], b[k]) for k in a)
        assert runs[2][2] is runs[1][2]                 # "g" reuses the last D feed


def test_summaries_reach_the_writer_in_order_before_drain_returns():
    run, written = _fake_run([])
    ahead = _Ahead(run, total=100)
    try:
        for step in range(50):
            ahead.write_summary(b"s%d" % step, step + 1)
        ahead.drain()
        assert written == [(b"s%d" % s, s + 1) for s in range(50)]
    finally:
        ahead.close()


def test_a_failed_summary_write_is_raised_by_drain():
    run, _ = _fake_run([])

    def fail(summary, step):
        raise OSError("disk full")

    run.writer.add_summary = fail
    ahead = _Ahead(run, total=2)
    ahead.write_summary(b"s", 1)
    with pytest.raises(OSError, match="disk full"):
        ahead.drain()
    ahead.close()


@pytest.mark.parametrize("channels", [1, 3])
def test_grid_summary_holds_the_png_file_and_the_pixels_of_tf_summary_image(tmp_path,
                                                                           channels):
    images = np.random.default_rng(channels).random((6, 5, 4, channels)).astype(np.float32)
    path = str(tmp_path / "grid.png")
    grid = utils.save_grid(path, images)
    ours = grid_summary("samples/fixed_noise", path, grid)
    graph = tf.Graph()
    with graph.as_default():
        op = tf.summary.image("samples/fixed_noise", tf.constant(grid[None]), max_outputs=1)
        with tf.compat.v1.Session() as sess:
            theirs = tf.Summary.FromString(sess.run(op))
            decode = tf.image.decode_png(tf.compat.v1.placeholder(tf.string), channels=channels)
            pixels = [sess.run(decode, {decode.op.inputs[0]: x.value[0].image.encoded_image_string})
                      for x in (ours, theirs)]
    (a,), (b,) = ours.value, theirs.value
    assert (a.tag, a.image.height, a.image.width, a.image.colorspace) == (
        b.tag, b.image.height, b.image.width, b.image.colorspace)
    with open(path, "rb") as f:
        assert a.image.encoded_image_string == f.read()
    assert np.array_equal(pixels[0], pixels[1]) and np.array_equal(pixels[0], grid)
