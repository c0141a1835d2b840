"""MO-ASHA: asynchronous successive halving whose promotions rank a rung by non-dominated sorting with an
epsilon-net tie-break."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from baselines._successive_halving import AsynchronousSuccessiveHalving, nondominated_order, option_rung_budgets
from baselines.base import Baseline, Option, Proposal, register
from tasks.base import Config, Fidelity, Objective, Result, Trial, to_python

if TYPE_CHECKING:  # for annotations: the space is copied (importing ConfigSpace) when a run first samples
    from ConfigSpace import ConfigurationSpace


@register("mo_asha")
class MOASHA(Baseline):
    """MO-ASHA: asynchronous successive halving with multi-objective promotion of random configurations.

    Schmucker, Donini, Zafar, Salinas and Archambeau, "Multi-objective Asynchronous Successive Halving",
    arXiv:2106.12639, 2021, on ASHA (Li, Jamieson, Rostamizadeh, Gonen, Hardt, Recht and Talwalkar, "A
    System for Massively Parallel Hyperparameter Tuning", MLSys 2020). The promotion order is the
    non-dominated sort with the epsilon-net tie-break of Salinas, Perrone, Archambeau and Cruchant, "A
    multi-objective perspective on jointly tuning hardware and hyperparameters", ICLR 2021 NAS workshop
    (syne-tune's ``MOASHA`` default).

    - Rungs at the budgets ``max_budget * eta**-i`` down to ``min_budget`` (snapped to the fidelity's
      levels or to whole epochs, the schedule shared with MO-BOHB: ``baselines._successive_halving``).
    - Each ask, rungs are scanned from the top down: a configuration among the best ``floor(n / eta)`` of
      the ``n`` successful results at its rung, and not yet promoted, is promoted to the next budget (it is
      evaluated again there, from scratch: the suite asks for evaluations, not for continued training).
      "Best" is the order of ``nondominated_order``: whole non-dominated fronts (objectives normalised by
      the task's bounds), inside a front farthest-first from the point with the smallest first objective
      (Euclidean distance), so the promoted set spreads along the front. Without a promotion a random
      configuration starts at the lowest budget. A promotion is booked when it is asked, so several
      pending asks never promote the same configuration twice; no worker ever waits for a rung.
    - Failed evaluations enter no rung and are never promoted.
    - Resume: replayed trials are placed in the rung of their fidelity (a fidelity that is no rung's is
      ignored), and a configuration seen at a budget counts as already promoted from the rungs below.
    - A task without a fidelity has one rung: MO-ASHA is then random search.

    Args (options):
        eta: the reduction factor (default 3).
        min_budget, max_budget: the range of the rungs (default: the fidelity's min and max).
    """

    OPTIONS = {
        "eta": Option.real(3.0, above=1),
        "min_budget": Option.real(None, above=0, none_means="the fidelity's minimum"),
        "max_budget": Option.real(None, above=0, none_means="the fidelity's maximum"),
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
        budgets = option_rung_budgets(self)
        self._lower = np.array([o.lower for o in objectives])
        self._span = np.array([o.upper - o.lower for o in objectives])
        self._schedule = AsynchronousSuccessiveHalving(budgets, self._options["eta"], nondominated_order)

    def propose(self, trial_id: int) -> Proposal:
        return Proposal(*self._schedule.next_job(trial_id, self._random_config))

    def observe(self, trial: Trial, result: Result, values: np.ndarray | None, replayed: bool) -> None:
        point = None if values is None else (values - self._lower) / self._span
        budget = trial.fidelity if trial.fidelity is not None or self.fidelity is None else float(self.fidelity.max)
        self._schedule.finished(None if replayed else trial.id, trial.config, budget, point)

    def _random_config(self) -> Config:
        return to_python(self._random_space.sample_configuration())
