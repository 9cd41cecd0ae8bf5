"""Shared fixtures: tiny datasets and run folders, so tests stay fast on 2 CPU cores."""

import gzip
import os
import struct
import sys
import types

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)


def blobs(n, size=28, seed=0):
    """n [size, size, 1] float images in [0, 1]: a bright blob on black, labelled 0..9."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    labels = np.arange(n) % 10
    images = np.empty((n, size, size, 1), np.float32)
    for i in range(n):
        cy, cx = rng.uniform(size * 0.3, size * 0.7, 2)
        r = 2 + labels[i] * size / 40.0
        images[i, ..., 0] = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
    return images, labels.astype(np.int64)


def fake_dataset(n=48, size=28, seed=0):
    images, labels = blobs(n, size, seed)
    return types.SimpleNamespace(name="fake", source="fake blobs", images=images,
                                 labels=labels, num_classes=10)


def write_idx(folder, images, labels, split="train"):
    """Write uint8 images [N, 28, 28] and labels [N] as gzipped IDX files."""
    os.makedirs(folder, exist_ok=True)
    prefix = "train" if split == "train" else "t10k"
    n = len(images)
    with gzip.open(os.path.join(folder, "%s-images-idx3-ubyte.gz" % prefix), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 28, 28) + np.asarray(images, np.uint8).tobytes())
    with gzip.open(os.path.join(folder, "%s-labels-idx1-ubyte.gz" % prefix), "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + np.asarray(labels, np.uint8).tobytes())


@pytest.fixture
def tiny_mnist_dir(tmp_path):
    """A folder holding mnist/ with 40 train + 24 test blob 'digits' as IDX .gz."""
    images, labels = blobs(64)
    pixels = (images[..., 0] * 255).astype(np.uint8)
    folder = tmp_path / "data" / "mnist"
    write_idx(str(folder), pixels[:40], labels[:40], "train")
    write_idx(str(folder), pixels[40:], labels[40:], "test")
    return tmp_path / "data"


@pytest.fixture
def run_dirs(tmp_path):
    """Output folders of one run as config keyword arguments."""
    return dict(checkpoint_dir=str(tmp_path / "checkpoint"), result_dir=str(tmp_path / "results"),
                log_dir=str(tmp_path / "logs"))


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Never write to the user's cache from a test."""
    monkeypatch.setenv("GAN_REPRO_CACHE_DIR", str(tmp_path / "cache"))
