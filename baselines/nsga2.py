"""NSGA-II: the non-dominated sorting genetic algorithm, Optuna's implementation through ask/tell."""

from __future__ import annotations

from typing import Any

import optuna
from ConfigSpace import ConfigurationSpace

from baselines._optuna import OptunaBaseline, check_positive
from baselines.base import register
from tasks.base import Fidelity, Objective


@register("nsga2")
class NSGA2(OptunaBaseline):
    """NSGA-II: Optuna's ``NSGAIISampler``.

    Deb, Pratap, Agarwal and Meyarivan, "A fast and elitist multiobjective genetic algorithm:
    NSGA-II", IEEE Transactions on Evolutionary Computation 6(2), 2002. Parents are chosen by
    non-dominated rank and crowding distance; children come from uniform crossover and mutation.

    Why Optuna's and not pymoo's: Optuna's sampler works on mixed spaces (floats, log scales, ints,
    categoricals) parameter by parameter and accepts define-by-run (conditional) parameters, which
    pymoo's fixed-length vectors would need a hand-made encoding for. A conditional parameter that
    is missing from a parent is sampled at random (Optuna's rule for parameters outside the
    intersection search space). The first generation is random; a generation is formed from the
    trials that have finished, so pending asynchronous trials only delay it. Every trial runs at
    the task's maximum fidelity.

    Args (options):
        population_size: individuals per generation (Optuna default 50).
        crossover_prob: probability that a child is made by crossover (default 0.9).
        swapping_prob: per-parameter swap probability of uniform crossover (default 0.5).
        mutation_prob: per-parameter mutation probability; None means 1 / number of parameters.
    """

    def __init__(
        self,
        space: ConfigurationSpace,
        objectives: tuple[Objective, ...],
        fidelity: Fidelity | None,
        seed: int,
        *,
        population_size: int = 50,
        crossover_prob: float = 0.9,
        swapping_prob: float = 0.5,
        mutation_prob: float | None = None,
    ) -> None:
        if not (isinstance(population_size, int) and population_size >= 2):
            raise ValueError(f"option population_size must be an integer >= 2, got {population_size!r}")
        for name, value in (("crossover_prob", crossover_prob), ("swapping_prob", swapping_prob),
                            ("mutation_prob", 1.0 if mutation_prob is None else mutation_prob)):
            check_positive(name, value)
            if value > 1:
                raise ValueError(f"option {name} must be in (0, 1], got {value!r}")
        self._options = {"population_size": population_size, "crossover_prob": float(crossover_prob),
                         "swapping_prob": float(swapping_prob), "mutation_prob": mutation_prob}
        sampler = optuna.samplers.NSGAIISampler(seed=seed, **self._options)
        super().__init__(space, objectives, fidelity, seed, sampler)

    def options(self) -> dict[str, Any]:
        return dict(self._options)
