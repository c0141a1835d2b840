from __future__ import annotations

from pathlib import Path

import moocore
import numpy as np
import pandas as pd
import pytest

from analysis.aggregate import aggregate, indicator_curves, on_grid, percentiles, ranks_over_time, reference_fronts
from analysis.indicators import epsilon_additive, igd_plus
from analysis.io import load_experiment, true_front


def _curve(task: str, baseline: str, seed: int, xs: list[float], hv: list[float], complete: bool = True) -> pd.DataFrame:
    return pd.DataFrame({
        "task": task, "baseline": baseline, "seed": seed, "evaluation": np.arange(1, len(xs) + 1), "time": xs,
        "clock": "simulated", "complete": complete, "indicator": "hv", "front": "true", "value": hv,
        "regret": 1.0 - np.asarray(hv), "reference_hypervolume": 1.0,
    })


def _of(curves: pd.DataFrame, run) -> pd.DataFrame:  # noqa: ANN001 - a Run
    return curves[(curves["task"] == run.task) & (curves["baseline"] == run.baseline) & (curves["seed"] == run.seed)]


def test_curves_match_one_moocore_call_per_prefix_and_regret_is_never_negative(experiment: Path) -> None:
    runs = load_experiment(experiment)
    curves = indicator_curves(runs)
    for run in runs[::5]:
        mine = _of(curves, run)
        points = run.normalised
        for i in range(len(points)):
            prefix = points[: i + 1]
            prefix = prefix[np.all(prefix < run.reference_point, axis=1)]
            expected = float(moocore.hypervolume(prefix, ref=run.reference_point)) if len(prefix) else 0.0
            assert mine["value"].iloc[i] == pytest.approx(expected, rel=1e-12)
        np.testing.assert_allclose(mine["time"], run.rows["end"])
    assert (curves["regret"] >= 0).all() and (curves["front"] == "true").all()
    np.testing.assert_allclose(curves["regret"], curves["reference_hypervolume"] - curves["value"], atol=1e-12)


@pytest.mark.parametrize("indicator, function", [("igdplus", igd_plus), ("epsilon", epsilon_additive)])
def test_igd_plus_and_epsilon_curves_are_measured_to_the_normalised_true_front(
        experiment: Path, indicator: str, function) -> None:  # noqa: ANN001 - an indicator function
    runs = load_experiment(experiment)
    curves = indicator_curves(runs, indicator)
    assert (curves["front"] == "true").all() and "regret" not in curves
    for run in runs[::4]:
        shipped = true_front(run)
        front = (shipped.points - run.lower) / (run.upper - run.lower)
        mine = _of(curves, run)["value"].to_numpy()
        for i in range(0, len(mine), 7):
            assert mine[i] == pytest.approx(function(run.normalised[: i + 1], front), rel=1e-12)
        assert mine[-1] >= 0  # nothing is better than the true front


def test_without_a_shipped_front_the_best_known_front_is_the_union_of_the_runs(experiment: Path, tmp_path: Path) -> None:
    runs = [run for run in load_experiment(experiment) if run.task == "fcnet-naval"]
    fronts = reference_fronts(runs, tabular_data=tmp_path)  # a folder without shipped fronts
    union = np.vstack([run.normalised for run in runs])
    union = union[np.all(np.isfinite(union), axis=1)]
    minimal = np.unique([p for p in union if not any(np.all(q <= p) and np.any(q < p) for q in union)], axis=0)
    assert fronts["fcnet-naval"].kind == "best-known"
    np.testing.assert_allclose(np.unique(fronts["fcnet-naval"].points, axis=0), minimal)
    curves = indicator_curves(runs, "igdplus", tabular_data=tmp_path)
    assert (curves["front"] == "best-known").all()
    final = curves.groupby(["baseline", "seed"])["value"].last()
    assert (final >= 0).all()
    hv = indicator_curves(runs, "hv", tabular_data=tmp_path)
    assert (hv["regret"] >= 0).all() and (hv["front"] == "best-known").all()


def test_percentiles_read_infinity_as_the_worst_value() -> None:
    # sorted 0.2, 0.3, inf, inf: the 25th percentile lies between 0.2 and 0.3, the median between 0.3 and inf
    values = np.array([np.inf, 0.3, np.inf, 0.2, np.nan])
    assert percentiles(values, [0, 25, 50, 100]).tolist() == [0.2, pytest.approx(0.275), np.inf, np.inf]
    np.testing.assert_allclose(percentiles(np.array([0.2, 0.3]), [50]), [0.25])


def test_a_run_without_a_point_yet_is_infinitely_far_from_the_front() -> None:
    curves = pd.concat([_curve("t", "b", seed, [1, 2], values) for seed, values in
                        enumerate([[np.inf, 0.5], [0.4, 0.2], [np.inf, np.inf]])])
    curves = curves.assign(indicator="igdplus").drop(columns=["regret", "reference_hypervolume"])
    summary = aggregate(curves, "evaluations", points=2)
    # evaluation 1: 0.4, inf, inf; evaluation 2: 0.2, 0.5, inf
    assert summary["center"].tolist() == [np.inf, 0.5]
    assert summary["lower"].tolist() == [np.inf, pytest.approx(0.35)] and summary["upper"].tolist() == [np.inf, np.inf]
    assert summary["n_seeds"].tolist() == [3, 3] and (summary["front"] == "true").all()
    with pytest.raises(ValueError, match="value='regret' is the hypervolume's"):
        aggregate(curves, value="regret")


def test_median_and_interquartile_range_on_the_grid() -> None:
    curves = pd.concat([
        _curve("t", "b", 0, [1, 2, 3, 4], [0.1, 0.2, 0.3, 0.4]),
        _curve("t", "b", 1, [1, 2, 3, 4], [0.0, 0.5, 0.5, 0.5]),
        _curve("t", "b", 2, [1, 2], [0.3, 0.6]),  # finished after 2 evaluations: keeps its value
    ])
    summary = aggregate(curves, "evaluations", "median", points=4)
    assert summary["x"].tolist() == [1, 2, 3, 4]
    columns = np.array([[0.1, 0.0, 0.3], [0.2, 0.5, 0.6], [0.3, 0.5, 0.6], [0.4, 0.5, 0.6]])
    np.testing.assert_allclose(summary["center"], np.median(columns, axis=1))
    np.testing.assert_allclose(summary["lower"], np.percentile(columns, 25, axis=1))
    np.testing.assert_allclose(summary["upper"], np.percentile(columns, 75, axis=1))
    mean = aggregate(curves, "evaluations", "mean", points=4)
    error = columns.std(axis=1, ddof=1) / np.sqrt(3)
    np.testing.assert_allclose(mean["upper"] - mean["center"], error)
    np.testing.assert_allclose(mean["center"], columns.mean(axis=1))


def test_time_axis_reads_step_functions_and_leaves_partial_runs_open() -> None:
    curves = pd.concat([
        _curve("t", "b", 0, [10.0, 20.0], [0.2, 0.4]),
        _curve("t", "b", 1, [5.0], [0.6], complete=False),  # still running after t = 5
    ])
    summary = aggregate(curves, "simulated", "mean", points=4)  # grid 5, 10, 15, 20
    np.testing.assert_allclose(summary["x"], [5, 10, 15, 20])
    np.testing.assert_allclose(summary["center"], [(0 + 0.6) / 2, 0.2, 0.2, 0.4])
    assert summary["n_seeds"].tolist() == [2, 1, 1, 1]
    regret = aggregate(curves, "simulated", "median", value="regret", points=4)
    assert regret["center"].iloc[0] == pytest.approx((1.0 + 0.4) / 2)  # before its first result a run has regret 1


def test_on_grid_is_zero_before_the_first_evaluation() -> None:
    values = on_grid(np.array([2.0, 4.0]), np.array([1.0, 3.0]), np.array([1.0, 2.0, 3.0, 5.0]), 0.0, True)
    assert values.tolist() == [0.0, 1.0, 1.0, 3.0]


def test_log_grid_and_bad_choices() -> None:
    curves = _curve("t", "b", 0, list(range(1, 1001)), list(np.linspace(0, 1, 1000)))
    summary = aggregate(curves, "evaluations", log_x=True, points=50)
    assert summary["x"].iloc[0] == 1 and summary["x"].iloc[-1] == 1000 and summary["x"].is_monotonic_increasing
    steps = np.diff(summary["x"].to_numpy())
    assert steps[0] < steps[-1]
    with pytest.raises(ValueError, match="x='wall', but t/b ran on a simulated clock"):
        aggregate(curves, "wall")
    with pytest.raises(ValueError, match="statistic='mode' is not one of median, mean"):
        aggregate(curves, statistic="mode")


def test_ranks_over_time_average_over_tasks() -> None:
    curves = pd.concat([
        _curve("t1", "a", 0, [1, 2], [0.5, 0.5]), _curve("t1", "b", 0, [1, 2], [0.1, 0.9]),
        _curve("t2", "a", 0, [1, 2], [0.5, 0.5]), _curve("t2", "b", 0, [1, 2], [0.5, 0.4]),
    ])
    ranks = ranks_over_time(curves, "evaluations", points=2)
    table = ranks.pivot(index="fraction", columns="baseline", values="rank")
    # t = 1: a beats b on t1, ties on t2 (1.5 each); t = 2: b wins t1, a wins t2
    assert table.loc[0.5].tolist() == [1.25, 1.75]
    assert table.loc[1.0].tolist() == [1.5, 1.5]
    lower_is_better = ranks_over_time(curves.assign(indicator="epsilon"), "evaluations", points=2)
    table = lower_is_better.pivot(index="fraction", columns="baseline", values="rank")
    assert table.loc[0.5].tolist() == [1.75, 1.25] and table.loc[1.0].tolist() == [1.5, 1.5]
    with pytest.raises(ValueError, match="ranks need >= 2 baselines"):
        ranks_over_time(curves[curves["baseline"] == "a"])


def test_wall_clock_runs_are_read_on_their_own_clock() -> None:
    curves = _curve("live", "b", 0, [0.5, 2.0], [0.3, 0.7]).assign(clock="wall")
    summary = aggregate(curves, "wall", points=4)
    np.testing.assert_allclose(summary["x"], [0.5, 1.0, 1.5, 2.0])
    np.testing.assert_allclose(summary["center"], [0.3, 0.3, 0.3, 0.7])
    with pytest.raises(ValueError, match="ran on a wall clock; use x='evaluations' or x='wall'"):
        aggregate(curves, "simulated")
