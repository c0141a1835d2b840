"""MOREA: multi-objective regularised evolution (ageing population, best of a random sample mutated)."""

from __future__ import annotations

from collections import deque
from typing import Any

import moocore
import numpy as np

from baselines._evolution import mutate
from baselines.base import Baseline, Option, Proposal, register
from tasks.base import Config, Result, Trial, to_python


@register("morea")
class MOREA(Baseline):
    """Multi-objective regularised evolution, as syne-tune's ``MultiObjectiveRegularizedEvolution``.

    Real, Aggarwal, Huang and Le, "Regularized Evolution for Image Classifier Architecture Search",
    AAAI 2019, with the parent chosen by non-dominated sorting as in syne-tune (Salinas et al.,
    "Syne Tune: A Library for Large Scale Hyperparameter Tuning and Reproducible Research", AutoML
    Conference 2022).

    - The population holds the last ``population_size`` successful results, in the order they were told
      (replayed ones too). While it is not full, a trial is a random configuration.
    - Then a trial samples ``sample_size`` members without replacement, takes the one of lowest
      non-dominated rank within the sample (moocore's ``pareto_rank``; ties: the first drawn) and
      mutates it: one active parameter gets a new value from its distribution; parameters the change
      activates are drawn, those it deactivates dropped (``baselines/_evolution.py``).
    - Every result that enters the population pushes out the oldest member (ageing, the "regularised"
      part), whatever its quality. Failed evaluations never enter.
    - Asynchronous workers: each ask mutates a member of the population as it is; pending trials are not
      part of it, as in syne-tune. Every trial runs at the task's maximum fidelity.

    Own small class (the issue allows it): syne-tune's searcher needs syne-tune's own configuration
    space and scheduler, and mutating a conditional space needs ConfigSpace anyway.

    Args (options):
        population_size: members kept (default 25; syne-tune's 100 leaves nothing but random trials in
            the suite's default budget of 100).
        sample_size: members compared to choose a parent (default 5).
    """

    OPTIONS = {
        "population_size": Option.integer(25, at_least=2),
        "sample_size": Option.integer(5, at_least=1),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self._options["sample_size"] > self._options["population_size"]:
            raise self.option_error(f"option sample_size={self._options['sample_size']} must be at most "
                                    f"population_size={self._options['population_size']}")
        # ConfigSpace's samplers take a legacy RandomState; it is drawn from the seed's generator
        self._random_state = np.random.RandomState(self._rng.integers(2**32))
        self._population: deque[tuple[Config, np.ndarray]] = deque()

    @property
    def population(self) -> tuple[tuple[Config, np.ndarray], ...]:
        """The members, oldest first: (configuration, objective values)."""
        return tuple(self._population)

    def propose(self, trial_id: int) -> Proposal:
        size = self._options["population_size"]
        if len(self._population) < size:
            return Proposal(self._random_configuration())
        drawn = self._rng.choice(size, size=self._options["sample_size"], replace=False)
        ranks = moocore.pareto_rank(np.array([self._population[i][1] for i in drawn]))
        parent = self._population[int(drawn[int(np.argmin(ranks))])][0]
        child = mutate(parent, self.space, self._random_state)
        return Proposal(self._random_configuration() if child is None else child)

    def observe(self, trial: Trial, result: Result, values: np.ndarray | None, replayed: bool) -> None:
        if values is None:
            return
        self._population.append((trial.config, values))
        if len(self._population) > self._options["population_size"]:
            self._population.popleft()

    def _random_configuration(self) -> Config:
        return to_python(self._random_space.sample_configuration())
