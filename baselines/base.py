"""The ask/tell contract every optimiser implements, its declared options, and the registry that names them."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Literal, Mapping, NamedTuple, Sequence, TypeVar

import numpy as np

from tasks.base import Config, Fidelity, Objective, Result, Trial
from tasks.registry import Registry

if TYPE_CHECKING:  # imported where a space is copied: checking options or listing baselines needs no ConfigSpace
    from ConfigSpace import ConfigurationSpace


class OptionError(ValueError, TypeError):
    """A baseline option that is unknown or has a value its baseline does not allow.

    Both a ValueError (a bad value) and a TypeError (what Python raises for an unexpected keyword
    argument), so that callers written for either catch it.
    """


@dataclass(frozen=True)
class Option:
    """One declared option of a baseline: its default and the values it allows.

    Make one with ``Option.integer``, ``Option.real``, ``Option.flag`` or ``Option.choice``.
    ``none_means`` allows None and says what None stands for (a default that depends on the task).
    """

    default: Any
    kind: Literal["integer", "real", "flag", "choice"]
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    none_means: str | None = None

    @classmethod
    def integer(cls, default: int | None, *, at_least: float = -math.inf, at_most: float = math.inf,
                none_means: str | None = None) -> Option:
        return cls(default, "integer", low=at_least, high=at_most, none_means=none_means)

    @classmethod
    def real(cls, default: float | None, *, at_least: float | None = None, at_most: float | None = None,
             above: float | None = None, below: float | None = None, none_means: str | None = None) -> Option:
        """A number in a range with closed (``at_least``, ``at_most``) or open (``above``, ``below``) ends."""
        low, low_open = (above, True) if above is not None else (-math.inf if at_least is None else at_least, False)
        high, high_open = (below, True) if below is not None else (math.inf if at_most is None else at_most, False)
        return cls(default, "real", low=low, high=high, low_open=low_open, high_open=high_open,
                   none_means=none_means)

    @classmethod
    def flag(cls, default: bool) -> Option:
        return cls(default, "flag")

    @classmethod
    def choice(cls, default: str, choices: tuple[str, ...]) -> Option:
        return cls(default, "choice", choices=choices)

    def allowed(self) -> str:
        """The values this option takes, in words (``a number in (0, 1]``)."""
        if self.kind == "flag":
            words = "true or false"
        elif self.kind == "choice":
            words = "one of " + ", ".join(self.choices)
        else:
            words = "an integer" if self.kind == "integer" else "a number"
            if math.isfinite(self.low) and math.isfinite(self.high):
                words += (f" in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}"
                          f"{')' if self.high_open else ']'}")
            elif math.isfinite(self.low):
                words += f" {'>' if self.low_open else '>='} {self.low:g}"
            elif math.isfinite(self.high):
                words += f" {'<' if self.high_open else '<='} {self.high:g}"
        return words if self.none_means is None else f"{words}, or null ({self.none_means})"

    def check(self, value: Any) -> Any:
        """``value`` as stored (a real becomes a float); ValueError if this option does not allow it."""
        if value is None and self.none_means is not None:
            return None
        if self.kind == "flag":
            if isinstance(value, bool):
                return value
        elif self.kind == "choice":
            if value in self.choices:
                return value
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            # an integer option takes no 2.0: a float there is more likely a mistake than a count
            if self.kind == "real" or isinstance(value, int):
                inside = ((value > self.low if self.low_open else value >= self.low)
                          and (value < self.high if self.high_open else value <= self.high))
                if inside:  # NaN is never inside
                    return float(value) if self.kind == "real" else value
        raise ValueError(self.allowed())


def product_levels(space: ConfigurationSpace) -> dict[str, list[Any]] | None:
    """The levels of each parameter, by name, when ``space`` is a plain product of finite levels (every table's
    space: ordinal and uniform categorical parameters, no condition, no forbidden clause); else None."""
    from ConfigSpace import CategoricalHyperparameter, OrdinalHyperparameter

    if space.conditions or space.forbidden_clauses:
        return None
    levels: dict[str, list[Any]] = {}
    for hp in space.values():
        if isinstance(hp, OrdinalHyperparameter):
            values = hp.sequence
        elif isinstance(hp, CategoricalHyperparameter) and len(set(hp.weights or (1,))) == 1:
            values = hp.choices
        else:
            return None
        levels[hp.name] = [plain(v) for v in values]
    return dict(sorted(levels.items()))


def plain(value: Any) -> Any:
    """A level as a plain Python value (ConfigSpace hands out numpy scalars)."""
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class LazySpace:
    """A task's space, built on first use, and its levels where the task states them (``Task.levels``).

    What ``suite.lifecycle.make_baseline`` hands a baseline that declares ``lazy_space``: building a table's
    ConfigurationSpace imports ConfigSpace and with it scipy.stats (about a second), which random search over
    a table's levels never needs.
    """

    make: Callable[[], ConfigurationSpace]
    levels: Mapping[str, Sequence[Any]] | None = None


class Proposal(NamedTuple):
    """What ``Baseline.propose`` returns: a configuration and its fidelity (None: the task's maximum)."""

    config: Config
    fidelity: float | None = None


class Baseline(ABC):
    """A multi-objective optimiser behind ask/tell.

    The optimiser never calls the objective: the run loop asks for a trial, evaluates it somewhere
    (a table, a GPU worker) and tells the result. Several asks may be pending at once (asynchronous
    workers), results may come back in any order, and a result may have ``status != "ok"`` (a
    failed evaluation, with no objective values), which a baseline must survive.

    A baseline knows only the space, the objectives (names, all minimised, with bounds) and the
    fidelity: never a task's parameter names.

    **Who does what.** As in Optuna, where the study numbers trials and a sampler only proposes values
    (``sample_relative``) and learns from finished trials (``after_trial``), the bookkeeping belongs to
    this class and the algorithm to two hooks. The public ``ask`` and ``tell`` number the trials and
    call them; a subclass implements

    - ``propose(trial_id) -> Proposal``: the next configuration (and fidelity) to evaluate;
    - ``observe(trial, result, values, replayed)``: learn from a finished trial. ``values`` are the
      objectives in ``self.objectives`` order, or None for a failed or NaN evaluation. ``replayed``
      is True for a trial this instance never handed out: that is how a partial run is resumed (the
      run loop replays its recorded rows into a fresh baseline).

    There is no study object between the run loop and a baseline (a baseline is also driven directly,
    in tests and notebooks), so ``ask``/``tell`` themselves play the study's part: ``tell`` of a trial
    with an id this instance did not hand out moves the next id past it, so ids stay unique after a
    resume whatever a subclass does. Overriding ``ask`` or ``tell`` is refused when the class is
    defined, so no subclass can skip that.

    **Options** are declared data: ``OPTIONS`` maps each name to an ``Option`` (default and allowed
    values). ``check_options`` validates a mapping before any run starts, the constructor does the
    same, and the checked values are ``self._options`` (also ``options()``, written into each run's
    metadata). An unknown option or a value outside its range is an ``OptionError`` naming the
    baseline, the option, the value given and what is allowed.

    **The space** is ``self.space``, a ConfigurationSpace. A baseline that reads it only there (and through
    ``self.levels``), never through its constructor's ``space`` argument, may declare ``lazy_space = True``:
    ``make_baseline`` then hands it a ``LazySpace``, built on first access of ``self.space``, so a run that
    never touches it never imports ConfigSpace. A subclass that defines ``__init__`` is handed a real space
    again unless it declares ``lazy_space`` itself.

    Args:
        space: the configuration space, never changed (or, with ``lazy_space``, a ``LazySpace``); draw random
            configurations from ``self._random_space``, a private copy seeded with ``seed``.
        objectives: the objectives, all minimised.
        fidelity: the task's fidelity, or None. Baselines without multi-fidelity logic leave the
            proposal's fidelity as None, which means the task's maximum.
        seed: the only source of randomness (``self._rng``, ``self._random_space``, and whatever the
            subclass seeds with it); the same seed gives the same trials on a tabular task.
        known: computes, from a configuration alone, the objectives the task knows without training
            (``Task.known``; a parameter count), or None. A baseline may use it to model only the others;
            every baseline must work without it.
        context: the task's generic context vector (``Task.context``; a device's hardware embedding), or
            None. Baselines that transfer across settings read it; every baseline must work without it.
        options: the algorithm's options, as declared in ``OPTIONS``.
    """

    OPTIONS: ClassVar[Mapping[str, Option]] = {}
    registered_name: ClassVar[str | None] = None  # set by ``register``; error messages use it
    #: True for a baseline that costs about a second a trial or more (a GP refitted at each ask): the default
    #: job leaves it out, and its conformance and resume tests run with ``make test-heavy`` (``pytest -m heavy``)
    #: instead of in the default test run, which must stay within 20 minutes on 2 cores
    heavy: ClassVar[bool] = False
    #: True for a baseline that may be handed a ``LazySpace`` (see the class docstring)
    lazy_space: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for method in ("ask", "tell"):
            if method in vars(cls):
                raise TypeError(f"{cls.__name__} overrides Baseline.{method}, which keeps the trial ids; "
                                "implement propose() and observe() instead")
        if "__init__" in vars(cls) and "lazy_space" not in vars(cls):
            cls.lazy_space = False  # its own __init__ may read the space argument, which must then be real
        for name, option in cls.OPTIONS.items():
            try:
                option.check(option.default)
            except ValueError as error:
                raise TypeError(f"{cls.__name__}: the default {option.default!r} of option {name} "
                                f"is not {error}") from None

    def __init__(
        self,
        space: ConfigurationSpace | LazySpace,
        objectives: tuple[Objective, ...],
        fidelity: Fidelity | None,
        seed: int,
        *,
        known: Callable[[Config], Mapping[str, float]] | None = None,
        context: np.ndarray | tuple[float, ...] | None = None,
        **options: Any,
    ) -> None:
        self._options = self.check_options(options)
        self.__space = space
        self.__given_levels = space.levels if isinstance(space, LazySpace) else None
        self.objectives = tuple(objectives)
        self.fidelity = fidelity
        self.seed = seed
        self.known = known
        self.context = None if context is None else np.asarray(context, dtype=float)
        self._rng = np.random.default_rng(seed)
        # double underscores: a subclass's own ``_pending`` or ``_next_id`` cannot clobber the bookkeeping
        self.__next_id = 0
        self.__pending: set[int] = set()  # ids handed out and not yet told

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        """Every declared option, given or default, checked; OptionError for an unknown or bad one."""
        name = cls._name()
        unknown = sorted(set(options) - set(cls.OPTIONS))
        if unknown:
            accepted = ", ".join(f"{o} (default {opt.default!r})" for o, opt in cls.OPTIONS.items())
            raise OptionError(f"baseline {name} has no option(s) {', '.join(unknown)}; "
                              f"its options: {accepted or 'none'}")
        checked = {}
        for option, declared in cls.OPTIONS.items():
            value = options.get(option, declared.default)
            try:
                checked[option] = declared.check(value)
            except ValueError as error:
                raise OptionError(f"baseline {name}: option {option} must be {error}, got {value!r}") from None
        return checked

    def option_error(self, message: str) -> OptionError:
        """An OptionError for a check that needs the task (``min_budget`` against its fidelity)."""
        return OptionError(f"baseline {self._name()}: {message}")

    @classmethod
    def _name(cls) -> str:
        # vars(): a subclass of a registered baseline is not registered under its parent's name
        return vars(cls).get("registered_name") or cls.__name__

    def options(self) -> dict[str, Any]:
        """The algorithm options, as written into a run's metadata (JSON values only)."""
        return dict(self._options)

    def ask(self) -> Trial:
        """The next trial to evaluate, with a fresh id."""
        trial_id = self.__next_id
        config, fidelity = self.propose(trial_id)
        self.__next_id += 1
        self.__pending.add(trial_id)
        return Trial(id=trial_id, config=config, fidelity=fidelity)

    def tell(self, trial: Trial, result: Result) -> None:
        """The result of a trial, asked by this instance or replayed from a recorded run."""
        replayed = trial.id not in self.__pending
        if replayed:
            self.__next_id = max(self.__next_id, trial.id + 1)
        else:
            self.__pending.remove(trial.id)
        self.observe(trial, result, self.objective_vector(result), replayed)

    @abstractmethod
    def propose(self, trial_id: int) -> Proposal:
        """The configuration (and fidelity) of the trial ``ask`` will hand out with id ``trial_id``."""

    @abstractmethod
    def observe(self, trial: Trial, result: Result, values: np.ndarray | None, replayed: bool) -> None:
        """Learn from a finished trial (see the class docstring)."""

    @property
    def space(self) -> ConfigurationSpace:
        """The configuration space (a ``LazySpace`` is built here, on first access)."""
        if isinstance(self.__space, LazySpace):
            self.__space = self.__space.make()
        return self.__space

    @space.setter
    def space(self, space: ConfigurationSpace) -> None:  # as when ``space`` was a plain attribute: plug-ins set it
        self.__space = space

    @cached_property
    def levels(self) -> dict[str, list[Any]] | None:
        """The space as a plain product of finite levels, by name in sorted order (``product_levels``), or None.
        Where the task states its levels (a table) they are taken from it, and no ConfigurationSpace is built."""
        if self.__given_levels is not None:
            return {name: [plain(v) for v in self.__given_levels[name]] for name in sorted(self.__given_levels)}
        return product_levels(self.space)

    @cached_property
    def _random_space(self) -> ConfigurationSpace:
        """A private copy of the space, seeded with ``seed``: seeding the caller's space would couple runs
        that share a task object. Made on first use: copying a large space takes milliseconds."""
        from ConfigSpace import ConfigurationSpace

        space = ConfigurationSpace.from_serialized_dict(self.space.to_serialized_dict())
        space.seed(self.seed)
        return space

    def objective_vector(self, result: Result) -> np.ndarray | None:
        """The result's objectives in this baseline's order, or None for a failed or NaN evaluation."""
        if result.status != "ok":
            return None
        values = [float(result.objectives.get(o.name, math.nan)) for o in self.objectives]
        return None if any(math.isnan(v) for v in values) else np.array(values)


BaselineClass = TypeVar("BaselineClass", bound=type[Baseline])

BASELINES: Registry[type[Baseline]] = Registry("baseline", entry_point_group="bag_of_baselines.baselines")


def register(name: str) -> Callable[[BaselineClass], BaselineClass]:
    """Class decorator: put a baseline into ``BASELINES`` under ``name``, which its error messages use."""

    def decorator(cls: BaselineClass) -> BaselineClass:
        cls.registered_name = name
        BASELINES.register(name)(cls)
        return cls

    return decorator
