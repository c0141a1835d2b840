"""The data set loaders: digits always, idx files written here, Fashion-MNIST and Flowers-17 where present."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from tasks.live.data import FASHION_MNIST_DEFAULT, load_dataset, load_digits, load_flowers17, read_idx


def test_digits_split_is_fixed_and_disjoint() -> None:
    data = load_digits()
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (1077, 360, 360)
    assert data.x_train.shape[1:] == (1, 8, 8) and data.x_train.dtype == np.float32
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    rows = {x.tobytes() for x in data.x_val}
    assert sum(x.tobytes() in rows for x in data.x_test) < 5  # digits has a few duplicate images
    assert load_digits().sha256() == data.sha256()


@pytest.mark.parametrize("compressed", [False, True])
def test_read_idx_round_trip(tmp_path: Path, compressed: bool) -> None:
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    raw = bytes([0, 0, 0x08, 3]) + struct.pack(">3I", 2, 3, 4) + images.tobytes()
    path = tmp_path / ("x.idx.gz" if compressed else "x.idx")
    path.write_bytes(gzip.compress(raw) if compressed else raw)
    assert np.array_equal(read_idx(path), images)


def test_read_idx_rejects_other_files(tmp_path: Path) -> None:
    path = tmp_path / "x.idx"
    path.write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(ValueError, match="not an idx file"):
        read_idx(path)


def test_fashion_mnist_split() -> None:
    if not Path(FASHION_MNIST_DEFAULT).is_dir():
        pytest.skip(f"{FASHION_MNIST_DEFAULT} is absent (Debian package dataset-fashion-mnist)")
    data = load_dataset("fashion-mnist")
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (48000, 12000, 10000)
    assert data.x_train.shape[1:] == (1, 28, 28)
    assert np.bincount(data.y_test).tolist() == [1000] * 10  # the published test set is balanced


def test_fashion_mnist_missing_folder_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="BOB_FASHION_MNIST_DIR"):
        load_dataset("fashion-mnist", tmp_path)


def test_flowers17_is_the_papers_arrays(shared_data: Callable[[str], Path]) -> None:
    data = load_flowers17(shared_data("flowers17-16px"))
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (680, 340, 340)
    assert data.input_shape == (3, 16, 16) and data.n_classes == 17
    raw = np.load(shared_data("flowers17-16px") / "x_val.npy")
    assert np.array_equal(data.x_val[5, 2], raw[5, :, :, 2].astype(np.float32))  # NHWC -> NCHW keeps pixels


def test_unknown_dataset_is_one_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown data set 'mnist'"):
        load_dataset("mnist")
