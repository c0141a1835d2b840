"""The result store: rows survive a crash, damage is reported, other format versions are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from suite.metadata import RunMetadata
from suite.results_format import ResultsError, make_row, read_run
from suite.spec import Budget, RunSpec
from suite.writer import RunWriter
from tasks.base import Result, Trial

TASK = {"name": "t", "version": "1", "clock": "simulated", "data_hash": "abc"}


def _writer(folder: Path) -> RunWriter:
    return RunWriter(folder, RunMetadata.new(RunSpec("b", "t", 0, Budget(evaluations=3)), TASK, {}))


def _row(i: int) -> dict:
    return make_row(Trial(i, {"x": i}), Result({"f": float(i)}, cost_s=1.0), ["f"], start=i, end=i + 1,
                    worker=0, eval_seed=i)


def test_rows_are_on_disk_before_the_run_completes(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    for i in range(3):
        writer.append(_row(i))
    # no close(): as after a crash, the rows written so far are readable
    metadata, rows = read_run(tmp_path)
    assert metadata["status"] == "running" and list(rows["trial_id"]) == [0, 1, 2]
    writer.complete(wall_s=1.0)
    metadata, rows = read_run(tmp_path)
    assert metadata["status"] == "complete" and metadata["n_evaluations"] == 3
    assert json.loads(rows["config"][2]) == {"x": 2}


def test_a_torn_last_line_is_dropped_but_a_damaged_middle_line_is_an_error(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    writer.append(_row(0))
    writer.close()
    with open(tmp_path / "evaluations.jsonl", "a") as file:
        file.write('{"trial_id": 1, "conf')
    assert len(read_run(tmp_path)[1]) == 1
    with open(tmp_path / "evaluations.jsonl", "a") as file:
        file.write("\n" + json.dumps(_row(2)) + "\n")
    with pytest.raises(ResultsError, match="line 2 is damaged"):
        read_run(tmp_path)


def test_another_format_version_is_refused(tmp_path: Path) -> None:
    _writer(tmp_path).close()
    metadata = json.loads((tmp_path / "metadata.json").read_text())
    metadata["format_version"] = 99
    (tmp_path / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ResultsError, match="result format 99"):
        read_run(tmp_path)


def test_nan_objectives_are_written_as_null(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    writer.append(make_row(Trial(0, {}), Result({"f": float("nan")}, 0.0, status="failed"), ["f"], 0, 0, 0, 0))
    writer.close()
    line = (tmp_path / "evaluations.jsonl").read_text().splitlines()[0]
    assert json.loads(line)["objective.f"] is None and "NaN" not in line


def test_a_new_run_is_never_written_after_rows_of_an_unknown_run(tmp_path: Path) -> None:
    # the lifecycle refuses such a folder first; the writer refuses it too, before it writes any metadata
    (tmp_path / "evaluations.jsonl").write_text(json.dumps(_row(0)) + "\n")
    with pytest.raises(ResultsError, match="holds rows but this is a new run; move the folder away"):
        _writer(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evaluations.jsonl"]
