"""Damaged run folders, made by a real run and then damaged: never appended to, never skipped as complete;
repaired where the rows to repair from are intact, else refused with one line naming the folder and the fix."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from dask_processes import ROOT, environment

from suite.lifecycle import execute, run_state
from suite.results_format import ResultsError, read_run, run_folder
from suite.spec import Budget, RunSpec
from suite.writer import RunWriter
from tasks import make_task

SPEC = RunSpec("random_search", "fcnet-naval", 2, Budget(evaluations=30), n_workers=2, experiment="e")
FIX = "move the folder away (or delete it) and run again"


@pytest.fixture(scope="module")
def complete(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete run's folder, made by the suite."""
    return execute(SPEC, tmp_path_factory.mktemp("complete"))


@pytest.fixture(scope="module")
def partial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A partial run's folder, as a run that failed after its 20th evaluation leaves it."""
    root = tmp_path_factory.mktemp("partial")
    folder = run_folder(root, SPEC.experiment, SPEC.task, SPEC.baseline, SPEC.seed)

    class Stop(Exception):
        pass

    append = RunWriter.append

    def stop_after_20(self: RunWriter, row: dict) -> None:
        if self.n_rows == 20:
            raise Stop
        append(self, row)

    with pytest.MonkeyPatch.context() as patch:  # the run's own writer, stopped as a crash would stop it
        patch.setattr(RunWriter, "append", stop_after_20)
        with pytest.raises(Stop):
            execute(SPEC, root)
    assert read_run(folder)[0]["status"] == "running" and len(read_run(folder)[1]) == 20
    return folder


def _copy(folder: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of a run's folder under a new results root: (root, folder)."""
    target = run_folder(tmp_path, SPEC.experiment, SPEC.task, SPEC.baseline, SPEC.seed)
    shutil.copytree(folder, target)
    return tmp_path, target


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != ".lock"}


def _refused(root: Path, folder: Path, *expected: str) -> None:
    """Refused by the same-run check and by execute, with one line naming the folder and the fix; nothing written."""
    before = _files(folder)
    for call in (lambda: run_state(SPEC, root, make_task(SPEC.task)), lambda: execute(SPEC, root)):
        with pytest.raises(ResultsError) as raised:
            call()
        message = str(raised.value)
        assert "\n" not in message and message.startswith(str(folder)) and FIX in message
        for text in expected:
            assert text in message
    assert _files(folder) == before


@pytest.mark.parametrize("damage", ["deleted", "empty", "not JSON", "a key lost"])
def test_rows_without_a_readable_metadata_are_never_appended_to(partial: Path, tmp_path: Path, damage: str) -> None:
    # before: a lost metadata.json made the folder "new", and the new run's rows followed the old ones
    root, folder = _copy(partial, tmp_path)
    metadata = folder / "metadata.json"
    if damage == "deleted":
        metadata.unlink()
    elif damage == "empty":
        metadata.write_text("")
    elif damage == "not JSON":
        metadata.write_text(metadata.read_text()[:40])
    else:
        data = json.loads(metadata.read_text())
        del data["seed"]
        metadata.write_text(json.dumps(data))
    _refused(root, folder, *(["no metadata.json, so no one can tell which run made its rows"]
                             if damage == "deleted" else ["metadata.json"]))


def test_a_complete_run_without_its_metadata_is_refused_not_run_again_over_its_rows(
    complete: Path, tmp_path: Path,
) -> None:
    root, folder = _copy(complete, tmp_path)
    (folder / "metadata.json").unlink()
    _refused(root, folder, "holds evaluations.parquet but no metadata.json")


def test_a_folder_with_only_a_lock_or_an_empty_rows_file_is_a_new_run(complete: Path, tmp_path: Path) -> None:
    # nothing in it to lose or to mix with: the run starts, and its rows equal those of a run in an empty folder
    folder = run_folder(tmp_path, SPEC.experiment, SPEC.task, SPEC.baseline, SPEC.seed)
    folder.mkdir(parents=True)
    (folder / ".lock").write_text("")
    (folder / "evaluations.jsonl").write_text("")
    assert run_state(SPEC, tmp_path, make_task(SPEC.task)) == ("new", 0)
    execute(SPEC, tmp_path)
    pd.testing.assert_frame_equal(read_run(folder)[1], read_run(complete)[1])


@pytest.mark.parametrize("damage", ["truncated", "empty", "deleted", "fewer rows"])
def test_a_complete_run_with_a_damaged_parquet_and_no_rows_is_refused_not_skipped(
    complete: Path, tmp_path: Path, damage: str,
) -> None:
    root, folder = _copy(complete, tmp_path)
    parquet = folder / "evaluations.parquet"
    if damage == "truncated":
        parquet.write_bytes(parquet.read_bytes()[: parquet.stat().st_size // 2])
    elif damage == "empty":
        parquet.write_bytes(b"")
    elif damage == "deleted":
        parquet.unlink()
    else:
        read_run(complete)[1].head(12).to_parquet(parquet, index=False)
    problem = {"truncated": "evaluations.parquet cannot be read", "empty": "evaluations.parquet cannot be read", "deleted": "evaluations.parquet is missing",
               "fewer rows": "evaluations.parquet holds 12 rows, the metadata records 30"}[damage]
    _refused(root, folder, "metadata says complete but " + problem, "no intact evaluations.jsonl with all 30 rows")


def _with_rows_left_over(complete: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A complete run that crashed before removing its .jsonl, whose parquet was then truncated."""
    root, folder = _copy(complete, tmp_path)
    rows = read_run(complete)[1]
    lines = [json.dumps({k: (None if pd.isna(v) else v) for k, v in r.items()}) for r in rows.to_dict("records")]
    (folder / "evaluations.jsonl").write_text("\n".join(lines) + "\n")
    parquet = folder / "evaluations.parquet"
    parquet.write_bytes(parquet.read_bytes()[:100])
    return root, folder


def test_a_damaged_parquet_is_rebuilt_from_intact_rows(complete: Path, tmp_path: Path) -> None:
    root, folder = _with_rows_left_over(complete, tmp_path)
    assert run_state(SPEC, root, make_task(SPEC.task)) == ("repair", 30)
    assert execute(SPEC, root) == folder
    assert not (folder / "evaluations.jsonl").exists()
    metadata, rows = read_run(folder)
    pd.testing.assert_frame_equal(rows, read_run(complete)[1])
    assert metadata == read_run(complete)[0]  # repaired, not run again
    assert run_state(SPEC, root, make_task(SPEC.task)) == ("complete", 30)


@pytest.mark.parametrize("damage", ["torn last line", "a row missing", "a damaged middle line"])
def test_a_damaged_parquet_is_refused_when_its_rows_are_not_intact_and_complete(
    complete: Path, tmp_path: Path, damage: str,
) -> None:
    root, folder = _with_rows_left_over(complete, tmp_path)
    rows = folder / "evaluations.jsonl"
    lines = rows.read_text().splitlines()
    if damage == "torn last line":
        rows.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:30])
    elif damage == "a row missing":
        rows.write_text("\n".join(lines[:-1]) + "\n")
    else:
        lines[5] = lines[5][:30]
        rows.write_text("\n".join(lines) + "\n")
    _refused(root, folder, "cannot be read", "no intact evaluations.jsonl with all 30 rows")


def test_a_running_run_whose_rows_are_gone_but_whose_parquet_remains_is_refused(
    complete: Path, tmp_path: Path,
) -> None:
    root, folder = _copy(complete, tmp_path)
    metadata = json.loads((folder / "metadata.json").read_text())
    (folder / "metadata.json").write_text(json.dumps({**metadata, "status": "running"}))
    _refused(root, folder, "a running run with evaluations.parquet but no evaluations.jsonl")


def test_a_complete_run_of_an_older_version_without_a_row_count_is_checked_as_far_as_it_can_be(
    complete: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    root, folder = _copy(complete, tmp_path)
    metadata = json.loads((folder / "metadata.json").read_text())
    del metadata["n_evaluations"]
    (folder / "metadata.json").write_text(json.dumps(metadata))
    with caplog.at_level("WARNING", logger="suite.lifecycle"):
        assert run_state(SPEC, root, make_task(SPEC.task))[0] == "complete"
    assert "records no row count" in caplog.text and "only checked that evaluations.parquet reads" in caplog.text
    parquet = folder / "evaluations.parquet"
    parquet.write_bytes(parquet.read_bytes()[:50])
    _refused(root, folder, "cannot be read", "no recorded row count to rebuild it against")


def test_a_complete_run_with_no_rows_records_its_row_count(tmp_path: Path) -> None:
    # a time budget shorter than every evaluation: complete with 0 rows, and the count 0 is written, not left out
    spec = RunSpec("random_search", "fcnet-naval", 0, Budget(seconds=0.001), experiment="e")
    folder = execute(spec, tmp_path)
    metadata, rows = read_run(folder)
    assert metadata["status"] == "complete" and metadata["n_evaluations"] == 0 and rows.empty
    assert run_state(spec, tmp_path, make_task(spec.task)) == ("complete", 0)


@pytest.mark.slow
def test_the_suite_reports_damaged_folders_and_exits_nonzero_instead_of_skipping_them(tmp_path: Path) -> None:
    # as a user meets it: a suite run, two of its folders damaged, the same command again
    command = [sys.executable, str(ROOT / "run_suite.py"), "--baselines", "random_search", "--tasks", "fcnet-naval",
               "--seeds", "3", "--budget", "30", "--budget-seconds", "100000", "--experiment", "e",
               "--results", str(tmp_path / "results"), "--dask-workers", "1", "--no-plot", "--quiet"]
    first = subprocess.run(command, env=environment(), cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert first.returncode == 0, first.stderr
    assert "budget: 30 evaluations or 100000 s of the run's clock per run, whichever comes first" in first.stdout
    folders = [run_folder(tmp_path / "results", "e", "fcnet-naval", "random_search", s) for s in range(3)]
    parquet = folders[0] / "evaluations.parquet"
    parquet.write_bytes(parquet.read_bytes()[:200])
    (folders[1] / "metadata.json").unlink()
    before = [_files(f) for f in folders]
    again = subprocess.run(command, env=environment(), cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert again.returncode == 1 and "1 runs were already complete (skipped)" in again.stdout, again.stdout
    refused = [line for line in again.stderr.splitlines() if FIX in line]
    assert len(refused) == 2 and "Traceback" not in again.stderr
    assert str(folders[0]) in refused[0] and "evaluations.parquet cannot be read" in refused[0]
    assert str(folders[1]) in refused[1] and "no metadata.json" in refused[1]
    assert [_files(f) for f in folders] == before
