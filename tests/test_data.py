"""Tests for data.py: IDX parsing, lookup, download, array cache, image folders."""
import gzip
import hashlib
import os
import struct
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import data
from errors import ConfigError, DataError, GanReproError

_REAL_URLOPEN = data._urlopen
_REAL_GAN_DATA_DIR = os.environ.get("GAN_DATA_DIR")
ALL_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Private cache, no GAN_DATA_DIR, no system folder, no network."""
    monkeypatch.setenv("GAN_REPRO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("GAN_DATA_DIR", raising=False)
    monkeypatch.delenv("GAN_REPRO_OFFLINE", raising=False)
    monkeypatch.setattr(data, "SYSTEM_DATA_DIR", tmp_path / "system")
    monkeypatch.setattr(data, "_cache_warned", False)

    def no_network(url):
        raise OSError(f"network disabled in tests: {url}")
    monkeypatch.setattr(data, "_urlopen", no_network)


def write_idx(path, array, gz=True):
    array = np.asarray(array, np.uint8)
    raw = struct.pack(">I", 0x800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    raw += array.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


def make_idx(folder, seed=0, splits=("train", "test"), gz=True):
    """Writes 20 train + 10 test random 28x28 digits; returns {split: (images, labels)}."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in (("train", 20), ("test", 10)):
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, n, dtype=np.uint8)
        if split in splits:
            img_base, lab_base = data._IDX_FILES[split]
            suffix = ".gz" if gz else ""
            write_idx(folder / (img_base + suffix), x, gz)
            write_idx(folder / (lab_base + suffix), y, gz)
        arrays[split] = (x, y)
    return arrays


def patch_checksums(monkeypatch, folder, name="mnist", raw=False):
    """Makes the checksum table match the fixture files in folder (gz or raw md5)."""
    table = {}
    for base in data.CHECKSUMS[name]:
        blob = (folder / (base + ".gz")).read_bytes()
        table[base] = ("0" * 32, hashlib.md5(gzip.decompress(blob)).hexdigest()) if raw \
            else (hashlib.md5(blob).hexdigest(), None)
    monkeypatch.setitem(data.CHECKSUMS, name, table)


# ------------------------------------------------------------------ parsing
def test_parse_shapes_order_and_concatenation(tmp_path):
    arrays = make_idx(tmp_path / "d")
    ds = data.load_idx_dataset("mnist", data_dir=tmp_path / "d")
    assert ds.images.shape == (30, 28, 28, 1) and ds.images.dtype == np.float32
    assert ds.labels.shape == (30,) and ds.labels.dtype == np.int64
    assert ds.images.min() >= 0.0 and ds.images.max() <= 1.0
    expected = np.concatenate([arrays["train"][0], arrays["test"][0]]) / 255.0
    np.testing.assert_allclose(ds.images[..., 0], expected, atol=1e-7)
    expected_labels = np.concatenate([arrays["train"][1], arrays["test"][1]])
    np.testing.assert_array_equal(ds.labels, expected_labels)
    assert ds.name == "mnist" and ds.num_classes == 10
    assert ds.class_names == [str(i) for i in range(10)]
    assert ds.source == str(tmp_path / "d")


def test_test_split_only_needs_test_files(tmp_path):
    arrays = make_idx(tmp_path / "d", splits=("test",))
    ds = data.load_idx_dataset("mnist", data_dir=tmp_path / "d", splits=("test",))
    assert ds.images.shape == (10, 28, 28, 1)
    np.testing.assert_allclose(ds.images[..., 0], arrays["test"][0] / 255.0, atol=1e-7)
    np.testing.assert_array_equal(ds.labels, arrays["test"][1])


def test_uncompressed_files_and_fashion_names(tmp_path):
    make_idx(tmp_path / "d", gz=False)
    ds = data.load_idx_dataset("fashion-mnist", data_dir=tmp_path / "d")
    assert len(ds.images) == 30
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot"


# ------------------------------------------------------------------- lookup
def test_data_dir_with_name_subfolder(tmp_path):
    make_idx(tmp_path / "root" / "mnist")
    ds = data.load_idx_dataset("mnist", data_dir=tmp_path / "root")
    assert len(ds.images) == 30 and ds.source == str(tmp_path / "root" / "mnist")


def test_gan_data_dir(tmp_path, monkeypatch):
    make_idx(tmp_path / "shared" / "mnist")
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path / "shared"))
    ds = data.load_idx_dataset("mnist", download=False)
    assert ds.source == str(tmp_path / "shared" / "mnist")


def test_cache_folder_and_system_folder(tmp_path):
    make_idx(data.cache_root() / "mnist")
    ds = data.load_idx_dataset("mnist", download=False)
    assert ds.source == str(tmp_path / "cache" / "mnist")
    make_idx(tmp_path / "system" / "fashion-mnist")
    ds = data.load_idx_dataset("fashion-mnist", download=False)
    assert ds.source == str(tmp_path / "system" / "fashion-mnist") and len(ds.labels) == 30


def test_lookup_order(tmp_path, monkeypatch):
    explicit = make_idx(tmp_path / "explicit", seed=1)
    shared = make_idx(tmp_path / "shared" / "mnist", seed=2)
    make_idx(data.cache_root() / "mnist", seed=3)
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path / "shared"))
    ds = data.load_idx_dataset("mnist", data_dir=tmp_path / "explicit")
    np.testing.assert_array_equal(ds.labels[:20], explicit["train"][1])
    ds = data.load_idx_dataset("mnist")
    np.testing.assert_array_equal(ds.labels[:20], shared["train"][1])


def test_explicit_data_dir_missing_files_is_an_error(tmp_path, monkeypatch):
    make_idx(tmp_path / "partial", splits=("train",))
    make_idx(tmp_path / "shared" / "mnist")  # complete, but must not be used
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path / "shared"))
    with pytest.raises(DataError) as err:
        data.load_idx_dataset("mnist", data_dir=tmp_path / "partial")
    msg = str(err.value)
    assert "t10k-images-idx3-ubyte.gz" in msg and "t10k-labels-idx1-ubyte.gz" in msg
    assert "train-images" not in msg and str(tmp_path / "partial") in msg
    with pytest.raises(DataError, match="does not exist"):
        data.load_idx_dataset("mnist", data_dir=tmp_path / "nowhere")


# ----------------------------------------------------------------- download
def test_download_from_file_mirror(tmp_path, monkeypatch):
    arrays = make_idx(tmp_path / "mirror")
    patch_checksums(monkeypatch, tmp_path / "mirror")
    monkeypatch.setattr(data, "_urlopen", _REAL_URLOPEN)
    ds = data.load_idx_dataset("mnist", mirrors=[(tmp_path / "mirror").as_uri() + "/"])
    cache = data.cache_root() / "mnist"
    assert sorted(os.listdir(cache)) == sorted(ALL_FILES)  # no temp files left behind
    assert ds.source == str(cache)
    np.testing.assert_array_equal(ds.labels[20:], arrays["test"][1])
    for f in ALL_FILES:
        assert (cache / f).read_bytes() == (tmp_path / "mirror" / f).read_bytes()
    assert len(data.load_idx_dataset("mnist", download=False).labels) == 30  # now found in cache


def test_download_accepts_decompressed_md5(tmp_path, monkeypatch):
    make_idx(tmp_path / "mirror")
    patch_checksums(monkeypatch, tmp_path / "mirror", raw=True)
    monkeypatch.setattr(data, "_urlopen", _REAL_URLOPEN)
    ds = data.load_idx_dataset("mnist", mirrors=[(tmp_path / "mirror").as_uri()])
    assert len(ds.labels) == 30


def test_bad_checksum_falls_to_next_mirror(tmp_path, monkeypatch):
    make_idx(tmp_path / "good")
    make_idx(tmp_path / "bad", seed=9)
    patch_checksums(monkeypatch, tmp_path / "good")
    urls = []

    def transport(url):
        urls.append(url)
        return _REAL_URLOPEN(url)
    mirrors = [(tmp_path / "bad").as_uri(), (tmp_path / "good").as_uri()]
    ds = data.load_idx_dataset("mnist", mirrors=mirrors, transport=transport)
    assert len(ds.labels) == 30 and len(urls) == 8
    assert (data.cache_root() / "mnist" / ALL_FILES[0]).read_bytes() == \
        (tmp_path / "good" / ALL_FILES[0]).read_bytes()


def test_download_fetches_only_missing_files(tmp_path, monkeypatch):
    make_idx(tmp_path / "mirror")
    patch_checksums(monkeypatch, tmp_path / "mirror")
    make_idx(data.cache_root() / "mnist", splits=("train",))  # half there already
    urls = []

    def transport(url):
        urls.append(url.rsplit("/", 1)[1])
        return _REAL_URLOPEN(url)
    ds = data.load_idx_dataset("mnist", mirrors=[(tmp_path / "mirror").as_uri()],
                               transport=transport)
    assert sorted(urls) == sorted(ALL_FILES[2:]) and len(ds.labels) == 30


def test_all_mirrors_bad_checksum(tmp_path, monkeypatch):
    make_idx(tmp_path / "bad")
    wrong = {b: ("0" * 32, "1" * 32) for b in data.CHECKSUMS["mnist"]}
    monkeypatch.setitem(data.CHECKSUMS, "mnist", wrong)
    with pytest.raises(DataError, match="checksum mismatch") as err:
        data.load_idx_dataset("mnist", mirrors=[(tmp_path / "bad").as_uri()],
                              transport=_REAL_URLOPEN)
    assert "MNIST not found" in str(err.value)
    cache = data.cache_root() / "mnist"
    assert not cache.exists() or os.listdir(cache) == []


def test_offline_gives_one_clear_message(tmp_path):
    def offline(url):
        raise OSError("Name or service not known")
    with pytest.raises(DataError) as err:
        data.load_idx_dataset("mnist", transport=offline)
    msg = str(err.value)
    assert "\n" not in msg and all(f in msg for f in ALL_FILES)
    assert str(tmp_path / "cache" / "mnist") in msg
    assert "GAN_DATA_DIR" in msg and "--data-dir" in msg
    assert "Name or service not known" in msg


def test_download_disabled(monkeypatch):
    calls = []
    with pytest.raises(DataError, match="download=False") as err:
        data.load_idx_dataset("fashion-mnist", splits=("test",), download=False,
                              transport=calls.append)
    assert "apt-get install dataset-fashion-mnist" in str(err.value)
    assert "t10k-labels-idx1-ubyte.gz" in str(err.value) and "train-images" not in str(err.value)
    monkeypatch.setenv("GAN_REPRO_OFFLINE", "1")
    with pytest.raises(DataError, match="GAN_REPRO_OFFLINE"):
        data.load_idx_dataset("mnist", transport=calls.append)
    assert calls == []


# -------------------------------------------------------------- array cache
def count_calls(monkeypatch, name):
    calls = []
    original = getattr(data, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)
    monkeypatch.setattr(data, name, counted)
    return calls


def test_array_cache_skips_parsing(tmp_path, monkeypatch):
    make_idx(tmp_path / "d")
    calls = count_calls(monkeypatch, "_parse_idx")
    first = data.load_idx_dataset("mnist", data_dir=tmp_path / "d")
    assert len(calls) == 4 and len(list((data.cache_root() / "arrays").glob("*.npz"))) == 1
    second = data.load_idx_dataset("mnist", data_dir=tmp_path / "d")
    assert len(calls) == 4
    np.testing.assert_array_equal(first.images, second.images)
    np.testing.assert_array_equal(first.labels, second.labels)
    assert second.images.dtype == np.float32 and second.labels.dtype == np.int64
    data.load_idx_dataset("mnist", data_dir=tmp_path / "d", splits=("test",))  # another key
    assert len(calls) == 6
    st = os.stat(tmp_path / "d" / ALL_FILES[0])  # a touched file is decoded again
    os.utime(tmp_path / "d" / ALL_FILES[0], ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    data.load_idx_dataset("mnist", data_dir=tmp_path / "d")
    assert len(calls) == 10


def test_corrupt_array_cache_is_ignored(tmp_path, monkeypatch):
    make_idx(tmp_path / "d")
    first = data.load_idx_dataset("mnist", data_dir=tmp_path / "d")
    (npz,) = (data.cache_root() / "arrays").glob("*.npz")
    npz.write_bytes(b"not a zip file")
    calls = count_calls(monkeypatch, "_parse_idx")
    second = data.load_idx_dataset("mnist", data_dir=tmp_path / "d")
    assert len(calls) == 4
    np.testing.assert_array_equal(first.images, second.images)
    with np.load(npz) as z:  # rewritten
        assert z["images"].shape == (30, 28, 28, 1)
    np.savez(npz, images=np.zeros((3, 4)), labels=np.zeros(2))  # readable, wrong shapes
    third = data.load_idx_dataset("mnist", data_dir=tmp_path / "d")
    assert len(calls) == 8
    np.testing.assert_array_equal(first.labels, third.labels)


def test_unwritable_cache_only_warns_once(tmp_path, monkeypatch, capsys):
    make_idx(tmp_path / "d")
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("GAN_REPRO_CACHE_DIR", str(tmp_path / "file" / "cache"))
    for _ in range(2):
        assert len(data.load_idx_dataset("mnist", data_dir=tmp_path / "d").labels) == 30
    assert capsys.readouterr().err.count("not caching") == 1


# ----------------------------------------------------------------- bad data
def _truncated_gz(folder):
    p = folder / ALL_FILES[0]
    p.write_bytes(p.read_bytes()[:200])
    return ALL_FILES[0]


def _truncated_content(folder):
    raw = gzip.decompress((folder / ALL_FILES[2]).read_bytes())
    (folder / ALL_FILES[2]).write_bytes(gzip.compress(raw[:-100]))
    return ALL_FILES[2]


def _wrong_magic(folder):
    write_idx(folder / ALL_FILES[1], np.zeros((20, 28, 28)))  # images where labels belong
    return ALL_FILES[1]


def _count_mismatch(folder):
    write_idx(folder / ALL_FILES[3], np.zeros(9))
    return ALL_FILES[3]


def _label_out_of_range(folder):
    write_idx(folder / ALL_FILES[1], np.full(20, 10))
    return ALL_FILES[1]


@pytest.mark.parametrize("corrupt", [_truncated_gz, _truncated_content, _wrong_magic,
                                     _count_mismatch, _label_out_of_range])
def test_bad_idx_files(tmp_path, corrupt):
    make_idx(tmp_path / "d")
    bad_name = corrupt(tmp_path / "d")
    with pytest.raises(DataError) as err:
        data.load_idx_dataset("mnist", data_dir=tmp_path / "d")
    assert bad_name in str(err.value) and "\n" not in str(err.value)


# ------------------------------------------------------------ image folders
def save(path, array, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array, np.uint8), mode).save(path)
    return path


def test_class_subfolders(tmp_path):
    save(tmp_path / "f" / "dog" / "c.png", np.zeros((8, 8)))
    save(tmp_path / "f" / "cat" / "a.png", np.zeros((8, 8)))
    save(tmp_path / "f" / "cat" / "b.jpg", np.zeros((8, 8, 3)))
    save(tmp_path / "f" / "cat" / ".hidden.png", np.zeros((8, 8)))
    (tmp_path / "f" / "cat" / "notes.txt").write_text("not an image")
    (tmp_path / "f" / "empty").mkdir()
    ds = data.load_image_folder(tmp_path / "f", split="all")
    assert ds.class_names == ["cat", "dog"] and ds.num_classes == 2
    assert ds.images.shape == (3, 28, 28, 1) and ds.images.dtype == np.float32
    assert sorted(ds.labels.tolist()) == [0, 0, 1] and ds.labels.dtype == np.int64
    assert ds.name == f"folder:{tmp_path / 'f'}" and ds.source == str(tmp_path / "f")


def test_flat_folder_is_one_class(tmp_path):
    for i in range(3):
        save(tmp_path / "sprites" / f"{i}.png", np.full((8, 8, 3), 40 * i))
    save(tmp_path / "sprites" / "female" / "0.png", np.zeros((8, 8, 3)))  # ignored, as in pokemon/
    ds = data.load_image_folder(tmp_path / "sprites", size=(4, 4), channels=3, split="all")
    assert ds.class_names == ["sprites"] and ds.num_classes == 1
    assert ds.images.shape == (3, 4, 4, 3) and (ds.labels == 0).all()


def test_rgba_composited_on_white(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)  # fully transparent black
    rgba[0, 0] = (255, 0, 0, 255)  # opaque red
    rgba[0, 1] = (0, 0, 0, 128)  # half-transparent black
    save(tmp_path / "f" / "s.png", rgba, "RGBA")
    rgb = data.load_image_folder(tmp_path / "f", size=(4, 4), channels=3, split="all").images[0]
    np.testing.assert_allclose(rgb[3, 3], [1.0, 1.0, 1.0], atol=1e-4)
    np.testing.assert_allclose(rgb[0, 0], [1.0, 0.0, 0.0], atol=1e-4)
    np.testing.assert_allclose(rgb[0, 1], [127 / 255] * 3, atol=1e-3)
    gray = data.load_image_folder(tmp_path / "f", size=(4, 4), preprocess="none", split="all")
    assert abs(gray.images[0, 3, 3, 0] - 1.0) < 1e-4


def test_mixed_modes_and_sizes(tmp_path):
    folder = tmp_path / "mixed"
    save(folder / "rgb.png", np.full((30, 20, 3), 200), "RGB")
    save(folder / "gray.png", np.full((10, 10), 50), "L")
    save(folder / "la.png", np.zeros((12, 12, 2)), "LA")  # transparent -> white
    pal = Image.new("P", (9, 7), 0)
    pal.putpalette([0, 0, 255, 255, 0, 0] + [0] * 762)
    pal.putpixel((0, 0), 1)
    pal.save(folder / "pal.png", transparency=0)  # index 0 transparent, index 1 red
    Image.new("P", (5, 5), 0).save(folder / "pal.gif")
    ds = data.load_image_folder(folder, size=(16, 16), channels=3, preprocess="none", split="all")
    assert ds.images.shape == (5, 16, 16, 3)
    assert ds.images.min() >= 0.0 and ds.images.max() <= 1.0
    gray = data.load_image_folder(folder, size=(16, 16), channels=1, preprocess="none", split="all")
    assert gray.images.shape == (5, 16, 16, 1)
    by_name = data.load_image_folder(folder, size=(7, 9), channels=3, val_fraction=0.0, split="all",
                                     preprocess="none")
    files = sorted(p.name for p in folder.iterdir())  # file order before the shuffle
    order = np.random.default_rng(0).permutation(5)
    pal_img = by_name.images[list(order).index(files.index("pal.png"))]
    np.testing.assert_allclose(pal_img[6, 8], [1, 1, 1], atol=1e-4)  # transparent index -> white
    la_img = by_name.images[list(order).index(files.index("la.png"))]
    np.testing.assert_allclose(la_img, 1.0, atol=1e-4)


def test_blog_preprocessing(tmp_path):
    img = np.full((8, 8), 255, np.uint8)  # white background
    img[2:6, 3] = 0  # black stroke
    img[0, 0], img[0, 1], img[0, 2] = 100, 200, 126
    save(tmp_path / "d" / "7" / "x.png", img, "L")
    ds = data.load_image_folder(tmp_path / "d", size=(8, 8), channels=1, split="all")
    out = ds.images[0, ..., 0]
    assert abs(out[7, 7]) < 1e-3 and abs(out[0, 1]) < 1e-3  # >= 127 -> 0
    np.testing.assert_allclose(out[2:6, 3], 1.0, atol=1e-3)
    assert abs(out[0, 0] - 155 / 255) < 1e-3 and abs(out[0, 2] - 129 / 255) < 1e-3
    plain = data.load_image_folder(tmp_path / "d", size=(8, 8), preprocess="none", split="all")
    assert abs(plain.images[0, 0, 0, 0] - 100 / 255) < 1e-3
    assert abs(plain.images[0, 7, 7, 0] - 1.0) < 1e-3
    small = data.load_image_folder(tmp_path / "d", size=(4, 4), split="all")
    assert small.images.shape == (1, 4, 4, 1) and small.images.max() <= 1.0


def test_split_sizes_and_determinism(tmp_path):
    for i in range(10):
        save(tmp_path / "f" / f"{i:02d}.png", np.full((4, 4), 20 * i))
    kw = dict(size=(4, 4), preprocess="none")
    train = data.load_image_folder(tmp_path / "f", split="train", **kw)
    val = data.load_image_folder(tmp_path / "f", split="val", **kw)
    assert len(train.images) == 8 and len(val.images) == 2

    def means(ds):
        return np.round(ds.images.mean(axis=(1, 2, 3)) * 255).astype(int).tolist()

    assert sorted(means(train) + means(val)) == [20 * i for i in range(10)]
    assert means(train) == means(data.load_image_folder(tmp_path / "f", split="train", **kw))
    assert means(data.load_image_folder(tmp_path / "f", split="all", seed=1, **kw)) != \
        means(data.load_image_folder(tmp_path / "f", split="all", seed=0, **kw))
    half = data.load_image_folder(tmp_path / "f", split="val", val_fraction=0.5, **kw)
    assert len(half.images) == 5


def test_folder_cache_is_split_independent(tmp_path, monkeypatch):
    for i in range(5):
        save(tmp_path / "f" / f"{i}.png", np.full((6, 6), 30 * i))
    calls = count_calls(monkeypatch, "_decode_image")
    first = data.load_image_folder(tmp_path / "f", split="train")
    assert len(calls) == 5
    again = data.load_image_folder(tmp_path / "f", split="train")
    data.load_image_folder(tmp_path / "f", split="val", seed=3)
    assert len(calls) == 5
    np.testing.assert_array_equal(first.images, again.images)
    data.load_image_folder(tmp_path / "f", split="train", size=(8, 8))  # another size
    assert len(calls) == 10


def test_bad_image_folders(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no images found in"):
        data.load_image_folder(tmp_path / "empty")
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "a.txt").write_text("hello")
    with pytest.raises(DataError, match="no images found in .*text"):
        data.load_image_folder(tmp_path / "text")
    with pytest.raises(DataError, match="does not exist"):
        data.load_image_folder(tmp_path / "missing")
    save(tmp_path / "bad" / "ok.png", np.zeros((4, 4)))
    (tmp_path / "bad" / "x.png").write_bytes(b"\x89PNG garbage bytes")
    with pytest.raises(DataError, match=r"cannot read image .*x\.png"):
        data.load_image_folder(tmp_path / "bad")
    save(tmp_path / "one" / "ok.png", np.zeros((4, 4)))
    with pytest.raises(DataError, match="is empty"):
        data.load_image_folder(tmp_path / "one", split="val", val_fraction=0.0)


# --------------------------------------------------------- dispatcher, misc
def test_load_dataset_dispatch(tmp_path):
    make_idx(tmp_path / "d")
    ds = data.load_dataset("MNIST", data_dir=tmp_path / "d", splits=("test",))
    assert ds.images.shape[0] == 10
    save(tmp_path / "f" / "a.png", np.zeros((5, 5)))
    assert data.load_dataset("folder", data_dir=tmp_path / "f", split="all").class_names == ["f"]
    assert data.load_dataset(f"folder:{tmp_path / 'f'}", split="all").num_classes == 1
    with pytest.raises(ConfigError):
        data.load_dataset("cifar10")
    with pytest.raises(GanReproError, match="--data-dir"):
        data.load_dataset("folder")
    with pytest.raises(ConfigError):
        data.load_idx_dataset("mnist", data_dir=tmp_path / "d", splits=("validation",))


def test_cache_root_env(monkeypatch, tmp_path):
    assert data.cache_root() == tmp_path / "cache"
    monkeypatch.delenv("GAN_REPRO_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.cache_root() == tmp_path / "xdg" / "gan-repro"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.cache_root() == tmp_path / "home" / ".cache" / "gan-repro"


def test_does_not_import_tensorflow():
    code = "import sys, data; assert 'tensorflow' not in sys.modules, 'tensorflow imported'"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)


# ----------------------------------------------------------------- real data
def test_real_mnist_test_split(monkeypatch):
    if _REAL_GAN_DATA_DIR:
        monkeypatch.setenv("GAN_DATA_DIR", _REAL_GAN_DATA_DIR)
    monkeypatch.setattr(data, "SYSTEM_DATA_DIR", data.pathlib.Path("/usr/share/datasets"))
    monkeypatch.setattr(data, "_urlopen", _REAL_URLOPEN)
    ds = data.load_idx_dataset("mnist", splits=("test",))
    assert ds.images.shape == (10000, 28, 28, 1) and ds.images.dtype == np.float32
    counts = np.bincount(ds.labels, minlength=10)
    assert counts.sum() == 10000 and len(counts) == 10 and counts.min() > 800
    assert 0.0 <= ds.images.min() and ds.images.max() == 1.0
