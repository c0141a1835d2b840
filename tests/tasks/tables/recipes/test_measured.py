"""Measured multi-fidelity tables replayed by TableTask: lookups against a pandas filter, and the shipped table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tabular_data
from tasks.tables.recipes.measured import load_measured_table
from tasks.tables.reference import computed, shipped, shipped_task, write_reference
from tasks.tables.table import TableTask

GRID = {"n_conv_l": [1, 2], "batch_norm": [False, True]}


def _write_table(folder: Path, epochs: int = 3, drop: tuple[int, int] | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for n_conv_l in GRID["n_conv_l"]:
        for batch_norm in GRID["batch_norm"]:
            for seed in (0, 1):
                if drop == (n_conv_l, seed):
                    continue
                for epoch in range(1, epochs + 1):
                    rows.append({"n_conv_l": n_conv_l, "batch_norm": batch_norm, "seed": seed, "epoch": epoch,
                                 "val_error": rng.uniform(), "log10_params": 3.0 + n_conv_l,
                                 "latency_ms": rng.uniform(0.1, 1.0), "train_time_s": 0.5 * epoch + seed})
    frame = pd.DataFrame(rows)
    frame.to_parquet(folder / "toy-mf.parquet", index=False)
    (folder / "toy-mf.provenance.json").write_text(json.dumps({"grid": GRID, "epochs": epochs}))
    load_measured_table.cache_clear()
    write_reference(computed(load_measured_table("toy-mf", folder)), folder)
    return frame


def _task(folder: Path) -> TableTask:
    return TableTask.of(shipped(load_measured_table("toy-mf", folder), folder))


def test_lookup_matches_the_recorded_rows(tmp_path: Path) -> None:
    frame = _write_table(tmp_path)
    task = _task(tmp_path)
    assert task.fidelity is not None and task.fidelity.values == (1.0, 2.0, 3.0)
    for n_conv_l in (1, 2):
        for batch_norm in (False, True):
            for epoch in (1, 3):
                for seed in (0, 1):
                    result = task.evaluate({"n_conv_l": n_conv_l, "batch_norm": batch_norm}, epoch, seed)
                    rows = frame[(frame.n_conv_l == n_conv_l) & (frame.batch_norm == batch_norm) & (frame.epoch == epoch)]
                    row = rows[rows.seed == seed].iloc[0]
                    assert result.objectives == {"error": row.val_error, "log10_params": row.log10_params,
                                                 "latency_ms": row.latency_ms}
                    assert result.cost_s == row.train_time_s
                    assert result.info == {"recorded_seed": seed, "epochs": epoch}
                    assert result.expected["error"] == pytest.approx(rows.val_error.mean())


def test_no_fidelity_means_the_last_epoch(tmp_path: Path) -> None:
    _write_table(tmp_path)
    task = _task(tmp_path)
    config = {"n_conv_l": 2, "batch_norm": True}
    assert task.evaluate(config, None, 1).objectives == task.evaluate(config, 3, 1).objectives


def test_rows_with_fewer_seeds_replay_a_recorded_one(tmp_path: Path) -> None:
    frame = _write_table(tmp_path, drop=(1, 0))
    task = _task(tmp_path)
    for seed in range(4):
        result = task.evaluate({"n_conv_l": 1, "batch_norm": False}, 2, seed)
        recorded = frame[(frame.n_conv_l == 1) & (~frame.batch_norm) & (frame.epoch == 2)].iloc[0]
        assert result.objectives["error"] == recorded.val_error


def test_bounds_and_front_cover_every_epoch(tmp_path: Path) -> None:
    frame = _write_table(tmp_path)
    task = _task(tmp_path)
    assert task.objectives[0].lower == frame.val_error.min() and task.objectives[0].upper == frame.val_error.max()
    # every (configuration, epoch) is a trained model: the front is over all of them
    means = frame.groupby(["n_conv_l", "batch_norm", "epoch"])[["val_error", "log10_params", "latency_ms"]].mean()
    points = means.to_numpy()
    dominated = [any((q <= p).all() and (q < p).any() for q in points) for p in points]
    expected_front = np.unique(points[~np.array(dominated)], axis=0)
    assert np.allclose(task.true_front(), expected_front)


def test_shipped_table_is_complete() -> None:
    provenance = json.loads((tabular_data.FOLDER / "cnn-digits-mf.provenance.json").read_text())
    task = shipped_task("cnn-digits-mf")
    n_configs = int(np.prod([len(v) for v in provenance["grid"].values()]))
    assert task.table.values.shape[:3] == (n_configs, len(provenance["seeds"]), provenance["epochs"])
    assert (task.table.n_seeds == len(provenance["seeds"])).all()
    assert np.all(np.diff(task.table.cost, axis=2) > 0)  # cumulative training time grows every epoch


@pytest.mark.parametrize(("change", "message"), [
    (lambda frame: frame.assign(epoch=frame["epoch"] - 1), "holds epochs outside 1..3"),
    (lambda frame: pd.concat([frame, frame.iloc[[0]]]), "more than once"),
])
def test_a_table_with_epoch_zero_or_a_repeated_cell_is_refused(tmp_path: Path, change, message: str) -> None:
    frame = _write_table(tmp_path)
    change(frame).to_parquet(tmp_path / "toy-mf.parquet", index=False)
    load_measured_table.cache_clear()
    with pytest.raises(ValueError, match=message):
        load_measured_table("toy-mf", tmp_path)
