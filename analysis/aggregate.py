"""Indicator curves of runs and their aggregation across seeds on a common grid.

A run's curve is a step function: after each evaluation, one quality indicator (hypervolume, IGD+ or
additive epsilon) of everything evaluated so far, on objectives normalised by the task's bounds from the
metadata. IGD+ and epsilon, and the hypervolume regret, are measured against a reference front per task:
the task's shipped TRUE front where there is one (tables); for a task that ships a best-known front (a
surrogate's, which runs may pass), the non-dominated union of that front and every given run on the task
(SHIPPED_AND_RUNS); else the BEST-KNOWN front, the non-dominated points of the union of every given run on
that task; the ``front`` column names which. Curves of the seeds
of one (task, baseline) are read on a common grid and summarised by the median with the interquartile range
(default) or the mean with its standard error.

The computations are on numpy arrays (``run_curves``, ``summaries``); ``indicator_curves`` and ``aggregate``
hand the same numbers out as pandas tables. The suite's figure process uses the arrays alone, so that it does
not import pandas (about a second) before it can draw.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from analysis.indicators import (
    epsilon_additive_over_time,
    hypervolume,
    hypervolume_over_time,
    igd_plus_over_time,
    nondominated,
    normalise,
)
from analysis.io import Run, true_front

if TYPE_CHECKING:
    import pandas as pd

X_AXES: tuple[str, ...] = ("evaluations", "simulated", "wall")
STATISTICS: tuple[str, ...] = ("median", "mean")
X_LABELS = {
    "evaluations": "evaluations",
    "simulated": "simulated time (s)",
    "wall": "wall-clock time (s)",
}
#: the reference front is the best any run can do; more than this (relative) above it means a data mismatch
_REGRET_TOLERANCE = 1e-9
#: the kind of reference front made of a shipped best-known front and the runs' points together
SHIPPED_AND_RUNS = "best-known+runs"


@dataclass(frozen=True)
class Indicator:
    """How one indicator enters curves, tables and figures."""

    name: str  #: the command-line choice
    label: str  #: how figures and table titles name it
    column: str  #: the stem of the files that hold it
    higher_is_better: bool

    @property
    def worst(self) -> float:
        """The value of a run before its first useful evaluation."""
        return 0.0 if self.higher_is_better else np.inf


INDICATORS: dict[str, Indicator] = {
    "hv": Indicator("hv", "hypervolume", "hypervolume", higher_is_better=True),
    "igdplus": Indicator("igdplus", "IGD+", "igd_plus", higher_is_better=False),
    "epsilon": Indicator("epsilon", "additive epsilon", "epsilon_additive", higher_is_better=False),
}


def indicator_of(frame: pd.DataFrame) -> Indicator:
    """The one indicator of a table made from ``indicator_curves``."""
    names = frame["indicator"].unique()
    if len(names) != 1:
        raise ValueError(f"a table must hold one indicator, got {sorted(names)}")
    return INDICATORS[str(names[0])]


@dataclass(frozen=True)
class ReferenceFront:
    """A task's reference front in normalised space and what it is: "true" (shipped), SHIPPED_AND_RUNS or
    "best-known" (the runs' alone)."""

    kind: str
    points: np.ndarray


def reference_fronts(runs: list[Run], tabular_data: Path | str | None = None) -> dict[str, ReferenceFront]:
    """Per task: its shipped true front; a shipped best-known front (a surrogate's) joined with the given
    runs' points (SHIPPED_AND_RUNS); else the best-known front of the given runs (non-dominated points of
    their union; empty when none of them finished an evaluation).

    Why the union for a shipped best-known front: it comes from a finite sample, and a run may pass it. The
    regret to it alone would be clipped at 0 (runs beyond it told apart by nothing) or negative (no log
    axis); the union is the best anyone has seen, every run's regret to it is >= 0 and ranks runs beyond
    the shipped front too. Like the runs' best-known front it moves when such runs are added.

    Raises ValueError for a run that disagrees with its task's shipped file (see ``analysis.io.true_front``).
    """
    fronts: dict[str, ReferenceFront] = {}
    for task in sorted({run.task for run in runs}):
        of_task = [run for run in runs if run.task == task]
        shipped = [true_front(run, tabular_data) for run in of_task]  # each run is checked against the file
        if shipped[0] is not None:
            points = normalise(shipped[0].points, of_task[0].lower, of_task[0].upper)
            if shipped[0].kind == "true":
                fronts[task] = ReferenceFront("true", points)
            else:
                fronts[task] = ReferenceFront(SHIPPED_AND_RUNS,
                                              nondominated(np.vstack([points, *(run.normalised for run in of_task)])))
        else:
            fronts[task] = ReferenceFront("best-known", nondominated(np.vstack([run.normalised for run in of_task])))
    return fronts


@dataclass(frozen=True)
class RunCurve:
    """One run's indicator after each of its evaluations; ``indicator_curves`` has a row per evaluation."""

    run: Run
    indicator: str  #: a key of INDICATORS
    front: str  #: ``ReferenceFront.kind`` of the run's task
    values: np.ndarray
    #: the hypervolume's only: the reference front's hypervolume minus the run's, and that reference
    regret: np.ndarray | None = None
    reference_hypervolume: float | None = None

    def x(self, x: str) -> np.ndarray:
        """The curve's x values for ``x`` (see ``x_values``): the evaluation number, or the time on the run's clock."""
        check_choice("x", x, X_AXES)
        if x == "evaluations":
            return np.arange(1, len(self.values) + 1, dtype=float)
        if self.run.clock != x:
            raise ValueError(
                f"x={x!r}, but {self.run.task}/{self.run.baseline} ran on a {self.run.clock} clock; "
                f"use x='evaluations' or x={self.run.clock!r}"
            )
        return self.run.end


def run_curves(runs: list[Run], indicator: str = "hv", tabular_data: Path | str | None = None) -> list[RunCurve]:
    """The curve of each run, in the order of ``runs``.

    Raises ValueError for a run that reaches a hypervolume above its task's reference front (a true front
    that does not describe the data the run saw), and for IGD+ or epsilon on a task without any
    reference front (no true front, and no run finished an evaluation).
    """
    check_choice("indicator", indicator, tuple(INDICATORS))
    fronts = reference_fronts(runs, tabular_data)
    curves = []
    for run in runs:
        front = fronts[run.task]
        if indicator != "hv" and len(front.points) == 0:
            raise ValueError(f"task {run.task!r} has no true front and no finished evaluation, so no best-known "
                             f"front to measure {INDICATORS[indicator].label} against")
        if indicator == "hv":
            values = hypervolume_over_time(run.normalised, run.reference_point)
            reference = hypervolume(front.points, run.reference_point)
            # only a true front can be passed by data it does not describe: the other kinds contain every run
            if len(values) and values[-1] > reference * (1 + _REGRET_TOLERANCE) + _REGRET_TOLERANCE:
                raise ValueError(
                    f"{run.folder}: hypervolume {values[-1]:.12g} exceeds the {front.kind} front's {reference:.12g}; "
                    "the shipped true front does not match this run's data"
                )
            # rounding can put a run that found the whole front a hair above it: that is zero regret
            curves.append(RunCurve(run, indicator, front.kind, values, np.maximum(reference - values, 0.0), reference))
        elif indicator == "igdplus":
            curves.append(RunCurve(run, indicator, front.kind, igd_plus_over_time(run.normalised, front.points)))
        else:
            curves.append(RunCurve(run, indicator, front.kind, epsilon_additive_over_time(run.normalised, front.points)))
    return curves


def indicator_curves(runs: list[Run], indicator: str = "hv", tabular_data: Path | str | None = None) -> pd.DataFrame:
    """``run_curves`` as one row per evaluation of every run: task, baseline, seed, evaluation, time, clock,
    complete, state (``Run.state``), indicator, front (``ReferenceFront.kind``), value (the indicator after that
    evaluation), and for the hypervolume regret (reference front's hypervolume minus the run's) and
    reference_hypervolume. Raises what ``run_curves`` raises."""
    import pandas as pd

    frames = []
    for curve in run_curves(runs, indicator, tabular_data):
        run = curve.run
        extra = {} if curve.regret is None else {"regret": curve.regret,
                                                 "reference_hypervolume": curve.reference_hypervolume}
        frames.append(pd.DataFrame({
            "task": run.task,
            "baseline": run.baseline,
            "seed": run.seed,
            "evaluation": np.arange(1, len(curve.values) + 1),
            "time": run.end,
            "clock": run.clock,
            "complete": run.complete,
            "state": run.state,
            "indicator": curve.indicator,
            "front": curve.front,
            "value": curve.values,
            **extra,
        }))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def check_choice(name: str, given: str, allowed: tuple[str, ...]) -> None:
    if given not in allowed:
        raise ValueError(f"{name}={given!r} is not one of {', '.join(allowed)}")


def x_values(curves: pd.DataFrame, x: str) -> pd.Series:
    """The x column of ``indicator_curves``' rows for ``x``; time on a clock the runs do not have is refused
    (``RunCurve.x`` of one run)."""
    check_choice("x", x, X_AXES)
    if x == "evaluations":
        return curves["evaluation"].astype(float)
    other = curves.loc[curves["clock"] != x, ["task", "baseline", "clock"]].drop_duplicates()
    if len(other):
        first = other.iloc[0]
        raise ValueError(
            f"x={x!r}, but {first['task']}/{first['baseline']} ran on a {first['clock']} clock; "
            f"use x='evaluations' or x={first['clock']!r}"
        )
    return curves["time"].astype(float)


def grid(low: float, high: float, points: int, log: bool, integer: bool) -> np.ndarray:
    """``points`` grid values from ``low`` to ``high`` (geometric when ``log``), unique integers when
    ``integer``."""
    if not high > low:
        values = np.array([high])
    elif log:
        values = np.geomspace(max(low, np.nextafter(0, 1)), high, points)
    else:
        values = np.linspace(low, high, points)
    return np.unique(np.round(values)) if integer else values


def on_grid(xs: np.ndarray, ys: np.ndarray, at: np.ndarray, before: float, carry: bool) -> np.ndarray:
    """The step function (xs, ys) read at ``at``: ``before`` ahead of the first x, the last value after
    the last x when ``carry`` (a finished run keeps its front), NaN there otherwise (a partial run)."""
    if len(xs) == 0:
        return np.full(len(at), before if carry else np.nan)
    index = np.searchsorted(xs, at, side="right") - 1
    values = np.where(index >= 0, ys[np.maximum(index, 0)], before)
    return values if carry else np.where(at > xs[-1], np.nan, values)


@dataclass(frozen=True)
class Steps:
    """One seed's curve as the step function that ``summaries`` reads on its task's grid."""

    task: str
    baseline: str
    seed: int
    front: str  #: ``ReferenceFront.kind`` of the task
    x: np.ndarray
    y: np.ndarray
    before: float  #: the value ahead of the first x
    carry: bool  #: a complete run keeps its last value after its last x; a partial run has none there


@dataclass(frozen=True)
class Summary:
    """The seeds of one (task, baseline) summarised on the task's grid: ``aggregate`` has a row per grid point."""

    task: str
    baseline: str
    x: np.ndarray
    center: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    n_seeds: np.ndarray
    indicator: str
    front: str
    value: str


def _check_options(statistic: str, value: str) -> None:
    check_choice("statistic", statistic, STATISTICS)
    check_choice("value", value, ("value", "regret"))


def _check_regret(indicator: Indicator, value: str) -> None:
    if value == "regret" and indicator.name != "hv":
        raise ValueError(f"value='regret' is the hypervolume's; these curves hold {indicator.label}")


def summaries(
    curves: list[RunCurve], x: str = "evaluations", statistic: str = "median", value: str = "value",
    points: int = 200, log_x: bool = False,
) -> list[Summary]:
    """``aggregate`` of ``run_curves``: the same numbers, as arrays. A run without any evaluation has no curve
    (as it has no row in ``indicator_curves``)."""
    _check_options(statistic, value)
    curves = [curve for curve in curves if len(curve.values)]
    if not curves:
        return []
    names = {curve.indicator for curve in curves}
    if len(names) != 1:
        raise ValueError(f"a table must hold one indicator, got {sorted(names)}")
    indicator = INDICATORS[names.pop()]
    _check_regret(indicator, value)
    steps = [Steps(curve.run.task, curve.run.baseline, curve.run.seed, curve.front, curve.x(x),
                   curve.values if value == "value" else curve.regret,
                   indicator.worst if value == "value" else float(curve.reference_hypervolume),
                   curve.run.complete)
             for curve in curves]
    return _summarised(steps, indicator, statistic, value, points, log_x, x == "evaluations")


def aggregate(
    curves: pd.DataFrame, x: str = "evaluations", statistic: str = "median", value: str = "value",
    points: int = 200, log_x: bool = False,
) -> pd.DataFrame:
    """Curves of the seeds of each (task, baseline) summarised on one grid per task.

    Args:
        curves: from ``indicator_curves``.
        x: "evaluations", or "simulated"/"wall" time (must match the runs' clock).
        statistic: "median" (band: 25th to 75th percentile) or "mean" (band: +- one standard error).
        value: "value" (the indicator) or "regret" (hypervolume only).
        points: grid size per task.
        log_x: a geometric grid, for a log x axis.

    Returns:
        task, baseline, x, center, lower, upper, n_seeds, indicator, front, value.
    """
    import pandas as pd

    _check_options(statistic, value)
    if curves.empty:  # no run finished an evaluation: nothing to summarise
        return pd.DataFrame()
    indicator = indicator_of(curves)
    _check_regret(indicator, value)
    curves = curves.assign(x=x_values(curves, x))
    steps = [Steps(task, baseline, seed, run["front"].iloc[0], run["x"].to_numpy(), run[value].to_numpy(),
                   indicator.worst if value == "value" else float(run["reference_hypervolume"].iloc[0]),
                   bool(run["complete"].iloc[0]))
             for (task, baseline, seed), run in curves.groupby(["task", "baseline", "seed"], sort=True)]
    return summary_table(_summarised(steps, indicator, statistic, value, points, log_x, x == "evaluations"))


def summary_table(summarised: list[Summary]) -> pd.DataFrame:
    """``summaries`` as ``aggregate``'s table."""
    import pandas as pd

    frames = [pd.DataFrame({"task": s.task, "baseline": s.baseline, "x": s.x, "center": s.center, "lower": s.lower,
                            "upper": s.upper, "n_seeds": s.n_seeds, "indicator": s.indicator, "front": s.front,
                            "value": s.value})
              for s in summarised]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _summarised(steps: list[Steps], indicator: Indicator, statistic: str, value: str, points: int, log_x: bool,
                integer: bool) -> list[Summary]:
    """The summary of each (task, baseline) of ``steps`` (none empty), in order of task and baseline; the grid
    of a task spans the x of all its seeds (from the smallest positive one when ``log_x``)."""
    result = []
    for task in sorted({s.task for s in steps}):
        of_task = [s for s in steps if s.task == task]
        xs = np.concatenate([s.x for s in of_task])
        positive = xs[xs > 0]
        at = grid(positive.min() if len(positive) else 0.0, np.nanmax(xs), points, log_x, integer)
        for baseline in sorted({s.baseline for s in of_task}):
            seeds = sorted((s for s in of_task if s.baseline == baseline), key=lambda s: s.seed)
            matrix = np.vstack([on_grid(s.x, s.y, at, s.before, s.carry) for s in seeds])
            result.append(Summary(task, baseline, at, **summarise(matrix, statistic), indicator=indicator.name,
                                  front=of_task[0].front, value=value))
    return result


def percentiles(matrix: np.ndarray, q: list[float], axis: int | None = None) -> np.ndarray:
    """``np.nanpercentile`` that reads +inf (a run with no point yet) as worse than everything: a percentile
    that interpolates towards +inf is +inf, where numpy gives NaN."""
    matrix = np.asarray(matrix, dtype=float)
    infinite = np.isposinf(matrix)
    if not infinite.any():
        return _nanpercentile(matrix, q, axis)
    finite = matrix[np.isfinite(matrix)]
    top = float(np.max(np.abs(finite))) if len(finite) else 0.0
    # two stand-ins above every finite value: a result that depends on which one was used gives +inf weight
    first = _nanpercentile(np.where(infinite, top + 1.0, matrix), q, axis)
    second = _nanpercentile(np.where(infinite, top + 2.0, matrix), q, axis)
    return np.where(first == second, first, np.inf)


def _nanpercentile(matrix: np.ndarray, q: list[float], axis: int | None) -> np.ndarray:
    """``np.nanpercentile``, by ``np.percentile`` where no value is NaN: the same numbers (the nan-version takes
    the same quantile of each column's values that are not NaN) without its Python loop over the columns, most
    of ``aggregate``'s time."""
    return np.nanpercentile(matrix, q, axis=axis) if np.isnan(matrix).any() else np.percentile(matrix, q, axis=axis)


def summarise(matrix: np.ndarray, statistic: str) -> dict[str, np.ndarray]:
    """Column-wise centre and band of (seeds, grid) values, ignoring NaN (partial runs); +inf (a run with
    no point yet, for IGD+ and epsilon) counts as the worst value."""
    n = np.sum(~np.isnan(matrix), axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a grid column no seed reached stays NaN
        if statistic == "median":
            # np.median where no value is NaN: see _nanpercentile
            center = np.nanmedian(matrix, axis=0) if np.isnan(matrix).any() else np.median(matrix, axis=0)
            lower, upper = percentiles(matrix, [25, 75], axis=0)
        else:
            center = np.nanmean(matrix, axis=0)
            error = np.where(n > 1, np.nanstd(matrix, axis=0, ddof=1) / np.sqrt(np.maximum(n, 1)), 0.0)
            lower, upper = center - error, center + error
    return {"center": center, "lower": lower, "upper": upper, "n_seeds": n}


def ranks_over_time(
    curves: pd.DataFrame, x: str = "evaluations", statistic: str = "median", points: int = 100, log_x: bool = False,
) -> pd.DataFrame:
    """Average rank of each baseline over time across the tasks where every baseline ran.

    Time is a fraction of each task's horizon (its largest x), so tasks of different lengths line up. At
    each grid point, baselines are ranked within a task by their ``statistic`` across seeds of the
    indicator (1 = best, ties share the average rank), and ranks are averaged over tasks.

    Returns:
        fraction, baseline, rank, tasks, indicator.
    """
    import pandas as pd

    indicator = indicator_of(curves)
    baselines = sorted(curves["baseline"].unique())
    common = [t for t, g in curves.groupby("task", sort=True) if sorted(g["baseline"].unique()) == baselines]
    if len(baselines) < 2 or not common:
        raise ValueError(f"ranks need >= 2 baselines on a common task, got {baselines} on {len(common)} common tasks")
    fractions = np.geomspace(1.0 / points, 1.0, points) if log_x else np.linspace(1.0 / points, 1.0, points)
    curves = curves.assign(x=x_values(curves, x))
    ranks = []
    for task in common:
        of_task = curves[curves["task"] == task]
        at = fractions * of_task["x"].max()
        centers = []
        for baseline in baselines:
            of_baseline = of_task[of_task["baseline"] == baseline]
            matrix = np.vstack([
                on_grid(run["x"].to_numpy(), run["value"].to_numpy(), at, indicator.worst, bool(run["complete"].iloc[0]))
                for _, run in of_baseline.groupby("seed", sort=True)
            ])
            centers.append(summarise(matrix, statistic)["center"])
        # the best value ranks first; ties share their average rank
        ranks.append(pd.DataFrame(np.vstack(centers)).rank(axis=0, ascending=not indicator.higher_is_better,
                                                           method="average").to_numpy())
    average = np.mean(ranks, axis=0)
    return pd.DataFrame({
        "fraction": np.tile(fractions, len(baselines)),
        "baseline": np.repeat(baselines, len(fractions)),
        "rank": average.ravel(),
        "tasks": len(common),
        "indicator": indicator.name,
    })
