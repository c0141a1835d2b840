"""NSGA-II: the non-dominated sorting genetic algorithm, Optuna's implementation through ask/tell."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from baselines._optuna import OptunaBaseline
from baselines.base import Option, register

if TYPE_CHECKING:
    from optuna.samplers import NSGAIISampler

#: the suite's default population (Optuna's is 50, which in the default budget of 100 evaluations is a random
#: generation and one of offspring): at 100 evaluations 10 had a lower median regret than 50 on 11 of the 15
#: tables and the lowest of 10, 20 and 50 on 9 (benchmarks/baseline_quality.py, docs/baselines.md)
POPULATION_SIZE = 10


def _sampler(**options: Any) -> NSGAIISampler:
    # Optuna is imported when a run makes its sampler, not with this module (listing NSGA-II or checking its
    # options imports no Optuna)
    from optuna.samplers import NSGAIISampler

    return NSGAIISampler(**options)


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
        population_size: individuals per generation (the suite's default 10; Optuna's 50). Larger budgets
            want larger populations.
        crossover_prob: probability that a child is made by crossover (default 0.9).
        swapping_prob: per-parameter swap probability of uniform crossover (default 0.5).
        mutation_prob: per-parameter mutation probability; None means 1 / number of parameters.
    """

    SAMPLER = staticmethod(_sampler)
    OPTIONS = {
        "population_size": Option.integer(POPULATION_SIZE, at_least=2),
        "crossover_prob": Option.real(0.9, above=0, at_most=1),
        "swapping_prob": Option.real(0.5, above=0, at_most=1),
        "mutation_prob": Option.real(None, above=0, at_most=1, none_means="1 / number of parameters"),
    }
