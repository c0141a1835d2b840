"""Add your own baseline: a worked example that the conformance suite and run_suite.py pick up by name.

    python run_suite.py --plugin examples.my_baseline --baselines pareto_local_search ...
    BOB_PLUGINS=examples.my_baseline python -m pytest tests/baselines -q

Pareto local search: half of the trials are random, the other half change one parameter of a random
configuration on the current Pareto front (ConfigSpace's one-exchange neighbourhood keeps conditions).
The base class numbers the trials, seeds ``self._rng`` and ``self._random_space`` and checks the options.
"""

from __future__ import annotations

from typing import Any

import moocore
import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace
from ConfigSpace.util import get_one_exchange_neighbourhood

from baselines import Baseline, Option, Proposal, register
from tasks.base import Config, Fidelity, Objective, Result, Trial, to_python


@register("pareto_local_search")
class ParetoLocalSearch(Baseline):
    """Random search mixed with one-parameter moves from the Pareto front (Paquete et al., 2004).

    Args (options):
        local_fraction: the share of trials that are local moves (default 0.5).
    """

    OPTIONS = {"local_fraction": Option.real(0.5, at_least=0, at_most=1)}

    def __init__(self, space: ConfigurationSpace, objectives: tuple[Objective, ...], fidelity: Fidelity | None,
                 seed: int, **options: Any) -> None:
        super().__init__(space, objectives, fidelity, seed, **options)
        self._configs: list[Config] = []
        self._values: list[np.ndarray] = []

    def propose(self, trial_id: int) -> Proposal:  # fidelity None: the task's maximum
        if not self._values or self._rng.random() >= self._options["local_fraction"]:
            return Proposal(to_python(self._random_space.sample_configuration()))
        front = np.flatnonzero(moocore.is_nondominated(np.array(self._values)))
        centre = Configuration(self.space, values=self._configs[int(self._rng.choice(front))])
        neighbours = list(get_one_exchange_neighbourhood(centre, seed=int(self._rng.integers(2**31))))
        return Proposal(to_python(neighbours[int(self._rng.integers(len(neighbours)))] if neighbours else centre))

    def observe(self, trial: Trial, result: Result, values: np.ndarray | None, replayed: bool) -> None:
        if values is not None:  # None: a failed or NaN evaluation, nothing to learn
            self._configs.append(trial.config)
            self._values.append(values)
