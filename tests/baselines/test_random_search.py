"""Random search: the levels sampler of a table's space, and ConfigSpace's sampler where a space needs it."""

from __future__ import annotations

import numpy as np
import pytest
from ConfigSpace import (
    CategoricalHyperparameter,
    Configuration,
    ConfigurationSpace,
    EqualsCondition,
    OrdinalHyperparameter,
    UniformFloatHyperparameter,
)
from scipy.stats import chisquare

from baselines.base import LazySpace
from baselines.base import product_levels
from baselines.random_search import BLOCK, RandomSearch
from tasks.base import Objective, to_python

OBJECTIVES = (Objective("f1", 0, 1), Objective("f2", 0, 1))


def grid() -> ConfigurationSpace:
    space = ConfigurationSpace()
    space.add(OrdinalHyperparameter("units", [16, 32, 64]))
    space.add(CategoricalHyperparameter("act", ["relu", "tanh"]))
    space.add(OrdinalHyperparameter("lr", [0.1, 0.01, 0.001, 0.0001, 1e-05]))
    return space


def configs(baseline: RandomSearch, n: int) -> list[dict]:
    return [baseline.ask().config for _ in range(n)]


def test_a_product_space_is_sampled_uniformly_over_its_levels() -> None:
    space = grid()
    drawn = configs(RandomSearch(space, OBJECTIVES, None, seed=3), 3 * BLOCK)
    assert all(list(c) == ["act", "lr", "units"] for c in drawn)  # sorted like to_python's configurations
    for name, levels in [("units", [16, 32, 64]), ("act", ["relu", "tanh"]), ("lr", [0.1, 0.01, 0.001, 0.0001, 1e-05])]:
        counts = [sum(c[name] == level for c in drawn) for level in levels]
        assert sum(counts) == len(drawn) and chisquare(counts).pvalue > 1e-3, (name, counts)
    # each value is a plain Python value of the space, and the configuration one the space admits
    for config in drawn[:50]:
        Configuration(space, values=config).check_valid_configuration()
        assert config == to_python(config) and type(config["units"]) is int and type(config["lr"]) is float


def test_the_same_seed_gives_the_same_trials_whatever_the_budget() -> None:
    long = configs(RandomSearch(grid(), OBJECTIVES, None, seed=7), BLOCK + 10)
    short = configs(RandomSearch(grid(), OBJECTIVES, None, seed=7), 100)
    other = configs(RandomSearch(grid(), OBJECTIVES, None, seed=8), 100)
    assert long[:100] == short and other != short


def test_the_levels_sampler_draws_what_an_independent_numpy_draw_gives() -> None:
    """Trial t is row t of ``default_rng(seed).integers(0, sizes, (BLOCK, n))``, parameters in name order."""
    levels = {"act": ["relu", "tanh"], "lr": [0.1, 0.01, 0.001, 0.0001, 1e-05], "units": [16, 32, 64]}
    indices = np.random.default_rng(5).integers(0, [2, 5, 3], size=(BLOCK, 3))
    expected = [{name: levels[name][i] for name, i in zip(levels, row)} for row in indices[:20]]
    assert configs(RandomSearch(grid(), OBJECTIVES, None, seed=5), 20) == expected


def test_configspace_sampler_gives_the_trials_of_a_seeded_configspace() -> None:
    """``sampler="configspace"``: the trials of earlier versions, ConfigSpace's draws from a space seeded with the seed."""
    reference = grid()
    reference.seed(11)
    expected = [to_python(reference.sample_configuration()) for _ in range(20)]
    assert configs(RandomSearch(grid(), OBJECTIVES, None, seed=11, sampler="configspace"), 20) == expected


def test_a_space_with_a_condition_or_a_continuous_parameter_is_sampled_by_configspace() -> None:
    conditional = grid()
    conditional.add(OrdinalHyperparameter("depth", [1, 2]))
    conditional.add(EqualsCondition(conditional["depth"], conditional["act"], "relu"))
    continuous = ConfigurationSpace()
    continuous.add(UniformFloatHyperparameter("x", 0.0, 1.0))
    weighted = ConfigurationSpace()
    weighted.add(CategoricalHyperparameter("k", ["a", "b"], weights=[0.9, 0.1]))
    assert product_levels(grid()) is not None
    for space in (conditional, continuous, weighted):
        assert product_levels(space) is None
    drawn = configs(RandomSearch(conditional, OBJECTIVES, None, seed=0), 200)
    assert all(("depth" in c) == (c["act"] == "relu") for c in drawn)
    assert {c["act"] for c in drawn} == {"relu", "tanh"}


def test_an_unknown_sampler_is_refused() -> None:
    from baselines import OptionError

    with pytest.raises(OptionError, match="sampler must be one of levels, configspace"):
        RandomSearch(grid(), OBJECTIVES, None, seed=0, sampler="sobol")


def test_a_table_task_states_the_levels_its_space_is_made_of_in_the_same_order() -> None:
    """``Task.levels`` of every table equals what ``product_levels`` reads from the ConfigurationSpace built
    from it (order and Python types included), so the levels sampler draws the same values either way."""
    from tasks import make_task
    from tasks.tables.recipes import shipped_recipes

    tables = [make_task(name) for name in shipped_recipes()]  # every table shipped with the suite
    assert len(tables) >= 15
    for task in tables:
        baseline = RandomSearch(LazySpace(lambda: pytest.fail("space built"), task.levels), OBJECTIVES, None, 0)
        from_space = product_levels(task.space)
        assert from_space is not None
        assert list(baseline.levels.items()) == list(from_space.items()), task.name
        assert [[type(v) for v in values] for values in baseline.levels.values()] == \
            [[type(v) for v in values] for values in from_space.values()], task.name


def test_a_table_run_gives_the_rows_of_a_run_on_the_configspace_built_levels() -> None:
    """The suite's run (``make_baseline``: the task's levels, no space built) against random search handed the
    table's real ConfigurationSpace (levels read by ``product_levels``, as before ``Task.levels``)."""
    from suite.lifecycle import make_baseline
    from suite.loops import simulate
    from suite.spec import Budget
    from tasks import make_task

    def rows(baseline: RandomSearch, task) -> list[dict]:  # type: ignore[no-untyped-def]
        found: list[dict] = []
        simulate(baseline, task, 4, Budget(evaluations=BLOCK + 50), 2, found.append)
        return found

    lazy_task = make_task("nb201-cifar10")
    lazy = rows(make_baseline("random_search", lazy_task, 4, {}), lazy_task)
    assert "space" not in vars(lazy_task)  # the cached ConfigurationSpace was never built
    task = make_task("nb201-cifar10")
    assert lazy == rows(RandomSearch(task.space, task.objectives, task.fidelity, 4), task)
    assert len({row["config"] for row in lazy}) > 1000  # a real draw over the 15,625 cells, not a constant


def test_a_lazy_space_is_built_once_on_first_access_and_subclasses_with_an_init_get_a_real_one() -> None:
    built: list[ConfigurationSpace] = []

    def make() -> ConfigurationSpace:
        built.append(grid())
        return built[-1]

    baseline = RandomSearch(LazySpace(make), OBJECTIVES, None, seed=5)  # no levels given: read from the space
    assert baseline.space is built[0] and baseline.space is built[0] and len(built) == 1
    assert configs(baseline, 5) == configs(RandomSearch(grid(), OBJECTIVES, None, seed=5), 5)

    class Plain(RandomSearch):
        pass

    class OwnInit(RandomSearch):
        def __init__(self, space: ConfigurationSpace, *args: object, **kwargs: object) -> None:
            self.names = list(space)  # reads the argument: must be handed a real space
            super().__init__(space, *args, **kwargs)

    assert RandomSearch.lazy_space and Plain.lazy_space and not OwnInit.lazy_space
    replaced = grid()
    baseline.space = replaced  # a plug-in may set its space, as when it was a plain attribute
    assert baseline.space is replaced
