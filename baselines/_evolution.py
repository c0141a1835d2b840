"""Variation of configurations in any ConfigSpace space (mutation, uniform crossover), shared by SMS-EMOA,
MOREA and qNEHVI's candidate set.

Own code: pymoo's and syne-tune's operators work on fixed-length vectors without conditions; here a child is
made on the parameters its parents hold and then completed by ConfigSpace (parameters a changed parent
activates are sampled from their distribution, parameters it deactivates are dropped), so every child is a
valid configuration of a conditional space, or None where a forbidden clause excludes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from tasks.base import Config, Objective, to_python

# ConfigSpace (with scipy.stats, about a second) is imported by the functions that take a space, which exists only
# once a run has built it: importing a baseline module that uses these operators costs nothing
if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

#: redraws of a mutated value that equals the parent's (a parameter with few levels) before giving up
REDRAWS = 32


def complete(values: Mapping[str, Any], space: ConfigurationSpace, rng: np.random.RandomState) -> Config | None:
    """A valid configuration holding ``values`` where they are active, or None where a forbidden clause
    excludes it. Active parameters missing from ``values`` are drawn from their distribution (``rng``)."""
    from ConfigSpace.util import deactivate_inactive_hyperparameters

    full = dict(values)
    for hp in space.values():
        if hp.name not in full:
            full[hp.name] = hp.sample_value(seed=rng)
    try:
        configuration = deactivate_inactive_hyperparameters(full, space)
        configuration.check_valid_configuration()
    except ValueError:  # ConfigSpace's ForbiddenValueError and IllegalValueError are ValueErrors
        return None
    return to_python(configuration)


def mutate(parent: Config, space: ConfigurationSpace, rng: np.random.RandomState) -> Config | None:
    """``parent`` with one active, non-constant parameter (chosen uniformly) given a new value from its
    distribution (as syne-tune's regularised evolution mutates); None if the result is forbidden or the
    parent has nothing to change."""
    from ConfigSpace import Constant

    names = sorted(name for name in parent if not isinstance(space[name], Constant) and space[name].size != 1)
    if not names:
        return None
    name = names[rng.randint(len(names))]
    hp = space[name]
    for _ in range(REDRAWS):
        value = hp.sample_value(seed=rng)
        if value != parent[name]:
            break
    else:
        return None
    return complete({**parent, name: value}, space, rng)


def crossover(first: Config, second: Config, space: ConfigurationSpace, rng: np.random.RandomState) -> Config | None:
    """Uniform crossover: each parameter from either parent with probability 1/2 (a parameter the chosen
    parent lacks is drawn anew if the child activates it); None if the child is forbidden."""
    values = {}
    for name in sorted(set(first) | set(second)):
        source = first if rng.random_sample() < 0.5 else second
        if name in source:
            values[name] = source[name]
    return complete(values, space, rng)


def normalised(values: np.ndarray, objectives: tuple[Objective, ...]) -> np.ndarray:
    """Objective vectors (rows) scaled by the objectives' fixed bounds, so that 0 is each lower and 1 each upper."""
    lower = np.array([o.lower for o in objectives])
    upper = np.array([o.upper for o in objectives])
    return (np.asarray(values, dtype=float) - lower) / (upper - lower)
