"""ParEGO through SMAC3: options, the forest settings, failed and replayed trials in SMAC's run history."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from smac.runhistory.enumerations import StatusType

from baselines.parego import ParEGO
from tasks.base import Result, Trial
from toy_tasks import ToyTask


@pytest.mark.parametrize("options", [{"forest": "big"}, {"n_initial_design": 0}, {"rho": -1.0}])
def test_bad_options_say_what_was_given(options: dict) -> None:
    task = ToyTask()
    with pytest.raises(ValueError, match="option"):
        ParEGO(task.space, task.objectives, None, 0, **options)


@pytest.mark.parametrize(("forest", "n_jobs", "max_leaf_nodes"), [("fast", 1, None), ("smac", -1, 2**20)])
def test_forest_option_reaches_the_model(forest: str, n_jobs: int, max_leaf_nodes: int | None) -> None:
    task = ToyTask()
    model = ParEGO(task.space, task.objectives, None, 0, forest=forest)._smac._model
    assert (model.meta["n_jobs"], model.meta["max_leaf_nodes"]) == (n_jobs, max_leaf_nodes)
    assert model.meta["n_estimators"] == 10 and model.meta["log_y"] is True


def test_failed_and_replayed_trials_enter_the_run_history() -> None:
    task = ToyTask()
    baseline = ParEGO(task.space, task.objectives, None, seed=0)
    replayed = Trial(id=10, config={"x": 0.5, "n": 4, "k": 2, "kind": "a", "y": 0.25, "const": "fixed"})
    baseline.tell(replayed, Result(objectives={"f1": 1.0, "f2": 2.0}, cost_s=3.0))
    failed = baseline.ask()
    assert failed.id == 11
    baseline.tell(failed, Result.failure("boom"))
    history = baseline._smac.runhistory
    values = list(history.values())
    assert len(values) == 2
    assert values[0].status == StatusType.SUCCESS and values[0].cost == [1.0, 2.0]
    # a failure counts as the task's worst value of every objective
    assert values[1].status == StatusType.CRASHED and values[1].cost == [o.upper for o in task.objectives]


def test_initial_design_size_is_an_option() -> None:
    task = ToyTask()
    baseline = ParEGO(task.space, task.objectives, None, seed=0, n_initial_design=4)
    origins = []
    for _ in range(6):
        trial = baseline.ask()
        origins.append(baseline._infos[trial.id].config.origin)
        baseline.tell(trial, task.evaluate(trial.config, None, 0))
    assert origins[:4] == ["Initial Design: Sobol"] * 4 and "Sobol" not in origins[5]


def test_a_replayed_trial_is_not_evaluated_again_while_own_trials_are_pending() -> None:
    # a replayed trial under another seed than SMAC's own was evaluated again by SMAC, and while that
    # trial was pending SMAC's intensifier looped forever in the next ask
    task = ToyTask()
    baseline = ParEGO(task.space, task.objectives, None, seed=0)
    own = baseline.ask()
    replayed = Trial(id=40, config={"x": 0.5, "n": 4, "k": 2, "kind": "a", "y": 0.25, "const": "fixed"})
    baseline.tell(replayed, task.evaluate(replayed.config, None, 0))
    baseline.tell(own, task.evaluate(own.config, None, 0))
    later = [baseline.ask() for _ in range(3)]
    assert replayed.config not in [t.config for t in later]
    assert len({key.seed for key in baseline._smac.runhistory}) == 1


@pytest.mark.slow
def test_same_seed_gives_same_trials_in_processes_with_other_string_hashing() -> None:
    # SMAC orders its local-search start points through a set of configurations, whose order follows
    # the per-process string hash seed; a resumed run or a Dask worker is another process
    script = (
        "import json\n"
        "from baselines.parego import ParEGO\n"
        "from tasks import make_task\n"
        "task = make_task('fcnet-naval')\n"
        "baseline = ParEGO(task.space, task.objectives, None, seed=3, n_initial_design=5)\n"
        "configs = []\n"
        "for _ in range(25):\n"
        "    trial = baseline.ask()\n"
        "    baseline.tell(trial, task.evaluate(trial.config, None, trial.id))\n"
        "    configs.append(trial.config)\n"
        "print(json.dumps(configs))\n"
    )
    runs = [subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONHASHSEED": seed},
                           capture_output=True, text=True, check=True).stdout for seed in ("1", "2")]
    assert runs[0] == runs[1]
