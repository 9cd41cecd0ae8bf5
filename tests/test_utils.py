"""utils.py: grids (range, layout, gray and RGB), RNG streams, JSON files."""

import json
import os

import numpy as np
import pytest
from skimage import io as skio

import utils


def test_grid_layout_puts_image_i_at_row_i_div_cols():
    images = np.stack([np.full((2, 3, 1), i / 9.0, np.float32) for i in range(10)])
    grid = utils.make_grid(images, grid_size=(3, 4))
    assert grid.shape == (6, 12, 1) and grid.dtype == np.uint8
    for i in range(10):
        r, c = divmod(i, 4)
        assert np.all(grid[2 * r:2 * r + 2, 3 * c:3 * c + 3] == round(i / 9.0 * 255))
    assert np.all(grid[4:, 6:] == 0)   # cells past the last image stay black


def test_grid_default_shape_is_8x8_for_64():
    assert utils.grid_shape(64) == (8, 8)
    assert utils.grid_shape(10) == (3, 4)
    assert utils.grid_shape(1) == (1, 1)


def test_exact_mapping_uses_full_range_for_sigmoid_and_tanh():
    sig = np.array([0.0, 0.5, 1.0], np.float32).reshape(1, 1, 3, 1)
    assert list(utils.to_uint8(sig, (0, 1)).ravel()) == [0, 128, 255]
    tanh = np.array([-1.0, 0.0, 1.0], np.float32).reshape(1, 1, 3, 1)
    assert list(utils.to_uint8(tanh, (-1, 1)).ravel()) == [0, 128, 255]


def test_blog_mapping_washes_out_sigmoid_samples():
    sig = np.array([0.0, 1.0], np.float32).reshape(1, 1, 2, 1)
    # 0.5 * x + 0.5: black becomes mid-grey
    assert list(utils.to_uint8(sig, (0, 1), mapping="blog").ravel()) == [128, 255]


def test_save_grid_writes_grayscale_and_rgb_png(tmp_path):
    gray = np.random.default_rng(0).random((64, 28, 28, 1)).astype(np.float32)
    path = str(tmp_path / "sub" / "gray.png")
    written = utils.save_grid(path, gray)
    back = skio.imread(path)
    assert back.shape == (224, 224) and np.array_equal(back, written[..., 0])
    rgb = np.random.default_rng(1).uniform(-1, 1, (6, 40, 40, 3)).astype(np.float32)
    path = str(tmp_path / "rgb.png")
    utils.save_grid(path, rgb, grid_size=(2, 3), value_range=(-1, 1), pad=2)
    assert skio.imread(path).shape == (82, 124, 3)
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp.png")]


def test_make_grid_rejects_too_small_grid_and_bad_shapes():
    with pytest.raises(ValueError):
        utils.make_grid(np.zeros((5, 4, 4, 1)), grid_size=(2, 2))
    with pytest.raises(ValueError):
        utils.make_grid(np.zeros((5, 4)))


def test_make_rng_streams_repeat_and_differ_by_key():
    a = utils.make_rng(7, "step", 3).random(4)
    assert np.array_equal(a, utils.make_rng(7, "step", 3).random(4))
    assert not np.array_equal(a, utils.make_rng(7, "step", 4).random(4))
    assert not np.array_equal(a, utils.make_rng(8, "step", 3).random(4))
    assert not np.array_equal(utils.make_rng(7, "sample_z").random(4),
                              utils.make_rng(7, "order").random(4))


def test_write_json_round_trip(tmp_path):
    path = str(tmp_path / "a" / "config.json")
    utils.write_json(path, {"b": 1, "a": [1, 2]})
    assert utils.read_json(path) == {"a": [1, 2], "b": 1}
    assert json.load(open(path)) == {"a": [1, 2], "b": 1}
    assert os.listdir(tmp_path / "a") == ["config.json"]


def test_onednn_kernels_are_on_by_default(monkeypatch):
    """tf_compat asks for TensorFlow's oneDNN CPU kernels before TensorFlow loads (the
    reference trajectories are recorded with them), unless the user chose otherwise."""
    import tf_compat
    if os.environ.get("TF_ENABLE_ONEDNN_OPTS") == "1":
        assert tf_compat.onednn_enabled()
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    assert not tf_compat.onednn_enabled()
