"""Reads result folders from the files alone, so results made anywhere can be analysed.

The format (layout, file names, version, the torn-last-line rule) is ``suite.results_format``, the one
module the suite writes with; it imports no runner code, Dask or baselines, so neither does analysis.
docs/results.md describes the files.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from analysis.indicators import normalise
from suite import results_format
from tabular_data import FOLDER as SHIPPED_FOLDER

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

#: relative tolerance when comparing bounds written in metadata with the shipped ones
_BOUND_RTOL = 1e-9


@dataclass(frozen=True)
class Run:
    """One run folder: its metadata and its evaluation rows in completion order, as the Arrow table read from
    its files (``table``; ``rows`` is the same as a pandas frame).

    The values, times and lengths that the analysis computes with come from the Arrow table as numpy arrays,
    so that drawing the suite's figure (``analysis.plots.serve``) imports no pandas (about a second)."""

    folder: Path
    metadata: dict[str, Any]
    table: pa.Table

    @cached_property
    def rows(self) -> pd.DataFrame:
        """The rows as a frame: what ``pandas.read_parquet`` gives for the run's parquet."""
        return self.table.to_pandas()

    @property
    def n_rows(self) -> int:
        """How many evaluations the run recorded."""
        return self.table.num_rows

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

    @property
    def state(self) -> str:
        """"complete"; "failed" (an error stopped it, recorded in the metadata); or "incomplete" (still
        running, or stopped without a word: a killed process)."""
        if self.complete:
            return "complete"
        return "failed" if self.metadata.get("error") else "incomplete"

    @property
    def budget(self) -> str:
        """The run's budget in words: "50 evaluations", "600 s", or both (whichever came first)."""
        budget = self.metadata.get("budget") or {}
        parts = [f"{budget['evaluations']} evaluations"] if budget.get("evaluations") is not None else []
        parts += [f"{budget['seconds']:g} s"] if budget.get("seconds") is not None else []
        return " or ".join(parts) or "unknown"

    @property
    def progress(self) -> str:
        """How far the run got: "complete", or "failed after 10 evaluations (budget 50 evaluations)"."""
        if self.complete:
            return "complete"
        return f"{self.state} after {self.n_rows} evaluations (budget {self.budget})"

    @cached_property
    def values(self) -> np.ndarray:
        """Raw objective values (n, m) to report: expected ones where the task records them (tables),
        those the optimiser was told otherwise; NaN for rows that did not finish ok."""
        if self.n_rows == 0:  # a run that started but finished nothing yet
            return np.empty((0, len(self.objective_names)))
        present = set(self.table.column_names)
        columns = []
        for name in self.objective_names:
            column = f"expected.{name}" if f"expected.{name}" in present else f"objective.{name}"
            if column not in present:
                raise ValueError(f"{self.folder}: no column for objective {name!r} (expected {column!r})")
            columns.append(column)
        values = self._numbers(columns)
        if "status" in present:
            values[np.array(self.table.column("status").to_pylist(), dtype=object) != "ok"] = np.nan
        return values

    def _numbers(self, columns: list[str]) -> np.ndarray:
        """Columns of numbers as floats (n, k), missing values NaN (a column of only missing values has Arrow's
        null type); any other type is refused, since reading it as numbers would be a guess.

        Through an Arrow tensor: pyarrow's ``to_numpy`` converts as for pandas, and imports it (a second)."""
        import pyarrow as pa

        for column in columns:
            kind = self.table.schema.field(column).type
            if not (pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_null(kind)):
                raise results_format.ResultsError(f"{self.folder}: column {column!r} holds {kind}, not numbers")
        floats = self.table.select(columns).cast(pa.schema([(column, pa.float64()) for column in columns]))
        return floats.combine_chunks().to_batches()[0].to_tensor(null_to_nan=True).to_numpy()

    @cached_property
    def normalised(self) -> np.ndarray:
        """``values`` scaled by the task's bounds from the metadata."""
        return normalise(self.values, self.lower, self.upper)

    @cached_property
    def end(self) -> np.ndarray:
        """When each evaluation finished, on the run's clock (seconds)."""
        return self._numbers(["end"])[:, 0] if self.n_rows else np.empty(0)


def read_run(folder: Path) -> Run:
    """The run in ``folder``; raises ValueError (``ResultsError``) naming the file for an unreadable,
    foreign or damaged folder: a complete run must hold a readable parquet of the recorded number of rows."""
    folder = Path(folder)
    metadata = results_format.read_metadata(folder)
    for key in ("task", "baseline", "seed"):
        if key not in metadata:
            raise results_format.ResultsError(f"{folder / results_format.METADATA}: metadata has no {key!r}")
    if metadata.get("status") == "complete":
        problem = results_format.parquet_problem(folder, metadata.get("n_evaluations"))
        if problem is not None:
            raise results_format.ResultsError(f"{folder}: metadata says complete but {problem}; {results_format.REDO}")
    try:
        table = _rows_table(folder)
    except results_format.ResultsError:
        raise
    except (OSError, ValueError) as error:  # pyarrow's errors are ValueErrors or OSErrors
        raise results_format.ResultsError(f"{folder}: its rows cannot be read ({_first_line(error)}); "
                                          f"{results_format.REDO}") from None
    run = Run(folder, metadata, table)
    if table.num_rows and "end" not in table.column_names:
        raise results_format.ResultsError(f"{folder}: its rows have no 'end' column")
    run.values  # noqa: B018 (a row file without an objective's column is refused here, not half-way through a figure)
    run.end  # noqa: B018 (and one whose times are no numbers)
    return run


def _rows_table(folder: Path) -> pa.Table:
    """The rows of ``results_format.read_run`` as an Arrow table: the parquet of a complete run, else the rows
    its .jsonl holds so far (read as the parquet writer reads them, ``results_format.rows_table``), else none."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if (folder / results_format.PARQUET).exists():
        # ParquetFile, not read_table: the same table, without the dataset layer, which imports pandas
        with pq.ParquetFile(folder / results_format.PARQUET) as file:
            return file.read()
    if (folder / results_format.ROWS).exists():
        return results_format.rows_table(folder / results_format.ROWS)
    return pa.table({})


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


#: the files that make a folder a run folder, whichever of them survived
_RUN_FILES = (results_format.METADATA, results_format.PARQUET, results_format.ROWS, results_format.LOCK)
#: what defines a run, besides its seed, as dotted metadata keys: runs of one task must agree on the first
#: group, runs of one task and baseline also on the second (the options are expanded to one key each)
_TASK_DEFINITION = ("budget.evaluations", "budget.seconds", "n_workers", "task.version", "task.data_hash")
_BASELINE_DEFINITION = "baseline.options"


@dataclass(frozen=True)
class LeftOut:
    """A run folder the analysis cannot use, and why."""

    folder: Path
    reason: str


@dataclass(frozen=True)
class Experiment:
    """The usable runs below a folder (complete, incomplete and failed ones, sorted by task, baseline and
    seed) and every run folder left out, with its reason."""

    root: Path
    runs: list[Run]
    left_out: list[LeftOut]


def lookup(metadata: dict[str, Any], key: str) -> Any:
    """The value at a dotted ``key`` of ``metadata`` (``budget.evaluations``); KeyError when absent."""
    value: Any = metadata
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(key)
        value = value[part]
    return value


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:  # a bare word such as an experiment name
        return text


def _text(value: Any) -> str:
    return value if isinstance(value, str) else results_format.to_json(value, sort_keys=True)


_ABSENT = object()


def _value(run: Run, key: str) -> Any:
    try:
        return lookup(run.metadata, key)
    except KeyError:
        return _ABSENT


def select(runs: list[Run], where: Sequence[tuple[str, str]]) -> list[Run]:
    """The runs whose metadata hold every (dotted key, value) of ``where`` (values as JSON, else text)."""
    for key, text in where:
        found = [value for value in (_value(run, key) for run in runs) if value is not _ABSENT]
        if not found:
            raise ValueError(f"--where {key}={text}: no run has a metadata key {key!r} (e.g. experiment, "
                             f"budget.evaluations, n_workers, task.version, baseline.options.NAME)")
        kept = [run for run in runs if _value(run, key) == _parse_value(text)]
        if not kept:
            values = ", ".join(sorted({_text(value) for value in found}))
            raise ValueError(f"--where {key}={text}: no run matches; its values are {values}")
        runs = kept
    return runs


def scan_experiment(path: Path | str, where: Sequence[tuple[str, str]] = ()) -> Experiment:
    """Every run folder below ``path`` (an experiment folder, or any folder holding run folders): the
    usable runs, filtered by ``where`` (see ``select``), and those left out with their reason.

    Raises ValueError for a missing folder, a folder without runs, and a mixture that must not be merged
    into one comparison (see ``check_one_experiment``).
    """
    root = Path(path)
    if not root.is_dir():
        raise ValueError(f"results folder {str(root)!r} does not exist; give a folder such as results/<experiment>")
    folders = sorted({p.parent for name in _RUN_FILES for p in root.rglob(name)})
    if not folders:
        raise ValueError(f"no runs under {str(root)!r}: expected <task>/<baseline>/<seed>/metadata.json below it")
    runs, left_out = [], []
    for folder in folders:
        if not (folder / results_format.METADATA).exists():
            left_out.append(LeftOut(folder, f"no {results_format.METADATA}, so nothing says which run its rows "
                                            f"belong to; {results_format.REDO}"
                                    if _has_rows(folder) else
                                    f"no {results_format.METADATA} and no rows: the run never recorded anything"))
            continue
        try:
            runs.append(read_run(folder))
        except ValueError as error:  # the reader's messages start with the folder: name it once
            left_out.append(LeftOut(folder, str(error).removeprefix(str(folder)).lstrip("/: ")))
    if where:
        runs = select(runs, where)
    if not runs:
        raise ValueError(f"no usable run under {str(root)!r}: {len(left_out)} run folders left out, the first "
                         f"{left_out[0].folder}: {left_out[0].reason}")
    runs.sort(key=lambda r: (r.task, r.baseline, r.seed))
    check_one_experiment(runs)
    _check_same_task_description(runs)
    return Experiment(root, runs, left_out)


def _has_rows(folder: Path) -> bool:
    return (folder / results_format.PARQUET).exists() or (folder / results_format.ROWS).exists()


def load_experiment(path: Path | str, where: Sequence[tuple[str, str]] = ()) -> list[Run]:
    """The usable runs of ``scan_experiment`` (complete, incomplete and failed: ``Run.state`` says which);
    each run folder left out is a warning naming it and the reason."""
    experiment = scan_experiment(path, where)
    for left in experiment.left_out:
        warnings.warn(f"left out {left.folder}: {left.reason}", stacklevel=2)
    return experiment.runs


def _experiment_folder(run: Run) -> Path:
    # the layout is <experiment>/<task>/<baseline>/<seed>: copies of one experiment differ here
    return run.folder.parents[2] if len(run.folder.parents) > 2 else run.folder


def check_one_experiment(runs: list[Run]) -> None:
    """Raise ValueError when ``runs`` are not the seeds of one experiment: runs of several experiments
    (names or folders), one run twice, or runs of one task (or task and baseline) that differ in their
    definition (budget, workers, task version or data, baseline options). The message names what differs
    and how to pick one."""
    experiments: dict[tuple[Path, str], list[Run]] = {}
    for run in runs:
        experiments.setdefault((_experiment_folder(run), str(run.metadata.get("experiment"))), []).append(run)
    if len(experiments) > 1:
        found = "; ".join(f"{name!r} in {folder} ({len(of)} runs)" for (folder, name), of in experiments.items())
        names = sorted({name for _, name in experiments})
        by_name = f", or pick one by name with --where experiment={names[0]}" if len(names) > 1 else ""
        raise ValueError(f"runs of {len(experiments)} experiments: {found}; they are not seeds of one "
                         f"experiment: point at one experiment folder{by_name}")
    seen: dict[tuple[str, str, int], Run] = {}
    for run in runs:
        other = seen.setdefault((run.task, run.baseline, run.seed), run)
        if other is not run:
            raise ValueError(f"{run.task}/{run.baseline} seed {run.seed} is in two folders, {other.folder} and "
                             f"{run.folder}; move one of them away")
    for task in sorted({run.task for run in runs}):
        of_task = [run for run in runs if run.task == task]
        _check_same_definition(task, of_task, _TASK_DEFINITION)
        for baseline in sorted({run.baseline for run in of_task}):
            of_baseline = [run for run in of_task if run.baseline == baseline]
            options = sorted({f"{_BASELINE_DEFINITION}.{name}" for run in of_baseline
                              for name in run.metadata["baseline"].get("options", {})})
            _check_same_definition(f"{task}/{baseline}", of_baseline, tuple(options))


def _check_same_definition(scope: str, runs: list[Run], keys: tuple[str, ...]) -> None:
    for key in keys:
        groups: dict[str, list[Run]] = {}
        for run in runs:
            value = _value(run, key)
            groups.setdefault("(absent)" if value is _ABSENT else _text(value), []).append(run)
        if len(groups) > 1:
            found = ", ".join(f"{value} ({_seeds(of)})" for value, of in groups.items())
            raise ValueError(f"runs of {scope} differ in {key}: {found}; they are not seeds of one experiment: "
                             f"pick one with --where {key}={next(iter(groups))}, or move the others to another "
                             "experiment folder")


def _seeds(runs: list[Run]) -> str:
    baselines = sorted({run.baseline for run in runs})
    return "; ".join(f"{b} seeds {','.join(str(r.seed) for r in runs if r.baseline == b)}" for b in baselines)


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
    """A task's shipped Pareto front, in raw units: ``kind`` "true" (a table's, every configuration known) or
    "best-known" (a surrogate's, from a fixed sample: runs may pass it)."""

    points: np.ndarray
    kind: str = "true"


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
    version = run.metadata["task"].get("version")
    if version != shipped["version"]:
        raise ValueError(f"{run.folder}: task version {version!r} in the metadata, {shipped['version']!r} in {path}; "
                         "the run was made with another version of the task: run it again with this one")
    data_hash = run.metadata["task"].get("data_hash")
    if data_hash != shipped["data_sha256"]:
        raise ValueError(f"{run.folder}: data hash {data_hash!r} differs from {shipped['data_sha256']!r} in {path}")
    points = np.array(shipped["front"], dtype=float).reshape(-1, len(names))
    return TrueFront(points, shipped.get("front_kind", "true"))
