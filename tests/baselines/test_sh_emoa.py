"""SH-EMOA: the paper's split of evaluations over stages, the stage schedule, survival against an independent
computation, and stages with asynchronous workers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from baselines.sh_emoa import SHEMOA, stage_children
from tasks.base import Fidelity, Result, Trial
from test_successive_halving import naive_select
from toy_tasks import ToyTask


def test_stage_children_by_hand() -> None:
    # the paper's code defaults: 200 evaluations, 10 members, eta 2; 3 stages: m = ceil(190 / 7) = 28
    assert stage_children(200, 10, 3, 2) == [112, 56, 28]
    # 4 stages, eta 3: m = ceil(90 / 40) = 3 -> 81, 27, 9, 3
    assert stage_children(100, 10, 4, 3) == [81, 27, 9, 3]
    assert stage_children(50, 10, 1, 2) == [40]


def normalised(task: ToyTask, result: Result) -> np.ndarray:
    return task.normalise(np.array([[result.objectives[o.name] for o in task.objectives]]))[0]


def test_one_worker_stages_and_survival_match_an_independent_computation() -> None:
    task = ToyTask(fidelity=Fidelity("epochs", 5, 25))
    baseline = SHEMOA(task.space, task.objectives, task.fidelity, seed=0, population_size=4, n_evaluations=32)
    # budgets 25 / 2**i >= 5: 6.25 -> 6, 12.5 -> 12, 25; children ceil(28 / 7) = 4 -> 16, 8, 4
    plan = [6.0] * (4 + 16) + [12.0] * (4 + 8) + [25.0] * (4 + 4) + [25.0] * 5
    population: list[tuple[str, np.ndarray]] = []
    stage_start_members: dict[float, list[str]] = {}
    for step, budget in enumerate(plan):
        trial = baseline.ask()
        assert trial.fidelity == budget, step
        if step in (20, 32):  # a new stage re-evaluates the last stage's survivors first, in their order
            stage_start_members[budget] = [key for key, _ in population]
            population = []
        result = task.evaluate(trial.config, trial.fidelity, seed=trial.id)
        baseline.tell(trial, result)
        population.append((json.dumps(trial.config, sort_keys=True), normalised(task, result)))
        if len(population) > 4:  # survival: the 4 best by rank and hypervolume contribution (plain loops)
            points = np.array([p for _, p in population])
            keep = naive_select(points, 4, np.maximum(1.1, points.max(axis=0) + 0.1))
            population = [population[i] for i in sorted(keep)]
        assert [json.dumps(c, sort_keys=True) for c, _ in baseline.population] == [k for k, _ in population]
    assert baseline.stage == (2, 25.0)
    assert len(stage_start_members[12.0]) == len(stage_start_members[25.0]) == 4


def test_re_evaluations_are_the_survivors() -> None:
    task = ToyTask(fidelity=Fidelity("epochs", 1, 4))
    baseline = SHEMOA(task.space, task.objectives, task.fidelity, seed=1, population_size=3, n_evaluations=9)
    # budgets 1, 2, 4; children ceil(6 / 7) = 1 -> 4, 2, 1
    for _ in range(3 + 4):
        trial = baseline.ask()
        assert trial.fidelity == 1.0
        baseline.tell(trial, task.evaluate(trial.config, trial.fidelity, seed=trial.id))
    survivors = [config for config, _ in baseline.population]
    again = [baseline.ask() for _ in range(3)]
    assert [t.config for t in again] == survivors and {t.fidelity for t in again} == {2.0}


def test_asynchronous_stage_change_waits_for_results_and_drops_late_ones() -> None:
    task = ToyTask(fidelity=Fidelity("epochs", 1, 4))
    baseline = SHEMOA(task.space, task.objectives, task.fidelity, seed=2, population_size=3, n_evaluations=9)
    first = [baseline.ask() for _ in range(7)]  # stage 0's plan: 3 random + 4 children, all pending
    extra = baseline.ask()  # not all told: an extra child at the same budget, not the next stage
    assert extra.fidelity == 1.0
    for trial in first:
        baseline.tell(trial, task.evaluate(trial.config, trial.fidelity, seed=trial.id))
    next_stage = baseline.ask()
    assert next_stage.fidelity == 2.0 and baseline.stage == (1, 2.0)
    before = baseline.population
    baseline.tell(extra, task.evaluate(extra.config, extra.fidelity, seed=extra.id))  # late: enters nothing
    assert baseline.population == before == ()
    baseline.tell(next_stage, task.evaluate(next_stage.config, next_stage.fidelity, seed=next_stage.id))
    assert [c for c, _ in baseline.population] == [next_stage.config]


def test_failures_and_replays_enter_no_population_of_another_budget() -> None:
    task = ToyTask(fidelity=Fidelity("epochs", 1, 4))
    baseline = SHEMOA(task.space, task.objectives, task.fidelity, seed=3, population_size=3, n_evaluations=9)
    trial = baseline.ask()
    baseline.tell(trial, Result.failure("boom"))
    replayed = Trial(id=50, config=trial.config, fidelity=4.0)  # another stage's budget
    baseline.tell(replayed, task.evaluate(trial.config, 4.0, seed=0))
    assert baseline.population == ()
    replayed = Trial(id=51, config=trial.config, fidelity=1.0)
    baseline.tell(replayed, task.evaluate(trial.config, 1.0, seed=0))
    assert [c for c, _ in baseline.population] == [trial.config]
    assert baseline.ask().id == 52


def test_n_evaluations_must_exceed_the_population() -> None:
    task = ToyTask(fidelity=Fidelity("epochs", 1, 4))
    with pytest.raises(ValueError, match="n_evaluations=10 must exceed population_size=10"):
        SHEMOA(task.space, task.objectives, task.fidelity, 0, n_evaluations=10)
