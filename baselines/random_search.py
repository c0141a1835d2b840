"""Random search: the baseline every other optimiser must beat."""

from __future__ import annotations

import numpy as np

from baselines.base import Baseline, Proposal, register
from tasks.base import Result, Trial, to_python


@register("random_search")
class RandomSearch(Baseline):
    """Samples configurations uniformly from the space (ConfigSpace's prior, conditions respected).

    Bergstra and Bengio, "Random Search for Hyper-Parameter Optimization", JMLR 2012.
    Every trial runs at the task's maximum fidelity. It has no options.

    Example::

        baseline = RandomSearch(task.space, task.objectives, task.fidelity, seed=0)
        trial = baseline.ask()
        baseline.tell(trial, task.evaluate(trial.config, trial.fidelity, seed=0))
    """

    def propose(self, trial_id: int) -> Proposal:
        return Proposal(to_python(self._random_space.sample_configuration()))

    def observe(self, trial: Trial, result: Result, values: np.ndarray | None, replayed: bool) -> None:
        pass  # random search learns nothing
