"""MOTPE: multi-objective tree-structured Parzen estimator, Optuna's implementation through ask/tell."""

from __future__ import annotations

from typing import Any

import optuna
from ConfigSpace import ConfigurationSpace

from baselines._optuna import OptunaBaseline, check_positive
from baselines.base import register
from tasks.base import Fidelity, Objective


@register("motpe")
class MOTPE(OptunaBaseline):
    """Multi-objective TPE: Optuna's ``TPESampler`` on a study with one direction per objective.

    Ozaki, Tanigaki, Watanabe and Onishi, "Multiobjective Tree-Structured Parzen Estimator for
    Computationally Expensive Optimization Problems", GECCO 2020 (and JAIR 73, 2022). Observations
    are split into good and bad by non-dominated sorting with hypervolume-contribution tie-breaking;
    the next configuration maximises the ratio of the two Parzen densities over sampled candidates.
    Every trial runs at the task's maximum fidelity. Pending trials enter the model through Optuna's
    constant liar (they count as bad), so asynchronous workers do not all get the same proposal.

    Args (options):
        n_startup_trials: random trials before the model is used (Optuna default 10).
        n_ei_candidates: candidates drawn from the good density per proposal (default 24).
        multivariate: one joint Parzen estimator instead of one per parameter (Optuna's
            multi-objective default is False).
        constant_liar: count pending trials as bad observations (default True).
    """

    def __init__(
        self,
        space: ConfigurationSpace,
        objectives: tuple[Objective, ...],
        fidelity: Fidelity | None,
        seed: int,
        *,
        n_startup_trials: int = 10,
        n_ei_candidates: int = 24,
        multivariate: bool = False,
        constant_liar: bool = True,
    ) -> None:
        check_positive("n_startup_trials", n_startup_trials)
        check_positive("n_ei_candidates", n_ei_candidates)
        self._options = {"n_startup_trials": int(n_startup_trials), "n_ei_candidates": int(n_ei_candidates),
                         "multivariate": bool(multivariate), "constant_liar": bool(constant_liar)}
        sampler = optuna.samplers.TPESampler(seed=seed, **self._options)
        super().__init__(space, objectives, fidelity, seed, sampler)

    def options(self) -> dict[str, Any]:
        return dict(self._options)
