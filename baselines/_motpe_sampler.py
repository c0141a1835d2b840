"""MOTPE's sampler: Optuna's ``TPESampler`` with the work it repeats for every parameter of a trial done once.

With independent sampling (MOTPE's default) Optuna's ``TPESampler._sample`` runs once per parameter of a
trial, and each run (1) re-reads the study's trials and re-splits them into below/above (a non-dominated
sort with hypervolume tie-breaking, plus a constraint lookup per trial), and (2) converts every observed
trial's value of the parameter to Optuna's internal representation. On FCNet's 9 parameters at 100
evaluations these were about a third of MOTPE's profiled time (cProfile). ``MOTPESampler`` keeps both
results instead of recomputing them; every number it hands the Parzen estimators is the one Optuna
computes, so a seed gives the same trials as Optuna's unmodified sampler
(``tests/baselines/test_motpe_sampler.py`` runs both side by side; ``benchmarks/motpe_speed.py`` times them).
Left as Optuna does it: the constraint lookup of every trial in the split (now once per trial, a small part
of what is left, and skipping it would mean copying ``_split_trials`` too), and the Parzen estimators' sampling and
densities (most of what is left: numerical code whose every float must stay Optuna's).

Optuna private API this relies on (``tests/baselines/test_motpe_sampler.py`` pins the source of what it
copies, overrides or memoizes and the signatures it overrides, so an Optuna upgrade that changes them fails
loudly there):

- ``TPESampler._sample(study, trial, search_space)``: overridden, a copy of Optuna 5.0's body with the
  split memoized;
- ``TPESampler._get_internal_repr(trials, search_space, study)``: overridden, memoized for finished trials;
- ``TPESampler._parzen_estimator_parameters`` (a ``_ParzenEstimatorParameters`` named tuple): its ``weights``
  replaced by a memo of Optuna's ``default_weights`` when that is the function it holds;
- ``optuna.samplers._tpe.sampler._split_trials``, ``default_gamma``, ``default_gamma_multiobjective``,
  ``TPESampler._build_parzen_estimator``, ``_compute_acquisition_func``, ``_compare``, ``_get_params``,
  ``_rng``, ``_gamma``, ``_constant_liar``, ``_n_ei_candidates`` and ``Study._get_trials``: called as
  Optuna's own ``_sample`` calls them.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np
from optuna.samplers import TPESampler
from optuna.samplers._tpe.sampler import (
    _split_trials,
    default_gamma,
    default_gamma_multiobjective,
    default_weights,
)
from optuna.trial import FrozenTrial, TrialState

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution
    from optuna.storages import BaseStorage
    from optuna.study import Study

#: which trials a split saw: (number, state) of each, in the study's order
_SplitKey = tuple[tuple[int, TrialState], ...]


class MOTPESampler(TPESampler):
    """Optuna's ``TPESampler`` (same arguments, same trials for a seed) that splits the trials once per trial.

    Why a subclass and not Optuna's sampler as is: its cost per trial was a quarter of the suite's default job,
    and a third of that cost was the same split and conversions recomputed for each of a trial's parameters.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # memo: the Parzen estimator of the "above" trials calls Optuna's default_weights(n) for every parameter
        # of a trial, with the same n; it is a pure function of n, and the estimator copies what it returns
        # (np.array(...)[:n] in _ParzenEstimator._call_weights_func), so a cached array is never changed.
        # A weights function passed by the caller is left as given: it need not be pure. A few sizes are kept
        # (the parameters of a conditional space have different counts), not all: n arrays of up to n floats.
        if self._parzen_estimator_parameters.weights is default_weights:
            self._parzen_estimator_parameters = self._parzen_estimator_parameters._replace(
                weights=functools.lru_cache(maxsize=8)(default_weights))
        # The split of the latest trials, as trial numbers. It is a function of the study's directions
        # (fixed), n_below (a function of the trials' states), each trial's state, and each finished
        # trial's values, constraints and intermediate values, which Optuna's storage never changes once
        # the trial has finished; a running trial goes "above" on its state alone. So the same (number,
        # state) of every trial gives the same split.
        self._split_key: _SplitKey | None = None
        self._split_numbers: tuple[list[int], list[int]] = ([], [])
        # (parameter name, distribution) -> {finished trial's number: its internal value, or None when the
        # trial lacks the parameter}: a finished trial's params never change, and to_internal_repr is a
        # pure function of the distribution and the value.
        self._internal: dict[tuple[str, BaseDistribution], dict[int, float | None]] = {}
        # Both memos hold trial numbers of one study: a sampler handed a second study starts afresh.
        self._study_of_memos: tuple[BaseStorage, int] | None = None

    def _forget_other_studies(self, study: Study) -> None:
        if self._study_of_memos != (study._storage, study._study_id):
            self._study_of_memos = (study._storage, study._study_id)
            self._split_key = None
            self._internal = {}

    def _sample(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        # Optuna 5.0's TPESampler._sample, line for line, except where marked "memo".
        self._forget_other_studies(study)  # memo
        if self._constant_liar:
            states = [TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING]
        else:
            states = [TrialState.COMPLETE, TrialState.PRUNED]
        use_cache = not self._constant_liar
        trials = study._get_trials(deepcopy=False, states=states, use_cache=use_cache)

        if self._constant_liar:
            trials = [t for t in trials if trial.number != t.number]

        if self._gamma is None:
            if len(study.directions) <= 1:
                self._gamma = default_gamma
            else:
                self._gamma = default_gamma_multiobjective

        below_trials, above_trials = self._split(study, trials)  # memo

        mpe_below = self._build_parzen_estimator(study, search_space, below_trials, handle_below=True)
        mpe_above = self._build_parzen_estimator(study, search_space, above_trials, handle_below=False)

        samples_below = mpe_below.sample(self._rng.rng, self._n_ei_candidates)
        acq_func_vals = self._compute_acquisition_func(samples_below, mpe_below, mpe_above)
        ret = TPESampler._compare(samples_below, acq_func_vals)

        for param_name, dist in search_space.items():
            ret[param_name] = dist.to_external_repr(ret[param_name])

        return ret

    def _split(self, study: Study, trials: list[FrozenTrial]) -> tuple[list[FrozenTrial], list[FrozenTrial]]:
        """Optuna's ``_split_trials`` of ``trials``, computed once for the same trials in the same states."""
        key = tuple((t.number, t.state) for t in trials)
        if key != self._split_key:
            assert self._gamma is not None
            n = sum(t.state != TrialState.RUNNING for t in trials)  # Optuna ignores running trials here
            below, above = _split_trials(study, trials, self._gamma(n))
            self._split_key = key
            self._split_numbers = ([t.number for t in below], [t.number for t in above])
        # Return the current trial objects, not the ones split: Optuna's in-memory storage replaces a running
        # trial's object when a parameter is added to it, and the Parzen estimators read the params.
        by_number = {t.number: t for t in trials}
        below_numbers, above_numbers = self._split_numbers
        return [by_number[n] for n in below_numbers], [by_number[n] for n in above_numbers]

    def _get_internal_repr(
        self, trials: list[FrozenTrial], search_space: dict[str, BaseDistribution], study: Study
    ) -> dict[str, np.ndarray]:
        if len(search_space) != 1:  # multivariate TPE: Optuna's own conversion (it reads relative params)
            return super()._get_internal_repr(trials, search_space, study)
        # One parameter (independent sampling): Optuna keeps a trial's value if the trial has the parameter.
        ((name, distribution),) = search_space.items()
        known = self._internal.setdefault((name, distribution), {})
        values: list[float] = []
        for trial in trials:
            if trial.number in known:
                value = known[trial.number]
            else:
                params = self._get_params(trial, study)
                value = distribution.to_internal_repr(params[name]) if name in params else None
                if trial.state.is_finished():
                    known[trial.number] = value
            if value is not None:
                values.append(value)
        return {name: np.asarray(values)}
