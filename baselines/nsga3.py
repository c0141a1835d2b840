"""NSGA-III: the reference-point-based non-dominated sorting genetic algorithm, Optuna's implementation."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from baselines._optuna import OptunaBaseline
from baselines.base import Option, register
from baselines.nsga2 import POPULATION_SIZE

if TYPE_CHECKING:
    from optuna.samplers import NSGAIIISampler


def _sampler(**options: Any) -> NSGAIIISampler:
    # Optuna is imported when a run makes its sampler, not with this module. Optuna marks the sampler
    # experimental (since 3.2) and would say so in every run's log; the docstring below says it instead
    from optuna.exceptions import ExperimentalWarning
    from optuna.samplers import NSGAIIISampler

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        return NSGAIIISampler(**options)


@register("nsga3")
class NSGA3(OptunaBaseline):
    """NSGA-III: Optuna's ``NSGAIIISampler``.

    Deb and Jain, "An Evolutionary Many-Objective Optimization Algorithm Using Reference-Point-Based
    Nondominated Sorting Approach, Part I: Solving Problems With Box Constraints", IEEE Transactions on
    Evolutionary Computation 18(4), 2014. As NSGA-II, but the last front that does not fit into the next
    population is thinned by niching around reference directions (Das and Dennis's simplex lattice with
    ``dividing_parameter`` divisions per axis, in objectives normalised by the population's ideal and
    extreme points) instead of by crowding distance. It matters with three or more objectives
    (NAS-Bench-201's error, latency and size); with two it behaves much like NSGA-II.

    Optuna marks this sampler experimental (its interface may change between Optuna versions).
    Mixed and conditional spaces, pending trials and the population default as for ``nsga2`` (Optuna's
    sampler works parameter by parameter; a generation is formed from finished trials).

    Args (options):
        population_size: individuals per generation (the suite's default, see ``nsga2``).
        dividing_parameter: divisions per objective axis of the reference lattice (Optuna default 3:
            4 directions for 2 objectives, 10 for 3).
        crossover_prob: probability that a child is made by crossover (default 0.9).
        swapping_prob: per-parameter swap probability of uniform crossover (default 0.5).
        mutation_prob: per-parameter mutation probability; None means 1 / number of parameters.
    """

    SAMPLER = staticmethod(_sampler)
    OPTIONS = {
        "population_size": Option.integer(POPULATION_SIZE, at_least=2),
        "dividing_parameter": Option.integer(3, at_least=1),
        "crossover_prob": Option.real(0.9, above=0, at_most=1),
        "swapping_prob": Option.real(0.5, above=0, at_most=1),
        "mutation_prob": Option.real(None, above=0, at_most=1, none_means="1 / number of parameters"),
    }
