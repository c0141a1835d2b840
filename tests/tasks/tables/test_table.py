"""The query side on a hand-written table: lookup by fidelity level, recorded seeds, refusals."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tasks.base import Fidelity, TaskDataError
from tasks.tables.reference import computed
from tasks.tables.table import Table, TableLayout, TableTask

LEVELS = {"width": [8, 16, 32], "act": ["relu", "tanh"]}


def _table(**changes: object) -> Table:
    """6 rows x 2 seeds x fidelity levels (2, 4, 8) x 2 objectives; row 5 has one recorded seed."""
    rows, seeds, levels = 6, 2, 3
    values = np.arange(rows * seeds * levels * 2, dtype=float).reshape(rows, seeds, levels, 2)
    cost = np.arange(rows * seeds * levels, dtype=float).reshape(rows, seeds, levels)
    values[5, 1], cost[5, 1] = np.nan, np.nan
    fields: dict = dict(name="toy", levels=LEVELS, objectives=(("loss", ""), ("size", "parameters")),
                        values=values, cost=cost, n_seeds=np.array([2, 2, 2, 2, 2, 1]), sha256="0" * 64,
                        version="1", description="a toy", source="this test",
                        fidelity=Fidelity("budget", 2, 8, values=(2.0, 4.0, 8.0)))
    return computed(Table(**{**fields, **changes}))


def test_lookup_reads_the_row_seed_and_level_asked_for() -> None:
    task = TableTask.of(_table())
    # row of (width=16, act="tanh") is 1 * 2 + 1 = 3 in mixed-radix order
    result = task.evaluate({"width": 16, "act": "tanh"}, fidelity=4, seed=3)
    row = np.arange(6 * 2 * 3 * 2).reshape(6, 2, 3, 2)[3]
    assert result.objectives == {"loss": row[1, 1, 0], "size": row[1, 1, 1]}
    assert result.expected == {"loss": row[:, 1, 0].mean(), "size": row[:, 1, 1].mean()}
    assert result.cost_s == 3 * 6 + 1 * 3 + 1
    assert result.info == {"recorded_seed": 1, "budget": 4}
    assert task.evaluate({"width": 16, "act": "tanh"}, seed=3).info["budget"] == 8  # no fidelity: the highest
    # a row with one recorded seed answers it for every seed, and its expected value is that seed's
    single = task.evaluate({"width": 32, "act": "tanh"}, fidelity=2, seed=1)
    assert single.info["recorded_seed"] == 0 and single.objectives == single.expected


def test_refusals_say_what_is_wrong() -> None:
    task = TableTask.of(_table())
    with pytest.raises(ValueError, match="invalid configuration"):
        task.evaluate({"width": 12, "act": "relu"})
    with pytest.raises(ValueError, match="outside"):
        task.evaluate({"width": 8, "act": "relu"}, fidelity=3)
    with pytest.raises(ValueError, match="no reference record"):
        TableTask.of(replace(_table(), reference=None))
    with pytest.raises(ValueError, match="do not fit"):
        _table(fidelity=None)  # three levels recorded, none declared


def test_the_table_is_read_at_the_first_evaluation_and_must_be_the_recorded_data() -> None:
    table = _table()
    reads: list[str] = []

    def load(data: Table) -> Table:
        reads.append(data.sha256)
        return data

    layout = TableLayout(table.name, table.levels, table.description, table.fidelity)
    task = TableTask(layout, table.reference, lambda: load(table))
    assert task.data_hash() == "0" * 64 and task.objective_names == ["loss", "size"] and reads == []
    task.evaluate({"width": 8, "act": "relu"})
    task.evaluate({"width": 8, "act": "tanh"})
    assert reads == ["0" * 64]  # once
    other = TableTask(layout, table.reference, lambda: replace(table, sha256="1" * 64))
    with pytest.raises(TaskDataError, match="is not the data its reference record was computed from"):
        other.evaluate({"width": 8, "act": "relu"})
