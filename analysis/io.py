"""Reads result folders from the files alone, so results made anywhere can be analysed.

The format (layout, file names, version, the torn-last-line rule) is ``suite.results_format``, the one
module the suite writes with; it imports no runner code, Dask or baselines, so neither does analysis.
docs/results.md describes the files.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.indicators import hypervolume, normalise
from suite import results_format
from tabular_data import FOLDER as SHIPPED_FOLDER

#: relative tolerance when comparing bounds written in metadata with the shipped ones
_BOUND_RTOL = 1e-9


@dataclass(frozen=True)
class Run:
    """One run folder: its metadata and its evaluation rows in completion order."""

    folder: Path
    metadata: dict[str, Any]
    rows: pd.DataFrame

    @property
    def task(self) -> str:
        return str(self.metadata["task"]["name"])

    @property
    def baseline(self) -> str:
        return str(self.metadata["baseline"]["name"])

    @property
    def seed(self) -> int:
        return int(self.metadata["seed"])

    @property
    def clock(self) -> str:
        return str(self.metadata.get("clock", self.metadata["task"].get("clock", "simulated")))

    @property
    def objective_names(self) -> list[str]:
        return [o["name"] for o in self.metadata["task"]["objectives"]]

    @property
    def units(self) -> list[str]:
        return [o.get("unit", "") for o in self.metadata["task"]["objectives"]]

    @property
    def lower(self) -> np.ndarray:
        return np.array([o["lower"] for o in self.metadata["task"]["objectives"]], dtype=float)

    @property
    def upper(self) -> np.ndarray:
        return np.array([o["upper"] for o in self.metadata["task"]["objectives"]], dtype=float)

    @property
    def reference_point(self) -> np.ndarray:
        return np.array(self.metadata["task"]["reference_point"], dtype=float)

    @property
    def complete(self) -> bool:
        return self.metadata.get("status") == "complete"

    @cached_property
    def values(self) -> np.ndarray:
        """Raw objective values (n, m) to report: expected ones where the task records them (tables),
        those the optimiser was told otherwise; NaN for rows that did not finish ok."""
        if self.rows.empty:  # a run that started but finished nothing yet
            return np.empty((0, len(self.objective_names)))
        columns = []
        for name in self.objective_names:
            column = f"expected.{name}" if f"expected.{name}" in self.rows else f"objective.{name}"
            if column not in self.rows:
                raise ValueError(f"{self.folder}: no column for objective {name!r} (expected {column!r})")
            columns.append(pd.to_numeric(self.rows[column], errors="coerce").to_numpy(dtype=float))
        values = np.column_stack(columns)
        if "status" in self.rows:
            values[self.rows["status"].to_numpy() != "ok"] = np.nan
        return values

    @cached_property
    def normalised(self) -> np.ndarray:
        """``values`` scaled by the task's bounds from the metadata."""
        return normalise(self.values, self.lower, self.upper)

    @property
    def end(self) -> np.ndarray:
        """When each evaluation finished, on the run's clock (seconds)."""
        return self.rows["end"].to_numpy(dtype=float) if len(self.rows) else np.empty(0)


def read_run(folder: Path) -> Run:
    """The run in ``folder``; raises ValueError (``ResultsError``) naming the file for an unreadable or
    foreign folder."""
    folder = Path(folder)
    metadata, rows = results_format.read_run(folder)
    for key in ("task", "baseline", "seed"):
        if key not in metadata:
            raise results_format.ResultsError(f"{folder / results_format.METADATA}: metadata has no {key!r}")
    return Run(folder, metadata, rows.reset_index(drop=True))


def load_experiment(path: Path | str) -> list[Run]:
    """Every run below ``path`` (an experiment folder, or any folder holding run folders), sorted by
    task, baseline and seed. Runs of one task must agree on objectives, bounds and reference point."""
    root = Path(path)
    if not root.is_dir():
        raise ValueError(f"results folder {str(root)!r} does not exist; give a folder such as results/<experiment>")
    runs = [read_run(p.parent) for p in sorted(root.rglob(results_format.METADATA))]
    if not runs:
        raise ValueError(f"no runs under {str(root)!r}: expected <task>/<baseline>/<seed>/metadata.json below it")
    runs.sort(key=lambda r: (r.task, r.baseline, r.seed))
    _check_same_task_description(runs)
    return runs


def _check_same_task_description(runs: list[Run]) -> None:
    first: dict[str, Run] = {}
    for run in runs:
        reference = first.setdefault(run.task, run)
        for key in ("objectives", "reference_point"):
            if run.metadata["task"][key] != reference.metadata["task"][key]:
                raise ValueError(
                    f"runs of task {run.task!r} disagree on {key}: {run.folder} has {run.metadata['task'][key]}, "
                    f"{reference.folder} has {reference.metadata['task'][key]}; analyse them separately"
                )


@dataclass(frozen=True)
class TrueFront:
    """A task's true Pareto front (raw units) and its hypervolume in normalised space."""

    points: np.ndarray
    hypervolume: float


def tabular_data_folder(tabular_data: Path | str | None = None) -> Path:
    """Where shipped true fronts are looked up: the argument, else $BOB_TABULAR_DATA, else the installed
    ``tabular_data`` package."""
    given = tabular_data if tabular_data is not None else os.environ.get("BOB_TABULAR_DATA")
    if given is None:
        return SHIPPED_FOLDER
    if not Path(given).is_dir():  # a typo must not silently drop every regret
        raise ValueError(f"tabular data folder {given} does not exist")
    return Path(given)


def true_front(run: Run, tabular_data: Path | str | None = None) -> TrueFront | None:
    """The shipped true front of ``run``'s task, or None when the task has none (live tasks).

    Raises ValueError when the run's metadata disagree with the shipped file (objectives, bounds, data),
    since the regret would then compare two different normalisations.
    """
    path = tabular_data_folder(tabular_data) / f"{run.task}.json"
    if not path.exists():
        return None
    shipped = json.loads(path.read_text())
    names = [o["name"] for o in shipped["objectives"]]
    if names != run.objective_names:
        raise ValueError(f"{run.folder}: objectives {run.objective_names} differ from {names} in {path}")
    lower = np.array([o["lower"] for o in shipped["objectives"]], dtype=float)
    upper = np.array([o["upper"] for o in shipped["objectives"]], dtype=float)
    if not (np.allclose(lower, run.lower, rtol=_BOUND_RTOL, atol=0) and np.allclose(upper, run.upper, rtol=_BOUND_RTOL, atol=0)):
        raise ValueError(
            f"{run.folder}: bounds lower={run.lower.tolist()} upper={run.upper.tolist()} in the metadata disagree "
            f"with lower={lower.tolist()} upper={upper.tolist()} in {path}; the run used another task version"
        )
    data_hash = run.metadata["task"].get("data_hash")
    if data_hash and shipped.get("data_sha256") and data_hash != shipped["data_sha256"]:
        raise ValueError(f"{run.folder}: data hash {data_hash} differs from {shipped['data_sha256']} in {path}")
    points = np.array(shipped["front"], dtype=float).reshape(-1, len(names))
    return TrueFront(points, hypervolume(normalise(points, lower, upper), run.reference_point))
