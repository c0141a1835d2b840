"""ConfigSpace <-> Optuna: one translation of spaces and trials, shared by the Optuna-backed baselines.

Optuna is define-by-run: a parameter exists in a trial only if it was suggested. A ConfigSpace
condition therefore maps to "suggest a child only when its parents make it active", walking the
space in topological order (the order ConfigSpace keeps its hyperparameters in).

Mapping (each hyperparameter type -> Optuna distribution):

- float (uniform, normal, beta) -> ``FloatDistribution(lower, upper, log)``; normal and beta priors
  are dropped: Optuna samplers have no priors, only bounds.
- integer (uniform, normal, beta) -> ``IntDistribution(lower, upper, log)``, priors dropped likewise.
- ordinal -> ``IntDistribution(0, len(sequence) - 1)`` over the position, so that samplers see the order.
- categorical -> ``CategoricalDistribution(choices)``.
- constant -> not suggested; its value is set whenever it is active.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping

import numpy as np

from baselines.base import Baseline, Proposal
from tasks.base import Config, Fidelity, Objective, Result, Trial, to_python

# Optuna and ConfigSpace are imported where they are used, not here: importing an Optuna baseline's module (to
# list it or check its options) then imports neither; a run imports them when it makes its study.
if TYPE_CHECKING:
    import optuna
    from ConfigSpace import ConfigurationSpace
    from optuna.distributions import BaseDistribution


def to_distributions(space: ConfigurationSpace) -> dict[str, BaseDistribution]:
    """The Optuna distribution of every non-constant hyperparameter (see the module docstring)."""
    from ConfigSpace import CategoricalHyperparameter, Constant, OrdinalHyperparameter
    from ConfigSpace.hyperparameters import FloatHyperparameter, IntegerHyperparameter
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    distributions: dict[str, BaseDistribution] = {}
    for hp in space.values():
        if isinstance(hp, Constant):
            continue
        if isinstance(hp, OrdinalHyperparameter):
            distributions[hp.name] = IntDistribution(0, len(hp.sequence) - 1)
        elif isinstance(hp, CategoricalHyperparameter):
            distributions[hp.name] = CategoricalDistribution(list(hp.choices))
        elif isinstance(hp, IntegerHyperparameter):
            distributions[hp.name] = IntDistribution(int(hp.lower), int(hp.upper), log=bool(hp.log))
        elif isinstance(hp, FloatHyperparameter):
            distributions[hp.name] = FloatDistribution(float(hp.lower), float(hp.upper), log=bool(hp.log))
        else:
            raise ValueError(
                f"hyperparameter {hp.name!r} has type {type(hp).__name__}, which has no Optuna distribution; "
                "expected float, integer, ordinal, categorical or constant"
            )
    return distributions


def is_active(space: ConfigurationSpace, name: str, values: Mapping[str, Any]) -> bool:
    """Whether ``name`` is active given the values of the parameters decided so far."""
    conditions = space.parent_conditions_of[name]
    if not conditions:  # most parameters: no dictionary of the others' values to build
        return True
    from ConfigSpace.types import NotSet

    # a condition reads only its parents' values
    known = {parent.name: values.get(parent.name, NotSet) for parent in space.parents_of[name]}
    return all(condition.satisfied_by_value(known) for condition in conditions)


def to_params(space: ConfigurationSpace, config: Mapping[str, Any]) -> dict[str, Any]:
    """A configuration as Optuna parameters (ordinals become positions; constants are left out)."""
    from ConfigSpace import Constant, OrdinalHyperparameter

    params: dict[str, Any] = {}
    for name, value in config.items():
        hp = space[name]
        if isinstance(hp, Constant):
            continue
        params[name] = list(hp.sequence).index(value) if isinstance(hp, OrdinalHyperparameter) else value
    return params


def _suggest(trial: optuna.Trial, name: str, distribution: BaseDistribution) -> Any:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if isinstance(distribution, CategoricalDistribution):
        return trial.suggest_categorical(name, distribution.choices)
    if isinstance(distribution, IntDistribution):
        return trial.suggest_int(name, distribution.low, distribution.high, log=distribution.log)
    assert isinstance(distribution, FloatDistribution)
    return trial.suggest_float(name, distribution.low, distribution.high, log=distribution.log)


def suggest_config(space: ConfigurationSpace, distributions: dict[str, BaseDistribution],
                   trial: optuna.Trial) -> Config:
    """Suggest the active parameters of ``space`` in ``trial``, parents first, and return the configuration."""
    from ConfigSpace import Constant, OrdinalHyperparameter

    config: Config = {}
    for hp in space.values():
        if not is_active(space, hp.name, config):
            continue
        if isinstance(hp, Constant):
            config[hp.name] = hp.value
            continue
        value = _suggest(trial, hp.name, distributions[hp.name])
        config[hp.name] = hp.sequence[value] if isinstance(hp, OrdinalHyperparameter) else value
    return to_python(config)


class OptunaBaseline(Baseline):
    """A baseline that drives an Optuna sampler through ``study.ask`` and Optuna's tell.

    Subclasses name the sampler's maker in ``SAMPLER`` (its class, or a function that imports it, so that
    importing the baseline's module imports no Optuna); it is called with ``seed`` and every option. A
    failed or NaN evaluation is told as ``TrialState.FAIL`` (the samplers ignore failed trials). A
    replayed trial (resume) is added to the study with ``study.add_trial``, so the sampler learns
    from it exactly as from its own trials. A configuration the space forbids is told as failed and
    replaced by a random valid one, enqueued in the study so that the sampler learns from its result.
    """

    SAMPLER: ClassVar[Callable[..., optuna.samplers.BaseSampler]]

    def __init__(
        self,
        space: ConfigurationSpace,
        objectives: tuple[Objective, ...],
        fidelity: Fidelity | None,
        seed: int,
        **options: Any,
    ) -> None:
        import optuna

        super().__init__(space, objectives, fidelity, seed, **options)
        self._distributions = to_distributions(space)
        optuna.logging.set_verbosity(optuna.logging.WARNING)  # Optuna logs every finished trial at INFO
        self._study = optuna.create_study(directions=["minimize"] * len(self.objectives),
                                          sampler=self.SAMPLER(seed=seed, **self._options))
        self._optuna_trials: dict[int, optuna.Trial] = {}

    def propose(self, trial_id: int) -> Proposal:
        from optuna.study._tell import _tell_with_warning  # why the private function: see observe
        from optuna.trial import TrialState

        optuna_trial = self._study.ask()
        config = suggest_config(self.space, self._distributions, optuna_trial)
        if not self._is_valid(config):
            # Optuna samplers know no forbidden clauses and learn nothing from a failed trial (TPE even
            # favours the unseen values that led there), so asking again would repeat the proposal
            _tell_with_warning(self._study, optuna_trial, state=TrialState.FAIL)
            self._study.enqueue_trial(to_params(self.space, to_python(self._random_space.sample_configuration())))
            optuna_trial = self._study.ask()
            config = suggest_config(self.space, self._distributions, optuna_trial)
        self._optuna_trials[trial_id] = optuna_trial
        return Proposal(config)

    def observe(self, trial: Trial, result: Result, values: np.ndarray | None, replayed: bool) -> None:
        import optuna
        # Study.tell is this function followed by a deep copy of the finished trial, which it returns and we
        # would discard: about 0.2 ms a trial, 13 % of NSGA-II's own time (benchmarks/baseline_quality.py).
        # study.optimize calls it directly too.
        from optuna.study._tell import _tell_with_warning
        from optuna.trial import TrialState

        if replayed:
            params = to_params(self.space, trial.config)
            self._study.add_trial(optuna.trial.create_trial(
                state=TrialState.FAIL if values is None else TrialState.COMPLETE,
                values=None if values is None else values.tolist(),
                params=params,
                distributions={name: self._distributions[name] for name in params},
            ))
        elif values is None:
            _tell_with_warning(self._study, self._optuna_trials.pop(trial.id), state=TrialState.FAIL)
        else:
            _tell_with_warning(self._study, self._optuna_trials.pop(trial.id), values.tolist())

    def _is_valid(self, config: Config) -> bool:
        if not self.space.forbidden_clauses:
            return True
        from ConfigSpace import Configuration

        try:
            Configuration(self.space, values=config).check_valid_configuration()
        except Exception:  # ConfigSpace raises several types for a forbidden value
            return False
        return True
