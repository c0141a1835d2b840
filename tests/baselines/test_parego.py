"""ParEGO through SMAC3: options, the forest settings, failed and replayed trials in SMAC's run history."""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any
from unittest.mock import patch

import numpy as np
import pytest
from ConfigSpace import Configuration, ConfigurationSpace
from ConfigSpace.util import get_one_exchange_neighbourhood
from smac.acquisition.maximizer.local_search import LocalSearch
from smac.main.config_selector import ConfigSelector
from smac.runhistory.enumerations import StatusType

from baselines import _parego_smac as parego
from baselines.parego import ParEGO
from tasks import make_task
from tasks.base import Result, Trial
from toy_tasks import ToyTask, conditional_space


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
                           capture_output=True, text=True, check=True, timeout=300).stdout for seed in ("1", "2")]
    assert runs[0] == runs[1]


def _configurations(space: ConfigurationSpace) -> list[Configuration]:
    """Random configurations of ``space``, their one-exchange neighbours, copies, and copies whose index
    entries are nudged off the integer (ConfigSpace rounds them back to the same value)."""
    configs = list(space.sample_configuration(6))
    for config in configs[:3]:
        configs += list(itertools.islice(get_one_exchange_neighbourhood(config, seed=1), 5))
    for config in configs[:4]:
        configs.append(Configuration(space, vector=config.get_array().copy()))
        nudged = config.get_array().copy()
        nudged[np.isfinite(nudged) & (nudged == np.rint(nudged)) & (nudged >= 1)] += 1e-12
        configs.append(Configuration(space, vector=nudged))
    assert all(dict(config) for config in configs)  # ConfigSpace reads each one (it refuses 0 + 1e-12)
    return configs


def _answer(method: Callable[..., Any], *args: Any) -> Any:
    """What ``method`` returns, or the type of what it raises (ConfigSpace refuses some nudged entries)."""
    try:
        return method(*args)
    except (KeyError, ValueError) as error:
        return type(error)


@pytest.mark.parametrize("space_of", [conditional_space, lambda: make_task("fcnet-naval").space])
def test_fast_configuration_methods_answer_as_configspace_does(space_of: Callable[[], ConfigurationSpace]) -> None:
    space = space_of()
    configs = _configurations(space)
    configs.append(Configuration(space_of(), vector=configs[0].get_array()))  # an equal space, another object
    for a in configs:
        for b in configs:
            assert _answer(parego._vector_equal, a, b) == _answer(parego._configspace_equal, a, b)
        assert parego._vector_equal(a, "not a configuration") is NotImplemented
        for _ in range(2):  # computed, then remembered
            assert _answer(parego._memo_hash, a) == _answer(parego._configspace_hash, a)
    for config in configs:
        for key in [*space.keys(), "no such name"]:
            fresh = Configuration(config.config_space, vector=config.get_array())
            for _ in range(2):
                assert _answer(parego._memo_getitem, fresh, key) == _answer(parego._configspace_getitem, config, key)


@pytest.mark.slow
def test_fast_paths_leave_the_trials_unchanged() -> None:
    # the fast Configuration methods, the incumbent estimate in one prediction and the table neighbourhoods,
    # against SMAC's and ConfigSpace's own code
    task = make_task("nb201-cifar10")

    last: list[ParEGO] = []

    def trials() -> list[dict]:
        baseline = ParEGO(task.space, task.objectives, None, seed=2, n_initial_design=5)
        last[:] = [baseline]
        configs = []
        for _ in range(20):
            trial = baseline.ask()
            baseline.tell(trial, task.evaluate(trial.config, None, trial.id))
            configs.append(trial.config)
        return configs

    fast = trials()
    selector = last[0]._smac._config_selector
    observed = selector._collect_data()[2]
    x_best, value = selector._get_x_best(observed)
    smac_x_best, smac_value = ConfigSelector._get_x_best(selector, observed)
    assert np.array_equal(x_best, smac_x_best) and value == smac_value
    assert Configuration.__eq__ is parego._configspace_equal and Configuration.__hash__ is parego._configspace_hash
    assert Configuration.__getitem__ is parego._configspace_getitem  # ConfigSpace's own again after each ask/tell
    with patch.object(parego, "_fast_configurations", contextlib.nullcontext), \
            patch.object(parego._BatchBestSelector, "_get_x_best", ConfigSelector._get_x_best), \
            patch.object(parego._OrderedLocalSearch, "_search", LocalSearch._search):
        assert trials() == fast


def test_configspace_methods_are_back_after_an_error_and_only_after_the_last_of_concurrent_users() -> None:
    import threading

    own = (Configuration.__eq__, Configuration.__hash__, Configuration.__getitem__)

    def installed() -> tuple:
        return Configuration.__eq__, Configuration.__hash__, Configuration.__getitem__

    with contextlib.suppress(RuntimeError), parego._fast_configurations():
        assert installed() != own
        raise RuntimeError("an ask that fails")
    assert installed() == own
    # two runs in threads of one Dask worker: the first to finish must not take the fast methods from the other
    inside, release = threading.Event(), threading.Event()

    def other_run() -> None:
        with parego._fast_configurations():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other_run)
    thread.start()
    inside.wait(10)
    with parego._fast_configurations():
        pass
    assert installed() != own  # the other run still asks
    release.set()
    thread.join(10)
    assert installed() == own
