"""ParEGO's one-exchange neighbourhoods against ConfigSpace's own ``get_one_exchange_neighbourhood`` (the reference)."""

from __future__ import annotations

import gc
import itertools

import numpy as np
import pytest
from ConfigSpace import (
    Categorical,
    Configuration,
    ConfigurationSpace,
    Constant,
    EqualsCondition,
    Float,
    ForbiddenEqualsClause,
    Integer,
    OrdinalHyperparameter,
)
from ConfigSpace.util import get_one_exchange_neighbourhood

from baselines import _parego_smac
from tasks import make_task
from tasks.tables.recipes import shipped_recipes
from toy_tasks import conditional_space

#: SMAC's arguments (smac.utils.configspace), and ConfigSpace's defaults
ARGUMENTS = ({"num_neighbors": 8, "stdev": 0.05}, {"num_neighbors": 4, "stdev": 0.2})


def _vectors(neighbours: object) -> list[list[float | None]]:
    """The neighbours' vectors, NaN (inactive) as None, which compares equal to itself."""
    return [[None if entry != entry else entry for entry in config.get_array().tolist()]  # type: ignore[attr-defined]
            for config in neighbours]  # type: ignore[attr-defined]


def _check(config: Configuration, seed: int, arguments: dict) -> int:
    """Both generators, used up, give the same neighbours; returns how many."""
    reference = _vectors(get_one_exchange_neighbourhood(config, seed=seed, **arguments))
    assert _vectors(_parego_smac._table_neighbourhood(config, seed=seed, **arguments)) == reference
    return len(reference)


def _corners(space: ConfigurationSpace) -> list[Configuration]:
    """The configuration of every first level and the one of every last level: an ordinal at either end has one
    neighbour, not two."""
    return [Configuration(space, vector=np.array([(hp.size - 1) * end for hp in space.values()], dtype=float))
            for end in (0, 1)]


@pytest.mark.parametrize("name", list(shipped_recipes()))
def test_every_shipped_table_gives_configspace_neighbours(name: str) -> None:
    space = make_task(name).space
    assert _parego_smac._facts_of(space).table_nodes is not None  # the table path, not ConfigSpace's own
    for k, config in enumerate([*_corners(space), *space.sample_configuration(8)]):
        assert _check(config, seed=k, arguments=ARGUMENTS[k % 2]) > 0


def _random_space(random: np.random.RandomState, table_kinds_only: bool) -> ConfigurationSpace:
    space = ConfigurationSpace(seed=int(random.randint(10_000)))
    for i in range(int(random.randint(1, 9))):
        kind = random.randint(4 if table_kinds_only else 6)
        if kind == 0:  # up to 8 choices: ConfigSpace caches the neighbours of at most 5, computes the others
            space.add(Categorical(f"c{i}", [f"v{j}" for j in range(random.randint(1, 9))]))
        elif kind == 1:
            space.add(OrdinalHyperparameter(f"o{i}", [10 * j for j in range(random.randint(1, 8))]))
        elif kind == 2:
            space.add(Constant(f"k{i}", "fixed"))
        elif kind == 3:
            space.add(Categorical(f"c{i}", [True, False, 3]))
        elif kind == 4:
            space.add(Integer(f"i{i}", (0, int(random.randint(1, 20)))))
        else:
            space.add(Float(f"f{i}", (0.0, 1.0)))
    return space


@pytest.mark.parametrize("table_kinds_only", [True, False])
def test_random_spaces_give_configspace_neighbours(table_kinds_only: bool) -> None:
    random = np.random.RandomState(7)
    table_paths = 0
    for _ in range(40):
        space = _random_space(random, table_kinds_only)
        table_paths += _parego_smac._facts_of(space).table_nodes is not None
        for k, config in enumerate([*_corners(space)[:1], *space.sample_configuration(3)]):
            _check(config, seed=int(random.randint(100_000)), arguments=ARGUMENTS[k % 2])
    assert table_paths == 40 if table_kinds_only else 0 < table_paths < 40


def test_spaces_with_conditions_forbidden_clauses_or_numbers_are_configspace_own() -> None:
    forbidden = ConfigurationSpace({"a": ["x", "y", "z"], "b": ["u", "v"]})
    forbidden.add(ForbiddenEqualsClause(forbidden["a"], "y"))
    conditional = ConfigurationSpace({"a": ["x", "y", "z"], "b": ["u", "v"]})
    conditional.add(EqualsCondition(conditional["b"], conditional["a"], "x"))
    for space in (conditional_space(), forbidden, conditional):
        assert _parego_smac._facts_of(space).table_nodes is None
        for seed, config in enumerate(space.sample_configuration(6)):
            _check(config, seed=seed, arguments=ARGUMENTS[0])
    # an entry that is not a whole index (ConfigSpace reads it as the rounded one) is left to ConfigSpace too
    space = make_task("fcnet-naval").space
    vector = space.sample_configuration().get_array()
    vector[0] = 0.25
    _check(Configuration(space, vector=vector), seed=3, arguments=ARGUMENTS[0])


def test_neighbourhoods_drawn_in_turns_and_dropped_halfway_draw_as_configspace_does() -> None:
    # SMAC's local search keeps one neighbourhood per start point, draws from them in turns and drops them
    # unfinished; each must draw from a random state of its own
    space = make_task("nb201-cifar10").space
    configs = space.sample_configuration(4)
    for _ in range(2):
        ours = [_parego_smac._table_neighbourhood(config, seed=seed, **ARGUMENTS[0])
                for seed, config in enumerate(configs)]
        theirs = [get_one_exchange_neighbourhood(config, seed=seed, **ARGUMENTS[0])
                  for seed, config in enumerate(configs)]
        for _ in range(5):
            for mine, reference in zip(ours, theirs):
                assert _vectors(itertools.islice(mine, 2)) == _vectors(itertools.islice(reference, 2))
        del ours[1], theirs[1]  # dropped unfinished: its random state is free for the next neighbourhood
        gc.collect()
        for mine, reference in zip(ours, theirs):
            assert _vectors(mine) == _vectors(reference)
    assert _parego_smac._free_random_states  # the states came back


def test_configurations_are_made_as_configspace_makes_them() -> None:
    space = make_task("fcnet-naval").space
    # rows of a column-major array, as ``_BatchSampledSpace`` makes them, and a contiguous copy
    vectors = np.ascontiguousarray(np.array([config.get_array() for config in space.sample_configuration(3)]).T).T
    for vector in [*vectors, vectors[0].copy()]:
        ours, theirs = vars(_parego_smac._configuration(space, vector)), vars(Configuration(space, vector=vector))
        assert ours.keys() == theirs.keys() and all(ours[key] is theirs[key] for key in ours)
        assert dict(_parego_smac._configuration(space, vector)) == dict(Configuration(space, vector=vector))
