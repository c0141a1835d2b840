"""Known objectives of the shipped tables: declared without reading the data, equal to the data, refused if not."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tasks import make_task
from tasks.base import TaskDataError
from tasks.tables.recipes import shipped_recipes
from tasks.tables.reference import read_reference, shipped
from tasks.tables.table import TableLayout, TableTask

NAMES = list(shipped_recipes())


def _single_valued(values: np.ndarray, n_seeds: np.ndarray) -> bool:
    """True when each row holds one finite value over its recorded seeds and all levels (values: rows x seeds x
    levels); written apart from ``constant_objectives``, with a per-row spread, to check it."""
    for seeds in np.unique(n_seeds):
        rows = values[n_seeds == seeds, :seeds]
        if not np.isfinite(rows).all() or (rows.max(axis=(1, 2)) - rows.min(axis=(1, 2)) != 0).any():
            return False
    return True


@pytest.mark.parametrize("name", NAMES)
def test_every_single_valued_objective_is_declared_and_reported_as_known(name: str) -> None:
    """One test per table, so each is read once (test_reference reads the same tables in the same process)."""
    task = make_task(name)
    declared = task.known  # known before the table is read: a baseline is built before any evaluation
    assert "table" not in vars(task)
    table = task.table
    single = tuple(o for j, (o, _) in enumerate(table.objectives) if _single_valued(table.values[..., j], table.n_seeds))
    assert declared == single
    # every table family has one: a parameter count, a model size, or a latency recorded once per cell
    assert declared
    # what evaluations report, for every recorded seed, on a sample of rows
    n_rows = len(table.n_seeds)
    for row in np.random.default_rng(0).choice(n_rows, size=min(n_rows, 100), replace=False).tolist():
        config = table.config(row)
        known = task.known_objectives(config)
        assert list(known) == list(task.known)
        for seed in range(int(table.n_seeds[row])):
            told = task.evaluate(config, seed=seed).objectives
            assert known == {o: told[o] for o in task.known}


@pytest.mark.parametrize("name", ["hpobench-mlp-kc1", "nb201-cifar10", "cnn-digits-mf"])
def test_known_values_equal_the_table_on_every_row(name: str) -> None:
    task = make_task(name)
    table = task.table
    columns = [task.objective_names.index(o) for o in task.known]
    found = np.array([list(task.known_objectives(table.config(row)).values()) for row in range(len(table.n_seeds))])
    for seed in range(table.values.shape[1]):
        recorded = table.n_seeds > seed
        for level in range(table.values.shape[2]):
            np.testing.assert_array_equal(found[recorded], table.values[recorded, seed, level][:, columns])


def test_the_hpobench_parameter_count_is_that_of_the_mlp() -> None:
    """An independent count: scikit-learn's MLPClassifier on kc1 (21 inputs, 2 classes: one logistic output)."""
    task = make_task("hpobench-mlp-kc1")
    config = task.table.config(0) | {"depth": 2, "width": 64}
    assert task.known_objectives(config) == {"n_parameters": (21 + 1) * 64 + (64 + 1) * 64 + (64 + 1) * 1}


def test_a_declaration_the_data_contradicts_is_refused_when_the_table_is_read() -> None:
    recipe = shipped_recipes()["fcnet-naval"]
    layout = recipe.layout("fcnet-naval")
    wrong = TableLayout(layout.name, layout.levels, layout.description, layout.fidelity,
                        known=("log10_val_mse", "model_size"))
    task = TableTask(wrong, read_reference("fcnet-naval"), lambda: recipe.load("fcnet-naval"))
    assert task.known == ("log10_val_mse", "model_size")  # declared: the data is not read yet
    config = make_task("fcnet-naval").table.config(0)
    with pytest.raises(TaskDataError, match=r"\['log10_val_mse'\] are declared known"):
        task.evaluate(config)
    with pytest.raises(TaskDataError, match="declared known"):
        task.known_objectives(config)


def test_a_known_name_that_is_no_objective_is_refused() -> None:
    layout = shipped_recipes()["fcnet-naval"].layout("fcnet-naval")
    typo = TableLayout(layout.name, layout.levels, layout.description, known=("model_sise",))
    with pytest.raises(ValueError, match=r"known objectives \['model_sise'\] are not among its objectives"):
        TableTask(typo, read_reference("fcnet-naval"), lambda: shipped_recipes()["fcnet-naval"].load("fcnet-naval"))


def test_a_table_in_memory_decides_its_known_objectives_from_its_data() -> None:
    table = shipped(make_task("nb201-cifar10").table)
    assert TableTask.of(table).known == ("latency",)  # model_size differs between seeds for some cells
    changed = table.values.copy()
    changed[7, 1, 0, 1] += 1e-9  # one recorded latency differs: it is no longer a function of the cell
    assert TableTask.of(replace(table, values=changed)).known == ()
    # one recorded value per cell shows nothing: the error would look "known" too
    single = replace(table, values=table.values[:, :1], cost=table.cost[:, :1], n_seeds=np.ones_like(table.n_seeds))
    assert TableTask.of(single).known == ()
