from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tabular_data
from analysis.indicators import hypervolume
from analysis.io import load_experiment, read_run, tabular_data_folder, true_front
from suite.results_format import ResultsError


def _copy_run(experiment: Path, tmp_path: Path, task: str = "nb201-cifar10") -> Path:
    target = tmp_path / "copy" / task / "random_search" / "0"
    shutil.copytree(experiment / task / "random_search" / "0", target)
    return target


def test_load_experiment_reads_every_run(experiment: Path, layout: dict) -> None:
    runs = load_experiment(experiment)
    expected = {(t, b, s) for t in layout["tasks"] for b in layout["baselines"] for s in layout["seeds"]}
    assert [(r.task, r.baseline, r.seed) for r in runs] == sorted(expected)
    assert all(r.complete and len(r.rows) == layout["evaluations"] and r.clock == "simulated" for r in runs)


def test_values_are_the_expected_objectives_normalised_by_the_metadata_bounds(experiment: Path) -> None:
    run = read_run(experiment / "nb201-cifar10" / "random_search" / "1")
    rows = pd.read_parquet(run.folder / "evaluations.parquet")
    metadata = json.loads((run.folder / "metadata.json").read_text())
    for k, objective in enumerate(metadata["task"]["objectives"]):
        raw = rows[f"expected.{objective['name']}"].to_numpy()
        np.testing.assert_allclose(run.values[:, k], raw)
        np.testing.assert_allclose(run.normalised[:, k], (raw - objective["lower"]) / (objective["upper"] - objective["lower"]))


def test_a_partial_run_is_read_from_jsonl_with_a_torn_last_line(experiment: Path, tmp_path: Path) -> None:
    folder = _copy_run(experiment, tmp_path)
    rows = pd.read_parquet(folder / "evaluations.parquet").head(10)
    rows.loc[3, "status"] = "failed"
    lines = [json.dumps(record) for record in rows.to_dict("records")]
    (folder / "evaluations.jsonl").write_text("\n".join(lines) + "\n" + lines[0][:20])
    (folder / "evaluations.parquet").unlink()
    metadata = json.loads((folder / "metadata.json").read_text())
    (folder / "metadata.json").write_text(json.dumps({**metadata, "status": "running"}))
    run = read_run(folder)
    assert not run.complete and len(run.rows) == 10
    assert np.isnan(run.values[3]).all() and np.isfinite(np.delete(run.values, 3, axis=0)).all()


def test_a_run_without_rows_has_no_values(experiment: Path, tmp_path: Path) -> None:
    folder = _copy_run(experiment, tmp_path)
    (folder / "evaluations.parquet").unlink()
    run = read_run(folder)
    assert run.values.shape == (0, 3) and run.end.shape == (0,)


def test_true_front_hypervolume_exceeds_every_run(experiment: Path) -> None:
    for run in load_experiment(experiment):
        front = true_front(run)
        assert front is not None and front.points.shape[1] == len(run.objective_names)
        assert hypervolume(run.normalised, run.reference_point) <= front.hypervolume


def test_a_run_whose_bounds_disagree_with_the_shipped_file_is_refused(experiment: Path, tmp_path: Path) -> None:
    folder = _copy_run(experiment, tmp_path)
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata["task"]["objectives"][1]["upper"] *= 2
    (folder / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ValueError, match="disagree with lower=.* in .*nb201-cifar10.json"):
        true_front(read_run(folder))


def test_a_task_without_a_shipped_front_has_none(experiment: Path, tmp_path: Path) -> None:
    assert true_front(read_run(experiment / "fcnet-naval" / "nsga2" / "0"), tabular_data=tmp_path) is None


def test_load_experiment_refuses_bad_folders(experiment: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        load_experiment(tmp_path / "missing")
    with pytest.raises(ValueError, match="no runs under"):
        load_experiment(tmp_path)
    folder = _copy_run(experiment, tmp_path)
    shutil.copytree(experiment / "nb201-cifar10" / "nsga2" / "0", tmp_path / "copy" / "nb201-cifar10" / "nsga2" / "0")
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata["task"]["reference_point"] = [2.0, 2.0, 2.0]
    (folder / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ValueError, match="disagree on reference_point"):
        load_experiment(tmp_path / "copy")
    (folder / "metadata.json").write_text(json.dumps({**metadata, "format_version": 7}))
    with pytest.raises(ValueError, match="result format 7"):
        load_experiment(tmp_path / "copy")


def test_analysis_reads_results_without_importing_runner_code() -> None:
    # analysis runs on a laptop from result files alone: the run loop, Dask and the baselines stay out
    code = ("import sys, analysis.io; print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('distributed', 'dask', 'baselines', 'ConfigSpace') or m in ('suite.loops', 'suite.lifecycle', "
            "'suite.evaluators', 'suite.dispatch', 'suite.writer')))")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"


def test_shipped_fronts_are_found_in_the_installed_package_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOB_TABULAR_DATA", raising=False)
    assert tabular_data_folder() == tabular_data.FOLDER and (tabular_data.FOLDER / "nb201-cifar10.json").is_file()


def test_the_reader_is_the_suites_own_damaged_middle_line_included(experiment: Path, tmp_path: Path) -> None:
    folder = _copy_run(experiment, tmp_path)
    records = pd.read_parquet(folder / "evaluations.parquet").head(3).to_dict("records")
    lines = [json.dumps(record) for record in records]
    (folder / "evaluations.jsonl").write_text("\n".join([lines[0], lines[1][:15], lines[2]]) + "\n")
    (folder / "evaluations.parquet").unlink()
    with pytest.raises(ResultsError, match="line 2 is damaged"):
        read_run(folder)
