"""MOTPE: multi-objective tree-structured Parzen estimator, Optuna's implementation through ask/tell."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from baselines._optuna import OptunaBaseline
from baselines.base import Option, register

if TYPE_CHECKING:
    from optuna.samplers import TPESampler


def _sampler(**kwargs: Any) -> TPESampler:
    """Optuna's ``TPESampler`` with ``kwargs``, as ``baselines/_motpe_sampler.py``'s subclass: the same trials
    for a seed at less cost per trial. Imported here, not with the module, so that importing MOTPE (to list or
    check its options) imports no Optuna."""
    from baselines._motpe_sampler import MOTPESampler

    return MOTPESampler(**kwargs)


@register("motpe")
class MOTPE(OptunaBaseline):
    """Multi-objective TPE: Optuna's ``TPESampler`` on a study with one direction per objective.

    Ozaki, Tanigaki, Watanabe and Onishi, "Multiobjective Tree-Structured Parzen Estimator for
    Computationally Expensive Optimization Problems", GECCO 2020 (and JAIR 73, 2022). Observations
    are split into good and bad by non-dominated sorting with hypervolume-contribution tie-breaking;
    the next configuration maximises the ratio of the two Parzen densities over sampled candidates.
    Every trial runs at the task's maximum fidelity. Pending trials enter the model through Optuna's
    constant liar (they count as bad), so asynchronous workers do not all get the same proposal.
    The sampler splits the observations once per trial instead of once per parameter
    (``baselines/_motpe_sampler.py``): the same trials as Optuna's ``TPESampler`` for a seed.

    Args (options):
        n_startup_trials: random trials before the model is used (Optuna default 10).
        n_ei_candidates: candidates drawn from the good density per proposal (default 24).
        multivariate: one joint Parzen estimator instead of one per parameter (Optuna's
            multi-objective default is False).
        constant_liar: count pending trials as bad observations (default True).
    """

    SAMPLER = staticmethod(_sampler)
    OPTIONS = {
        "n_startup_trials": Option.integer(10, at_least=1),
        "n_ei_candidates": Option.integer(24, at_least=1),
        "multivariate": Option.flag(False),
        "constant_liar": Option.flag(True),
    }
