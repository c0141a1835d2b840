"""Shipped reference records: bounds and true front against the table they were computed from, and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

import tabular_data
from tasks.tables.recipes import shipped_recipes
from tasks.tables.reference import computed, main, read_reference, shipped_task, table_json


@pytest.mark.parametrize("name", list(shipped_recipes()))
def test_shipped_bounds_and_front_match_the_table(name: str) -> None:
    task = shipped_task(name)
    table = task.table
    assert task.reference == computed(table).reference, f"stale: python -m tasks.tables.reference --write {name}"
    assert task.reference == read_reference(name) and task.data_hash() == table.sha256
    m = table.values.shape[-1]
    flat = table.values.reshape(-1, m)
    flat = flat[~np.isnan(flat).any(axis=1)]
    lower = np.array([o.lower for o in task.objectives])
    upper = np.array([o.upper for o in task.objectives])
    assert (flat >= lower).all() and (flat <= upper).all()
    assert (flat.min(axis=0) == lower).all()  # the bounds are attained, not merely respected
    assert _front_problems(task.true_front(), table.expected.reshape(-1, m)) == []


def _front_problems(front: np.ndarray, expected: np.ndarray) -> list[str]:
    """Why ``front`` is not the true front of ``expected`` (every configuration x fidelity level, as rows)."""
    problems = []
    for point in front:
        if not (expected == point).all(axis=1).any():
            problems.append(f"{point.tolist()} is no row of the table")
        dominates = (expected <= point).all(axis=1) & (expected < point).any(axis=1)
        if dominates.any():
            problems.append(f"{point.tolist()} is dominated by row {np.flatnonzero(dominates)[0]}")
    weakly_dominated = np.zeros(len(expected), dtype=bool)
    for point in front:
        weakly_dominated |= (point <= expected).all(axis=1)
    if not weakly_dominated.all():
        problems.append(f"{int((~weakly_dominated).sum())} rows are not dominated by the front")
    return problems


def test_front_check_refuses_an_unreachable_ideal_point_and_a_dominated_row() -> None:
    expected = shipped_task("hpobench-mlp-car").table.expected.reshape(-1, 2)
    ideal = np.nanmin(expected, axis=0, keepdims=True)  # dominates every row, yet is no row
    assert _front_problems(ideal, expected) == [f"{ideal[0].tolist()} is no row of the table"]
    worst = expected[[np.argmax(expected[:, 0])]]
    assert any("is dominated by row" in p for p in _front_problems(worst, expected))


def test_cli_checks_files_and_refuses_an_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nb201-cifar10", "cnn-digits-mf"]) == 0
    assert "2 reference files match their tables" in capsys.readouterr().out
    assert main(["fcnet-nowhere"]) == 2
    assert capsys.readouterr().err == (
        f"error: 'fcnet-nowhere' has no shipped file; known: {', '.join(shipped_recipes())}\n")


def test_file_round_trips_through_the_record() -> None:
    table = computed(shipped_task("cnn-digits-mf").table)
    shipped = json.loads((tabular_data.FOLDER / "cnn-digits-mf.json").read_text())
    assert table_json(table) == shipped
    assert shipped["front_kind"] == "true" and shipped["reference_point"] == [1.1, 1.1, 1.1]
