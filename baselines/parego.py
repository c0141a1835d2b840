"""ParEGO: SMAC3's random-forest Bayesian optimisation on random Chebyshev scalarisations, via ask/tell."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from baselines.base import Baseline, Option, Proposal, register
from tasks.base import Fidelity, Objective, Result, Trial, to_python

if TYPE_CHECKING:  # SMAC, ConfigSpace, scipy and sklearn are imported when a ParEGO is made (baselines/_parego_smac.py)
    from ConfigSpace import ConfigurationSpace
    from smac import HyperparameterOptimizationFacade
    from smac.runhistory.dataclasses import TrialInfo

FORESTS = ("fast", "smac")


def make_smac(space: ConfigurationSpace, objectives: tuple[Objective, ...], seed: int, output_directory: Path,
              **options: Any) -> HyperparameterOptimizationFacade:
    """SMAC's HPO facade set up as this project's ParEGO (``baselines._parego_smac.make_smac``, imported here)."""
    from baselines import _parego_smac

    return _parego_smac.make_smac(space, objectives, seed, output_directory, **options)


@register("parego")
class ParEGO(Baseline):
    """ParEGO in SMAC3: a random-forest surrogate of a Chebyshev scalarisation with fresh random weights.

    Knowles, "ParEGO: a hybrid algorithm with on-line landscape approximation for expensive
    multiobjective optimization problems", IEEE Transactions on Evolutionary Computation 10(1),
    2006; implemented by SMAC3 (Lindauer et al., "SMAC3: A Versatile Bayesian Optimization Package
    for Hyperparameter Optimization", JMLR 23, 2022). A Sobol initial design comes first; then each
    model fit draws new weights, scalarises the objectives (normalised by the values seen so far)
    and maximises expected improvement with SMAC's local-and-random search.

    Every trial runs at the task's maximum fidelity. Several asks may be pending: SMAC hands out
    the next configurations of its last acquisition ranking (it refits after 8 new ones). A failed
    or NaN evaluation is told as CRASHED at the objectives' upper bounds (the task's worst values).
    A replayed trial (resume) is told with a new ``TrialInfo`` under SMAC's own seed: SMAC adds it to
    its run history, models it like its own and does not evaluate it again.

    Args (options):
        n_initial_design: Sobol configurations before the model is used (default 20; SMAC's own
            default is 10 per hyperparameter, capped at a quarter of the trials, which the
            ask/tell baseline cannot know in advance).
        rho: the weight of the sum term in the augmented Chebyshev scalarisation (default 0.05).
        forest: "fast" (default) is SMAC's forest with ``n_jobs=1`` and ``max_leaf_nodes=None``;
            "smac" keeps SMAC's defaults (``n_jobs=-1``, ``max_leaf_nodes=2**20``), several times
            slower on few cores (see benchmarks/parego_forest.py and docs/baselines.md).
    """

    OPTIONS = {
        "n_initial_design": Option.integer(20, at_least=1),
        "rho": Option.real(0.05, at_least=0),
        "forest": Option.choice("fast", FORESTS),
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
        from baselines import _parego_smac  # here: SMAC's imports take seconds that listing baselines never needs

        # SMAC wants an output folder even though nothing is saved (tell(save=False)); it lives and
        # dies with this object
        self._output = tempfile.TemporaryDirectory(prefix="parego-")
        self._smac = _parego_smac.make_smac(space, self.objectives, seed, Path(self._output.name), **self._options)
        self._infos: dict[int, TrialInfo] = {}
        # The seed SMAC files its trials under. Its intensifier takes it from the run history when it
        # starts (the first ask), else draws its own. A replayed trial under any other seed would be
        # evaluated again, and while that trial is pending the intensifier loops forever in ask.
        self._trial_seed = seed

    def propose(self, trial_id: int) -> Proposal:
        from baselines._parego_smac import ask

        info = ask(self._smac)
        self._infos[trial_id] = info
        self._trial_seed = info.seed
        return Proposal(to_python(info.config))

    def observe(self, trial: Trial, result: Result, values: np.ndarray | None, replayed: bool) -> None:
        from baselines._parego_smac import tell

        tell(self._smac, None if replayed else self._infos.pop(trial.id), trial.config, self._trial_seed,
             self.objectives, None if values is None else values.tolist(), result.cost_s)
