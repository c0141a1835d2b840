"""The conformance suite: every registered baseline, built-in or plug-in, must pass these unchanged.

Parametrised over ``BASELINES.names()`` at collection time; plug-ins named in
``BOB_PLUGINS`` are imported first (see conftest.py).
"""

from __future__ import annotations

import json
import math

import pytest

from baselines import BASELINES, Baseline, OptionError
from suite.loops import evaluation_seed, simulate
from suite.spec import Budget
from tasks import make_task
from tasks.base import Fidelity, Result, Task, Trial
from toy_tasks import FidelityTabularTask, ToyTask

# a heavy baseline's cases are marked: they run with `pytest -m heavy` (make test-heavy), see Baseline.heavy
NAMES = [pytest.param(n, marks=pytest.mark.heavy) if BASELINES.get(n).heavy else n for n in BASELINES.names()]


def make(name: str, task: Task, seed: int = 0) -> Baseline:
    return BASELINES.get(name)(task.space, task.objectives, task.fidelity, seed)


def run(name: str, task: Task, seed: int, evaluations: int, n_workers: int) -> list[dict]:
    rows: list[dict] = []
    simulate(make(name, task, seed), task, seed, Budget(evaluations=evaluations), n_workers, rows.append)
    return rows


def assert_trial_valid(task: Task, config: dict, fidelity: float | None) -> None:
    task.check_config(config)  # raises on a value outside the space or a violated condition
    if fidelity is not None:
        assert task.fidelity is not None, "a fidelity was asked on a task without one"
        assert task.fidelity.contains(fidelity), f"fidelity {fidelity} outside {task.fidelity}"


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("fidelity", [None, Fidelity("epochs", 1, 27)], ids=["no-fidelity", "fidelity"])
def test_configurations_respect_space_conditions_and_fidelity(name: str, fidelity: Fidelity | None) -> None:
    task = ToyTask(fidelity=fidelity)
    rows = run(name, task, seed=1, evaluations=30, n_workers=3)
    assert len(rows) == 30
    assert all(row["status"] == "ok" for row in rows), [row["reason"] for row in rows if row["status"] != "ok"]
    for row in rows:
        assert_trial_valid(task, json.loads(row["config"]), row["fidelity"])
    assert len({row["trial_id"] for row in rows}) == 30


@pytest.mark.parametrize("name", NAMES)
def test_tabulated_fidelity_levels_are_respected(name: str) -> None:
    task = FidelityTabularTask()
    for row in run(name, task, seed=2, evaluations=30, n_workers=2):
        assert_trial_valid(task, json.loads(row["config"]), row["fidelity"])


@pytest.mark.parametrize("name", NAMES)
def test_several_pending_asks_told_in_any_order(name: str) -> None:
    task = ToyTask(fidelity=Fidelity("epochs", 1, 27))
    baseline = make(name, task)
    for _ in range(3):
        pending = [baseline.ask() for _ in range(5)]
        assert len({t.id for t in pending}) == 5
        for trial in reversed(pending):  # the last asked finishes first
            assert_trial_valid(task, trial.config, trial.fidelity)
            baseline.tell(trial, task.evaluate(trial.config, trial.fidelity, seed=trial.id))


@pytest.mark.parametrize("name", NAMES)
def test_failed_evaluations_are_survived(name: str) -> None:
    task = ToyTask(failures=True)  # raises for some configurations, NaN for others
    rows = run(name, task, seed=3, evaluations=30, n_workers=2)
    assert len(rows) == 30
    assert any(row["status"] == "failed" for row in rows)
    baseline = make(name, task)
    # told directly, not through the run loop: an "ok" result whose value is NaN, and an exception's result
    for result in (Result(objectives={"f1": math.nan, "f2": 1.0}, cost_s=1.0), Result.failure("boom")):
        trial = baseline.ask()
        baseline.tell(trial, result)
    assert_trial_valid(task, baseline.ask().config, None)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_gives_same_trials_on_a_tabular_task(name: str) -> None:
    task = make_task("fcnet-naval")
    first, second = (run(name, task, seed=7, evaluations=25, n_workers=2) for _ in range(2))
    assert [(r["config"], r["fidelity"]) for r in first] == [(r["config"], r["fidelity"]) for r in second]


@pytest.mark.parametrize("name", NAMES)
def test_tell_accepts_trials_it_never_asked(name: str) -> None:
    """Resume replays recorded rows into a fresh instance, which then continues with fresh ids."""
    task = make_task("fcnet-naval")
    recorded = run(name, task, seed=4, evaluations=12, n_workers=1)
    resumed = make(name, task, seed=4)
    for row in recorded:
        trial = row_trial(row)
        resumed.tell(trial, task.evaluate(trial.config, trial.fidelity, evaluation_seed(4, trial.id)))
    trial = resumed.ask()
    assert trial.id >= len(recorded)
    assert_trial_valid(task, trial.config, trial.fidelity)
    # it goes on with several pending asks (ParEGO once looped forever here)
    pending = [trial, resumed.ask(), resumed.ask()]
    for later in reversed(pending):
        assert_trial_valid(task, later.config, later.fidelity)
        resumed.tell(later, task.evaluate(later.config, later.fidelity, evaluation_seed(4, later.id)))
    assert [t.id for t in pending] == list(range(trial.id, trial.id + 3))
    assert resumed.ask().id == trial.id + 3


@pytest.mark.parametrize("name", NAMES)
def test_replayed_trials_told_while_own_trials_are_pending(name: str) -> None:
    task = make_task("fcnet-naval")
    recorded = run(name, task, seed=4, evaluations=6, n_workers=1)
    baseline = make(name, task, seed=8)
    own = [baseline.ask(), baseline.ask()]
    for row in recorded:  # ids 100..105: another run's rows, replayed into this one
        trial = Trial(id=100 + row["trial_id"], config=json.loads(row["config"]), fidelity=row["fidelity"])
        baseline.tell(trial, task.evaluate(trial.config, trial.fidelity, evaluation_seed(4, trial.id)))
    for trial in own:
        baseline.tell(trial, task.evaluate(trial.config, trial.fidelity, evaluation_seed(8, trial.id)))
    later = [baseline.ask() for _ in range(3)]
    assert [t.id for t in own + later] == [0, 1, 106, 107, 108]
    for trial in later:
        assert_trial_valid(task, trial.config, trial.fidelity)


@pytest.mark.parametrize("name", NAMES)
def test_options_are_declared_json_and_checked(name: str) -> None:
    cls = BASELINES.get(name)
    defaults = cls.check_options({})
    assert json.loads(json.dumps(defaults)) == defaults
    options = make(name, ToyTask()).options()
    assert json.loads(json.dumps(options)) == options and set(options) == set(defaults)
    with pytest.raises(OptionError, match="no_such_option"):
        cls.check_options({"no_such_option": 1})


def row_trial(row: dict) -> Trial:
    return Trial(id=row["trial_id"], config=json.loads(row["config"]), fidelity=row["fidelity"])


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_200_evaluations_on_a_tabular_task(name: str) -> None:
    task = make_task("hpobench-mlp-kc1")
    rows = run(name, task, seed=5, evaluations=200, n_workers=4)
    assert len(rows) == 200
    assert all(row["status"] == "ok" for row in rows)
