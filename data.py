"""Data loading for the GAN scripts: MNIST, Fashion-MNIST and folders of images.

Every loader returns a `Dataset`: float32 images in [0, 1] shaped [N, H, W, C] and
int64 labels (CycleGAN's two folders: a `TwoDomainDataset`, `load_two_domains`).
Nothing here imports TensorFlow.

IDX datasets ("mnist", "fashion-mnist") come from the first folder holding all files:
  1. the `data_dir` argument (holding the files, or `<name>/`); if given, it must have them;
  2. `$GAN_DATA_DIR/<name>/`;
  3. the per-user cache `cache_root()/<name>/`;
  4. `/usr/share/datasets/<name>/` (Debian's dataset-fashion-mnist package);
  5. else they are downloaded into the cache from the official mirrors and md5-checked,
     unless `download=False` or `GAN_REPRO_OFFLINE=1`.

Image folders are a flat `<path>/*.png|jpg|...` (one class; subfolders are then ignored)
or `<path>/<class>/*.png|jpg|...` (one class per subfolder, sorted by name).

Decoded arrays are cached in `cache_root()/arrays/<sha1>.npz`, keyed on the source files'
paths, sizes and mtimes, so a changed file is decoded again.
"""
import gzip
import hashlib
import http.client
import json
import os
import pathlib
import sys
import tempfile
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass, field

import numpy as np

from errors import ConfigError, DataError

IDX_DATASETS = ("mnist", "fashion-mnist")
SYSTEM_DATA_DIR = pathlib.Path("/usr/share/datasets")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
_CACHE_FORMAT = 1
_DISPLAY = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
# split -> (images file, labels file), without the ".gz"
_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
MIRRORS = {
    "mnist": ["https://storage.googleapis.com/cvdf-datasets/mnist/",
              "https://ossci-datasets.s3.amazonaws.com/mnist/"],
    "fashion-mnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
}
# Examples per split; the CHECKSUMS below pin the files, so these are facts of the sets.
IDX_SPLIT_SIZES = {"train": 60000, "test": 10000}      # MNIST and Fashion-MNIST alike
# file -> (md5 of the .gz file, md5 of the decompressed file); either one may match.
CHECKSUMS = {
    "mnist": {
        "train-images-idx3-ubyte": ("f68b3c2dcbeaaa9fbdd348bbdeb94873",
                                    "6bbc9ace898e44ae57da46a324031adb"),
        "train-labels-idx1-ubyte": ("d53e105ee54ea40749a09fcbcd1e9432",
                                    "a25bea736e30d166cdddb491f175f624"),
        "t10k-images-idx3-ubyte": ("9fb629c4189551a2d022fa330f9573f3",
                                   "2646ac647ad5339dbf082846283269ea"),
        "t10k-labels-idx1-ubyte": ("ec29112dd5afa0611ce80d1b7f02629c",
                                   "27ae3e4e09519cfbb04c329615203637"),
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte": ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", None),
        "train-labels-idx1-ubyte": ("25c81989df183df01b3e8a0aad5dffbe", None),
        "t10k-images-idx3-ubyte": ("bef4ecab320f06d8554ea6380940ec79", None),
        "t10k-labels-idx1-ubyte": ("bb300cfdad3c16e7a12a480ee83cd310", None),
    },
}
CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
}
_cache_warned = False


@dataclass
class Dataset:
    """A loaded data set.

    Attributes:
        name: "mnist", "fashion-mnist" or "folder:<abs path>".
        images: float32 [N, H, W, C], values in [0, 1].
        labels: int64 [N], class indices into `class_names`.
        num_classes: number of classes.
        class_names: list of str, one per class.
        source: where the files came from (a path).
    """
    name: str
    images: np.ndarray = field(repr=False)
    labels: np.ndarray = field(repr=False)
    num_classes: int
    class_names: list
    source: str


def cache_root():
    """The per-user cache folder: $GAN_REPRO_CACHE_DIR, else $XDG_CACHE_HOME/gan-repro,
    else ~/.cache/gan-repro (it may not exist yet)."""
    if os.environ.get("GAN_REPRO_CACHE_DIR"):
        return pathlib.Path(os.environ["GAN_REPRO_CACHE_DIR"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return pathlib.Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "gan-repro"
    return pathlib.Path.home() / ".cache" / "gan-repro"


# ----------------------------------------------------------------- array cache
def _cache_key(*parts):
    return hashlib.sha1(json.dumps([_CACHE_FORMAT, *parts]).encode()).hexdigest()


def _file_stamp(path):
    st = os.stat(path)
    return [os.path.abspath(path), st.st_size, st.st_mtime_ns]


def _load_cached(key):
    """Returns (images, labels) from the array cache, or None if absent or unreadable."""
    path = cache_root() / "arrays" / (key + ".npz")
    try:
        with np.load(path, allow_pickle=False) as z:
            images, labels = z["images"], z["labels"]
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error):
        return None
    if images.ndim != 4 or labels.shape != (len(images),):
        return None
    return images, labels


def _atomic_write(target, write):
    """Calls write(file) on a temp file beside target, then renames it to target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


def _save_cached(key, images, labels):
    """Writes the arrays to the cache; an unwritable cache only gives one warning."""
    global _cache_warned
    target = cache_root() / "arrays" / (key + ".npz")
    try:
        _atomic_write(target, lambda f: np.savez(f, images=images, labels=labels))
    except OSError as e:
        if not _cache_warned:
            print(f"warning: not caching decoded arrays in {target.parent}: {e}", file=sys.stderr)
            _cache_warned = True


def _as_float(images):
    if images.dtype == np.uint8:
        return np.divide(images, np.float32(255), dtype=np.float32)
    return images.astype(np.float32, copy=False)


# ---------------------------------------------------------------- IDX datasets
def _parse_idx(path, kind):
    """Parses one IDX file. kind "images" -> uint8 [N, H, W]; "labels" -> uint8 [N]."""
    try:
        data = pathlib.Path(path).read_bytes()
        data = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data  # gzip, whatever the name
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"cannot read {path}: {e}; delete it and get the file again") from e
    if not data:
        raise DataError(f"{path} is empty: delete it and get the file again")
    magic, ndim = (0x803, 3) if kind == "images" else (0x801, 1)
    got = int.from_bytes(data[:4], "big")
    if len(data) < 4 or got != magic:
        raise DataError(f"{path} is not an IDX {kind} file (magic number {got:#010x}, expected "
                        f"{magic:#010x}): replace it with the right file")
    header = 4 + 4 * ndim
    dims = np.frombuffer(data[4:header], ">u4").astype(int) if len(data) >= header else None
    if dims is None or len(data) != header + int(np.prod(dims)):
        raise DataError(f"{path} is truncated or has extra bytes ({len(data)} bytes, header says "
                        f"{dims if dims is None else dims.tolist()}): delete it and get it again")
    return np.frombuffer(data, np.uint8, offset=header).reshape(dims)


def _find_files(folder, bases):
    """Returns ({base: path}, [missing bases]) for IDX files in folder, .gz or not."""
    found = {}
    for base in bases:
        hits = [p for p in (folder / (base + ".gz"), folder / base) if p.is_file()]
        if hits:
            found[base] = hits[0]
    return found, [b for b in bases if b not in found]


def _download(name, folder, bases, mirrors, transport):
    """Downloads the missing .gz files into folder; returns None or the reason it failed."""
    for base in bases:
        target = pathlib.Path(folder) / (base + ".gz")
        if target.is_file():
            continue
        reasons = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + base + ".gz"
            try:
                print(f"downloading {url}", file=sys.stderr)
                blob = transport(url)
            except (OSError, ValueError, EOFError, http.client.HTTPException) as e:
                reasons.append(f"{url}: {e}")
                continue
            gz_md5, raw_md5 = CHECKSUMS.get(name, {}).get(base, (None, None))
            try:
                ok = hashlib.md5(blob).hexdigest() == gz_md5 or raw_md5 is not None and (
                    hashlib.md5(gzip.decompress(blob)).hexdigest() == raw_md5)
            except (OSError, EOFError, zlib.error):
                ok = False
            if not ok:
                reasons.append(f"{url}: checksum mismatch")
                continue
            try:
                _atomic_write(target, lambda f, blob=blob: f.write(blob))
            except OSError as e:
                return f"cannot write {target}: {e}"
            break
        else:
            return "; ".join(reasons) or "no mirror"
    return None


def _urlopen(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def _locate_idx(name, data_dir, bases, download, mirrors, transport):
    """Returns (folder, {base: path}) following the lookup order in the module docstring."""
    display, cache = _DISPLAY[name], cache_root() / name
    if data_dir is not None:
        data_dir = pathlib.Path(os.path.abspath(os.path.expanduser(data_dir)))
        if not data_dir.is_dir():
            raise DataError(f"data dir {data_dir} does not exist: pass a folder holding the "
                            f"{display} files (or a {name}/ folder)")
        for folder in (data_dir, data_dir / name):
            found, missing = _find_files(folder, bases)
            if not missing:
                return folder, found
        folder = data_dir / name if (data_dir / name).is_dir() else data_dir
        names = ", ".join(b + ".gz" for b in _find_files(folder, bases)[1])
        raise DataError(f"{display} files missing in {folder}: {names}; put them there or drop "
                        "--data-dir")
    folders = [cache, SYSTEM_DATA_DIR / name]
    if os.environ.get("GAN_DATA_DIR"):
        folders.insert(0, pathlib.Path(os.environ["GAN_DATA_DIR"]).expanduser() / name)
    for folder in folders:
        found, missing = _find_files(folder, bases)
        if not missing:
            return folder, found
    if not download:
        reason = "downloading is off (download=False)"
    elif os.environ.get("GAN_REPRO_OFFLINE", "") not in ("", "0"):
        reason = "downloading is off (GAN_REPRO_OFFLINE is set)"
    else:
        reason = _download(name, cache, bases, MIRRORS[name] if mirrors is None else mirrors,
                           transport or _urlopen)
        if reason is None:
            found, missing = _find_files(cache, bases)
            if not missing:
                return cache, found
            reason = f"download left files missing: {missing}"
    hint = " or apt-get install dataset-fashion-mnist," if name == "fashion-mnist" else ""
    message = (f"{display} not found: put {', '.join(b + '.gz' for b in bases)} into {cache} "
               f"(or pass --data-dir DIR,{hint} or set GAN_DATA_DIR to a folder holding "
               f"{name}/) [{reason}]")
    raise DataError(" ".join(message.split()))


def load_idx_dataset(name, data_dir=None, splits=("train", "test"), download=True,
                     mirrors=None, transport=None):
    """Loads MNIST or Fashion-MNIST from IDX files (see the module docstring for where).

    Args:
        name: "mnist" or "fashion-mnist".
        data_dir: optional folder holding the files, or holding `<name>/`.
        splits: which of "train" (60k) and "test" (10k) to concatenate, in this order.
        download: whether to download missing files into the cache.
        mirrors: base URLs to download from, instead of MIRRORS[name].
        transport: callable url -> bytes (default: urllib with a 30 s timeout).

    Returns:
        Dataset with images float32 [N, 28, 28, 1] in [0, 1] and labels int64 [N], in file order.

    Raises:
        DataError: files missing, corrupt, or not downloadable.
    """
    if name not in IDX_DATASETS:
        raise ConfigError(f"unknown IDX dataset {name!r}: use one of {', '.join(IDX_DATASETS)}")
    splits = tuple([splits] if isinstance(splits, str) else splits)
    if not splits or any(s not in _IDX_FILES for s in splits):
        raise ConfigError(f"bad splits {splits!r} for {name}: use 'train' and/or 'test'")
    bases = [b for s in splits for b in _IDX_FILES[s]]
    folder, paths = _locate_idx(name, data_dir, bases, download, mirrors, transport)
    key = _cache_key("idx", name, list(splits), [_file_stamp(paths[b]) for b in bases])
    cached = _load_cached(key)
    if cached is None:
        images, labels = [], []
        for split in splits:
            img_base, lab_base = _IDX_FILES[split]
            x, y = _parse_idx(paths[img_base], "images"), _parse_idx(paths[lab_base], "labels")
            if len(x) != len(y):
                raise DataError(f"{paths[img_base]} has {len(x)} images but {paths[lab_base]} "
                                f"has {len(y)} labels: replace them with a matching pair")
            if len(y) and y.max() > 9:
                raise DataError(f"{paths[lab_base]} has label {y.max()} outside 0..9: "
                                "replace it with the right file")
            if images and x.shape[1:] != images[0].shape[1:]:
                raise DataError(f"{paths[img_base]} has {x.shape[1:]} images, other splits "
                                f"{images[0].shape[1:]}: use files from one dataset")
            images.append(x)
            labels.append(y)
        cached = (np.concatenate(images)[..., None], np.concatenate(labels).astype(np.int64))
        _save_cached(key, *cached)
    return Dataset(name=name, images=_as_float(cached[0]), labels=cached[1].astype(np.int64),
                   num_classes=10, class_names=list(CLASS_NAMES[name]), source=str(folder))


# --------------------------------------------------------------- image folders
def _is_image(p):
    """An image file by its name (a broken link too: reading it then names it)."""
    return ((p.is_file() or p.is_symlink() and not p.is_dir()) and not p.name.startswith(".")
            and p.suffix.lower() in IMAGE_EXTENSIONS)


def _image_stamp(path):
    try:
        return _file_stamp(path)
    except OSError as e:
        raise DataError(f"cannot read image {path}: {e.strerror or e}; delete or replace "
                        "the file") from e


def _read_image(path):
    """Reads an image as float64 RGB [H, W, 3] in [0, 1], with any alpha composited on white."""
    from PIL import Image  # skimage/imageio do not handle palette transparency reliably
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode.startswith("I"):  # 16-bit grayscale: convert() would clip, not scale
                g = np.clip(np.asarray(im, dtype=np.float64) / 65535.0, 0.0, 1.0)
                return np.repeat(g[..., None], 3, axis=2)
            rgba = np.asarray(im.convert("RGBA"), dtype=np.float64) / 255.0
    except (OSError, ValueError, SyntaxError, EOFError, zlib.error,
            Image.DecompressionBombError) as e:
        raise DataError(f"cannot read image {path}: {e}; delete or replace the file") from e
    alpha = rgba[..., 3:]
    return rgba[..., :3] * alpha + (1.0 - alpha)


def _decode_image(path, size, channels, preprocess):
    """One image file -> float32 [H, W, C] in [0, 1] (see load_image_folder)."""
    from skimage.color import rgb2gray
    from skimage.transform import resize
    rgb = _read_image(path)
    if channels == 3:
        out = resize(rgb, size)
    elif preprocess == "blog":
        img = np.round(rgb2gray(rgb) * 255).astype(np.uint8)
        out = resize(((img < 127) * (255 - img)).astype(np.uint8), size)
    else:
        out = resize(rgb2gray(rgb), size)
    return out.reshape(size + (channels,)).astype(np.float32)


def load_image_folder(path, size=(28, 28), channels=1, preprocess="blog", split="train",
                      val_fraction=0.2, seed=0):
    """Loads a flat folder of images (one class) or `<path>/<class>/*.png|jpg|...`.

    Args:
        path: the folder. Hidden files, non-images and class folders without images are
            ignored; a folder holding images directly is one class (its subfolders are ignored).
        size: (height, width) every image is resized to.
        channels: 1 (grayscale) or 3 (RGB). Alpha is composited on white first.
        preprocess: "blog" (channels=1 only: the DRAGAN blog's `(img < 127) * (255 - img)` on
            uint8 grayscale, then resize) or "none" (resize only). Ignored for channels=3.
        split: "train" (first round(N * (1 - val_fraction)) of a seeded shuffle), "val" (the
            rest) or "all" (everything, shuffled).
        val_fraction: share of the images held out for "val".
        seed: seed of np.random.default_rng for the shuffle.

    Returns:
        Dataset with images float32 [N, H, W, channels] in [0, 1] and labels int64 [N].

    Raises:
        DataError: missing folder, no images, an unreadable image, or an empty split.
    """
    size = (int(size), int(size)) if np.isscalar(size) else tuple(int(s) for s in size)
    if (len(size) != 2 or min(size) < 1 or channels not in (1, 3)
            or preprocess not in ("blog", "none") or split not in ("train", "val", "all")
            or not 0.0 <= val_fraction <= 1.0):
        raise ConfigError(f"bad image folder options (size={size}, channels={channels}, "
                          f"preprocess={preprocess!r}, split={split!r}, val_fraction="
                          f"{val_fraction}): use (H, W), 1 or 3, 'blog' or 'none', "
                          "'train'/'val'/'all' and a fraction in [0, 1]")
    preprocess = preprocess if channels == 1 else "none"
    root = pathlib.Path(os.path.abspath(os.path.expanduser(path)))
    if not root.is_dir():
        raise DataError(f"image folder {root} does not exist: pass a folder of images "
                        "or of class subfolders")
    try:
        classes = [(root.name, sorted(p for p in root.iterdir() if _is_image(p)))]
        if not classes[0][1]:  # no images at the top: one class per subfolder
            subdirs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
            classes = [(d.name, sorted(p for p in d.iterdir() if _is_image(p))) for d in subdirs]
            classes = [(c, files) for c, files in classes if files]
        files = [(p, label) for label, (_, ps) in enumerate(classes) for p in ps]
    except OSError as e:
        raise DataError(f"cannot list image folder {root}: {e}") from e
    stamps = [_image_stamp(p) for p, _ in files]
    if not files:
        raise DataError(f"no images found in {root} (looked for {', '.join(IMAGE_EXTENSIONS)} "
                        "files, or class subfolders holding them): put images there")
    key = _cache_key("folder", stamps, list(size), channels, preprocess)
    cached = _load_cached(key)
    if cached is None:
        images = np.stack([_decode_image(p, size, channels, preprocess) for p, _ in files])
        cached = (images, np.array([label for _, label in files], np.int64))
        _save_cached(key, *cached)
    images, labels = cached
    order = np.random.default_rng(seed).permutation(len(files))
    n_train = int(round(len(files) * (1.0 - val_fraction)))
    order = {"train": order[:n_train], "val": order[n_train:], "all": order}[split]
    if len(order) == 0:
        raise DataError(f"split {split!r} of {root} is empty ({len(files)} images, "
                        f"val_fraction={val_fraction}): change val_fraction or the split")
    return Dataset(name=f"folder:{root}", images=_as_float(images[order]),
                   labels=labels[order].astype(np.int64), num_classes=len(classes),
                   class_names=[c for c, _ in classes], source=str(root))


# --------------------------------------------------------------- two domains (CycleGAN)
@dataclass
class TwoDomainDataset:
    """Two unpaired image sets of one size (CycleGAN's A and B).

    Attributes:
        name: "pokemon" for the default sprite domains, else "folder:<A>|folder:<B>".
        images / images_b: float32 [N_a, H, W, C] / [N_b, H, W, C] in [0, 1] (domain A / B).
        names_a / names_b: file names, in the order of the arrays (sorted).
        source / source_b: the two folders.
        labels: int64 zeros [N_a] (a model's batches carry labels).
    """
    name: str
    images: np.ndarray = field(repr=False)
    images_b: np.ndarray = field(repr=False)
    names_a: list = field(repr=False)
    names_b: list = field(repr=False)
    source: str
    source_b: str
    labels: np.ndarray = field(default=None, repr=False)
    num_classes: int = 1
    class_names: list = field(default_factory=lambda: ["A"])

    def __post_init__(self):
        if self.labels is None:
            self.labels = np.zeros(len(self.images), np.int64)


_DOMAIN_CACHE_TAG = "cyclegan-domain-1"


def _decode_fitted(path, size, channels, fit):
    """One image file -> float32 [size, size, channels] in [0, 1] (alpha on white)."""
    from skimage.color import rgb2gray
    from skimage.transform import resize
    rgb = _read_image(path)
    if fit == "pad":
        h, w = rgb.shape[:2]
        side = max(h, w)
        top, left = (side - h) // 2, (side - w) // 2
        rgb = np.pad(rgb, ((top, side - h - top), (left, side - w - left), (0, 0)),
                     constant_values=1.0)
    out = resize(rgb, (size, size))
    if channels == 1:
        out = rgb2gray(out)[..., None]
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def load_domain(folder, size, channels=3, fit="pad"):
    """Every image of a flat folder (one domain), sorted by file name.

    Images are read as RGB with alpha composited on white, padded on white to a centred
    square (fit="pad") or not ("stretch"), resized to size x size and, for channels=1,
    made grayscale. Decoded arrays are cached like `load_image_folder`'s.

    Returns:
        (names: list of file names, images: float32 [N, size, size, channels] in [0, 1]).
    Raises:
        DataError: the folder is missing, holds no images, or an image is unreadable.
    """
    root = pathlib.Path(os.path.abspath(os.path.expanduser(str(folder))))
    if not root.is_dir():
        raise DataError(f"image folder {root} does not exist: pass a folder of images "
                        "(--domain-a / --domain-b)")
    try:
        files = sorted(p for p in root.iterdir() if _is_image(p))
        stamps = [_file_stamp(p) for p in files]
    except OSError as e:
        raise DataError(f"cannot list image folder {root}: {e}") from e
    if not files:
        raise DataError(f"no images found in {root} (looked for "
                        f"{', '.join(IMAGE_EXTENSIONS)} files): put the domain's images there")
    key = _cache_key(_DOMAIN_CACHE_TAG, stamps, int(size), int(channels), fit)
    cached = _load_cached(key)
    if cached is None or len(cached[0]) != len(files):
        images = np.stack([_decode_fitted(p, int(size), channels, fit) for p in files])
        cached = (images, np.zeros(len(files), np.int64))
        _save_cached(key, *cached)
    return [p.name for p in files], np.asarray(cached[0], np.float32)


def load_two_domains(folder_a, folder_b, size, channels=3, fit="pad", subset=0, name=None):
    """Both domains at one size (see `load_domain`); `subset` > 0 keeps the first
    `subset` images (by file name) of each.

    Returns:
        TwoDomainDataset (named `name`, default "folder:<A>|folder:<B>").
    """
    names_a, images_a = load_domain(folder_a, size, channels, fit)
    names_b, images_b = load_domain(folder_b, size, channels, fit)
    if subset:
        names_a, images_a = names_a[:subset], images_a[:subset]
        names_b, images_b = names_b[:subset], images_b[:subset]
    return TwoDomainDataset(name=name or f"folder:{folder_a}|folder:{folder_b}",
                            images=images_a, images_b=images_b, names_a=names_a,
                            names_b=names_b, source=str(folder_a), source_b=str(folder_b))


# Image-folder data sets known by name: name -> (folder below a data root, what it holds).
NAMED_FOLDERS = {
    "pokemon": ("pokemon/regular", "Pokemon box-sprite PNGs (e.g. pokesprite's regular/ "
                "sprites, RGBA on a transparent background)"),
    "pokemon-shiny": ("pokemon/shiny", "the same sprites in their shiny colouring"),
}


def locate_named_folder(name, data_dir=None):
    """The folder of a named image set (NAMED_FOLDERS), looked up like the IDX sets.

    Order: `data_dir` (the folder itself; it must exist), `$GAN_DATA_DIR/<sub>`,
    `cache_root()/<sub>`. Nothing is downloaded.

    Raises:
        DataError: not found, saying where to put which files.
    """
    if name not in NAMED_FOLDERS:
        raise ConfigError(f"unknown image set {name!r}: use one of {', '.join(NAMED_FOLDERS)}")
    sub, what = NAMED_FOLDERS[name]
    if data_dir is not None:
        folder = pathlib.Path(os.path.abspath(os.path.expanduser(data_dir)))
        if not folder.is_dir():
            raise DataError(f"data dir {folder} does not exist: pass the folder holding {what}")
        return folder
    folders = [cache_root() / sub]
    if os.environ.get("GAN_DATA_DIR"):
        folders.insert(0, pathlib.Path(os.environ["GAN_DATA_DIR"]).expanduser() / sub)
    for folder in folders:
        if folder.is_dir():
            return folder
    raise DataError(f"{name} images not found: put {what} into {folders[-1]} (or pass "
                    f"--data-dir DIR, or set GAN_DATA_DIR to a folder holding {sub}/)")


def load_dataset(name, data_dir=None, **kwargs):
    """Loads a data set by name.

    Args:
        name: "mnist" or "fashion-mnist" (-> load_idx_dataset), or "folder" / "folder:<path>"
            (-> load_image_folder on data_dir / path).
        data_dir: for IDX sets an optional folder with the files; for "folder" the image folder.
        **kwargs: passed on to the loader.

    Returns:
        Dataset.
    """
    key = str(name).strip().lower().replace("_", "-")
    if key in IDX_DATASETS:
        return load_idx_dataset(key, data_dir=data_dir, **kwargs)
    if key.startswith("folder:"):
        return load_image_folder(str(name).strip()[len("folder:"):], **kwargs)
    if key == "folder":
        if data_dir is None:
            raise ConfigError("dataset 'folder' needs a folder of images: pass --data-dir DIR")
        return load_image_folder(data_dir, **kwargs)
    raise ConfigError(f"unknown dataset {name!r}: use mnist, fashion-mnist or folder "
                      "(with --data-dir DIR)")


def idx_examples(name, idx_splits="train+test", train_subset=0):
    """Training examples of IDX set `name` with a config's `idx_splits` and `train_subset`,
    without reading the files (the sizes of the checksummed sets)."""
    if name not in IDX_DATASETS:
        raise ConfigError(f"unknown IDX dataset {name!r}: use one of {', '.join(IDX_DATASETS)}")
    splits = ("train",) if idx_splits == "train" else ("train", "test")
    total = sum(IDX_SPLIT_SIZES[s] for s in splits)
    return min(total, train_subset) if train_subset else total


def load_training_set(config):
    """The training set a model's config asks for (a `Dataset`, images float32 [N, H, W, C]
    in [0, 1]): its `dataset` (an IDX set, a named image folder or "folder" with
    `data_dir`), read with its image settings, cut to `train_subset` if set."""
    if config.dataset == "folder":
        dataset = load_image_folder(
            config.data_dir, size=(config.image_size, config.image_size),
            channels=config.channels, preprocess=config.folder_preprocess,
            split=config.folder_split, seed=config.seed)
    elif config.dataset in NAMED_FOLDERS:
        folder = locate_named_folder(config.dataset, config.data_dir)
        dataset = load_image_folder(
            folder, size=(config.image_size, config.image_size), channels=config.channels,
            preprocess=config.folder_preprocess, split=config.folder_split, seed=config.seed)
    else:
        splits = ("train",) if config.idx_splits == "train" else ("train", "test")
        dataset = load_idx_dataset(config.dataset, data_dir=config.data_dir, splits=splits)
    if config.train_subset:
        dataset.images = dataset.images[:config.train_subset]
        dataset.labels = dataset.labels[:config.train_subset]
    return dataset
