"""Reader of the multi-fidelity tables this suite measured itself (``python -m tasks.live.build_table``).

A table holds, for every configuration of a discrete grid of the live CNN space and every recorded
seed, the metrics after each epoch of one training run (a parquet file under ``tabular_data/``, with the
grid and epochs in its provenance file). Its fidelity is epochs; the cost at epoch ``e`` is the
cumulative training time up to ``e``. Latency and parameter count do not depend on the epoch.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import numpy as np

import tabular_data
from tasks.base import Fidelity
from tasks.tables.table import Table, TableLayout

#: measured tables shipped under tabular_data/
MEASURED_TABLES = ("cnn-digits-mf",)
#: objective name, table column, unit
MEASURED_OBJECTIVES = (("error", "val_error", ""), ("log10_params", "log10_params", "log10(parameters)"),
                       ("latency_ms", "latency_ms", "ms"))


def _provenance(name: str, folder: Path) -> dict:
    path = folder / f"{name}.provenance.json"
    if not path.exists() or not (folder / f"{name}.parquet").exists():
        raise FileNotFoundError(f"{name}.parquet or its provenance is missing; build it with "
                                "python -m tasks.live.build_table")
    return json.loads(path.read_text())


def measured_layout(name: str, folder: Path = tabular_data.FOLDER) -> TableLayout:
    """The grid and epochs of measured table ``name``, from its provenance file alone."""
    provenance = _provenance(name, folder)
    epochs = int(provenance["epochs"])
    return TableLayout(
        name, provenance["grid"],
        "CNN on sklearn digits measured by this suite (tasks.live.build_table): validation error, "
        f"log10 parameters, CPU batch-1 latency; epochs 1..{epochs} as fidelity",
        Fidelity("epochs", 1, epochs, values=tuple(float(e) for e in range(1, epochs + 1))),
        known=("log10_params",),  # latency is measured again with every seed, so it is not known
    )


@functools.lru_cache(maxsize=None)
def load_measured_table(name: str, folder: Path = tabular_data.FOLDER) -> Table:
    """The table ``<folder>/<name>.parquet`` on the grid of its provenance file, read once per process."""
    import pandas as pd

    layout = measured_layout(name, folder)
    levels = layout.levels
    assert layout.fidelity is not None
    epochs = int(layout.fidelity.max)
    path = folder / f"{name}.parquet"
    frame = pd.read_parquet(path)

    sizes = [len(v) for v in levels.values()]
    n_rows = int(np.prod(sizes))
    seeds = sorted(frame["seed"].unique())
    positions = [frame[name].map({v: i for i, v in enumerate(values)}) for name, values in levels.items()]
    if any(p.isna().any() for p in positions):
        raise ValueError(f"{path.name} holds values outside its recorded grid")
    rows = np.ravel_multi_index([p.to_numpy(dtype=int) for p in positions], sizes)
    seed_index = frame["seed"].map({s: i for i, s in enumerate(seeds)}).to_numpy()
    epoch_index = frame["epoch"].to_numpy(dtype=int) - 1
    # an epoch 0 would index the last epoch, and a repeated cell would silently keep its last row
    if ((epoch_index < 0) | (epoch_index >= epochs)).any():
        raise ValueError(f"{path.name} holds epochs outside 1..{epochs}")
    cells = (rows * len(seeds) + seed_index) * epochs + epoch_index
    if len(np.unique(cells)) != len(cells):
        raise ValueError(f"{path.name} holds a (configuration, seed, epoch) more than once")
    values = np.full((n_rows, len(seeds), epochs, len(MEASURED_OBJECTIVES)), np.nan)
    cost = np.full((n_rows, len(seeds), epochs), np.nan)
    for j, (_, column, _) in enumerate(MEASURED_OBJECTIVES):
        values[rows, seed_index, epoch_index, j] = frame[column].to_numpy(dtype=float)
    cost[rows, seed_index, epoch_index] = frame["train_time_s"].to_numpy(dtype=float)
    complete = ~np.isnan(values).any(axis=(2, 3))  # (row, seed) recorded for every epoch
    # recorded seeds are packed to the front per row, so seed % n_seeds picks a recorded one
    order = np.argsort(~complete, axis=1, kind="stable")
    values = np.take_along_axis(values, order[:, :, None, None], axis=1)
    cost = np.take_along_axis(cost, order[:, :, None], axis=1)
    n_seeds = complete.sum(axis=1)
    if (n_seeds == 0).any():
        raise ValueError(f"{int((n_seeds == 0).sum())} of {n_rows} grid configurations have no complete recorded run")
    return Table(
        name=name, levels=levels, objectives=tuple((o, unit) for o, _, unit in MEASURED_OBJECTIVES),
        values=values, cost=cost, n_seeds=n_seeds, sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        version="1", description=layout.description, fidelity=layout.fidelity,
        source=f"tabular_data/{name}.parquet (see {name}.provenance.json)",
    )
