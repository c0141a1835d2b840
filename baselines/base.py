"""The ask/tell contract every optimiser implements, and the registry that names them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace

from tasks.base import Config, Fidelity, Objective, Result, Trial
from tasks.registry import Registry


class Baseline(ABC):
    """A multi-objective optimiser behind ask/tell.

    The optimiser never calls the objective: the run loop asks for a trial, evaluates it somewhere
    (a table, a GPU worker) and tells the result. Several asks may be pending at once (asynchronous
    workers), results may come back in any order, and a result may have ``status != "ok"`` (a
    failed evaluation, with no objective values), which a baseline must survive.

    ``tell`` also accepts trials this instance never asked: that is how a partial run is resumed
    (its recorded rows are replayed into a fresh baseline).

    A baseline knows only the space, the objectives (names, all minimised, with bounds) and the
    fidelity: never a task's parameter names.

    Args:
        space: the configuration space; sample from it with ``self.space`` (seeded in ``__init__``).
        objectives: the objectives, all minimised.
        fidelity: the task's fidelity, or None. Baselines without multi-fidelity logic leave
            ``Trial.fidelity`` as None, which means the task's maximum.
        seed: the only source of randomness; the same seed gives the same trials on a tabular task.
        options: algorithm options; unknown options raise TypeError in the subclass's ``__init__``.
    """

    def __init__(
        self,
        space: ConfigurationSpace,
        objectives: tuple[Objective, ...],
        fidelity: Fidelity | None,
        seed: int,
    ) -> None:
        self.space = space
        self.objectives = tuple(objectives)
        self.fidelity = fidelity
        self.seed = seed
        self._next_id = 0

    @abstractmethod
    def ask(self) -> Trial: ...

    @abstractmethod
    def tell(self, trial: Trial, result: Result) -> None: ...

    def options(self) -> dict[str, Any]:
        """The algorithm options, as written into a run's metadata (JSON values only)."""
        return {}

    def _new_trial(self, config: Config, fidelity: float | None = None) -> Trial:
        trial = Trial(id=self._next_id, config=config, fidelity=fidelity)
        self._next_id += 1
        return trial

    def _observe_id(self, trial: Trial) -> None:
        """Keep ids unique after a replayed trial (resume) whose id this instance did not hand out."""
        self._next_id = max(self._next_id, trial.id + 1)

    def objective_vector(self, result: Result) -> np.ndarray | None:
        """The result's objectives in this baseline's order, or None for a failed or NaN evaluation."""
        if result.status != "ok":
            return None
        values = np.array([result.objectives.get(o.name, np.nan) for o in self.objectives], dtype=float)
        return None if np.isnan(values).any() else values


BASELINES: Registry[type[Baseline]] = Registry("baseline", entry_point_group="bag_of_baselines.baselines")
register = BASELINES.register
