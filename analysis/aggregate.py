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
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.indicators import (
    epsilon_additive_over_time,
    hypervolume,
    hypervolume_over_time,
    igd_plus_over_time,
    nondominated,
    normalise,
)
from analysis.io import Run, true_front

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


def indicator_curves(runs: list[Run], indicator: str = "hv", tabular_data: Path | str | None = None) -> pd.DataFrame:
    """One row per evaluation of every run: task, baseline, seed, evaluation, time, clock, complete, state
    (``Run.state``), indicator, front (``ReferenceFront.kind``), value (the indicator after that evaluation), and for
    the hypervolume regret (reference front's hypervolume minus the run's) and reference_hypervolume.

    Raises ValueError for a run that reaches a hypervolume above its task's reference front (a true front
    that does not describe the data the run saw), and for IGD+ or epsilon on a task without any
    reference front (no true front, and no run finished an evaluation).
    """
    check_choice("indicator", indicator, tuple(INDICATORS))
    fronts = reference_fronts(runs, tabular_data)
    frames = []
    for run in runs:
        front = fronts[run.task]
        if indicator != "hv" and len(front.points) == 0:
            raise ValueError(f"task {run.task!r} has no true front and no finished evaluation, so no best-known "
                             f"front to measure {INDICATORS[indicator].label} against")
        extra: dict[str, object] = {}
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
            extra = {"regret": np.maximum(reference - values, 0.0), "reference_hypervolume": reference}
        elif indicator == "igdplus":
            values = igd_plus_over_time(run.normalised, front.points)
        else:
            values = epsilon_additive_over_time(run.normalised, front.points)
        frames.append(pd.DataFrame({
            "task": run.task,
            "baseline": run.baseline,
            "seed": run.seed,
            "evaluation": np.arange(1, len(values) + 1),
            "time": run.end,
            "clock": run.clock,
            "complete": run.complete,
            "state": run.state,
            "indicator": indicator,
            "front": front.kind,
            "value": values,
            **extra,
        }))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def check_choice(name: str, given: str, allowed: tuple[str, ...]) -> None:
    if given not in allowed:
        raise ValueError(f"{name}={given!r} is not one of {', '.join(allowed)}")


def x_values(curves: pd.DataFrame, x: str) -> pd.Series:
    """The x column for ``x``; time on a clock the runs do not have is refused."""
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
    check_choice("statistic", statistic, STATISTICS)
    check_choice("value", value, ("value", "regret"))
    if curves.empty:  # no run finished an evaluation: nothing to summarise
        return pd.DataFrame()
    indicator = indicator_of(curves)
    if value == "regret" and "regret" not in curves:
        raise ValueError(f"value='regret' is the hypervolume's; these curves hold {indicator.label}")
    curves = curves.assign(x=x_values(curves, x))
    frames = []
    for task, of_task in curves.groupby("task", sort=True):
        positive = of_task.loc[of_task["x"] > 0, "x"]
        at = grid(positive.min() if len(positive) else 0.0, of_task["x"].max(), points, log_x, x == "evaluations")
        for baseline, of_baseline in of_task.groupby("baseline", sort=True):
            matrix = np.vstack([
                on_grid(run["x"].to_numpy(), run[value].to_numpy(), at,
                        before=indicator.worst if value == "value" else float(run["reference_hypervolume"].iloc[0]),
                        carry=bool(run["complete"].iloc[0]))
                for _, run in of_baseline.groupby("seed", sort=True)
            ])
            frames.append(pd.DataFrame({"task": task, "baseline": baseline, "x": at,
                                        **summarise(matrix, statistic), "indicator": indicator.name,
                                        "front": of_task["front"].iloc[0], "value": value}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def percentiles(matrix: np.ndarray, q: list[float], axis: int | None = None) -> np.ndarray:
    """``np.nanpercentile`` that reads +inf (a run with no point yet) as worse than everything: a percentile
    that interpolates towards +inf is +inf, where numpy gives NaN."""
    matrix = np.asarray(matrix, dtype=float)
    infinite = np.isposinf(matrix)
    if not infinite.any():
        return np.nanpercentile(matrix, q, axis=axis)
    finite = matrix[np.isfinite(matrix)]
    top = float(np.max(np.abs(finite))) if len(finite) else 0.0
    # two stand-ins above every finite value: a result that depends on which one was used gives +inf weight
    first = np.nanpercentile(np.where(infinite, top + 1.0, matrix), q, axis=axis)
    second = np.nanpercentile(np.where(infinite, top + 2.0, matrix), q, axis=axis)
    return np.where(first == second, first, np.inf)


def summarise(matrix: np.ndarray, statistic: str) -> dict[str, np.ndarray]:
    """Column-wise centre and band of (seeds, grid) values, ignoring NaN (partial runs); +inf (a run with
    no point yet, for IGD+ and epsilon) counts as the worst value."""
    n = np.sum(~np.isnan(matrix), axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a grid column no seed reached stays NaN
        if statistic == "median":
            center = np.nanmedian(matrix, axis=0)
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
