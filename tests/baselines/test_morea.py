"""MOREA: ageing removes the oldest member, the parent is the sample's non-dominated member, children are
one-parameter mutations that respect the space's conditions."""

from __future__ import annotations

import copy

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace

from baselines._evolution import mutate
from baselines.morea import MOREA
from tasks import make_task
from tasks.base import Config, Result, Trial, to_python
from toy_tasks import conditional_space


def sample(space: ConfigurationSpace, count: int, seed: int) -> list[Config]:
    """``count`` random configurations, from a seeded copy (the task's space stays as it is)."""
    space = copy.deepcopy(space)
    space.seed(seed)
    return [to_python(c) for c in space.sample_configuration(count)]


def test_the_oldest_member_leaves_whatever_its_quality() -> None:
    task = make_task("fcnet-naval")
    baseline = MOREA(task.space, task.objectives, task.fidelity, seed=0, population_size=3, sample_size=2)
    names = [o.name for o in task.objectives]
    configs = sample(task.space, 5, seed=0)
    # the first member is the best of all: ageing removes it anyway
    for i, (config, values) in enumerate(zip(configs, [(0.0, 0.0), (0.9, 0.9), (0.8, 0.95), (0.7, 0.99), (0.95, 0.5)])):
        baseline.tell(Trial(id=i, config=config), Result(objectives=dict(zip(names, values)), cost_s=1.0))
    assert [member[0] for member in baseline.population] == configs[2:]
    baseline.tell(Trial(id=9, config=configs[0]), Result.failure("boom"))  # a failure never enters
    assert [member[0] for member in baseline.population] == configs[2:]


def test_the_parent_is_the_non_dominated_member_of_the_sample() -> None:
    task = make_task("fcnet-naval")
    names = [o.name for o in task.objectives]
    # the whole population is the sample: its one non-dominated member must be every child's parent
    baseline = MOREA(task.space, task.objectives, task.fidelity, seed=1, population_size=4, sample_size=4)
    configs = sample(task.space, 4, seed=1)
    points = [(0.5, 0.6), (0.4, 0.3), (0.45, 0.9), (0.9, 0.35)]  # member 1 dominates all others
    for i, (config, values) in enumerate(zip(configs, points)):
        baseline.tell(Trial(id=i, config=config), Result(objectives=dict(zip(names, values)), cost_s=1.0))
    for _ in range(20):
        child = baseline.ask().config
        task.check_config(child)
        changed = [name for name in child if child[name] != configs[1][name]]
        assert len(changed) == 1, (child, configs[1])


def test_mutation_changes_one_parameter_and_keeps_conditions() -> None:
    space = conditional_space()
    rng = np.random.RandomState(0)
    for parent in sample(space, 200, seed=2):
        child = mutate(parent, space, rng)
        assert child is not None
        Configuration(space, values=child).check_valid_configuration()  # raises on a broken condition
        changed = {name for name in set(parent) & set(child) if parent[name] != child[name]}
        # one parameter changes; only a change of 'kind' or 'm' (parents in conditions) adds or drops others
        assert len(changed) == 1, (parent, child)
        if set(child) != set(parent):
            assert changed <= {"kind", "m"}, (parent, child)
