"""reproduce/plots.py: each figure is a PNG of the size its arguments give, not blank,
drawn without a display, also for the edge cases its callers hit."""

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from reproduce import plots



def _pixels(path):
    """[h, w, 3] uint8 of a written PNG."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _dark_share(pixels, below=128):
    """Share of pixels darker than `below` in every channel (ink: text, lines, points)."""
    return float(np.mean(np.all(pixels < below, axis=-1)))


def _coloured_share(pixels):
    """Share of clearly coloured (not grey) pixels: the curves and samples, not text."""
    p = pixels.astype(int)
    return float(np.mean(p.max(axis=-1) - p.min(axis=-1) > 60))


def _ring(n, rng):
    angles = rng.integers(0, 8, n) * np.pi / 4
    return 2 * np.stack([np.cos(angles), np.sin(angles)], 1) + 0.05 * rng.standard_normal((n, 2))


def test_line_chart_size_and_curves(tmp_path):
    steps = np.arange(200)
    series = [("d_loss", steps, 1.3 + np.sin(steps / 20)), ("g_loss", steps, 0.7 + 0.001 * steps)]
    path = str(tmp_path / "sub" / "losses.png")            # folder made on the way
    assert plots.line_chart(path, series, title="losses", width=500, height=260, smooth=10) == path
    pixels = _pixels(path)
    assert pixels.shape == (260, 500, 3)
    assert _coloured_share(pixels) > 0.005 and _dark_share(pixels) > 0.005
    assert not [f for f in os.listdir(tmp_path / "sub") if f != "losses.png"]   # no temp file


@pytest.mark.parametrize("series", [
    [("one point", [5], [0.3])],
    [("with NaN", np.arange(50), np.where(np.arange(50) % 7 == 0, np.nan, 1.0 + np.arange(50)))],
    [("flat", np.arange(30), np.full(30, 2.0)), ("all NaN", np.arange(3), np.full(3, np.nan))],
    [("inf", [0, 1, 2], [1.0, np.inf, 2.0])],
], ids=["single-point", "nan", "flat-and-all-nan", "inf"])
def test_line_chart_edge_cases(series, tmp_path):
    path = str(tmp_path / "edge.png")
    plots.line_chart(path, series, smooth=5)
    pixels = _pixels(path)
    assert pixels.shape == (340, 720, 3)
    assert _coloured_share(pixels) > 0                     # the point or curve is drawn


def test_line_chart_of_nothing_still_writes_a_figure(tmp_path):
    path = str(tmp_path / "empty.png")
    plots.line_chart(path, [], title="nothing")
    assert _pixels(path).shape == (340, 720, 3) and _dark_share(_pixels(path)) > 0


def test_scatter_panels_grid_size_and_samples(tmp_path):
    rng = np.random.default_rng(0)
    real = rng.uniform(-2, 2, (500, 2))                    # mostly apart from the samples
    panels = [[_ring(300, rng) for _ in range(3)] for _ in range(2)]
    path = str(tmp_path / "toy.png")
    plots.scatter_panels(path, real, panels, row_labels=["gan", "wgan_gp"], extent=2.4,
                         size=100, label_width=80, col_labels=["seed 0", "seed 1", "seed 2"])
    pixels = _pixels(path)
    assert pixels.shape == (24 + 2 * 100 + 8, 80 + 3 * 100, 3)
    assert _coloured_share(pixels) > 0.01
    grey = np.all(np.abs(pixels.astype(int) - 200) < 6, axis=-1)   # the real data
    assert grey.mean() > 0.001


def test_scatter_panels_one_panel_nan_and_far_points(tmp_path):
    real = np.array([[0.0, 0.0], [1.0, 1.0]])
    samples = np.array([[0.5, 0.5], [np.nan, 0.0], [np.inf, 1.0], [100.0, 100.0]])
    path = str(tmp_path / "one.png")
    plots.scatter_panels(path, real, [[samples]], extent=2.0, size=120, label_width=10)
    pixels = _pixels(path)
    assert pixels.shape == (8 + 120 + 8, 10 + 120, 3)
    assert _coloured_share(pixels) > 0                     # the one finite, in-view sample


def test_a_panel_says_how_many_samples_it_cannot_show(tmp_path):
    samples = np.array([[0.5, 0.5], [np.nan, 0.0], [np.inf, 1.0], [100.0, 100.0]])
    assert plots.outside_share(samples, 2.0) == 0.75
    assert plots.outside_label(0.75) == "75% outside the view"
    assert plots.outside_label(0.001) == "<1% outside the view"
    assert plots.outside_label(0.0) is None and plots.outside_share(np.zeros((0, 2)), 1) == 0
    # drawn: a panel whose samples are all far away is no longer blank
    far, near = str(tmp_path / "far.png"), str(tmp_path / "near.png")
    for path, points in [(far, np.full((50, 2), 100.0)), (near, np.zeros((50, 2)))]:
        plots.scatter_panels(path, np.zeros((0, 2)), [[points]], extent=2.0, size=120,
                             label_width=10)
    assert _dark_share(_pixels(far)) > _dark_share(_pixels(near))


def test_scatter_panels_ragged_rows(tmp_path):
    rng = np.random.default_rng(1)
    path = str(tmp_path / "ragged.png")
    plots.scatter_panels(path, _ring(50, rng), [[_ring(50, rng)], [_ring(50, rng)] * 2],
                         row_labels=["a", "b"], size=60, label_width=30)
    assert _pixels(path).shape == (8 + 2 * 60 + 8, 30 + 2 * 60, 3)


def test_image_row_size_labels_and_nan(tmp_path):
    images = np.zeros((4, 6, 5))
    images[:, 2:4, 1:4] = 1.0
    images[3] = np.nan                                     # black, no error
    path = str(tmp_path / "means.png")
    plots.image_row(path, images, labels=["G 0", "G 1", "real 0", "real 1"], scale=4, columns=2)
    pixels = _pixels(path)
    assert pixels.shape == (2 * (6 * 4 + 8 + 14), 2 * (5 * 4 + 8), 3)
    # the first image: black with a white 2x3 block, scaled by 4, at (4, 4) of its cell
    first = pixels[4:4 + 24, 4:4 + 20]
    assert np.all(first[8:16, 4:16] > 200) and np.all(first[:8] < 50)
    assert np.all(pixels[(6 * 4 + 8 + 14) + 4:(6 * 4 + 8 + 14) + 4 + 24, 28 + 4:28 + 24] < 50)


def test_image_row_one_image_no_labels(tmp_path):
    path = str(tmp_path / "one.png")
    plots.image_row(path, np.full((1, 3, 3, 1), 0.5), scale=2)
    pixels = _pixels(path)
    assert pixels.shape == (3 * 2 + 8, 3 * 2 + 8, 3)
    assert np.all(np.abs(pixels[4:10, 4:10].astype(int) - 128) < 3)


def test_figures_need_no_display(tmp_path):
    """A fresh interpreter with no DISPLAY (and no MPLBACKEND) draws all three."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY",
                                                            "MPLBACKEND")}
    code = ("import sys, numpy as np; from reproduce import plots; "
            "plots.line_chart(sys.argv[1] + '/a.png', [('x', [0, 1], [1, 2])]); "
            "plots.scatter_panels(sys.argv[1] + '/b.png', np.zeros((3, 2)), [[np.ones((3, 2))]]); "
            "plots.image_row(sys.argv[1] + '/c.png', np.ones((2, 4, 4)), labels=['a', 'b'])")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "pyplot" not in done.stderr
    assert sorted(os.listdir(tmp_path)) == ["a.png", "b.png", "c.png"]
