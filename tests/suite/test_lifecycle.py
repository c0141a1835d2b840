"""The run folder's life: a partial run resumes to the rows of an uninterrupted run; a folder of another
run, complete or partial, is refused; one writer at a time."""

from __future__ import annotations

import json
import platform
import shutil
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from cluster_toy_task import ToyLiveTask

from baselines import BASELINES
from baselines.random_search import RandomSearch
from suite.lifecycle import execute, run_lock, run_state
from suite.loops import run_wall
from suite.metadata import numpy_simd
from suite.results_format import ResultsError, read_run
from suite.spec import Budget, RunSpec
from tasks import make_task

SPEC = RunSpec("random_search", "fcnet-naval", 3, Budget(evaluations=60), n_workers=3, experiment="e")


def _partial_copy(complete: Path, target: Path, keep: int, torn: bool = True) -> None:
    """The folder a crash leaves: status running, the first ``keep`` rows, a half-written row."""
    metadata, rows = read_run(complete)
    target.mkdir(parents=True)
    (target / "metadata.json").write_text(json.dumps({**metadata, "status": "running"}))
    lines = [json.dumps({k: (None if pd.isna(v) else v) for k, v in r.items()}) for r in rows.to_dict("records")]
    text = "\n".join(lines[:keep]) + "\n" + (lines[keep][: len(lines[keep]) // 2] if torn else "")
    (target / "evaluations.jsonl").write_text(text)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return execute(SPEC, tmp_path_factory.mktemp("reference"))


@pytest.mark.parametrize("keep", [1, 17, 59])
def test_a_partial_tabular_run_resumes_to_the_rows_of_an_uninterrupted_run(
    reference: Path, tmp_path: Path, keep: int,
) -> None:
    # with three virtual workers, two trials were pending (asked, unfinished) at the crash: the resumed
    # run must ask and finish them exactly as the uninterrupted run did
    folder = tmp_path / "e" / "fcnet-naval" / "random_search" / "3"
    _partial_copy(reference, folder, keep)
    assert run_state(SPEC, tmp_path, make_task(SPEC.task)) == ("partial", keep)
    assert execute(SPEC, tmp_path) == folder
    metadata, rows = read_run(folder)
    pd.testing.assert_frame_equal(rows, read_run(reference)[1])
    assert metadata["status"] == "complete" and metadata["resumed"][0]["rows"] == keep
    assert "restarted" not in metadata["resumed"][0]
    # where it went on, which another CPU could make other trials of (docs/results.md, "Same seed, same trials")
    assert metadata["resumed"][0]["device"]["node"] == platform.node()
    assert metadata["resumed"][0]["device"]["numpy_simd"] == list(numpy_simd())


def test_a_baseline_that_asks_other_trials_makes_the_run_start_over(reference: Path, tmp_path: Path) -> None:
    folder = tmp_path / "e" / "fcnet-naval" / "random_search" / "3"
    _partial_copy(reference, folder, 10, torn=False)
    lines = (folder / "evaluations.jsonl").read_text().splitlines()
    row = json.loads(lines[4])
    row["config"] = json.dumps({**json.loads(row["config"]), "n_units_1": 1})  # not what seed 3 asks
    lines[4] = json.dumps(row)
    (folder / "evaluations.jsonl").write_text("\n".join(lines) + "\n")
    execute(SPEC, tmp_path)
    metadata, rows = read_run(folder)
    pd.testing.assert_frame_equal(rows, read_run(reference)[1])
    assert "trial" in metadata["resumed"][0]["restarted"]


def test_a_folder_of_another_run_or_format_or_with_a_damaged_row_is_refused(
    reference: Path, tmp_path: Path,
) -> None:
    folder = tmp_path / "e" / "fcnet-naval" / "random_search" / "3"
    _partial_copy(reference, folder, 10, torn=False)
    other_budget = RunSpec("random_search", "fcnet-naval", 3, Budget(evaluations=70), n_workers=3, experiment="e")
    with pytest.raises(ResultsError, match="budget"):
        execute(other_budget, tmp_path)
    lines = (folder / "evaluations.jsonl").read_text().splitlines()
    lines[3] = lines[3][:20]
    (folder / "evaluations.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(ResultsError, match="line 4 is damaged"):
        execute(SPEC, tmp_path)
    metadata = json.loads((folder / "metadata.json").read_text())
    (folder / "metadata.json").write_text(json.dumps({**metadata, "format_version": 99}))
    with pytest.raises(ResultsError, match="result format 99"):
        run_state(SPEC, tmp_path, make_task(SPEC.task))
    # a complete folder of another run is an error too, not a silent skip
    with pytest.raises(ResultsError, match="budget"):
        run_state(other_budget, reference.parents[3], make_task(SPEC.task))


@pytest.mark.parametrize("status", ["complete", "partial"])
@pytest.mark.parametrize(("key", "change", "named"), [
    ("version", "0-older", "task version"),
    ("data_hash", "0" * 64, "data hash"),
])
def test_a_folder_made_with_another_task_version_or_data_is_refused_whether_complete_or_partial(
    reference: Path, tmp_path: Path, status: str, key: str, change: str, named: str,
) -> None:
    # refused, not re-run: its rows are results made with other data, only the user may discard them
    folder = tmp_path / "e" / "fcnet-naval" / "random_search" / "3"
    if status == "complete":
        shutil.copytree(reference, folder)
    else:
        _partial_copy(reference, folder, 10)
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata["task"][key] = change
    (folder / "metadata.json").write_text(json.dumps(metadata))
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.name != ".lock"}
    with pytest.raises(ResultsError, match=f"holds a run with {named} '{change}', this suite asks"):
        run_state(SPEC, tmp_path, make_task(SPEC.task))
    with pytest.raises(ResultsError, match=f"{named} '{change}'"):
        execute(SPEC, tmp_path)
    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.name != ".lock"}
    assert after == before  # nothing written: not resumed, not restarted


def test_a_complete_folder_of_the_same_run_is_skipped_and_a_partial_one_resumed(reference: Path) -> None:
    task = make_task(SPEC.task)
    assert run_state(SPEC, reference.parents[3], task) == ("complete", 60)
    other_seed = RunSpec("random_search", "fcnet-naval", 4, SPEC.budget, n_workers=3, experiment="e")
    assert run_state(other_seed, reference.parents[3], task) == ("new", 0)


def test_a_wall_clock_run_resumes_by_telling_its_recorded_rows(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BOB_TOY_WORK_S", "0.01")
    task = ToyLiveTask()
    first: list[dict] = []
    run_wall(RandomSearch(task.space, task.objectives, None, 0), task, 0, Budget(evaluations=4), 2, first.append)
    told = []

    class Recording(RandomSearch):
        def observe(self, trial, result, values, replayed) -> None:  # type: ignore[no-untyped-def]
            told.append((trial.id, result.status, result.objectives))
            super().observe(trial, result, values, replayed)

    resumed: list[dict] = []
    baseline = Recording(task.space, task.objectives, None, 0)
    recorded = run_wall(baseline, task, 0, Budget(evaluations=7), 2, resumed.append, replay=first)
    assert recorded == 7 and len(resumed) == 3
    assert [t[0] for t in told[:4]] == [r["trial_id"] for r in first]
    ok = [r for r in first if r["status"] == "ok"]
    assert all(told[i][2]["f1"] == r["objective.f1"] for i, r in enumerate(first) if r in ok)
    assert {r["trial_id"] for r in resumed}.isdisjoint(r["trial_id"] for r in first)  # ids stay unique
    assert min(r["start"] for r in resumed) >= max(r["end"] for r in first)  # the clock goes on


def test_the_run_lock_makes_a_second_writer_wait(tmp_path: Path) -> None:
    events: list[str] = []
    holding, told = threading.Event(), threading.Event()

    def first() -> None:
        with run_lock(tmp_path):
            holding.set()
            # held until the second writer has found it busy (not for a fixed time, which a loaded machine can
            # outlast before the second even asks), then a while longer, in which a lock that let it in would show
            told.wait(60)
            time.sleep(0.3)
            events.append("first done")

    def waiting(holder: str) -> None:
        events.append(f"waited for {holder}")
        told.set()

    thread = threading.Thread(target=first)
    thread.start()
    assert holding.wait(60)
    with run_lock(tmp_path, on_wait=waiting):
        events.append("second has it")
        told.set()  # a lock that let the second in at once fails the test now, not after the first's 60 s wait
    thread.join(60)
    assert events[0].startswith("waited for ") and events[1:] == ["first done", "second has it"]


@pytest.mark.slow
@pytest.mark.parametrize("baseline", [pytest.param(n, marks=pytest.mark.heavy) if BASELINES.get(n).heavy else n
                                      for n in BASELINES.names()])
def test_every_registered_baseline_resumes_exactly(baseline: str, tmp_path: Path) -> None:
    # exact resume needs a baseline that asks the same trials when told the same results: check them all
    spec = RunSpec(baseline, "hpobench-mlp-vehicle", 1, Budget(evaluations=20), n_workers=2, experiment="e")
    reference = execute(spec, tmp_path / "reference")
    folder = tmp_path / "resumed" / "e" / "hpobench-mlp-vehicle" / baseline / "1"
    _partial_copy(reference, folder, 9)
    execute(spec, tmp_path / "resumed")
    metadata, rows = read_run(folder)
    assert "restarted" not in metadata["resumed"][0], metadata["resumed"]
    pd.testing.assert_frame_equal(rows, read_run(reference)[1])


def test_a_partial_run_whose_options_in_force_have_changed_is_refused(reference: Path, tmp_path: Path) -> None:
    # a default of the baseline changed between the crash and the resume (NSGA-II's population did in 0.3):
    # resuming would append rows of one setting to rows of another
    folder = tmp_path / "e" / "fcnet-naval" / "random_search" / "3"
    _partial_copy(reference, folder, 10, torn=False)
    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata["baseline"]["options"]["sampler"] == "levels"
    metadata["baseline"]["options"]["sampler"] = "configspace"  # what an older default would have recorded
    (folder / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ResultsError, match="options .* in force.*--fresh"):
        execute(SPEC, tmp_path)
