"""Any configuration space as vectors in [0, 1]^d for a numeric model (a Gaussian process, an SVM).

Written here because no maintained library encodes a whole conditional ConfigSpace space this way:
ConfigSpace's own vector form (``Configuration.get_array``) holds one number per parameter, an index for a
categorical, which a model must not read as a magnitude, and NaN for an inactive parameter. ``qnehvi`` (and
``ms_ehvi``) and ``lamoo`` share it; ``baselines._levels`` is the other encoding, of levels (numeric
parameters binned) for models that output a distribution over architectures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tasks.base import Config

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

#: the default value of an inactive numeric or ordinal parameter: the middle of its [0, 1] (whether it is
#: active is visible to a model through its parents' columns)
INACTIVE = 0.5


class Encoding:
    """A configuration of a ConfigSpace space as a vector in [0, 1]^d.

    - float and integer parameters: ConfigSpace's normalised value, ``(v - lower) / (upper - lower)``, in
      log space where the parameter is log-scaled (integers are not relaxed: the model sees their values);
    - ordinal parameters: their position, ``index / (levels - 1)`` (0 for a single level);
    - categorical parameters: one-hot, one column per choice;
    - constants: no column;
    - inactive parameters (a condition switches them off): numeric and ordinal ones ``inactive``,
      categorical ones all zeros. Configurations of a conditional space hold only active parameters and
      activity follows from the parents, so distinct configurations get distinct vectors.

    Args:
        space: the configuration space.
        inactive: the value of an inactive numeric or ordinal parameter (``INACTIVE``; a value outside [0, 1]
            sets inactive parameters apart from every active value).
    """

    def __init__(self, space: ConfigurationSpace, inactive: float = INACTIVE) -> None:
        from ConfigSpace import CategoricalHyperparameter, Constant, OrdinalHyperparameter

        self._inactive = inactive
        # each parameter with a column: its name, first column, kind and the parameter itself
        self._columns: list[tuple[str, int, str, Any]] = []
        self.names: list[str] = []  # a column's parameter (and choice, for one-hot columns), for reading
        for hp in space.values():
            if isinstance(hp, Constant):
                continue
            kind = ("categorical" if isinstance(hp, CategoricalHyperparameter)
                    else "ordinal" if isinstance(hp, OrdinalHyperparameter) else "numeric")
            self._columns.append((hp.name, len(self.names), kind, hp))
            if kind == "categorical":
                self.names.extend(f"{hp.name}={choice}" for choice in hp.choices)
            else:
                self.names.append(hp.name)

    @property
    def width(self) -> int:
        return len(self.names)

    def encode(self, config: Config) -> np.ndarray:
        vector = np.full(self.width, self._inactive)
        for name, column, kind, hp in self._columns:
            if kind == "categorical":
                vector[column:column + len(hp.choices)] = 0.0
                if name in config:
                    vector[column + hp.choices.index(config[name])] = 1.0
            elif name not in config:
                continue
            elif kind == "ordinal":
                vector[column] = hp.sequence.index(config[name]) / max(len(hp.sequence) - 1, 1)
            else:
                vector[column] = float(hp.to_vector(config[name]))
        return vector

    def encode_all(self, configs: list[Config]) -> np.ndarray:
        """Rows of ``encode``, (configurations, width)."""
        return np.array([self.encode(c) for c in configs]).reshape(len(configs), self.width)
