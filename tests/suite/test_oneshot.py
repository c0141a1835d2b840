"""A one-shot method's architectures recorded as a run: the schedule on the run's clock, the budget, and the
analysis reading it beside black-box runs of the same experiment."""

from __future__ import annotations

import json
import math
from pathlib import Path

import moocore
import numpy as np
import pytest

from analysis.aggregate import indicator_curves
from analysis.io import load_experiment
from suite.lifecycle import execute
from suite.loops import evaluation_seed
from suite.metadata import load_metadata
from suite.oneshot import Found, record_oneshot
from suite.results_format import ResultsError
from suite.spec import Budget, RunSpec
from tasks import make_task

TASK = "nb201-cifar10"
CELLS = [  # NB201 cells, given out of order of availability
    ({f"Op{i}": "nor_conv_3x3" for i in range(6)}, 50.0),
    ({f"Op{i}": "skip_connect" for i in range(6)}, 10.0),
    ({**{f"Op{i}": "avg_pool_3x3" for i in range(6)}, "Op0": "nor_conv_1x1"}, 30.0),
]


def found() -> list[Found]:
    return [Found(config, available, {"nu": float(n)}) for n, (config, available) in enumerate(CELLS)]


def costs(seed: int) -> list[float]:
    """Each cell's table cost, in order of availability (trial ids 0, 1, 2), with the run loop's eval seeds."""
    task = make_task(TASK)
    ordered = sorted(CELLS, key=lambda cell: cell[1])
    return [task.evaluate(config, None, evaluation_seed(seed, i)).cost_s for i, (config, _) in enumerate(ordered)]


def test_rows_are_available_after_the_search_and_evaluated_on_one_worker(tmp_path: Path) -> None:
    task = make_task(TASK)
    folder = record_oneshot(tmp_path, "e", "sweep", {"nus": [0, 1, 2]}, task, 4, found(), {"data": "digits"},
                            Budget(seconds=1e6))
    c = costs(4)
    # by hand: one worker, cells at 10, 30, 50 s; each starts when available and the worker is free
    start0 = 10.0
    start1 = max(30.0, start0 + c[0])
    start2 = max(50.0, start1 + c[1])
    run = load_experiment(tmp_path / "e")[0]
    assert run.baseline == "sweep" and run.complete
    assert run.rows["start"].tolist() == pytest.approx([start0, start1, start2])
    assert run.end.tolist() == pytest.approx([start0 + c[0], start1 + c[1], start2 + c[2]])
    assert [json.loads(i)["nu"] for i in run.rows["info"]] == [1.0, 2.0, 0.0]
    metadata = load_metadata(folder)
    assert metadata.oneshot == {"data": "digits", "search_cost_s": 50.0, "architectures": 3}
    assert metadata.baseline.options == {"nus": [0, 1, 2]} and metadata.budget == Budget(seconds=1e6)
    with pytest.raises(ResultsError, match="already holds a run"):
        record_oneshot(tmp_path, "e", "sweep", {}, task, 4, found(), {}, Budget(seconds=1e6))


def test_two_workers_and_the_budget(tmp_path: Path) -> None:
    task = make_task(TASK)
    c = costs(0)
    two = load_experiment(record_oneshot(tmp_path, "two", "sweep", {}, task, 0, found(), {}, Budget(seconds=1e6),
                                         n_workers=2))[0]
    # the second worker is free: the cell available at 30 s starts then, the third waits for the first free
    assert sorted(two.rows["start"].tolist()) == pytest.approx(sorted([10.0, 30.0, max(50.0, min(10 + c[0], 30 + c[1]))]))
    cut = 30.0 + c[1] - 1e-6  # the second cell would end just after the budget
    one = load_experiment(record_oneshot(tmp_path, "cut", "sweep", {}, task, 0, found(), {}, Budget(seconds=cut)))[0]
    assert len(one.rows) == (1 if 10 + c[0] <= cut else 0)
    few = load_experiment(record_oneshot(tmp_path, "few", "sweep", {}, task, 0, found(), {},
                                         Budget(evaluations=2, seconds=1e6)))[0]
    assert len(few.rows) == 2
    with pytest.raises(ValueError, match="available_s"):
        record_oneshot(tmp_path, "nan", "sweep", {}, task, 0, [Found(CELLS[0][0], math.nan)], {}, Budget(seconds=1.0))


def test_the_analysis_compares_it_with_black_box_runs_at_equal_cost(tmp_path: Path) -> None:
    task = make_task(TASK)
    budget = Budget(seconds=6000.0)
    record_oneshot(tmp_path, "e", "sweep", {}, task, 0, found(), {}, budget)
    execute(RunSpec("random_search", TASK, 0, budget, experiment="e"), tmp_path)
    runs = load_experiment(tmp_path / "e")
    curves = indicator_curves(runs, "hv")
    assert sorted(curves["baseline"].unique()) == ["random_search", "sweep"]
    sweep = curves[curves["baseline"] == "sweep"]
    run = next(r for r in runs if r.baseline == "sweep")
    assert sweep["time"].tolist() == run.end.tolist()
    assert (sweep["time"] <= budget.seconds).all()
    # its final hypervolume, computed apart from the analysis with moocore on the table's expected values
    expected = np.array([[task.evaluate(c, None, 0).expected[o] for o in task.objective_names]
                         for c in (json.loads(x) for x in run.rows["config"])])
    points = task.normalise(expected)
    reference = np.array(task.reference_point)
    inside = points[(points < reference).all(axis=1)]
    assert sweep["value"].iloc[-1] == pytest.approx(moocore.hypervolume(inside, ref=reference))


def test_an_architecture_the_task_refuses_is_a_failed_row(tmp_path: Path) -> None:
    task = make_task(TASK)
    bad = Found({**CELLS[0][0], "Op0": "conv_7x7"}, 5.0)
    run = load_experiment(record_oneshot(tmp_path, "e", "sweep", {}, task, 0, [bad, found()[1]], {},
                                         Budget(seconds=1e6)))[0]
    assert run.rows["status"].tolist() == ["failed", "ok"]
    assert "conv_7x7" in run.rows["reason"].iloc[0] and run.rows["end"].iloc[0] == 5.0
