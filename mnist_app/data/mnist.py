"""MNIST: find it, read it, check it, split it.

Lookup order: an explicit path, the MNIST_DATA environment variable, Keras' cache,
Keras' download. A folder holds the four original IDX `.gz` files or an `mnist.npz`.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
# sha256 of the decompressed IDX bytes, as published with the data set
IDX_SHA256 = {
    "train-images-idx3-ubyte.gz": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte.gz": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte.gz": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte.gz": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
HOW_TO_POINT = (
    "Point mnist-app at local files: set MNIST_DATA to a folder holding the four IDX .gz files "
    "(train-images-idx3-ubyte.gz, ...) or an mnist.npz, or pass --data PATH to train.py."
)


class MnistDataError(ValueError):
    """MNIST could not be found or a file of it is unusable; the message names the file."""


@dataclass(frozen=True)
class Mnist:
    """The four MNIST arrays: uint8 images (n, 28, 28), white on black; uint8 labels (n,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str


def parse_idx(raw: bytes, name: str) -> np.ndarray:
    """Decode IDX bytes (big-endian header, then uint8 data) into an array."""
    if len(raw) < 4 or raw[0:2] != b"\x00\x00" or raw[2] != 0x08:
        raise MnistDataError(f"{name}: not an IDX file of uint8 (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) != header + int(np.prod(dims)):
        raise MnistDataError(f"{name}: truncated or padded: header says {dims}, size is {len(raw)} bytes")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def read_idx_gz(path: Path, verify: bool = True) -> np.ndarray:
    """Read one gzip IDX file, checking its sha256 against the published one."""
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise MnistDataError(f"{path}: not a readable gzip file ({exc})") from exc
    expected = IDX_SHA256.get(path.name)
    if verify and expected and hashlib.sha256(raw).hexdigest() != expected:
        raise MnistDataError(f"{path}: sha256 mismatch, the file is corrupt or not the original MNIST")
    return parse_idx(raw, str(path))


def _check_shapes(arrays: dict[str, np.ndarray], where: str) -> None:
    """Images (n, 28, 28) with n labels; the full data set's sizes are not required (samples load too)."""
    for split in ("train", "test"):
        images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != (len(images),):
            raise MnistDataError(f"{where}: {split} images {images.shape} and labels {labels.shape} do not match")


def load_folder(folder: Path) -> Mnist:
    """Load the four IDX files, or mnist.npz, from a folder."""
    if (folder / IDX_FILES["x_train"]).exists():
        arrays = {key: read_idx_gz(folder / name) for key, name in IDX_FILES.items()}
        _check_shapes(arrays, str(folder))
        return Mnist(**arrays, source=str(folder))
    if (folder / "mnist.npz").exists():
        return load_npz(folder / "mnist.npz")
    missing = [name for name in IDX_FILES.values() if not (folder / name).exists()]
    raise MnistDataError(f"{folder}: no MNIST here (missing {', '.join(missing)} and mnist.npz). {HOW_TO_POINT}")


def load_npz(path: Path) -> Mnist:
    """Load Keras' mnist.npz (x_train, y_train, x_test, y_test), without pickle."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: np.asarray(npz[key], dtype=np.uint8) for key in IDX_FILES}
    except (OSError, ValueError, KeyError) as exc:
        raise MnistDataError(f"{path}: not a usable mnist.npz ({exc})") from exc
    _check_shapes(arrays, str(path))
    return Mnist(**arrays, source=str(path))


def load_path(path: str | os.PathLike) -> Mnist:
    """Load MNIST from a folder or an .npz file."""
    path = Path(path).expanduser()
    if path.is_dir():
        return load_folder(path)
    if path.suffix == ".npz" and path.exists():
        return load_npz(path)
    raise MnistDataError(f"{path}: no such folder or .npz file. {HOW_TO_POINT}")


def keras_cache_path() -> Path:
    """Where keras.datasets.mnist keeps its download."""
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets" / "mnist.npz"


def load_mnist(path: str | os.PathLike | None = None) -> Mnist:
    """Find and load MNIST: explicit path, $MNIST_DATA, Keras' cache, then Keras' download."""
    if path:
        return load_path(path)
    if os.environ.get("MNIST_DATA"):
        return load_path(os.environ["MNIST_DATA"])
    if keras_cache_path().exists():
        return load_npz(keras_cache_path())
    return download_with_keras()


def local_source() -> Path:
    """Where load_mnist() would read MNIST on this machine, without reading it: $MNIST_DATA's folder or file, else
    Keras' cache. MnistDataError, saying how to fix it, when MNIST_DATA points nowhere or there is no local copy."""
    if os.environ.get("MNIST_DATA"):
        path = Path(os.environ["MNIST_DATA"]).expanduser()
        here = path / IDX_FILES["x_train"] if path.is_dir() else path
        if not here.is_file() and not (path / "mnist.npz").is_file():
            raise MnistDataError(f"MNIST_DATA is {path}, which holds no MNIST. {HOW_TO_POINT}")
        return path
    if keras_cache_path().exists():
        return keras_cache_path()
    raise MnistDataError(
        "MNIST is not on this machine (no MNIST_DATA, no Keras cache at "
        f"{keras_cache_path()}). {HOW_TO_POINT} Online, Keras fills that cache once: "
        "python -c 'import keras; keras.datasets.mnist.load_data()'"
    )


def download_with_keras() -> Mnist:
    """Download through Keras (a user's machine); explain how to use local files when offline."""
    try:
        import keras

        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as exc:  # no network, or no TensorFlow: both end in the same advice
        raise MnistDataError(
            f"MNIST is not on this machine and could not be downloaded ({exc}). {HOW_TO_POINT}"
        ) from exc
    return Mnist(x_train, y_train, x_test, y_test, source=str(keras_cache_path()))


def split_validation(
    images: np.ndarray, labels: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Carve a seeded, shuffled validation set out of the training digits (never the test set)."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation fraction must be in (0, 1), got {fraction}")
    order = np.random.default_rng(seed).permutation(len(images))
    n_val = int(round(len(images) * fraction))
    val, train = order[:n_val], order[n_val:]
    return images[train], labels[train], images[val], labels[val]


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 0..255 -> float32 0..1, in one new array (the same values as astype(float32) / 255, which made two:
    MNIST's training digits are 188 MB as floats, and fresh memory is what a run's data costs most)."""
    return np.divide(images, np.float32(255), dtype=np.float32)


# Teaching replays MNIST training digits beside a person's drawings (personal.py). So that it works on a fresh,
# offline install and reads the same everywhere, the digits it replays ship in models/: a fixed, seeded subset of
# MNIST's first 55,000 training digits (the last 5,000 measured forgetting while the recipe was chosen), and the
# first 2,000 test digits, on which a teaching job measures what it forgot. `python train.py replay` remakes it.
REPLAY_FILE = Path(__file__).resolve().parents[2] / "models" / "replay-digits.npz"
REPLAY_POOL, REPLAY_DIGITS, REPLAY_TEST_DIGITS, REPLAY_SEED = 55_000, 10_000, 2_000, 0
REPLAY_KEYS = ("x_train", "y_train", "index", "x_test", "y_test")  # index: each x_train digit's place in MNIST
# sha256 of the arrays' bytes, in REPLAY_KEYS order (not of the file: a zip's bytes hold the time it was written)
REPLAY_SHA256 = "6d1eaba330be046e33bb6aa822d0ba8e090510cbdab9c6bdb322874458950d2d"
REMAKE_REPLAY = (
    "Restore it from the repository (git checkout models/replay-digits.npz) or remake it: python train.py replay."
)


class ReplayDataError(MnistDataError):
    """The shipped replay digits (models/replay-digits.npz) are missing, unreadable or not the ones made for it."""


def replay_subset(mnist: Mnist) -> dict[str, np.ndarray]:
    """The replay arrays cut from full MNIST: REPLAY_DIGITS training digits drawn (seeded) from the first
    REPLAY_POOL, in MNIST's order, and the first REPLAY_TEST_DIGITS test digits; uint8, as MNIST holds them."""
    if len(mnist.x_train) < REPLAY_POOL or len(mnist.x_test) < REPLAY_TEST_DIGITS:
        raise MnistDataError(f"{mnist.source}: the replay digits are cut from the full MNIST, not a sample")
    index = np.sort(np.random.default_rng(REPLAY_SEED).choice(REPLAY_POOL, size=REPLAY_DIGITS, replace=False))
    return {
        "x_train": mnist.x_train[index],
        "y_train": mnist.y_train[index],
        "index": index.astype(np.int32),
        "x_test": mnist.x_test[:REPLAY_TEST_DIGITS],
        "y_test": mnist.y_test[:REPLAY_TEST_DIGITS],
    }


def replay_sha256(arrays: dict[str, np.ndarray]) -> str:
    """sha256 of the arrays' dtypes, shapes and bytes, in REPLAY_KEYS order."""
    digest = hashlib.sha256()
    for key in REPLAY_KEYS:
        array = np.ascontiguousarray(arrays[key])
        digest.update(f"{key}:{array.dtype.str}:{array.shape};".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def write_replay(mnist: Mnist, path: Path = REPLAY_FILE) -> str:
    """Write the replay digits cut from `mnist` as a compressed npz; returns their sha256 (REPLAY_SHA256 when
    `mnist` is the original MNIST)."""
    arrays = replay_subset(mnist)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    return replay_sha256(arrays)


def load_replay(path: Path = REPLAY_FILE, sha256: str = REPLAY_SHA256) -> Mnist:
    """The shipped replay digits as an Mnist (its train split the replay subset, its test split the first test
    digits), checked against their sha256; ReplayDataError naming the file when it is missing or corrupt."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: np.asarray(npz[key]) for key in REPLAY_KEYS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise ReplayDataError(f"{path}: the replay digits cannot be read ({exc}). {REMAKE_REPLAY}") from exc
    if replay_sha256(arrays) != sha256:
        raise ReplayDataError(f"{path}: sha256 mismatch, the replay digits are corrupt. {REMAKE_REPLAY}")
    return Mnist(arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], source=str(path))
