"""Any configuration space as a finite grid of levels per parameter: the generic architecture encoding that
``hw_pr_nas`` and ``device_hypernet`` share, since neither may know a task's parameter names.

Categorical and ordinal parameters keep their own values as levels, a constant has one level, and a numeric
parameter is cut into ``bins`` equal intervals of ConfigSpace's unit scale (log where the parameter is log).
A configuration then is one level index per parameter (-1 where a condition makes it inactive), encoded as
the concatenation of one one-hot block per parameter (all zeros when inactive). On a table's space (NB201's
six cell edges) that is exactly the one-hot operation vector of each edge.

Written here because no maintained library encodes a whole ConfigSpace space this way: ConfigSpace's own
vector form (``Configuration.get_array``) holds one number per parameter, an index for a categorical, which
a neural network must not read as a magnitude.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from baselines.base import plain, product_levels
from tasks.base import Config, to_python

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace


class LevelGrid:
    """The levels of every parameter of ``space``, and configurations to and from level indices.

    Args:
        space: the configuration space.
        bins: levels of a numeric parameter that is not already a finite list of levels.
    """

    def __init__(self, space: ConfigurationSpace, bins: int = 8) -> None:
        from ConfigSpace import CategoricalHyperparameter, Constant, OrdinalHyperparameter

        self.space = space
        self.bins = bins
        self._product = product_levels(space)  # a plain grid: indices map to values without ConfigSpace
        self.names: list[str] = []
        self._values: list[list[Any] | None] = []  # the levels of each parameter; None for a binned numeric
        for hp in space.values():
            self.names.append(hp.name)
            if isinstance(hp, CategoricalHyperparameter):
                self._values.append(list(hp.choices))
            elif isinstance(hp, OrdinalHyperparameter):
                self._values.append(list(hp.sequence))
            elif isinstance(hp, Constant):
                self._values.append([hp.value])
            else:
                self._values.append(None)
        self.sizes = np.array([bins if v is None else len(v) for v in self._values], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]])
        self.width = int(self.sizes.sum())
        self._position = [None if v is None else {plain(x): i for i, x in enumerate(v)} for v in self._values]
        # parameters that share one list of levels (NB201's six edges over the same five operations)
        shared: dict[tuple[Any, ...], list[int]] = {}
        for j, levels in enumerate(self._values):
            if levels is not None and len(levels) > 1:
                shared.setdefault(tuple(plain(x) for x in levels), []).append(j)
        self._shared = [params for params in shared.values() if len(params) > 1]

    def counts(self, indices: np.ndarray) -> np.ndarray:
        """Architecture features: for each list of levels shared by several parameters, how many of them take
        each level (on NB201: how many edges hold each operation), scaled to [0, 1]; (n, features)."""
        indices = np.atleast_2d(indices)
        blocks = [np.stack([(indices[:, params] == level).mean(axis=1) for level in range(self.sizes[params[0]])],
                           axis=1) for params in self._shared]
        return np.concatenate(blocks, axis=1).astype(np.float32) if blocks else np.zeros((len(indices), 0), np.float32)

    def indices(self, config: Config) -> np.ndarray:
        """The level index of each parameter of ``config`` (-1 where the parameter is inactive)."""
        out = np.full(len(self.names), -1, dtype=np.int64)
        for j, name in enumerate(self.names):
            if name not in config:
                continue
            position = self._position[j]
            if position is not None:
                out[j] = position[plain(config[name])]
            else:
                unit = float(self.space[name].to_vector(np.array([config[name]]))[0])
                out[j] = min(int(unit * self.bins), self.bins - 1)
        return out

    def one_hot(self, indices: np.ndarray) -> np.ndarray:
        """Rows of level indices (n, parameters) as one-hot rows (n, width); inactive parameters are zeros."""
        indices = np.atleast_2d(indices)
        out = np.zeros((len(indices), self.width), dtype=np.float32)
        rows, params = np.nonzero(indices >= 0)
        out[rows, self.offsets[params] + indices[rows, params]] = 1.0
        return out

    def config(self, indices: Sequence[int], rng: np.random.Generator) -> Config:
        """A valid configuration with these level indices for its active parameters.

        A binned numeric value is drawn uniformly inside its bin; parameters a condition makes inactive
        are dropped by ConfigSpace. Raises ValueError when the result violates a forbidden clause.
        """
        if self._product is not None:
            return {name: self._values[j][int(indices[j])] for j, name in enumerate(self.names)}  # type: ignore[index]
        from ConfigSpace.util import deactivate_inactive_hyperparameters

        values: Config = {}
        for j, name in enumerate(self.names):
            level = int(indices[j])
            levels = self._values[j]
            if levels is not None:
                values[name] = levels[max(level, 0)]
            else:
                unit = (max(level, 0) + rng.random()) / self.bins
                values[name] = self.space[name].to_value(np.array([unit]))[0]
        configuration = deactivate_inactive_hyperparameters(to_python(values), self.space)
        configuration.check_valid_configuration()
        return to_python(configuration)

    def sample(self, n: int, rng: np.random.Generator,
               random_space: ConfigurationSpace) -> tuple[np.ndarray, Callable[[int], Config]]:
        """``n`` configurations drawn uniformly, as level indices (n, parameters) and a function giving the
        configuration of row ``i``: indices drawn by numpy on a plain grid (decoded only when asked for),
        else ConfigSpace's sampler on ``random_space``, which respects conditions and forbidden clauses
        (indices read off its vector form in one step: per-value conversion cost more than the model)."""
        if self._product is not None:
            draws = rng.integers(0, self.sizes, size=(n, len(self.sizes)))
            return draws, lambda i: self.config(draws[i], rng)
        # one configuration is asked without a size (ConfigSpace deprecates size=1)
        configurations = random_space.sample_configuration(n) if n > 1 else [random_space.sample_configuration()]
        vectors = np.array([c.get_array() for c in configurations], dtype=float)
        indices = np.full(vectors.shape, -1, dtype=np.int64)
        for j, levels in enumerate(self._values):
            active = ~np.isnan(vectors[:, j])
            if levels is None:
                indices[active, j] = np.minimum((vectors[active, j] * self.bins).astype(np.int64), self.bins - 1)
            elif len(levels) == 1:
                indices[active, j] = 0  # a constant's vector value is 1, not its level's index
            else:
                indices[active, j] = vectors[active, j].astype(np.int64)
        return indices, lambda i: to_python(configurations[i])


class LevelHistory:
    """What a baseline on a ``LevelGrid`` has tried and learnt: the level indices tried (evaluated, failed
    or pending: never proposed again), the successful results as level indices and objective values, and
    whether results arrived since the owner last fitted its model (``stale``, which the owner clears).

    ``hw_pr_nas`` and ``device_hypernet`` keep this same history; one class keeps their ``observe`` alike.

    Args:
        space: the configuration space.
        bins: levels of a numeric parameter (``LevelGrid``).
    """

    def __init__(self, space: ConfigurationSpace, bins: int = 8) -> None:
        self.grid = LevelGrid(space, bins)
        self.tried: set[tuple[int, ...]] = set()
        self.stale = False
        self._x: list[np.ndarray] = []
        self._y: list[np.ndarray] = []

    @property
    def n_results(self) -> int:
        return len(self._y)

    @property
    def x(self) -> np.ndarray:
        """Level indices of the successful results, (results, parameters)."""
        return np.array(self._x)

    @property
    def y(self) -> np.ndarray:
        """Their objective values in the baseline's order, (results, objectives)."""
        return np.array(self._y)

    def observe(self, config: Config, values: np.ndarray | None) -> None:
        """A told result: its configuration counts as tried; with ``values`` (None: a failed evaluation) it
        is data and makes the model stale."""
        indices = self.grid.indices(config)
        self.tried.add(tuple(indices))
        if values is not None:
            self._x.append(indices)
            self._y.append(values)
            self.stale = True
