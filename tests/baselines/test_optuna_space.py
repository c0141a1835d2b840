"""ConfigSpace -> Optuna translation shared by MOTPE and NSGA-II, and the Optuna baselines' bookkeeping."""

from __future__ import annotations

import math

import optuna
import pytest
from ConfigSpace import Configuration, ConfigurationSpace, ForbiddenEqualsClause, NormalFloatHyperparameter
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from baselines.motpe import MOTPE
from baselines.nsga2 import NSGA2
from baselines._optuna import suggest_config, to_distributions, to_params
from tasks.base import Result, Trial
from toy_tasks import ToyTask, conditional_space


def test_every_type_maps_to_its_distribution() -> None:
    distributions = to_distributions(conditional_space())
    assert distributions["x"] == FloatDistribution(1e-3, 1.0, log=True)
    assert distributions["n"] == IntDistribution(1, 64, log=True)
    assert distributions["k"] == IntDistribution(0, 3)  # ordinal: its position, so the order survives
    assert distributions["kind"] == CategoricalDistribution(["a", "b", "c"])
    assert distributions["m"] == IntDistribution(0, 10)
    assert "const" not in distributions


def test_a_prior_is_dropped_but_its_bounds_kept() -> None:
    space = ConfigurationSpace()
    space.add(NormalFloatHyperparameter("z", mu=0.0, sigma=1.0, lower=-2.0, upper=3.0))
    assert to_distributions(space)["z"] == FloatDistribution(-2.0, 3.0)


def test_suggested_configurations_are_valid_and_round_trip() -> None:
    space = conditional_space()
    distributions = to_distributions(space)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen_w = 0
    for _ in range(300):
        trial = study.ask()
        config = suggest_config(space, distributions, trial)
        Configuration(space, values=config).check_valid_configuration()
        assert trial.params == to_params(space, config)  # only active parameters were suggested
        assert config["const"] == "fixed" and config["k"] in (1, 2, 4, 8)
        seen_w += "w" in config
        study.tell(trial, 0.0)
    assert 0 < seen_w < 300  # the nested condition was both met and not met


def test_forbidden_configurations_are_never_handed_out() -> None:
    space = conditional_space()
    space.add(ForbiddenEqualsClause(space["kind"], "c"))
    task = ToyTask()
    baseline = MOTPE(space, task.objectives, None, seed=0, n_startup_trials=5)
    for _ in range(40):
        trial = baseline.ask()
        assert trial.config["kind"] != "c"
        baseline.tell(trial, task.evaluate(trial.config, None, 0))


@pytest.mark.parametrize("cls", [MOTPE, NSGA2])
def test_replayed_and_failed_trials_reach_the_study(cls: type) -> None:
    task = ToyTask()
    baseline = cls(task.space, task.objectives, None, seed=0)
    config = {"x": 0.5, "n": 4, "k": 2, "kind": "a", "y": 0.25, "const": "fixed"}
    baseline.tell(Trial(id=41, config=config), Result(objectives={"f1": 1.0, "f2": 2.0}, cost_s=1.0))
    failed = baseline.ask()
    baseline.tell(failed, Result(objectives={"f1": math.nan, "f2": 1.0}, cost_s=1.0))
    trials = baseline._study.trials
    assert trials[0].state == TrialState.COMPLETE and trials[0].values == [1.0, 2.0]
    assert trials[0].params == {"x": 0.5, "n": 4, "k": 1, "kind": "a", "y": 0.25}
    assert trials[1].state == TrialState.FAIL
    assert failed.id == 42  # ids continue after the replayed one


@pytest.mark.parametrize("options", [{"n_startup_trials": 0}, {"n_ei_candidates": -1}])
def test_motpe_rejects_bad_options(options: dict) -> None:
    task = ToyTask()
    with pytest.raises(ValueError, match="option"):
        MOTPE(task.space, task.objectives, None, 0, **options)


@pytest.mark.parametrize("options", [{"population_size": 1}, {"crossover_prob": 1.5}, {"mutation_prob": 0}])
def test_nsga2_rejects_bad_options(options: dict) -> None:
    task = ToyTask()
    with pytest.raises(ValueError, match="option"):
        NSGA2(task.space, task.objectives, None, 0, **options)


def test_options_are_recorded() -> None:
    task = ToyTask()
    assert NSGA2(task.space, task.objectives, None, 0, population_size=8).options()["population_size"] == 8
    assert MOTPE(task.space, task.objectives, None, 0, multivariate=True).options()["multivariate"] is True
