"""SMAC3 set up as ParEGO (baselines/parego.py), and the faster code paths that give SMAC's and ConfigSpace's answers.

A module of its own so that ``import baselines.parego`` (listing baselines, checking options) imports neither SMAC
nor ConfigSpace, scipy or sklearn: a ParEGO imports this module when it is made.
"""

from __future__ import annotations

import logging
import threading
import types
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from ConfigSpace import CategoricalHyperparameter, Configuration, ConfigurationSpace, OrdinalHyperparameter
from smac import HyperparameterOptimizationFacade, Scenario
from smac.acquisition.maximizer import local_search
from smac.acquisition.maximizer.local_search import LocalSearch
from smac.main.config_selector import ConfigSelector
from smac.model.random_forest import RandomForest
from smac.model.random_forest.random_forest import EPMRandomForest
from smac.multi_objective.parego import ParEGO as SMACParEGO
from smac.runhistory.dataclasses import TrialInfo, TrialValue
from smac.runhistory.enumerations import StatusType

from tasks.base import Config, Objective


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
    either the factor is 0 and it draws five configurations per round, so SMAC's 10,000 random points
    per acquisition cost 2,000 rounds of one call per hyperparameter. One round of ``size`` draws per
    hyperparameter gives configurations from the same distribution (other ones for a seed: the random
    stream is consumed in another order).
    """

    def sample_configuration(self, size: int | None = None) -> Configuration | list[Configuration]:
        if size is None or size <= 1 or self.forbidden_clauses or self.conditional_hyperparameters:
            return super().sample_configuration(size)
        vectors = np.array([hp.sample_vector(size, seed=self.random) for hp in self.values()])
        return [_configuration(self, vector) for vector in vectors.T]


def _configuration(space: ConfigurationSpace, vector: np.ndarray) -> Configuration:
    """``Configuration(space, vector=vector)`` for a float vector of one entry per hyperparameter: the attributes
    ConfigSpace's ``__init__`` sets (tested against it), without its checks of an argument that is known right
    here; they were a quarter of the time of the 10,000 random challengers and the neighbours of SMAC's local
    search (125,000 configurations a run of 100 trials)."""
    config = Configuration.__new__(Configuration)
    config.config_space = space
    config.allow_inactive_with_values = False
    config.origin = None
    config.config_id = None
    config._values = None
    config._vector = vector
    return config


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


#: the ConfigSpace function SMAC's local search calls, with SMAC's arguments (``num_neighbors=8``, ``stdev=0.05``)
_configspace_neighbourhood = local_search.get_one_exchange_neighbourhood


def _table_neighbourhood(configuration: Configuration, seed: int | np.random.RandomState, num_neighbors: int = 4,
                         stdev: float = 0.2) -> Iterator[Configuration]:
    """ConfigSpace 1.2's ``get_one_exchange_neighbourhood``: the same neighbours in the same order, drawing the same
    random numbers, with what it works out per call for every hyperparameter known once per space.

    Written here because no library offers it faster. SMAC's local search makes about 2,600 neighbourhoods in a
    run of 100 trials and takes about ten neighbours from each; ConfigSpace seeds a fresh ``RandomState`` for each
    (most of the time of a neighbourhood, see ``_free_random_states``) and works out every hyperparameter's kind
    and neighbour count anew. This generator covers a table's space (categorical, ordinal and single-valued
    hyperparameters, no conditions, no forbidden clauses); any other space, or an entry that is not a whole
    index, gets ConfigSpace's own generator. Its loop is ConfigSpace's without the cases for conditions, forbidden
    clauses and regenerated neighbours: a categorical (ordinal) hyperparameter gives exactly its other choices
    (its one or two adjacent levels), so its neighbours are drawn once and used up.
    """
    space = configuration.config_space
    nodes = _facts_of(space).table_nodes
    vector = configuration._vector
    # per hyperparameter in ConfigSpace's order: (vector position, neighbourhood, how many neighbours it gives)
    changing: list[tuple[int, Any, int]] = []
    for position, neighbourhood, size, is_ordinal in nodes or ():
        entry = float(vector[position])
        if not (entry.is_integer() and 0 <= entry < size):
            nodes = None
            break
        if is_ordinal:  # ConfigSpace's number of neighbours of an ordinal level: 1 at either end, else 2
            changing.append((position, neighbourhood, 1 if entry in (0, size - 1) else 2))
        else:
            changing.append((position, neighbourhood, size - 1))
    if nodes is None:
        yield from _configspace_neighbourhood.func(configuration, seed, num_neighbors=num_neighbors, stdev=stdev)
        return
    if not isinstance(seed, int):  # ConfigSpace's own random state, drawn from as ConfigSpace does
        yield from _drawn_neighbours(space, vector, changing, seed)
        return
    try:  # a random state no other neighbourhood is drawing from, seeded as ``RandomState(seed)`` would be
        random = _free_random_states.pop()
    except IndexError:
        random = np.random.RandomState()
    random.seed(seed)
    try:
        yield from _drawn_neighbours(space, vector, changing, random)
    finally:  # used up, or dropped by SMAC's local search: another neighbourhood may draw from it
        _free_random_states.append(random)


#: random states that no neighbourhood is drawing from. ``RandomState(seed)`` first seeds its generator from the
#: operating system's entropy through a SeedSequence (hundreds of microseconds, more than the rest of a
#: neighbourhood), then seeds it again from ``seed``; ``RandomState.seed(seed)`` gives the same state. Runs in
#: threads of one process share the list: ``pop`` and ``append`` are atomic.
_free_random_states: list[np.random.RandomState] = []


def _drawn_neighbours(space: ConfigurationSpace, vector: np.ndarray, changing: list[tuple[int, Any, int]],
                      random: np.random.RandomState) -> Iterator[Configuration]:
    """The loop of ConfigSpace's ``get_one_exchange_neighbourhood`` for ``_table_neighbourhood``."""
    n_changing = len(changing)
    n_integers = sum(count for _, _, count in changing)
    integers = random.randint(n_changing, size=n_integers).tolist()
    next_integer = 0
    left = [count for _, _, count in changing]
    drawn: list[list[float] | None] = [None] * n_changing
    n_left = n_changing
    while n_left > 0:
        if next_integer >= n_integers:  # ConfigSpace's random integers ran out: it draws this many more
            n_integers = n_changing * n_changing * 2
            integers = random.randint(n_changing, size=n_integers).tolist()
            next_integer = 0
        chosen = integers[next_integer]
        next_integer += 1
        if left[chosen] == 0:
            continue
        position, neighbourhood, count = changing[chosen]
        neighbours = drawn[chosen]
        if neighbours is None:
            values = neighbourhood(vector[position], n=count, seed=random, std=None)
            random.shuffle(values)
            neighbours = drawn[chosen] = values.tolist()
        neighbour = vector.copy()
        neighbour[position] = neighbours.pop()
        left[chosen] -= 1
        if left[chosen] == 0:
            n_left -= 1
        yield _configuration(space, neighbour)


class _OrderedLocalSearch(LocalSearch):
    """SMAC's local search with its start points in an order that is the same in every process, and ConfigSpace's
    neighbourhoods made by ``_table_neighbourhood``.

    SMAC removes duplicate start points through a ``set`` of configurations, whose order follows
    Python's string hashing, which is randomised per process: the same seed gave other trials in
    another process (a resumed run, a Dask worker). Sorting them by their vectors fixes the order.
    """

    def _get_initial_points(self, *args: Any, **kwargs: Any) -> list[Configuration]:
        points = super()._get_initial_points(*args, **kwargs)
        return sorted(points, key=lambda config: tuple(np.nan_to_num(config.get_array(), nan=-1.0)))

    # SMAC's own ``_search`` (the same code object) with one name of its module read from another dict: the
    # neighbourhood it calls is ``_table_neighbourhood`` with SMAC's arguments. No module or class is patched.
    _search = types.FunctionType(
        LocalSearch._search.__code__,
        {**vars(local_search),
         "get_one_exchange_neighbourhood": partial(_table_neighbourhood, **_configspace_neighbourhood.keywords)},
        "_search", LocalSearch._search.__defaults__, LocalSearch._search.__closure__)


_configspace_equal = Configuration.__eq__
_configspace_hash = Configuration.__hash__
_configspace_getitem = Configuration.__getitem__
_MISSING = object()
#: remembered hashes per space before the memo starts over
_MAX_HASHES = 200_000


class _SpaceFacts:
    """What the fast ``Configuration`` methods and neighbourhoods of one space know: which vector positions hold a
    categorical or ordinal (an index: distinct integer entries are distinct values), memos of ConfigSpace's answers,
    and its hyperparameters' neighbourhoods."""

    def __init__(self, space: ConfigurationSpace) -> None:
        self.indexed = tuple(isinstance(hp, (CategoricalHyperparameter, OrdinalHyperparameter))
                             for hp in space.values())
        #: name -> (position, {vector entry: value}) for the indexed hyperparameters
        self.values: dict[str, tuple[int, dict[float, Any]]] = {
            name: (position, {}) for position, name in enumerate(space.keys()) if self.indexed[position]}
        #: vector bytes -> ConfigSpace's hash (the hash of the configuration's string)
        self.hashes: dict[bytes, int] = {}
        #: for ``_table_neighbourhood``, in ConfigSpace's order, each hyperparameter with more than one value: (vector
        #: position, its neighbourhood, its size, whether ordinal); None: a space it leaves to ConfigSpace
        self.table_nodes: tuple[tuple[int, Any, int, bool], ...] | None = None
        if not space.conditions and not space.forbidden_clauses:
            nodes = [(node.idx, node.hp) for node in space._dag.nodes.values() if node.hp.size != 1]
            if all(isinstance(hp, (CategoricalHyperparameter, OrdinalHyperparameter)) for _, hp in nodes):
                self.table_nodes = tuple((position, hp._neighborhood, int(hp.size),
                                          isinstance(hp, OrdinalHyperparameter)) for position, hp in nodes)


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


def ask(smac: HyperparameterOptimizationFacade) -> TrialInfo:
    """SMAC's next trial."""
    with _fast_configurations():
        return smac.ask()


def tell(smac: HyperparameterOptimizationFacade, info: TrialInfo | None, config: Config, seed: int,
         objectives: tuple[Objective, ...], values: list[float] | None, seconds: float) -> None:
    """Tell SMAC a trial: its own (``info``), or a replayed one (None: a new ``TrialInfo`` under ``seed``); no
    values (a failure) is a crash at every objective's upper bound."""
    if info is None:
        info = TrialInfo(config=Configuration(smac.scenario.configspace, values=config), seed=seed)
    if values is None:
        value = TrialValue(cost=[o.upper for o in objectives], status=StatusType.CRASHED)
    else:
        value = TrialValue(cost=values, time=seconds)
    with _fast_configurations():
        smac.tell(info, value, save=False)
