"""The image data sets the live CNN tasks train on: sklearn's digits, Fashion-MNIST (idx files), Flowers-17.

Every loader returns a ``Dataset`` of NCHW float32 arrays in [0, 1] and integer labels, split into
train / validation / test. Splits are fixed (seeded independently of any run), so every evaluation of a
task sees the same data. Paths come from an argument or an environment variable, never from this code:

- ``BOB_FASHION_MNIST_DIR``: the four ``*-idx?-ubyte(.gz)`` files; default ``/usr/share/datasets/fashion-mnist``,
  which Debian's ``dataset-fashion-mnist`` package fills.
- ``BOB_FLOWERS17_DIR``: ``x_train.npy`` ... ``y_test.npy`` of the Bag-of-Baselines paper (16x16x3, one-hot).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FASHION_MNIST_ENV = "BOB_FASHION_MNIST_DIR"
FASHION_MNIST_DEFAULT = "/usr/share/datasets/fashion-mnist"  # Debian's package; a documented default place
FLOWERS17_ENV = "BOB_FLOWERS17_DIR"
#: the seed of the fixed data splits: part of the task's definition, not of a run
SPLIT_SEED = 0


@dataclass(frozen=True)
class Dataset:
    """Train / validation / test arrays: ``x_*`` (n, channels, height, width) float32, ``y_*`` int64."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])  # type: ignore[return-value]

    def sha256(self) -> str:
        digest = hashlib.sha256()
        for array in (self.x_train, self.y_train, self.x_val, self.y_val, self.x_test, self.y_test):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()


def load_digits() -> Dataset:
    """sklearn's 1,797 8x8 digits, split 60/20/20 (1,077 / 360 / 360) with a fixed seed."""
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    x = (bunch.images / 16.0).astype(np.float32)[:, None]
    y = bunch.target.astype(np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(y))
    train, val, test = order[:1077], order[1077:1437], order[1437:]
    return Dataset("digits", x[train], y[train], x[val], y[val], x[test], y[test], n_classes=10)


def read_idx(path: Path) -> np.ndarray:
    """An idx file (LeCun's MNIST format, optionally gzipped) as a numpy array of its stored shape."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as stream:
        raw = stream.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an idx file (expected two zero bytes, then type and rank)")
    kind, rank = raw[2], raw[3]
    if kind != 0x08:
        raise ValueError(f"{path}: idx element type 0x{kind:02x} is not unsigned byte (0x08)")
    shape = struct.unpack(f">{rank}I", raw[4 : 4 + 4 * rank])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says shape {shape}, file holds {data.size} values")
    return data.reshape(shape)


def _find(directory: Path, stem: str) -> Path:
    for candidate in (directory / f"{stem}.gz", directory / stem):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(
        f"Fashion-MNIST file {stem}(.gz) not found in {directory}; install Debian's dataset-fashion-mnist "
        f"or set {FASHION_MNIST_ENV} to the folder of the idx files"
    )


def load_fashion_mnist(directory: str | Path | None = None) -> Dataset:
    """Fashion-MNIST: a fixed seeded 48,000 / 12,000 train / validation split of the training images,
    plus the 10,000 test images."""
    folder = Path(directory or os.environ.get(FASHION_MNIST_ENV) or FASHION_MNIST_DEFAULT)
    x = read_idx(_find(folder, "train-images-idx3-ubyte"))
    y = read_idx(_find(folder, "train-labels-idx1-ubyte")).astype(np.int64)
    x_test = read_idx(_find(folder, "t10k-images-idx3-ubyte"))
    y_test = read_idx(_find(folder, "t10k-labels-idx1-ubyte")).astype(np.int64)
    if len(x) != 60000 or len(x_test) != 10000:
        raise ValueError(f"{folder}: expected 60,000 training and 10,000 test images, found {len(x)} and {len(x_test)}")
    order = np.random.default_rng(SPLIT_SEED).permutation(len(y))
    train, val = order[:48000], order[48000:]

    def scale(images: np.ndarray) -> np.ndarray:
        return (images.astype(np.float32) / 255.0)[:, None]

    return Dataset("fashion-mnist", scale(x[train]), y[train], scale(x[val]), y[val], scale(x_test), y_test,
                   n_classes=10)


def load_flowers17(directory: str | Path | None = None) -> Dataset:
    """Oxford Flowers-17 at 16x16x3, the exact arrays of the Bag-of-Baselines paper (680 / 340 / 340)."""
    given = directory or os.environ.get(FLOWERS17_ENV)
    if not given:
        raise FileNotFoundError(f"Flowers-17 needs its folder of .npy arrays: pass data_dir or set {FLOWERS17_ENV}")
    folder = Path(given)
    arrays = {}
    for part in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        path = folder / f"{part}.npy"
        if not path.exists():
            raise FileNotFoundError(f"Flowers-17: {path} not found (expected x_/y_ train/val/test .npy)")
        arrays[part] = np.load(path)

    def images(x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(x.astype(np.float32).transpose(0, 3, 1, 2))  # NHWC -> NCHW

    def labels(y: np.ndarray) -> np.ndarray:
        return y.argmax(axis=1).astype(np.int64)  # one-hot -> class index

    return Dataset("flowers17", images(arrays["x_train"]), labels(arrays["y_train"]), images(arrays["x_val"]),
                   labels(arrays["y_val"]), images(arrays["x_test"]), labels(arrays["y_test"]),
                   n_classes=arrays["y_train"].shape[1])


#: input shape (channels, height, width) and classes of each data set, known without loading it
SHAPES: dict[str, tuple[tuple[int, int, int], int]] = {
    "digits": ((1, 8, 8), 10),
    "fashion-mnist": ((1, 28, 28), 10),
    "flowers17": ((3, 16, 16), 17),
}


def load_dataset(name: str, directory: str | Path | None = None) -> Dataset:
    """A data set by name: ``digits``, ``fashion-mnist`` or ``flowers17``."""
    if name == "digits":
        return load_digits()
    if name == "fashion-mnist":
        return load_fashion_mnist(directory)
    if name == "flowers17":
        return load_flowers17(directory)
    raise ValueError(f"unknown data set {name!r}; expected one of {', '.join(SHAPES)}")
