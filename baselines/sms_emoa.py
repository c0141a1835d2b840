"""SMS-EMOA: steady-state evolution whose survival removes the member of least hypervolume contribution."""

from __future__ import annotations

from typing import Any

import moocore
import numpy as np

from baselines._evolution import crossover, mutate, normalised
from baselines.base import Baseline, Option, Proposal, register
from tasks.base import Config, Result, Trial, to_python

#: the reference point of the contributions lies this far (in units of the objectives' bounds) beyond the
#: population's worst value of each objective, so that every member, the extremes too, contributes
REFERENCE_OFFSET = 0.1


def least_contributor(points: np.ndarray, reference: np.ndarray) -> int:
    """The row SMS-EMOA's survival removes from ``points`` (minimised): of the worst non-dominated front, the
    one of least exact hypervolume contribution with respect to ``reference``; ties: the later row."""
    ranks = moocore.pareto_rank(points)
    worst = np.flatnonzero(ranks == ranks.max())
    if len(worst) == 1:
        return int(worst[0])
    contributions = moocore.hv_contributions(points[worst], ref=reference)
    return int(worst[np.flatnonzero(contributions == contributions.min())[-1]])


@register("sms_emoa")
class SMSEMOA(Baseline):
    """SMS-EMOA, the S-metric selection evolutionary multi-objective algorithm (steady state, mu + 1).

    Beume, Naujoks and Emmerich, "SMS-EMOA: Multiobjective selection based on dominated hypervolume",
    European Journal of Operational Research 181(3), 2007.

    - While the population holds fewer than ``population_size`` successful results, a trial is a random
      configuration.
    - Then a child is made from two members drawn uniformly at random (the paper's random mating):
      uniform crossover with probability ``crossover_prob`` (else a copy of the first), then a mutation
      of one active parameter (a new value from its distribution). Conditions hold: parameters a change
      activates are drawn, those it deactivates dropped (``baselines/_evolution.py``).
    - Survival, at each result told: the population plus the new member is sorted into non-dominated
      fronts (moocore) and, from the worst front, the member with the least exact hypervolume
      contribution (moocore's ``hv_contributions``; ties: the later member) is removed. Objectives are
      scaled by the task's bounds; the reference point is the population's worst value in each
      objective plus ``REFERENCE_OFFSET``, so the extremes of a front are kept (the paper's choice of a
      reference beyond the worst point).
    - Asynchronous workers: every ask makes a child of the population as it is (steady state needs no
      generation to finish); pending trials do not take part. Failed evaluations never enter;
      replayed results enter like any other. Every trial runs at the task's maximum fidelity.

    Own small class, not pymoo's ``SMSEMOA``: pymoo's operators (SBX, polynomial mutation) work on
    fixed-length real vectors; its mixed-variable operators know no conditions, and its ask/tell asks a
    whole generation of offspring at a time where a steady-state algorithm with asynchronous workers
    needs one child per ask. The survival uses moocore's exact contributions, as pymoo's does.

    Args (options):
        population_size: members kept, mu (default 25).
        crossover_prob: probability that a child is made by crossover (default 0.9).
    """

    OPTIONS = {
        "population_size": Option.integer(25, at_least=2),
        "crossover_prob": Option.real(0.9, at_least=0, at_most=1),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # ConfigSpace's samplers take a legacy RandomState; it is drawn from the seed's generator
        self._random_state = np.random.RandomState(self._rng.integers(2**32))
        self._members: list[Config] = []
        self._values = np.empty((0, len(self.objectives)))  # normalised objectives, one row per member

    @property
    def population(self) -> tuple[tuple[Config, np.ndarray], ...]:
        """The members in the order they entered: (configuration, objectives scaled by the task's bounds)."""
        return tuple(zip(self._members, self._values))

    def propose(self, trial_id: int) -> Proposal:
        if len(self._members) < self._options["population_size"]:
            return Proposal(self._random_configuration())
        first, second = (self._members[i] for i in self._rng.choice(len(self._members), size=2, replace=False))
        child: Config | None = first
        if self._rng.random() < self._options["crossover_prob"]:
            child = crossover(first, second, self.space, self._random_state)
        if child is not None:
            child = mutate(child, self.space, self._random_state)
        return Proposal(self._random_configuration() if child is None else child)

    def observe(self, trial: Trial, result: Result, values: np.ndarray | None, replayed: bool) -> None:
        if values is None:
            return
        self._members.append(trial.config)
        self._values = np.vstack([self._values, normalised(values, self.objectives)])
        if len(self._members) > self._options["population_size"]:
            removed = least_contributor(self._values, self._values.max(axis=0) + REFERENCE_OFFSET)
            del self._members[removed]
            self._values = np.delete(self._values, removed, axis=0)

    def _random_configuration(self) -> Config:
        return to_python(self._random_space.sample_configuration())
