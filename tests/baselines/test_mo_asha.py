"""MO-ASHA: promotions against an independent replay of ASHA's rule, pending asks, resume, a task without fidelity."""

from __future__ import annotations

import json

import numpy as np
import pytest

from baselines.mo_asha import MOASHA
from tasks import make_task
from tasks.base import Fidelity, Trial
from test_successive_halving import naive_farthest_first, naive_ranks
from toy_tasks import ToyTask


def naive_top(points: list[np.ndarray], count: int) -> list[int]:
    """The first ``count`` indices by non-dominated rank, inside a front farthest-first (plain loops)."""
    if count == 0:
        return []
    array = np.array(points)
    ranks = naive_ranks(array)
    order: list[int] = []
    for rank in range(ranks.max() + 1):
        front = np.flatnonzero(ranks == rank)
        order.extend(int(front[i]) for i in naive_farthest_first(array[front]))
        if len(order) >= count:
            return order[:count]
    return order


def expected_job(rungs: list[list[tuple[str, np.ndarray]]], promoted: list[set[str]], eta: float) -> tuple[str, int] | None:
    """ASHA's next promotion by Li et al.'s Algorithm 2, written from the paper: (configuration, rung) or None."""
    for k in range(len(rungs) - 2, -1, -1):
        keys = [key for key, _ in rungs[k]]
        for i in naive_top([point for _, point in rungs[k]], int(len(keys) // eta)):
            if keys[i] not in promoted[k]:
                return keys[i], k + 1
    return None


@pytest.mark.parametrize("workers", [1, 4])
def test_every_job_is_the_promotion_asha_prescribes(workers: int) -> None:
    task = ToyTask(fidelity=Fidelity("epochs", 1, 27))
    baseline = MOASHA(task.space, task.objectives, task.fidelity, seed=0)
    budgets = [1.0, 3.0, 9.0, 27.0]
    rungs: list[list[tuple[str, np.ndarray]]] = [[] for _ in budgets]
    promoted: list[set[str]] = [set() for _ in budgets]
    rng = np.random.default_rng(0)
    pending: list[Trial] = []
    promotions = 0
    for _ in range(200):
        while len(pending) < workers:
            expected = expected_job(rungs, promoted, 3)
            trial = baseline.ask()
            key = json.dumps(trial.config, sort_keys=True)
            if expected is None:
                assert trial.fidelity == 1.0
            else:
                assert (key, budgets.index(trial.fidelity)) == expected
                promoted[expected[1] - 1].add(key)
                promotions += 1
            pending.append(trial)
        trial = pending.pop(int(rng.integers(len(pending))))  # results come back in any order
        result = task.evaluate(trial.config, trial.fidelity, seed=trial.id)
        baseline.tell(trial, result)
        point = task.normalise(np.array([[result.objectives[o.name] for o in task.objectives]]))[0]
        rungs[budgets.index(trial.fidelity)].append((json.dumps(trial.config, sort_keys=True), point))
    assert promotions > 40 and len(rungs[3]) > 2  # the test exercised every rung


def test_pending_asks_never_promote_a_configuration_twice() -> None:
    task = make_task("cnn-digits-mf")
    baseline = MOASHA(task.space, task.objectives, task.fidelity, seed=1)
    asked: list[tuple[str, float | None]] = []
    for _ in range(40):
        batch = [baseline.ask() for _ in range(8)]
        asked.extend((json.dumps(t.config, sort_keys=True), t.fidelity) for t in batch)
        for trial in reversed(batch):
            baseline.tell(trial, task.evaluate(trial.config, trial.fidelity, seed=trial.id))
    promotions = [(key, fidelity) for key, fidelity in asked if fidelity != 3.0]
    assert len(promotions) > 20 and len(set(promotions)) == len(promotions)
    assert {fidelity for _, fidelity in asked} == {3.0, 8.0, 25.0}  # cnn-digits-mf's levels, eta 3 from 25


def test_resume_continues_promotions_from_replayed_rungs() -> None:
    task = ToyTask(fidelity=Fidelity("epochs", 1, 9))
    first = MOASHA(task.space, task.objectives, task.fidelity, seed=2)
    told = []
    for _ in range(9):
        trial = first.ask()
        result = task.evaluate(trial.config, trial.fidelity, seed=trial.id)
        first.tell(trial, result)
        told.append((trial, result))
    resumed = MOASHA(task.space, task.objectives, task.fidelity, seed=5)
    for trial, result in told:
        resumed.tell(trial, result)
    promotions = []
    while (trial := first.ask()).fidelity != 1.0:
        promotions.append(trial)
    assert promotions and [resumed.ask() for _ in promotions] == promotions
    assert resumed.ask().fidelity == 1.0


def test_without_a_fidelity_every_trial_is_a_new_configuration_at_full_budget() -> None:
    task = ToyTask()
    baseline = MOASHA(task.space, task.objectives, None, seed=3)
    configs = []
    for _ in range(20):
        trial = baseline.ask()
        assert trial.fidelity is None
        baseline.tell(trial, task.evaluate(trial.config, None, seed=trial.id))
        configs.append(json.dumps(trial.config, sort_keys=True))
    assert len(set(configs)) == 20
    with pytest.raises(ValueError, match="min_budget"):
        MOASHA(task.space, task.objectives, None, 0, min_budget=1)
