"""Random search: the baseline every other optimiser must beat."""

from __future__ import annotations

from typing import Any

import numpy as np

from baselines.base import Baseline, Option, Proposal, register
from tasks.base import Config, Result, Trial, to_python

#: trials drawn at once by the levels sampler: one numpy call per block instead of one per parameter and trial
BLOCK = 1024



@register("random_search")
class RandomSearch(Baseline):
    """Samples configurations uniformly from the space.

    Bergstra and Bengio, "Random Search for Hyper-Parameter Optimization", JMLR 2012.
    Every trial runs at the task's maximum fidelity.

    Where the space is a product of levels (every table), each trial is one level index per parameter
    drawn by numpy from ``self._rng``, ``BLOCK`` trials at a time: about a microsecond a trial, where
    ConfigSpace's sampler takes 0.2 ms. The levels are the task's where it states them (``Baseline.levels``):
    then no ConfigurationSpace is built, and a run over a table imports neither ConfigSpace nor scipy.stats.
    Any other space (conditions, forbidden clauses, continuous or weighted parameters) is sampled by
    ConfigSpace, which respects them.

    Options:
        sampler: ``"levels"`` (default) as above; ``"configspace"`` samples every space with ConfigSpace,
            which gives the trials of version 0.1 of this suite for the same seed (docs/baselines.md).

    Example::

        baseline = RandomSearch(task.space, task.objectives, task.fidelity, seed=0)
        trial = baseline.ask()
        baseline.tell(trial, task.evaluate(trial.config, trial.fidelity, seed=0))
    """

    OPTIONS = {"sampler": Option.choice("levels", ("levels", "configspace"))}
    lazy_space = True  # reads the space only through self.space and self.levels

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        levels = self.levels if self._options["sampler"] == "levels" else None
        self._names = list(levels or ())
        self._levels = list((levels or {}).values())
        self._sizes = [len(values) for values in self._levels]
        self._drawn: list[list[int]] = []  # level indices of the trials drawn and not yet proposed, last first

    def propose(self, trial_id: int) -> Proposal:
        if not self._levels:
            return Proposal(to_python(self._random_space.sample_configuration()))
        if not self._drawn:
            self._drawn = self._rng.integers(0, self._sizes, size=(BLOCK, len(self._sizes))).tolist()[::-1]
        indices = self._drawn.pop()
        config: Config = {name: values[i] for name, values, i in zip(self._names, self._levels, indices)}
        return Proposal(config)

    def observe(self, trial: Trial, result: Result, values: np.ndarray | None, replayed: bool) -> None:
        pass  # random search learns nothing
