"""Multi-fidelity tabular tasks from tables this suite measured itself with ``python -m tasks.build_table``.

A table holds, for every configuration of a discrete grid of the live CNN space and every recorded
seed, the metrics after each epoch of one training run. Evaluating at ``epochs = e`` returns what was
recorded after epoch ``e`` for one recorded seed (chosen by the evaluation seed), with the cumulative
training time up to ``e`` as its cost; ``expected`` is the mean over the recorded seeds. Latency and
parameter count do not depend on the epoch. The bounds and the true front (of expected objectives over
every configuration at every epoch) ship in ``tabular_data/<name>.json``, written with ``python -m tasks.shipped --write``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from ConfigSpace import CategoricalHyperparameter, ConfigurationSpace, OrdinalHyperparameter

from tasks.base import Config, Fidelity, Objective, Result, Task
from tasks.live import MEASURED_TABLES
from tasks.tabular import REFERENCE_POINT, TABULAR_DATA, Table

#: objective name, table column, unit
MEASURED_OBJECTIVES = (("error", "val_error", ""), ("log10_params", "log10_params", "log10(parameters)"),
                       ("latency_ms", "latency_ms", "ms"))


class MeasuredTable:
    """A measured multi-fidelity table as dense arrays, so a lookup is array indexing.

    ``values[r, s, e, j]``: objective ``j`` of row ``r`` (mixed-radix order of ``levels``, as in
    ``tasks.tabular.Table``), recorded seed ``s``, after epoch ``e + 1``; ``cost[r, s, e]`` is the cumulative
    training time in seconds. ``table`` is the ``Table`` of the last epoch (row lookup, expected values).
    """

    def __init__(self, frame: pd.DataFrame, levels: dict[str, list[Any]], epochs: int, sha256: str) -> None:
        self.levels = levels
        self.epochs = epochs
        sizes = [len(v) for v in levels.values()]
        n_rows = int(np.prod(sizes))
        seeds = sorted(frame["seed"].unique())
        positions = [frame[name].map({v: i for i, v in enumerate(values)}) for name, values in levels.items()]
        if any(p.isna().any() for p in positions):
            raise ValueError("the table holds values outside its recorded grid")
        rows = np.ravel_multi_index([p.to_numpy(dtype=int) for p in positions], sizes)
        seed_index = frame["seed"].map({s: i for i, s in enumerate(seeds)}).to_numpy()
        epoch_index = frame["epoch"].to_numpy(dtype=int) - 1
        self.values = np.full((n_rows, len(seeds), epochs, len(MEASURED_OBJECTIVES)), np.nan)
        self.cost = np.full((n_rows, len(seeds), epochs), np.nan)
        for j, (_, column, _) in enumerate(MEASURED_OBJECTIVES):
            self.values[rows, seed_index, epoch_index, j] = frame[column].to_numpy(dtype=float)
        self.cost[rows, seed_index, epoch_index] = frame["train_time_s"].to_numpy(dtype=float)
        complete = ~np.isnan(self.values).any(axis=(2, 3))  # (row, seed) recorded for every epoch
        # recorded seeds are packed to the front per row, so seed % n_seeds picks a recorded one
        order = np.argsort(~complete, axis=1, kind="stable")
        self.values = np.take_along_axis(self.values, order[:, :, None, None], axis=1)
        self.cost = np.take_along_axis(self.cost, order[:, :, None], axis=1)
        self.n_seeds = complete.sum(axis=1)
        if (self.n_seeds == 0).any():
            missing = int((self.n_seeds == 0).sum())
            raise ValueError(f"{missing} of {n_rows} grid configurations have no complete recorded run")
        self.table = Table(levels=levels, values=self.values[:, :, -1], cost=self.cost[:, :, -1],
                           n_seeds=self.n_seeds, sha256=sha256)

    @functools.cached_property
    def expected(self) -> np.ndarray:
        """Mean over recorded seeds, shape (rows, epochs, objectives)."""
        return np.nanmean(self.values, axis=1)


@functools.lru_cache(maxsize=None)
def load_measured_table(name: str, folder: Path = TABULAR_DATA) -> MeasuredTable:
    """The table ``<folder>/<name>.parquet`` with the grid of its provenance file, read once per process."""
    path = folder / f"{name}.parquet"
    provenance_path = folder / f"{name}.provenance.json"
    if not path.exists() or not provenance_path.exists():
        raise FileNotFoundError(f"{path.name} or its provenance is missing; build it with python -m tasks.build_table")
    provenance = json.loads(provenance_path.read_text())
    raw = path.read_bytes()
    return MeasuredTable(pd.read_parquet(path), provenance["grid"], int(provenance["epochs"]),
                         hashlib.sha256(raw).hexdigest())


def _space(name: str, levels: dict[str, list[Any]]) -> ConfigurationSpace:
    space = ConfigurationSpace(name=name)
    for parameter, values in levels.items():
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            space.add(OrdinalHyperparameter(parameter, values))
        else:
            space.add(CategoricalHyperparameter(parameter, values))
    return space


class MeasuredTableTask(Task):
    """Replays a measured multi-fidelity table, with epochs as its fidelity.

    Args:
        name: the table's name under ``tabular_data/`` (``cnn-digits-mf``).
        folder: where the table, its provenance and its shipped bounds lie.
    """

    clock = "simulated"

    def __init__(self, name: str, folder: Path = TABULAR_DATA) -> None:
        self.name = name
        self._folder = folder
        provenance = json.loads((folder / f"{name}.provenance.json").read_text())
        self.provenance = provenance
        self.space = _space(name, provenance["grid"])
        epochs = int(provenance["epochs"])
        self.fidelity = Fidelity("epochs", 1, epochs, values=tuple(float(e) for e in range(1, epochs + 1)))
        shipped = self.shipped()
        self.version = shipped["version"]
        self.objectives = tuple(Objective(o["name"], o["lower"], o["upper"], o["unit"]) for o in shipped["objectives"])
        self.reference_point = (REFERENCE_POINT,) * len(self.objectives)

    @functools.cached_property
    def table(self) -> MeasuredTable:
        return load_measured_table(self.name, self._folder)

    def shipped(self) -> dict[str, Any]:
        path = self._folder / f"{self.name}.json"
        if not path.exists():
            raise FileNotFoundError(f"{path.name} is missing; write it with python -m tasks.shipped --write")
        return json.loads(path.read_text())

    def true_front(self) -> np.ndarray:
        """The Pareto front of the expected objectives over the whole grid at every epoch."""
        return np.array(self.shipped()["front"], dtype=float)

    def data_hash(self) -> str:
        return self.table.table.sha256

    def _evaluate(self, config: Config, fidelity: float | None, seed: int) -> Result:
        measured = self.table
        row = measured.table.row(config)
        epoch = int(round(self.fidelity.max if fidelity is None else fidelity)) - 1
        recorded = int(seed % measured.n_seeds[row])
        names = self.objective_names
        return Result(
            objectives=dict(zip(names, measured.values[row, recorded, epoch].tolist())),
            cost_s=float(measured.cost[row, recorded, epoch]),
            info={"recorded_seed": recorded, "epochs": epoch + 1},
            expected=dict(zip(names, measured.expected[row, epoch].tolist())),
        )


def compute_shipped(name: str, folder: Path = TABULAR_DATA) -> dict[str, Any]:
    """Bounds over every recorded value and the true front of the expected values, both over all epochs: a
    network trained for fewer epochs is a model too, and analysis counts every evaluation at its fidelity."""
    from tasks.shipped import shipped_record

    measured = load_measured_table(name, folder)
    return shipped_record(
        name,
        "CNN on sklearn digits measured by this suite (tasks.build_table): validation error, "
        f"log10 parameters, CPU batch-1 latency; epochs 1..{measured.epochs} as fidelity",
        f"tabular_data/{name}.parquet (see {name}.provenance.json)",
        measured.table.sha256,
        [(objective, unit) for objective, _, unit in MEASURED_OBJECTIVES],
        recorded=measured.values.reshape(-1, measured.values.shape[-1]),
        expected=measured.expected.reshape(-1, measured.expected.shape[-1]),
    )
