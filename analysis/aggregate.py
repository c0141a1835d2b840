"""Hypervolume curves of runs and their aggregation across seeds on a common grid.

A run's curve is a step function: after each evaluation the hypervolume of everything evaluated so far
(normalised objectives, the task's reference point, both from the metadata). Curves of the seeds of one
(task, baseline) are read on a common grid and summarised by the median with the interquartile range
(default) or the mean with its standard error.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.indicators import hypervolume_over_time
from analysis.io import Run, true_front

X_AXES: tuple[str, ...] = ("evaluations", "simulated", "wall")
STATISTICS: tuple[str, ...] = ("median", "mean")
X_LABELS = {
    "evaluations": "evaluations",
    "simulated": "simulated time (s)",
    "wall": "wall-clock time (s)",
}
#: the true front is the best any run can do; more than this (relative) above it means a data mismatch
_REGRET_TOLERANCE = 1e-9


def hypervolume_curves(runs: list[Run], tabular_data: Path | str | None = None) -> pd.DataFrame:
    """One row per evaluation of every run: task, baseline, seed, evaluation, time, clock, complete,
    hypervolume, and regret (true-front hypervolume minus hypervolume; NaN without a true front).

    Raises ValueError for a run that reaches a hypervolume above its task's true front (the shipped
    front does not describe the data the run saw).
    """
    frames = []
    for run in runs:
        values = hypervolume_over_time(run.normalised, run.reference_point)
        front = true_front(run, tabular_data)
        if front is None:
            regret = np.full(len(values), np.nan)
        else:
            if len(values) and values[-1] > front.hypervolume * (1 + _REGRET_TOLERANCE) + _REGRET_TOLERANCE:
                raise ValueError(
                    f"{run.folder}: hypervolume {values[-1]:.12g} exceeds the true front's {front.hypervolume:.12g}; "
                    "the shipped true front does not match this run's data"
                )
            # rounding can put a run that found the whole front a hair above it: that is zero regret
            regret = np.maximum(front.hypervolume - values, 0.0)
        frames.append(pd.DataFrame({
            "task": run.task,
            "baseline": run.baseline,
            "seed": run.seed,
            "evaluation": np.arange(1, len(values) + 1),
            "time": run.end,
            "clock": run.clock,
            "complete": run.complete,
            "hypervolume": values,
            "regret": regret,
            "true_hypervolume": np.nan if front is None else front.hypervolume,
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
    curves: pd.DataFrame, x: str = "evaluations", statistic: str = "median", value: str = "hypervolume",
    points: int = 200, log_x: bool = False,
) -> pd.DataFrame:
    """Curves of the seeds of each (task, baseline) summarised on one grid per task.

    Args:
        curves: from ``hypervolume_curves``.
        x: "evaluations", or "simulated"/"wall" time (must match the runs' clock).
        statistic: "median" (band: 25th to 75th percentile) or "mean" (band: +- one standard error).
        value: "hypervolume" or "regret".
        points: grid size per task.
        log_x: a geometric grid, for a log x axis.

    Returns:
        task, baseline, x, center, lower, upper, n_seeds.
    """
    check_choice("statistic", statistic, STATISTICS)
    check_choice("value", value, ("hypervolume", "regret"))
    curves = curves.assign(x=x_values(curves, x))
    frames = []
    for task, of_task in curves.groupby("task", sort=True):
        positive = of_task.loc[of_task["x"] > 0, "x"]
        at = grid(positive.min() if len(positive) else 0.0, of_task["x"].max(), points, log_x, x == "evaluations")
        for baseline, of_baseline in of_task.groupby("baseline", sort=True):
            matrix = np.vstack([
                on_grid(run["x"].to_numpy(), run[value].to_numpy(), at,
                        before=0.0 if value == "hypervolume" else float(run["true_hypervolume"].iloc[0]),
                        carry=bool(run["complete"].iloc[0]))
                for _, run in of_baseline.groupby("seed", sort=True)
            ])
            frames.append(pd.DataFrame({"task": task, "baseline": baseline, "x": at,
                                        **summarise(matrix, statistic)}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def summarise(matrix: np.ndarray, statistic: str) -> dict[str, np.ndarray]:
    """Column-wise centre and band of (seeds, grid) values, ignoring NaN (partial runs)."""
    n = np.sum(np.isfinite(matrix), axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a grid column no seed reached stays NaN
        if statistic == "median":
            center = np.nanmedian(matrix, axis=0)
            lower, upper = np.nanpercentile(matrix, [25, 75], axis=0)
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
    each grid point, baselines are ranked within a task by their ``statistic`` across seeds of hypervolume
    (1 = best, ties share the average rank), and ranks are averaged over tasks.

    Returns:
        fraction, baseline, rank, tasks.
    """
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
                on_grid(run["x"].to_numpy(), run["hypervolume"].to_numpy(), at, 0.0, bool(run["complete"].iloc[0]))
                for _, run in of_baseline.groupby("seed", sort=True)
            ])
            centers.append(summarise(matrix, statistic)["center"])
        # higher hypervolume ranks first; ties share their average rank
        ranks.append(pd.DataFrame(np.vstack(centers)).rank(axis=0, ascending=False, method="average").to_numpy())
    average = np.mean(ranks, axis=0)
    return pd.DataFrame({
        "fraction": np.tile(fractions, len(baselines)),
        "baseline": np.repeat(baselines, len(fractions)),
        "rank": average.ravel(),
        "tasks": len(common),
    })
