"""ParEGO: SMAC3's random-forest Bayesian optimisation on random Chebyshev scalarisations, via ask/tell."""

from __future__ import annotations

import logging
import tempfile
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from ConfigSpace import CategoricalHyperparameter, Configuration, ConfigurationSpace, OrdinalHyperparameter
from smac import HyperparameterOptimizationFacade, Scenario
from smac.acquisition.maximizer.local_search import LocalSearch
from smac.main.config_selector import ConfigSelector
from smac.model.random_forest import RandomForest
from smac.model.random_forest.random_forest import EPMRandomForest
from smac.multi_objective.parego import ParEGO as SMACParEGO
from smac.runhistory.dataclasses import TrialInfo, TrialValue
from smac.runhistory.enumerations import StatusType

from baselines.base import Baseline, Option, Proposal, register
from tasks.base import Fidelity, Objective, Result, Trial, to_python

FORESTS = ("fast", "smac")


def make_smac(
    space: ConfigurationSpace,
    objectives: tuple[Objective, ...],
    seed: int,
    output_directory: Path,
    *,
    n_initial_design: int,
    rho: float,
    forest: str,
    target_function: Any = None,
    n_trials: int = 2**31 - 1,
) -> HyperparameterOptimizationFacade:
    """SMAC's HPO facade set up as this project's ParEGO; also used for the plain-SMAC reference run.

    Every configuration is evaluated once (``deterministic=True``, ``max_config_calls=1``): the
    tasks take their own evaluation seed, so SMAC's repeated-evaluation intensification has nothing
    to average. SMAC works on its own copy of ``space`` (it seeds the space it is given), whose random
    configurations are drawn in one batch (``_BatchSampledSpace``).
    """
    space = ConfigurationSpace.from_serialized_dict(space.to_serialized_dict())
    space.__class__ = _BatchSampledSpace  # the same copy, its random configurations drawn at once
    scenario = Scenario(space, objectives=[o.name for o in objectives], deterministic=True, seed=seed,
                        n_trials=n_trials, output_directory=output_directory,
                        crash_cost=[o.upper for o in objectives])
    model = None  # None: the facade's own forest (SMAC's defaults)
    if forest == "fast":
        # The facade's forest with two settings changed: n_jobs=-1 spawns workers for each tiny fit
        # and prediction, and max_leaf_nodes=2**20 makes sklearn grow its trees best-first, which is
        # slower than depth-first; with no limit reached both grow full trees, only the random draws differ.
        model = _TreeLoopForest(scenario.configspace, log_y=True, n_trees=10, bootstrapping=True, ratio_features=1.0,
                             min_samples_split=2, min_samples_leaf=1, max_depth=2**20, seed=seed,
                             n_jobs=1, max_leaf_nodes=None)
    maximizer = HyperparameterOptimizationFacade.get_acquisition_maximizer(scenario)
    maximizer._local_search.__class__ = _OrderedLocalSearch  # the same object, its start points ordered
    selector = HyperparameterOptimizationFacade.get_config_selector(scenario)
    selector.__class__ = _BatchBestSelector  # the same object, its incumbent estimate predicted at once
    return HyperparameterOptimizationFacade(
        scenario,
        target_function if target_function is not None else _never_called,
        model=model,
        acquisition_maximizer=maximizer,
        config_selector=selector,
        initial_design=HyperparameterOptimizationFacade.get_initial_design(scenario, n_configs=n_initial_design),
        intensifier=HyperparameterOptimizationFacade.get_intensifier(scenario, max_config_calls=1),
        multi_objective_algorithm=SMACParEGO(scenario, rho=rho),
        overwrite=True,
        logging_level=logging.ERROR,
    )


class _BatchSampledSpace(ConfigurationSpace):
    """A configuration space that draws many random configurations in one batch where nothing can reject one.

    ConfigSpace 1.2 oversamples by a factor from the space's conditions and forbidden clauses; without
    either the factor is 0 and it draws five configurations per round, so SMAC's 5,000 random points
    per acquisition cost 1,000 rounds of one call per hyperparameter. One round of ``size`` draws per
    hyperparameter gives configurations from the same distribution (other ones for a seed: the random
    stream is consumed in another order).
    """

    def sample_configuration(self, size: int | None = None) -> Configuration | list[Configuration]:
        if size is None or size <= 1 or self.forbidden_clauses or self.conditional_hyperparameters:
            return super().sample_configuration(size)
        vectors = np.array([hp.sample_vector(size, seed=self.random) for hp in self.values()])
        return [Configuration(self, vector=vector) for vector in vectors.T]


class _TreeLoopEnsemble(EPMRandomForest):
    """SMAC's fitted trees, predicting one tree after another in a plain loop.

    SMAC predicts through joblib's ``Parallel`` and sklearn's input validation even with ``n_jobs=1``;
    with ten small trees that overhead is most of each prediction, and the acquisition's local search and
    the incumbent estimate predict about a thousand times per refit. Each tree writes the same column
    as in SMAC's ``estimator_predict``, so the predictions are bit for bit the same.
    """

    def all_trees_pred(self, X: np.ndarray) -> np.ndarray:
        # what sklearn's validation hands the trees: float32 rows (SMAC has imputed inactive values)
        X = np.ascontiguousarray(np.atleast_2d(X), dtype=np.float32)
        preds = np.empty((len(X), self.n_estimators))
        for tree_index, tree in enumerate(self.estimators_):
            preds[:, tree_index] = tree.predict(X, check_input=False)
        return preds


class _TreeLoopForest(RandomForest):
    """SMAC's random forest model with its ensemble predicting tree by tree (``_TreeLoopEnsemble``)."""

    def _train(self, X: np.ndarray, y: np.ndarray) -> _TreeLoopForest:
        # SMAC's own _train, with the ensemble class swapped
        self._rf = _TreeLoopEnsemble(**self._rf_opts)
        self._rf.fit(self._impute_inactive(X), y.flatten())
        return self


class _BatchBestSelector(ConfigSelector):
    """SMAC's configuration selector with the model's best observed configuration predicted in one call.

    SMAC predicts the observed configurations one at a time (one forest prediction per configuration at
    every refit) and sorts them; one prediction of all rows gives the same means (each tree predicts
    each row on its own), and ``argmin`` takes the first of equal means as SMAC's stable sort does.
    """

    def _get_x_best(self, X: np.ndarray) -> tuple[np.ndarray, float]:
        if not self._predict_x_best or len(X) == 0:
            return super()._get_x_best(X)
        means = self._model.predict_marginalized(X)[0][:, 0]
        if np.isnan(means).any():  # sorting NaN keys has its own order: SMAC's code decides
            return super()._get_x_best(X)
        best = int(np.argmin(means))
        return X[best], means[best]


class _OrderedLocalSearch(LocalSearch):
    """SMAC's local search with its start points in an order that is the same in every process.

    SMAC removes duplicate start points through a ``set`` of configurations, whose order follows
    Python's string hashing, which is randomised per process: the same seed gave other trials in
    another process (a resumed run, a Dask worker). Sorting them by their vectors fixes the order.
    """

    def _get_initial_points(self, *args: Any, **kwargs: Any) -> list[Configuration]:
        points = super()._get_initial_points(*args, **kwargs)
        return sorted(points, key=lambda config: tuple(np.nan_to_num(config.get_array(), nan=-1.0)))


_configspace_equal = Configuration.__eq__
_configspace_hash = Configuration.__hash__
_configspace_getitem = Configuration.__getitem__
_MISSING = object()
#: remembered hashes per space before the memo starts over
_MAX_HASHES = 200_000


class _SpaceFacts:
    """What the fast ``Configuration`` methods of one space know: which vector positions hold a categorical
    or ordinal (an index: distinct integer entries are distinct values) and memos of ConfigSpace's answers."""

    def __init__(self, space: ConfigurationSpace) -> None:
        self.indexed = tuple(isinstance(hp, (CategoricalHyperparameter, OrdinalHyperparameter))
                             for hp in space.values())
        #: name -> (position, {vector entry: value}) for the indexed hyperparameters
        self.values: dict[str, tuple[int, dict[float, Any]]] = {
            name: (position, {}) for position, name in enumerate(space.keys()) if self.indexed[position]}
        #: vector bytes -> ConfigSpace's hash (the hash of the configuration's string)
        self.hashes: dict[bytes, int] = {}


#: id(space) -> (a weak reference to the space, its facts); an entry leaves with its space
_facts: dict[int, tuple[weakref.ref[ConfigurationSpace], _SpaceFacts]] = {}


def _facts_of(space: ConfigurationSpace) -> _SpaceFacts:
    known = _facts.get(id(space))
    if known is None or known[0]() is not space:
        known = _facts[id(space)] = (weakref.ref(space), _SpaceFacts(space))
        weakref.finalize(space, _facts.pop, id(space), None)
    return known[1]


def _vector_equal(self: Configuration, other: Any) -> Any:
    """``Configuration.__eq__`` (equal value dicts, equal spaces) answered from the vectors where they decide it.

    On one space: the same inactive (NaN) positions and equal entries give equal values; an inactive
    position that is active in the other gives other keys; two distinct integer entries of a categorical
    or ordinal are two distinct values (ConfigSpace rounds the entry to an index into distinct choices).
    Any other case (a differing float or integer hyperparameter's entry, which can round to the same
    value; configurations of other spaces) is ConfigSpace's own comparison.
    """
    if not isinstance(other, self.__class__) or self.config_space is not other.config_space:
        return _configspace_equal(self, other)
    undecided = False
    for x, y, indexed in zip(self._vector.tolist(), other._vector.tolist(), _facts_of(self.config_space).indexed):
        if x == y:
            continue
        x_inactive, y_inactive = x != x, y != y  # NaN
        if x_inactive and y_inactive:
            continue
        if x_inactive or y_inactive or (indexed and x.is_integer() and y.is_integer()):
            return False
        undecided = True
    return _configspace_equal(self, other) if undecided else True


def _memo_hash(self: Configuration) -> int:
    """``Configuration.__hash__`` (the hash of its string, built from its values) remembered per vector: SMAC's
    run history looks configurations up in dicts thousands of times a run, ConfigSpace builds the string each time."""
    hashes = _facts_of(self.config_space).hashes
    key = self._vector.tobytes()
    found = hashes.get(key)
    if found is None:
        if len(hashes) >= _MAX_HASHES:  # a long run's neighbours: start over rather than grow without end
            hashes.clear()
        found = hashes[key] = _configspace_hash(self)
    return found


def _memo_getitem(self: Configuration, key: str) -> Any:
    """``Configuration.__getitem__`` with the value of a categorical or ordinal entry remembered per space:
    SMAC's local search reads one value of every neighbour it makes, and ConfigSpace converts it anew each time."""
    if self._values is not None and key in self._values:
        return self._values[key]
    known = _facts_of(self.config_space).values.get(key) if isinstance(key, str) else None
    if known is None:
        return _configspace_getitem(self, key)
    entry = float(self._vector[known[0]])
    value = known[1].get(entry, _MISSING)
    if value is _MISSING:  # first time, or inactive (a NaN key is never found): ConfigSpace answers or raises
        value = _configspace_getitem(self, key)
        known[1][entry] = value
        return value
    if self._values is None:
        self._values = {}
    self._values[key] = value
    return value


_equality_lock = threading.Lock()
_equality_users = 0


@contextmanager
def _fast_configurations() -> Iterator[None]:
    """``Configuration``'s ``__eq__``, ``__hash__`` and ``__getitem__`` are the fast versions above while any
    ParEGO asks or tells: the same answers, a third less of ParEGO's time (see docs/baselines.md). SMAC creates
    its configurations inside ConfigSpace, so no subclass can reach them. Counted under a lock, so runs in
    threads of one process put ConfigSpace's own methods back only after the last one."""
    global _equality_users
    with _equality_lock:
        _equality_users += 1
        Configuration.__eq__ = _vector_equal  # type: ignore[method-assign]
        Configuration.__hash__ = _memo_hash  # type: ignore[method-assign]
        Configuration.__getitem__ = _memo_getitem  # type: ignore[method-assign]
    try:
        yield
    finally:
        with _equality_lock:
            _equality_users -= 1
            if _equality_users == 0:
                Configuration.__eq__ = _configspace_equal  # type: ignore[method-assign]
                Configuration.__hash__ = _configspace_hash  # type: ignore[method-assign]
                Configuration.__getitem__ = _configspace_getitem  # type: ignore[method-assign]


def _never_called(config: Configuration, seed: int = 0) -> float:
    raise RuntimeError("ParEGO is driven through ask/tell; SMAC must not call the target function")


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
        # SMAC wants an output folder even though nothing is saved (tell(save=False)); it lives and
        # dies with this object
        self._output = tempfile.TemporaryDirectory(prefix="parego-")
        self._smac = make_smac(space, self.objectives, seed, Path(self._output.name), **self._options)
        self._infos: dict[int, TrialInfo] = {}
        # The seed SMAC files its trials under. Its intensifier takes it from the run history when it
        # starts (the first ask), else draws its own. A replayed trial under any other seed would be
        # evaluated again, and while that trial is pending the intensifier loops forever in ask.
        self._trial_seed = seed

    def propose(self, trial_id: int) -> Proposal:
        with _fast_configurations():
            info = self._smac.ask()
        self._infos[trial_id] = info
        self._trial_seed = info.seed
        return Proposal(to_python(info.config))

    def observe(self, trial: Trial, result: Result, values: np.ndarray | None, replayed: bool) -> None:
        if replayed:
            info = TrialInfo(config=Configuration(self._smac.scenario.configspace, values=trial.config),
                             seed=self._trial_seed)
        else:
            info = self._infos.pop(trial.id)
        if values is None:
            value = TrialValue(cost=[o.upper for o in self.objectives], status=StatusType.CRASHED)
        else:
            value = TrialValue(cost=values.tolist(), time=result.cost_s)
        with _fast_configurations():
            self._smac.tell(info, value, save=False)
