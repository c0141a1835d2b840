"""NSGA-III through Optuna: its reference directions, its generations and its population option."""

from __future__ import annotations

import numpy as np
from pymoo.util.ref_dirs import get_reference_directions

from baselines.nsga2 import POPULATION_SIZE
from baselines.nsga3 import NSGA3
from suite.loops import evaluation_seed
from tasks import make_task


def drive(baseline: NSGA3, task_name: str, evaluations: int, seed: int) -> None:
    task = make_task(task_name)
    for _ in range(evaluations):
        trial = baseline.ask()
        baseline.tell(trial, task.evaluate(trial.config, trial.fidelity, evaluation_seed(seed, trial.id)))


def test_reference_directions_are_das_dennis_lattice_of_the_objectives() -> None:
    """On NAS-Bench-201's three objectives the niching uses the simplex lattice with the divisions asked,
    checked against pymoo's Das-Dennis directions (an independent implementation)."""
    task = make_task("nb201-cifar10")
    baseline = NSGA3(task.space, task.objectives, task.fidelity, seed=0, population_size=8, dividing_parameter=4)
    drive(baseline, "nb201-cifar10", 20, seed=0)  # two generations finished: survival has run
    # Optuna builds them at the first survival selection; private, but it is what the niching reads
    points = baseline._study.sampler._elite_population_selection_strategy._reference_points
    directions = points / points.sum(axis=1, keepdims=True)
    expected = get_reference_directions("das-dennis", 3, n_partitions=4)
    assert directions.shape == expected.shape == (15, 3)
    assert sorted(map(tuple, np.round(directions, 12))) == sorted(map(tuple, np.round(expected, 12)))


def test_population_size_sets_the_generations() -> None:
    task = make_task("hpobench-mlp-vehicle")
    baseline = NSGA3(task.space, task.objectives, task.fidelity, seed=1, population_size=6)
    drive(baseline, "hpobench-mlp-vehicle", 20, seed=1)
    generations = [t.system_attrs["NSGAIIISampler:generation"] for t in baseline._study.trials]
    assert generations == [0] * 6 + [1] * 6 + [2] * 6 + [3] * 2
    assert NSGA3.check_options({})["population_size"] == POPULATION_SIZE
