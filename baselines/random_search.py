"""Random search: the baseline every other optimiser must beat."""

from __future__ import annotations

from ConfigSpace import ConfigurationSpace

from baselines.base import Baseline, register
from tasks.base import Fidelity, Objective, Result, Trial, to_python


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

    def __init__(
        self,
        space: ConfigurationSpace,
        objectives: tuple[Objective, ...],
        fidelity: Fidelity | None,
        seed: int,
    ) -> None:
        super().__init__(space, objectives, fidelity, seed)
        # a private copy: seeding the caller's space would couple runs that share a task object
        self._space = ConfigurationSpace.from_serialized_dict(space.to_serialized_dict())
        self._space.seed(seed)

    def ask(self) -> Trial:
        return self._new_trial(to_python(self._space.sample_configuration()))

    def tell(self, trial: Trial, result: Result) -> None:
        self._observe_id(trial)
