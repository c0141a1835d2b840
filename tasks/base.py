"""The problem vocabulary every other room speaks: objectives, fidelities, trials, results and tasks."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Mapping, Sequence

import numpy as np

if TYPE_CHECKING:  # ConfigSpace imports scipy.stats (~0.5 s): a run that never checks against a space skips it
    from ConfigSpace import ConfigurationSpace

Config = dict[str, Any]
Status = Literal["ok", "failed", "timeout"]


@dataclass(frozen=True)
class Objective:
    """One objective of a task. Every objective is minimised (accuracy enters as error = 1 - acc).

    ``lower`` and ``upper`` are the task's fixed normalisation bounds: they ship with the task and
    never depend on a run, so hypervolumes of different runs are comparable.
    """

    name: str
    lower: float
    upper: float
    unit: str = ""

    def __post_init__(self) -> None:
        if not self.lower < self.upper:
            raise ValueError(f"objective {self.name!r}: lower ({self.lower}) must be below upper ({self.upper})")


@dataclass(frozen=True)
class Fidelity:
    """The budget axis of a task (epochs, say). ``values`` lists the levels of a tabular fidelity."""

    name: str
    min: float
    max: float
    values: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not 0 < self.min <= self.max:
            raise ValueError(f"fidelity {self.name!r}: need 0 < min <= max, got {self.min}, {self.max}")
        if self.values is not None and (min(self.values) != self.min or max(self.values) != self.max):
            raise ValueError(f"fidelity {self.name!r}: values must span [min, max]")

    def contains(self, value: float) -> bool:
        if self.values is not None:
            return any(math.isclose(value, v) for v in self.values)
        return self.min <= value <= self.max


@dataclass(frozen=True)
class Trial:
    """One configuration to evaluate, handed out by ``Baseline.ask``.

    ``fidelity`` is None when the task has no fidelity or the baseline asks for the task's maximum.
    """

    id: int
    config: Config
    fidelity: float | None = None


@dataclass
class Result:
    """What an evaluation returns.

    ``objectives`` are the values the optimiser is told (one recorded seed on a tabular task, one
    training run on a live task). ``expected`` are the noise-free values where the task knows them
    (mean over a table's recorded seeds); analysis reports hypervolume on them when present.
    A value that could not be measured is NaN with its reason in ``info["missing"]``.
    """

    objectives: dict[str, float]
    cost_s: float
    info: dict[str, Any] = field(default_factory=dict)
    status: Status = "ok"
    expected: dict[str, float] | None = None

    @classmethod
    def failure(cls, reason: str, cost_s: float = 0.0, status: Status = "failed") -> Result:
        return cls(objectives={}, cost_s=cost_s, info={"reason": reason}, status=status)


class TaskDataError(RuntimeError):
    """The data a task evaluates on is missing, unreadable or not the data its reference was computed from.

    Not one failed evaluation but a task that cannot answer at all: the run loop stops the run with this
    error instead of recording every evaluation as failed (a "complete" run of failed rows would be ranked).
    """


@dataclass(frozen=True)
class ReferenceRecord:
    """What a task's results are measured against, fixed per task and versioned: it never depends on a run.

    ``objectives`` carry the normalisation bounds, ``reference_point`` is in normalised space and ``front``
    (points x objectives, raw units) is the front hypervolume regret is taken to. ``front_kind`` names it
    plainly: ``"true"`` where every configuration is known (a table), ``"best-known"`` where the front comes
    from a sample (a surrogate). ``data_sha256`` identifies the data the record was computed from.
    """

    task: str
    version: str
    data_sha256: str
    objectives: tuple[Objective, ...]
    reference_point: tuple[float, ...]
    front: tuple[tuple[float, ...], ...]
    front_kind: Literal["true", "best-known"] = "true"


def to_python(config: Mapping[str, Any]) -> Config:
    """Plain Python scalars (ConfigSpace hands out numpy scalars), sorted by name for stable hashing."""
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in sorted(dict(config).items())}


class Task(ABC):
    """A joint architecture + hyperparameter problem: its space, objectives, fidelity and evaluation.

    Subclasses set the attributes in ``__init__`` and implement ``_evaluate``; ``evaluate`` checks the
    input first so that every task rejects an invalid configuration the same way.
    """

    name: str
    version: str
    space: ConfigurationSpace
    #: the space as a plain product of finite levels (parameter name -> its levels, in the order the space
    #: lists them) where the task knows it is one without building ``space`` (a table's grid), else None.
    #: A baseline that only draws levels reads this and never imports ConfigSpace (``Baseline.levels``).
    levels: Mapping[str, Sequence[Any]] | None = None
    objectives: tuple[Objective, ...]
    fidelity: Fidelity | None = None
    #: fixed per task, in normalised objective space (every objective scaled to [0, 1] by its bounds)
    reference_point: tuple[float, ...]
    #: "simulated" for tables (cost is replayed), "wall" for tasks that really train
    clock: Literal["simulated", "wall"] = "simulated"
    #: objectives a configuration determines on its own, without training (a parameter count);
    #: ``known_objectives`` computes them, so a baseline may model only the others (MS-EHVI)
    known: tuple[str, ...] = ()
    #: a generic numeric description of the setting the task runs in (a device's hardware embedding),
    #: or None. Baselines receive this vector, never a device's name, so none knows task-specific names.
    context: tuple[float, ...] | None = None

    @property
    def objective_names(self) -> list[str]:
        return [o.name for o in self.objectives]

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
        checked = self.check_config(config)
        if fidelity is not None:
            if self.fidelity is None:
                raise ValueError(f"task {self.name!r} has no fidelity, but fidelity={fidelity} was given")
            if not self.fidelity.contains(fidelity):
                raise ValueError(
                    f"task {self.name!r}: {self.fidelity.name}={fidelity} is outside "
                    f"[{self.fidelity.min}, {self.fidelity.max}]"
                )
        return self._evaluate(checked, fidelity, seed)

    @abstractmethod
    def _evaluate(self, config: Config, fidelity: float | None, seed: int) -> Result: ...

    def check_config(self, config: Mapping[str, Any]) -> Config:
        """The configuration as plain Python values; raises ValueError if the space does not admit it."""
        from ConfigSpace import Configuration

        try:
            Configuration(self.space, values=dict(config)).check_valid_configuration()
        except Exception as error:  # ConfigSpace raises several types for the same mistake
            raise ValueError(f"task {self.name!r}: invalid configuration {dict(config)}: {error}") from None
        return to_python(config)

    def normalise(self, values: np.ndarray) -> np.ndarray:
        """Objective values (n, m) scaled by the task's fixed bounds, so each bound pair maps to 0 and 1."""
        import moocore  # this method is the task module's only use of it

        lower = np.array([o.lower for o in self.objectives], dtype=float)
        upper = np.array([o.upper for o in self.objectives], dtype=float)
        values = np.asarray(values, dtype=float)
        # moocore takes rows of points; a single point (m,) keeps its shape
        return moocore.normalise(values.reshape(-1, len(lower)), to_range=(0.0, 1.0), lower=lower,
                                 upper=upper).reshape(values.shape)

    def known_objectives(self, config: Config) -> dict[str, float]:
        """The objectives named in ``known`` for ``config``, computed from the configuration alone.

        They must equal what ``evaluate`` reports for them; a task that declares ``known`` overrides this.
        """
        if self.known:
            raise NotImplementedError(f"task {self.name!r} declares known objectives {self.known} "
                                      "but does not compute them")
        return {}

    def data_hash(self) -> str:
        """A hash of the data the task reads (a table, a data set); empty when there is none."""
        return ""

    def describe(self) -> dict[str, Any]:
        """The task as written into every run's metadata."""
        return {
            "name": self.name,
            "version": self.version,
            "objectives": [vars(o) for o in self.objectives],
            "reference_point": list(self.reference_point),
            "fidelity": None if self.fidelity is None else vars(self.fidelity),
            "clock": self.clock,
            "data_hash": self.data_hash(),
            # only when set, so the description of a task without them is what it always was
            **({"known": list(self.known)} if self.known else {}),
            **({"context": list(self.context)} if self.context is not None else {}),
        }
