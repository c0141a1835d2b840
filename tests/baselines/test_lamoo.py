"""LaMOO: dominance numbers, the generic encoding, proposals inside the selected region, and the conformance
checks with several inner baselines (the conformance suite itself runs only its default inner)."""

from __future__ import annotations

import json
import math

import numpy as np
import optuna
import pytest

from baselines import OptionError
from baselines._encoding import Encoding
from baselines.lamoo import LaMOO, dominance_numbers
from suite.loops import evaluation_seed, simulate
from suite.spec import Budget
from tasks import make_task
from tasks.base import Fidelity, Result, Task, Trial
from toy_tasks import ToyTask, conditional_space

INNER = ["random_search", "motpe", "nsga2"]


def lamoo(task: Task, seed: int = 0, **options: object) -> LaMOO:
    return LaMOO(task.space, task.objectives, task.fidelity, seed, **options)


def run(baseline: LaMOO, task: Task, seed: int, evaluations: int, n_workers: int) -> list[dict]:
    rows: list[dict] = []
    simulate(baseline, task, seed, Budget(evaluations=evaluations), n_workers, rows.append)
    return rows


def test_dominance_numbers_by_hand() -> None:
    points = np.array([[1, 1], [2, 2], [0, 3], [3, 0], [2, 3], [1, 1]])
    # (2,2): dominated by both (1,1); (2,3): by both (1,1), (2,2) and (0,3); equal points do not dominate
    assert dominance_numbers(points).tolist() == [0, 2, 0, 0, 4, 0]
    three = np.array([[1, 2, 3], [1, 2, 4], [0, 5, 3]])
    assert dominance_numbers(three).tolist() == [0, 1, 0]


def test_encoding_is_generic_one_hot_scaled_and_marks_inactive_parameters() -> None:
    encoder = Encoding(conditional_space(), inactive=-0.5)  # as LaMOO builds it
    # in the space's order: k (ordinal of 4), kind (3 choices), n (log int), x (log float), m, y, w; no constant
    row = encoder.encode_all([{"x": 0.01, "n": 8, "k": 4, "kind": "b", "m": 3, "const": "fixed"}])[0]
    # k = 4 is the third of four levels; log2(8) is half of log2(64); log10(0.01) a third of [1e-3, 1]; y and
    # w are inactive
    assert row == pytest.approx([2 / 3, 0, 1, 0, 0.5, 1 / 3, 0.3, -0.5, -0.5])


def test_proposals_lie_inside_the_selected_region() -> None:
    task = make_task("hpobench-mlp-kc1")
    baseline = lamoo(task, seed=3, rebuild_every=3)
    run(baseline, task, seed=3, evaluations=40, n_workers=1)
    probe = [dict(c) for c in task.space.sample_configuration(200)]
    encoder = Encoding(task.space, inactive=-0.5)
    shares, made = [], []
    for _ in range(10):
        path = baseline.selected_path()
        assert path, "40 samples of a table should split the root"
        inside = np.ones(len(probe), dtype=bool)
        for svm, side in path:  # the region by the SVMs' decision values, independently of in_region
            inside &= (svm.decision_function(encoder.encode_all(probe)) > 0) == (side == 1)
        shares.append(inside.mean())
        trial = baseline.ask()
        made.append(baseline.made_by[trial.id])
        if made[-1] != "unconstrained":
            decision = [svm.decision_function(encoder.encode_all([trial.config]))[0] for svm, _ in path]
            assert all((d > 0) == (side == 1) for d, (_, side) in zip(decision, path)), (decision, path)
        baseline.tell(trial, task.evaluate(trial.config, trial.fidelity, evaluation_seed(3, trial.id)))
    assert 0 < np.mean(shares) < 0.9, "the region should be a real part of the space"
    assert made.count("unconstrained") <= 1


def test_good_child_holds_the_smaller_dominance_numbers() -> None:
    task = make_task("fcnet-naval")
    baseline = lamoo(task, seed=1, max_depth=1)
    run(baseline, task, seed=1, evaluations=40, n_workers=1)
    baseline.selected_path()
    root = baseline._root
    assert root is not None and len(root.children) == 2
    dominance = dominance_numbers(np.array(baseline._y))
    good, bad = root.children
    assert dominance[good.samples].mean() < dominance[bad.samples].mean()
    assert sorted(np.concatenate([good.samples, bad.samples]).tolist()) == list(range(40))


def test_the_inner_baseline_is_told_every_result() -> None:
    task = make_task("fcnet-naval")
    baseline = lamoo(task, seed=2, inner="motpe", retries=2, candidates=50)
    rows = run(baseline, task, seed=2, evaluations=40, n_workers=2)
    study = baseline.inner._study
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    failed = [t for t in study.trials if t.state == optuna.trial.TrialState.FAIL]
    assert len(complete) == len(rows) == 40
    # every rejected proposal was told as a failure; fallbacks entered as trials MOTPE never asked
    assert len(failed) == len(study.trials) - 40
    assert "fallback" in baseline.made_by.values() or failed, "the region never constrained anything"
    names = [f"objective.{o.name}" for o in task.objectives]
    assert sorted(t.values for t in complete) == sorted([r[n] for n in names] for r in rows)


def test_known_and_context_reach_the_inner_baseline() -> None:
    task = ToyTask()
    known = lambda config: {"f1": 0.0}  # noqa: E731
    baseline = LaMOO(task.space, task.objectives, None, 0, known=known, context=(1.0, 2.0))
    assert baseline.inner.known is known and baseline.inner.context.tolist() == [1.0, 2.0]
    assert lamoo(task).inner.known is None


def test_inner_must_be_another_registered_baseline() -> None:
    for bad in ("no_such_baseline", "lamoo", 3):
        with pytest.raises(OptionError, match="option inner must be the name of a registered baseline"):
            LaMOO.check_options({"inner": bad})


# ---- the conformance suite's checks, with several inner baselines ----

@pytest.mark.parametrize("inner", INNER)
def test_conformance_with_inner(inner: str) -> None:
    task = ToyTask(fidelity=Fidelity("epochs", 1, 27), failures=True)
    rows = run(lamoo(task, seed=1, inner=inner), task, seed=1, evaluations=30, n_workers=3)
    assert len(rows) == 30 and len({r["trial_id"] for r in rows}) == 30
    assert any(r["status"] == "failed" for r in rows) and any(r["status"] == "ok" for r in rows)
    for row in rows:
        task.check_config(json.loads(row["config"]))
        assert row["fidelity"] is None or task.fidelity.contains(row["fidelity"])

    task = ToyTask(fidelity=Fidelity("epochs", 1, 27))
    baseline = lamoo(task, inner=inner)  # several pending asks, told in reverse, failures told directly
    for _ in range(3):
        pending = [baseline.ask() for _ in range(5)]
        for trial in reversed(pending):
            task.check_config(trial.config)
            baseline.tell(trial, task.evaluate(trial.config, trial.fidelity, seed=trial.id))
    for result in (Result(objectives={"f1": math.nan, "f2": 1.0}, cost_s=1.0), Result.failure("boom")):
        baseline.tell(baseline.ask(), result)

    table = make_task("fcnet-naval")  # same seed, same trials; replayed trials accepted, ids continue
    first, second = (run(lamoo(table, seed=7, inner=inner), table, 7, 20, 2) for _ in range(2))
    assert [r["config"] for r in first] == [r["config"] for r in second]
    resumed = lamoo(table, seed=7, inner=inner)
    own = [resumed.ask(), resumed.ask()]
    for row in first:
        trial = Trial(id=100 + row["trial_id"], config=json.loads(row["config"]), fidelity=row["fidelity"])
        resumed.tell(trial, table.evaluate(trial.config, trial.fidelity, evaluation_seed(7, trial.id)))
    for trial in own:
        resumed.tell(trial, table.evaluate(trial.config, trial.fidelity, evaluation_seed(7, trial.id)))
    later = [resumed.ask() for _ in range(3)]
    assert [t.id for t in own + later] == [0, 1, 120, 121, 122]
    for trial in later:
        table.check_config(trial.config)
