from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest

import tabular_data
from analysis.indicators import hypervolume
from analysis.io import load_experiment, read_run, tabular_data_folder, true_front
from suite import results_format


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
    assert not run.complete and len(run.rows) == 10 and run.n_rows == 10
    assert np.isnan(run.values[3]).all() and np.isfinite(np.delete(run.values, 3, axis=0)).all()
    # the frame of the Arrow table read without pandas is the one pandas reads
    pd.testing.assert_frame_equal(run.rows, results_format.read_run(folder)[1])
    np.testing.assert_array_equal(run.end, rows["end"].to_numpy())


def test_the_rows_of_a_complete_run_are_the_frame_pandas_reads(experiment: Path) -> None:
    run = read_run(experiment / "fcnet-naval" / "nsga2" / "2")
    pd.testing.assert_frame_equal(run.rows, pd.read_parquet(run.folder / "evaluations.parquet"))
    np.testing.assert_array_equal(run.end, run.rows["end"].to_numpy())


def test_an_objective_column_that_holds_no_numbers_is_refused_in_one_line(experiment: Path, tmp_path: Path) -> None:
    folder = _copy_run(experiment, tmp_path)
    rows = pd.read_parquet(folder / "evaluations.parquet")
    column = next(c for c in rows if c.startswith("expected."))
    rows.assign(**{column: rows[column].astype(str)}).to_parquet(folder / "evaluations.parquet", index=False)
    with pytest.raises(ValueError, match=f"column '{re.escape(column)}' holds large_string, not numbers"):
        read_run(folder)


def test_a_run_without_rows_has_no_values(experiment: Path, tmp_path: Path) -> None:
    folder = _copy_run(experiment, tmp_path)
    (folder / "evaluations.parquet").unlink()
    metadata = json.loads((folder / "metadata.json").read_text())
    (folder / "metadata.json").write_text(json.dumps({**metadata, "status": "running"}))  # started, nothing finished
    run = read_run(folder)
    assert run.values.shape == (0, 3) and run.end.shape == (0,) and run.state == "incomplete"


def test_true_front_hypervolume_exceeds_every_run(experiment: Path) -> None:
    for run in load_experiment(experiment):
        front = true_front(run)
        assert front is not None and front.points.shape[1] == len(run.objective_names)
        front_hypervolume = hypervolume((front.points - run.lower) / (run.upper - run.lower), run.reference_point)
        assert hypervolume(run.normalised, run.reference_point) <= front_hypervolume


def test_a_run_whose_bounds_disagree_with_the_shipped_file_is_refused(experiment: Path, tmp_path: Path) -> None:
    folder = _copy_run(experiment, tmp_path)
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata["task"]["objectives"][1]["upper"] *= 2
    (folder / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ValueError, match="disagree with lower=.* in .*nb201-cifar10.json"):
        true_front(read_run(folder))


@pytest.mark.parametrize(("key", "value", "message"), [
    ("version", "0", "task version '0' in the metadata, '1' in .*nb201-cifar10.json"),
    ("data_hash", "", "data hash '' differs from"),
])
def test_a_run_of_another_task_version_or_data_has_no_true_front(experiment: Path, tmp_path: Path, key: str,
                                                                 value: str, message: str) -> None:
    folder = _copy_run(experiment, tmp_path)
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata["task"][key] = value  # same bounds and objectives: only the version or the data differ
    (folder / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ValueError, match=message):
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
    with pytest.warns(UserWarning, match="result format 7"):
        assert [run.baseline for run in load_experiment(tmp_path / "copy")] == ["nsga2"]


def test_analysis_reads_results_without_importing_runner_code() -> None:
    # analysis runs on a laptop from result files alone: the run loop, Dask and the baselines stay out
    code = ("import sys, analysis.io; print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('distributed', 'dask', 'baselines', 'ConfigSpace') or m in ('suite.loops', 'suite.lifecycle', "
            "'suite.evaluators', 'suite.dispatch', 'suite.writer')))")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    assert found.stdout.strip() == "[]"


def test_shipped_fronts_are_found_in_the_installed_package_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOB_TABULAR_DATA", raising=False)
    assert tabular_data_folder() == tabular_data.FOLDER and (tabular_data.FOLDER / "nb201-cifar10.json").is_file()


# Damaged run folders: each is left out with its reason (a warning from load_experiment), the others stay.
def _no_metadata(folder: Path) -> None:
    (folder / "metadata.json").unlink()


def _garbage_metadata(folder: Path) -> None:
    (folder / "metadata.json").write_text('{"status": "compl')


def _no_parquet(folder: Path) -> None:
    (folder / "evaluations.parquet").unlink()


def _truncated_parquet(folder: Path) -> None:
    data = (folder / "evaluations.parquet").read_bytes()
    (folder / "evaluations.parquet").write_bytes(data[: len(data) // 2])


def _empty_parquet(folder: Path) -> None:
    (folder / "evaluations.parquet").write_bytes(b"")


def _short_parquet(folder: Path) -> None:
    pd.read_parquet(folder / "evaluations.parquet").head(5).to_parquet(folder / "evaluations.parquet", index=False)


def _damaged_line(folder: Path) -> None:
    lines = [json.dumps(r) for r in pd.read_parquet(folder / "evaluations.parquet").head(3).to_dict("records")]
    (folder / "evaluations.jsonl").write_text("\n".join([lines[0], lines[1][:15], lines[2]]) + "\n")
    (folder / "evaluations.parquet").unlink()
    metadata = json.loads((folder / "metadata.json").read_text())
    (folder / "metadata.json").write_text(json.dumps({**metadata, "status": "running"}))


def _only_the_lock(folder: Path) -> None:
    for name in ("metadata.json", "evaluations.parquet"):
        (folder / name).unlink()


@pytest.mark.parametrize("damage, reason", [
    (_no_metadata, "no metadata.json, so nothing says which run its rows belong to"),
    (_garbage_metadata, "cannot read run metadata"),
    (_no_parquet, "metadata says complete but evaluations.parquet is missing"),
    (_truncated_parquet, "metadata says complete but evaluations.parquet cannot be read"),
    (_empty_parquet, "metadata says complete but evaluations.parquet cannot be read"),
    (_short_parquet, "holds 5 rows, the metadata records 40"),
    (_damaged_line, "line 2 is damaged"),
    (_only_the_lock, "no metadata.json and no rows: the run never recorded anything"),
])
def test_a_damaged_run_is_left_out_by_name_and_reason(damage: Callable[[Path], None], reason: str,
                                                      experiment: Path, tmp_path: Path) -> None:
    shutil.copytree(experiment, tmp_path / "small")
    folder = tmp_path / "small" / "fcnet-naval" / "nsga2" / "1"
    damage(folder)
    with pytest.warns(UserWarning, match=f"left out {re.escape(str(folder))}: .*{re.escape(reason)}"):
        runs = load_experiment(tmp_path / "small")
    assert len(runs) == 11 and ("fcnet-naval", "nsga2", 1) not in {(r.task, r.baseline, r.seed) for r in runs}
    from analysis.io import scan_experiment  # here: each case above must fail on its own before this module had it

    assert [left.folder for left in scan_experiment(tmp_path / "small").left_out] == [folder]


# Mixtures: never merged into one comparison; the message says what differs and how to pick one.
def test_a_folder_of_two_experiments_is_refused(small_results: Path, tmp_path: Path) -> None:
    for name in ("one", "two"):
        shutil.copytree(small_results / name, tmp_path / "results" / name)
    with pytest.raises(ValueError, match=r"runs of 2 experiments: 'one' in .*/one \(6 runs\); 'two' in .*/two "
                                         r"\(2 runs\); .*point at one experiment folder, or pick one by name with "
                                         r"--where experiment=one"):
        load_experiment(tmp_path / "results")
    assert {run.seed for run in load_experiment(tmp_path / "results", where=[("experiment", "two")])} == {0, 1}


def test_two_copies_of_one_experiment_are_refused(small_results: Path, tmp_path: Path) -> None:
    for name in ("one", "one-copy"):
        shutil.copytree(small_results / "one", tmp_path / "results" / name)
    with pytest.raises(ValueError, match=r"runs of 2 experiments: 'one' in .*/one \(6 runs\); 'one' in .*/one-copy "
                                         r"\(6 runs\); .*point at one experiment folder$"):
        load_experiment(tmp_path / "results")


def test_one_run_in_two_folders_of_one_experiment_is_refused(small_results: Path, tmp_path: Path) -> None:
    shutil.copytree(small_results / "one", tmp_path / "one")
    shutil.copytree(tmp_path / "one" / "fcnet-naval" / "nsga2", tmp_path / "one" / "fcnet-naval" / "nsga2-old")
    with pytest.raises(ValueError, match=r"fcnet-naval/nsga2 seed 0 is in two folders, .*/nsga2/0 and "
                                         r".*/nsga2-old/0; move one of them away"):
        load_experiment(tmp_path / "one")


def test_seeds_of_another_budget_in_one_experiment_are_refused(small_results: Path, tmp_path: Path) -> None:
    shutil.copytree(small_results / "one", tmp_path / "one")
    shutil.copytree(small_results / "other_budget" / "one", tmp_path / "one", dirs_exist_ok=True)
    with pytest.raises(ValueError, match=r"runs of fcnet-naval differ in budget.evaluations: 8 \(nsga2 seeds 0,1,2; "
                                         r"random_search seeds 0,1,2\), 12 \(random_search seeds 3,4\); .*pick one "
                                         r"with --where budget.evaluations=8"):
        load_experiment(tmp_path / "one")
    picked = load_experiment(tmp_path / "one", where=[("budget.evaluations", "12")])
    assert [(run.baseline, run.seed, len(run.rows)) for run in picked] == [("random_search", 3, 12),
                                                                           ("random_search", 4, 12)]


def test_seeds_of_other_options_or_task_data_are_refused(small_results: Path, tmp_path: Path) -> None:
    shutil.copytree(small_results / "one", tmp_path / "one")
    metadata_path = tmp_path / "one" / "fcnet-naval" / "nsga2" / "2" / "metadata.json"
    metadata = json.loads(metadata_path.read_text())
    options = metadata["baseline"]["options"]
    name = sorted(options)[0]
    metadata_path.write_text(json.dumps({**metadata, "baseline": {**metadata["baseline"],
                                                                  "options": {**options, name: "other"}}}))
    with pytest.raises(ValueError, match=rf"runs of fcnet-naval/nsga2 differ in baseline.options.{name}: "):
        load_experiment(tmp_path / "one")
    metadata["task"]["data_hash"] = "0" * 64
    metadata_path.write_text(json.dumps(metadata))
    with pytest.raises(ValueError, match=r"runs of fcnet-naval differ in task.data_hash: .* \(nsga2 seeds 2\)"):
        load_experiment(tmp_path / "one")


@pytest.mark.parametrize("where, message", [
    ([("budget.evals", "8")], "no run has a metadata key 'budget.evals'"),
    ([("experiment", "three")], "--where experiment=three: no run matches; its values are one"),
])
def test_a_filter_that_selects_nothing_is_refused(where: list[tuple[str, str]], message: str,
                                                  small_results: Path) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        load_experiment(small_results / "one", where=where)
