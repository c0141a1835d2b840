"""SH-EMOA: a steady-state evolutionary algorithm whose population climbs the fidelity by successive halving."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from baselines._evolution import complete, crossover, normalised
from baselines._successive_halving import nondominated_order, option_rung_budgets, reference_behind, select_best
from baselines.base import Baseline, Option, Proposal, register
from tasks.base import Config, Fidelity, Objective, Result, Trial, to_python

if TYPE_CHECKING:  # for annotations: ConfigSpace is imported where the space is first used (``_mutant``, sampling)
    from ConfigSpace import ConfigurationSpace


def stage_children(n_evaluations: int, population_size: int, stages: int, eta: float) -> list[int]:
    """Children planned at each stage, lowest budget first: ``m * eta**(stages - 1 - r)`` at stage r with
    ``m = ceil((n_evaluations - population_size) / sum(eta**i, i < stages))`` (the paper's code, ``get_budgets``),
    so the cheap stages get the most children; at least one each."""
    m = math.ceil((n_evaluations - population_size) / sum(eta ** i for i in range(stages)))
    return [max(1, int(round(m * eta ** (stages - 1 - r)))) for r in range(stages)]


@register("sh_emoa")
class SHEMOA(Baseline):
    """SH-EMOA: successive halving over a (mu + 1) evolutionary algorithm with hypervolume survival.

    Guerrero-Viu, Hauns, Izquierdo, Miotto, Schrodi, Biedenkapp, Elsken, Deng, Lindauer and Hutter, "Bag of
    Baselines for Multi-objective Joint Neural Architecture Search and Hyperparameter Optimization", ICML
    2021 AutoML workshop (its code: github automl/multi-obj-baselines, ``baselines/methods/shemoa``);
    survival as in SMS-EMOA (Beume, Naujoks and Emmerich, EJOR 181(3), 2007).

    - Stages at the budgets ``max_budget * eta**-i`` down to ``min_budget`` (snapped to the fidelity's
      levels or whole epochs; ``baselines._successive_halving.rung_budgets``, shared with MO-BOHB and
      MO-ASHA; the paper's code divides by ``eta`` with a ceiling instead, e.g. 7, 13, 25 for 5..25 epochs
      where this gives 6, 12, 25). Stage 0 starts with ``population_size`` random configurations; each
      later stage starts by evaluating the surviving population again at its larger budget. Then each
      stage makes its planned number of children (``stage_children``: the paper's split of
      ``n_evaluations``, most at the cheapest budget); the last stage goes on making children for as long
      as the run lasts.
    - A child: a parent by tournament (``tournament_size`` members drawn without replacement, the best
      wins); with probability ``mutation_prob`` a mutation (a share ``mutation_share`` of the parent's
      active parameters, at least one, redrawn from their distributions: the paper's code redraws 5 of
      its space's 13), else uniform recombination with a random population member (each parameter from
      either with probability 1/2). Conditions hold: parameters a change activates are drawn, those it
      deactivates dropped (``baselines/_evolution.py``); a forbidden child becomes a random configuration.
    - "Best" for the tournament: non-dominated rank, then farthest-first inside the front
      (``nondominated_order``); the paper's code ranked by a product of accuracy and parameter count,
      which names the task's objectives. Survival after each result: the ``population_size`` best by
      ``select_best`` (whole fronts, then least hypervolume contribution removed), which for one result
      at a time is the paper's removal of the least contributor of the last front. Objectives are
      normalised by the task's bounds; the reference point lies behind the population (1.1, or the worst
      value + 0.1).
    - Asynchronous workers: a stage ends at the first ask after all its planned evaluations have been
      told; asks before that make extra children at the stage's budget, which enter the population if
      they are told before the stage ends. A result told after its stage ended enters no population (it
      was measured at a smaller budget). While a stage's population is still empty (its first results
      are pending), parents come from the previous stage's population. Failed evaluations never enter.
    - Resume: the schedule starts anew; replayed results at the current stage's budget enter the
      population. A task without a fidelity has one stage: a steady-state EA at the full budget.

    Args (options):
        population_size: members kept, mu (default 10, the paper's code).
        eta: the budget ratio between stages (default 2, the paper's code).
        min_budget, max_budget: the range of the stages (default: the fidelity's min and max).
        n_evaluations: evaluations the stage plan is made for, the initial population included and the
            re-evaluations not (default 200, the paper's code).
        mutation_prob: probability that a child is a mutant rather than a recombination (default 0.5).
        mutation_share: the share of active parameters a mutation redraws (default 5/13).
        tournament_size: members drawn per parent tournament (default 3).
    """

    OPTIONS = {
        "population_size": Option.integer(10, at_least=2),
        "eta": Option.real(2.0, above=1),
        "min_budget": Option.real(None, above=0, none_means="the fidelity's minimum"),
        "max_budget": Option.real(None, above=0, none_means="the fidelity's maximum"),
        "n_evaluations": Option.integer(200, at_least=1),
        "mutation_prob": Option.real(0.5, at_least=0, at_most=1),
        "mutation_share": Option.real(5 / 13, above=0, at_most=1),
        "tournament_size": Option.integer(3, at_least=1),
    }

    def __init__(
        self,
        space: ConfigurationSpace,
        objectives: tuple[Objective, ...],
        fidelity: Fidelity | None,
        seed: int,
        **options: Any,
    ) -> None:
        super().__init__(space, objectives, fidelity, seed, **options)
        self._budgets = option_rung_budgets(self)
        size = self._options["population_size"]
        if self._options["n_evaluations"] <= size:
            raise self.option_error(f"option n_evaluations={self._options['n_evaluations']} must exceed "
                                    f"population_size={size}: the initial population alone uses that many")
        self._children = stage_children(self._options["n_evaluations"], size, len(self._budgets), self._options["eta"])
        # ConfigSpace's samplers take a legacy RandomState; it is drawn from the seed's generator
        self._random_state = np.random.RandomState(self._rng.integers(2**32))
        self._stage = 0
        self._queue: list[Config | None] = [None] * size  # None: a random configuration
        self._planned = size + self._children[0]
        self._told = 0  # results of the current stage's trials
        self._population: list[tuple[Config, np.ndarray]] = []
        self._previous: list[tuple[Config, np.ndarray]] = []
        self._jobs: dict[int, int] = {}  # trial id -> its stage

    @property
    def stage(self) -> tuple[int, float | None]:
        """The current stage and its budget."""
        return self._stage, self._budgets[self._stage]

    @property
    def population(self) -> tuple[tuple[Config, np.ndarray], ...]:
        """The current stage's members: (configuration, objectives normalised by the task's bounds)."""
        return tuple(self._population)

    def propose(self, trial_id: int) -> Proposal:
        if self._stage < len(self._budgets) - 1 and self._told >= self._planned:
            self._next_stage()
        if self._queue:
            config = self._queue.pop(0)
            if config is None:
                config = self._random_config()
        else:
            config = self._child()
        self._jobs[trial_id] = self._stage
        return Proposal(config, self._budgets[self._stage])

    def observe(self, trial: Trial, result: Result, values: np.ndarray | None, replayed: bool) -> None:
        if replayed:
            budget = trial.fidelity if trial.fidelity is not None or self.fidelity is None else float(self.fidelity.max)
            if budget != self._budgets[self._stage]:
                return
        else:
            if self._jobs.pop(trial.id) != self._stage:
                return  # measured at an earlier stage's budget
            self._told += 1
        if values is None:
            return
        self._population.append((trial.config, normalised(values, self.objectives)))
        if len(self._population) > self._options["population_size"]:
            points = np.array([point for _, point in self._population])
            keep = select_best(points, self._options["population_size"], reference_behind(points))
            self._population = [self._population[i] for i in sorted(keep)]

    def _next_stage(self) -> None:
        self._stage += 1
        self._previous, self._population = self._population, []
        self._queue = [config for config, _ in self._previous]
        self._planned = len(self._queue) + self._children[self._stage]
        self._told = 0

    def _child(self) -> Config:
        pool = self._population or self._previous
        if not pool:
            return self._random_config()
        drawn = self._rng.choice(len(pool), size=min(self._options["tournament_size"], len(pool)), replace=False)
        position = np.empty(len(pool), dtype=int)
        position[nondominated_order(np.array([point for _, point in pool]))] = np.arange(len(pool))
        parent = pool[int(drawn[np.argmin(position[drawn])])][0]
        if self._rng.random() < self._options["mutation_prob"]:
            child = self._mutant(parent)
        else:
            partner = pool[int(self._rng.integers(len(pool)))][0]
            child = crossover(parent, partner, self.space, self._random_state)
        return self._random_config() if child is None else child

    def _mutant(self, parent: Config) -> Config | None:
        from ConfigSpace import Constant

        names = sorted(n for n in parent if not isinstance(self.space[n], Constant) and self.space[n].size != 1)
        if not names:
            return None
        count = max(1, round(self._options["mutation_share"] * len(names)))
        redrawn = set(self._rng.choice(names, size=count, replace=False).tolist())
        # ``complete`` draws every active parameter the child lacks from its distribution
        return complete({k: v for k, v in parent.items() if k not in redrawn}, self.space, self._random_state)

    def _random_config(self) -> Config:
        return to_python(self._random_space.sample_configuration())
