"""Add your own baseline: a worked example that the conformance suite and run_suite.py pick up by name.

    python run_suite.py --plugin examples.my_baseline --baselines pareto_local_search ...
    BOB_PLUGINS=examples.my_baseline python -m pytest tests/baselines -q

Pareto local search: half of the trials are random, the other half change one parameter of a random
configuration on the current Pareto front (ConfigSpace's one-exchange neighbourhood keeps conditions).
"""

from __future__ import annotations

import moocore
import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace
from ConfigSpace.util import get_one_exchange_neighbourhood

from baselines import Baseline, register
from tasks.base import Fidelity, Objective, Result, Trial, to_python


@register("pareto_local_search")
class ParetoLocalSearch(Baseline):
    """Random search mixed with one-parameter moves from the Pareto front (Paquete et al., 2004).

    Args (options):
        local_fraction: the share of trials that are local moves (default 0.5).
    """

    def __init__(self, space: ConfigurationSpace, objectives: tuple[Objective, ...], fidelity: Fidelity | None,
                 seed: int, *, local_fraction: float = 0.5) -> None:
        super().__init__(space, objectives, fidelity, seed)
        if not 0 <= local_fraction <= 1:
            raise ValueError(f"option local_fraction must be in [0, 1], got {local_fraction!r}")
        self.local_fraction = local_fraction
        self._rng = np.random.default_rng(seed)
        self._space = ConfigurationSpace.from_serialized_dict(space.to_serialized_dict())  # private, seeded
        self._space.seed(seed)
        self._configs: list[dict] = []
        self._values: list[np.ndarray] = []

    def ask(self) -> Trial:  # fidelity None: the task's maximum
        if not self._values or self._rng.random() >= self.local_fraction:
            return self._new_trial(to_python(self._space.sample_configuration()))
        front = np.flatnonzero(moocore.is_nondominated(np.array(self._values)))
        centre = Configuration(self._space, values=self._configs[int(self._rng.choice(front))])
        neighbours = list(get_one_exchange_neighbourhood(centre, seed=int(self._rng.integers(2**31))))
        choice = neighbours[int(self._rng.integers(len(neighbours)))] if neighbours else centre
        return self._new_trial(to_python(choice))

    def tell(self, trial: Trial, result: Result) -> None:
        self._observe_id(trial)  # a replayed trial (resume) keeps later ids unique
        values = self.objective_vector(result)  # None for a failed or NaN evaluation: nothing to learn
        if values is not None:
            self._configs.append(trial.config)
            self._values.append(values)

    def options(self) -> dict[str, float]:
        return {"local_fraction": self.local_fraction}
