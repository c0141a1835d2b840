"""MO-BANANAS: the ensemble predicts, picks are unseen mutations of the best, MOSH-BANANAS runs on the rungs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from baselines import OptionError
from baselines._successive_halving import config_key, rung_budgets
from baselines.mo_bananas import MOBANANAS, ranks
from suite.loops import simulate
from suite.spec import Budget
from tasks import make_task


def _baseline(task, seed: int = 0, **options) -> MOBANANAS:  # type: ignore[no-untyped-def]
    return MOBANANAS(task.space, task.objectives, task.fidelity, seed, **options)


def test_ranks_follow_nondominated_sorting() -> None:
    points = np.array([[0.5, 0.5], [0.1, 0.9], [0.6, 0.6], [0.9, 0.1], [1.0, 1.0]])
    position = ranks(points)
    # the front {0, 1, 3} first (farthest-first from the smallest first objective: 1, then 3, then 0), then 2, 4
    assert position.tolist() == [2, 0, 3, 1, 4]


def test_the_ensemble_predicts_held_out_configurations_better_than_their_mean() -> None:
    task = make_task("hpobench-mlp-kc1")
    baseline = _baseline(task, epochs=200, hidden=16)
    table = task.table
    rows = np.random.default_rng(0).choice(len(table.n_seeds), size=300, replace=False)
    configs = [table.config(int(r)) for r in rows]
    lower = np.array([o.lower for o in task.objectives])
    span = np.array([o.upper - o.lower for o in task.objectives])
    points = (table.expected[rows, 0] - lower) / span
    predictions = baseline._predict(configs[:200], points[:200], configs[200:]).mean(axis=0)
    held_out = points[200:]
    error = ((predictions - held_out) ** 2).mean(axis=0)
    spread = ((held_out - points[:200].mean(axis=0)) ** 2).mean(axis=0)
    assert (error < 0.5 * spread).all(), (error, spread)  # both objectives: R^2 above one half


def test_picks_are_unseen_mutations_of_the_best_configurations() -> None:
    task = make_task("fcnet-naval")
    baseline = _baseline(task, n_initial_trials=12, n_parents=3, n_changes=2, batch=4)
    told = []
    for _ in range(12):
        trial = baseline.ask()
        told.append(trial.config)
        baseline.tell(trial, task.evaluate(trial.config, seed=trial.id))
    points = np.array([point for _, _, point in baseline._data.values()])
    parents = [list(baseline._data.values())[i][1] for i in np.argsort(ranks(points))[:3]]
    picks = [baseline.ask().config for _ in range(4)]
    seen = {config_key(c) for c in told}
    for pick in picks:
        assert config_key(pick) not in seen
        changed = [sum(pick[k] != parent[k] for k in pick) for parent in parents]
        assert 1 <= min(changed) <= 2, (pick, parents)
    assert len({config_key(p) for p in picks}) == 4


def test_mosh_bananas_runs_its_picks_through_the_successive_halving_rungs() -> None:
    task = make_task("cnn-digits-mf")  # epochs 1..25, so rungs at 25 / 3**i: 3, 8, 25 after snapping
    rows: list[dict] = []
    baseline = _baseline(task, seed=1, successive_halving=True, n_initial_trials=6, epochs=20)
    simulate(baseline, task, 1, Budget(evaluations=60), 2, rows.append)
    budgets = rung_budgets(task.fidelity, None, None, 3.0)
    assert {row["fidelity"] for row in rows} <= set(budgets) and len({row["fidelity"] for row in rows}) > 1
    by_config: dict[str, list[float]] = {}
    for row in rows:
        by_config.setdefault(config_key(json.loads(row["config"])), []).append(row["fidelity"])
    promoted = [fidelities for fidelities in by_config.values() if len(fidelities) > 1]
    assert promoted and all(f == sorted(f) and f[0] == budgets[0] for f in promoted)
    # the ensemble learns each configuration at the highest budget it reached
    for key, (level, _, _) in baseline._data.items():
        assert level == max(by_config[key])


def test_budget_options_need_successive_halving() -> None:
    task = make_task("cnn-digits-mf")
    with pytest.raises(OptionError, match="need successive_halving"):
        _baseline(task, min_budget=3.0)
    with pytest.raises(OptionError, match="min_budget"):
        _baseline(task, successive_halving=True, min_budget=30.0)
