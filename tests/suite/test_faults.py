"""Faults a suite survives, with real processes: evaluations that raise, return NaN or hang; a Dask
worker killed with SIGKILL mid-suite or mid-evaluation; the suite itself killed with SIGKILL mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from distributed import Client
from cluster_toy_task import ToyLiveTask
from dask_processes import ROOT, dask_processes, environment

from baselines.base import Baseline, Proposal
from suite.lifecycle import execute
from suite.loops import run_wall
from suite.results_format import read_run
from suite.spec import Budget, RunSpec
from tasks.base import Result, Trial


class Scripted(Baseline):
    """Asks the behaviours of a fixed list, in order."""

    def __init__(self, behaviours: list[str]) -> None:
        task = ToyLiveTask()
        super().__init__(task.space, task.objectives, None, seed=0)
        self._behaviours = list(behaviours)

    def propose(self, trial_id: int) -> Proposal:
        return Proposal({"behaviour": self._behaviours.pop(0), "x": 0.25})

    def observe(self, trial: Trial, result: Result, values: np.ndarray | None, replayed: bool) -> None:
        pass


def test_raise_nan_and_timeout_are_recorded_and_the_run_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    # the hang (4 s) far outlasts the run (about 0.5 s: the timeout and five short evaluations), so that a loaded
    # machine's slower run stays clear of the hang it must not wait for
    monkeypatch.setenv("BOB_TOY_HANG_S", "4")
    monkeypatch.setenv("BOB_TOY_WORK_S", "0.02")
    behaviours = ["ok", "raise", "hang", "nan", "ok", "ok"]
    rows: list[dict] = []
    started = time.perf_counter()
    run_wall(Scripted(behaviours), ToyLiveTask(), 0, Budget(evaluations=6), 2, rows.append, eval_timeout_s=0.5)
    elapsed = time.perf_counter() - started
    by_id = {r["trial_id"]: r for r in rows}
    assert [by_id[i]["status"] for i in range(6)] == ["ok", "failed", "timeout", "failed", "ok", "ok"]
    assert "RuntimeError: toy evaluation diverged" in by_id[1]["reason"]
    assert "f2" in by_id[3]["reason"] and by_id[3]["objective.f2"] is None
    assert "eval_timeout_s=0.5" in by_id[2]["reason"] and 0.5 <= by_id[2]["cost_s"] < 1.5
    assert elapsed < 3.5  # the hung thread did not hold the run back


def _rows_by_run(root: Path) -> dict[str, pd.DataFrame]:
    return {str(folder.relative_to(root)): read_run(folder)[1] for folder in sorted(root.glob("e/*/*/*"))}


def _reference(specs: list[RunSpec], root: Path) -> dict[str, pd.DataFrame]:
    for spec in specs:
        execute(spec, root)
    return _rows_by_run(root)


def _lines(path: Path) -> int:
    """The rows a run has written so far; 0 before it begins and once it is complete (its .jsonl compacted away,
    possibly between a look at the folder and the read)."""
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def _wait_for_rows(root: Path, at_least: int, timeout: float = 120) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in root.glob("e/*/*/*/evaluations.jsonl"):
            if _lines(path) >= at_least:
                return path.parent
        time.sleep(0.05)
    raise AssertionError(f"no run under {root} reached {at_least} rows")


def _worker_in_the_middle_of_a_run(client: Client, root: Path, budget: int) -> tuple[str, Path]:
    """The address of a worker that is running a tabular run with some rows written, and that run's folder."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for address, keys in client.processing().items():
            for key in keys:  # run-<experiment>-<task>-<baseline>-<seed>
                folder = root / "e" / "fcnet-naval" / "random_search" / str(key).rsplit("-", 1)[1]
                if 30 <= _lines(folder / "evaluations.jsonl") < budget // 2:
                    return address, folder
        time.sleep(0.02)
    raise AssertionError("no worker was seen in the middle of a run")


def _suite(*args: str, root: Path) -> list[str]:
    return [sys.executable, str(ROOT / "run_suite.py"), "--baselines", "random_search", "--tasks", "fcnet-naval",
            "--experiment", "e", "--results", str(root), "--workers", "2", "--no-plot", "--quiet", *args]


@pytest.mark.slow
def test_a_worker_killed_mid_suite_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    budget = 20_000  # rows take ~0.1 ms each: a run must outlast the 50 ms between looks at its rows
    specs = [RunSpec("random_search", "fcnet-naval", s, Budget(evaluations=budget), n_workers=2, experiment="e")
             for s in range(3)]
    expected = _reference(specs, tmp_path / "reference")
    root = tmp_path / "results"
    with dask_processes(tmp_path / "dask", {"a": [], "b": []}) as dask:
        suite = subprocess.Popen(_suite("--seeds", "3", "--budget", str(budget), "--scheduler",
                                        str(dask.scheduler_file), root=root),
                                 env=environment(), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            with Client(scheduler_file=str(dask.scheduler_file), timeout="10s") as client:
                pids = client.run(os.getpid)
                victim, victim_folder = _worker_in_the_middle_of_a_run(client, root, budget)
                os.kill(pids[victim], signal.SIGKILL)
            killed_at = victim_folder.joinpath("evaluations.jsonl").read_bytes().count(b"\n")
            out, err = suite.communicate(timeout=240)
        finally:
            suite.kill()
    assert suite.returncode == 0, err.decode()
    got = _rows_by_run(root)
    assert got.keys() == expected.keys()
    for name, rows in got.items():
        assert len(rows) == budget and rows["trial_id"].is_unique
        pd.testing.assert_frame_equal(rows, expected[name])
    metadata = json.loads((victim_folder / "metadata.json").read_text())
    assert killed_at < budget and metadata["resumed"][0]["rows"] >= killed_at - 1  # the run was resumed


@pytest.mark.slow
def test_the_suite_killed_mid_run_resumes_to_the_results_of_an_uninterrupted_run(tmp_path: Path) -> None:
    budget = 20_000  # rows take ~0.1 ms each: a run must outlast the 50 ms between looks at its rows
    specs = [RunSpec("random_search", "fcnet-naval", s, Budget(evaluations=budget), n_workers=2, experiment="e")
             for s in range(2)]
    expected = _reference(specs, tmp_path / "reference")
    root = tmp_path / "results"
    command = _suite("--seeds", "2", "--budget", str(budget), "--dask-workers", "1", root=root)
    suite = subprocess.Popen(command, env=environment(), cwd=tmp_path, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        folder = _wait_for_rows(root, 100)
    finally:
        os.killpg(suite.pid, signal.SIGKILL)  # the suite, its scheduler and its worker, as a batch job dies
        suite.wait()
    killed_at = folder.joinpath("evaluations.jsonl").read_bytes().count(b"\n")
    assert json.loads((folder / "metadata.json").read_text())["status"] == "running" and killed_at < budget
    again = subprocess.run(command, env=environment(), cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert again.returncode == 0, again.stderr
    assert "partial runs resumed" in again.stdout
    got = _rows_by_run(root)
    assert got.keys() == expected.keys()
    for name, rows in got.items():
        pd.testing.assert_frame_equal(rows, expected[name])
    assert json.loads((folder / "metadata.json").read_text())["resumed"][0]["rows"] >= killed_at - 1


@pytest.mark.slow
def test_a_worker_killed_during_a_live_evaluation_loses_and_duplicates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from suite import evaluators
    from suite.evaluators import DaskEvaluator

    monkeypatch.setenv("BOB_TOY_HANG_S", "3")  # a long evaluation to kill a worker in the middle of
    behaviours = ["hang", "ok", "ok", "ok", "ok", "ok"]
    rows: list[dict] = []
    with dask_processes(tmp_path / "dask", {"a": [], "b": []}) as dask, \
            Client(scheduler_file=str(dask.scheduler_file), timeout="10s") as client:
        pids = client.run(os.getpid)
        evaluator = DaskEvaluator(client, ToyLiveTask(), ("cluster_toy_plugin",))
        loop = threading.Thread(target=run_wall, args=(Scripted(behaviours), ToyLiveTask(), 0,
                                                       Budget(evaluations=6), 2, rows.append, evaluator))
        loop.start()
        # the worker running the long evaluation (trial 0, the first submitted), once it has begun there: found by
        # its key, not guessed after a fixed wait that a loaded machine could stretch past the evaluation's end
        victim, deadline = None, time.monotonic() + 60
        while victim is None and time.monotonic() < deadline:
            hang_key = evaluator._all_keys[0] if evaluator._all_keys else None
            if hang_key in evaluators._STARTED:
                victim = next((a for a, keys in client.processing().items() if hang_key in map(str, keys)), None)
            time.sleep(0.02)
        assert victim is not None, "the long evaluation was never seen running on a worker"
        os.kill(pids[victim], signal.SIGKILL)
        loop.join(timeout=120)
        assert not loop.is_alive()
    by_id = {r["trial_id"]: r for r in rows}
    assert sorted(by_id) == list(range(6)) and len(rows) == 6  # nothing lost, nothing twice
    assert all(r["status"] == "ok" for r in rows), [r["reason"] for r in rows]
    assert json.loads(by_id[0]["info"])["where"] != victim  # evaluated again, on the surviving worker


class _ToyOnOtherHardware(ToyLiveTask):
    """The toy task as the client would describe it on other hardware than the workers'."""

    def describe(self) -> dict:
        return {**super().describe(), "device": "cuda (a GPU the workers do not have)"}


@pytest.mark.slow
def test_a_worker_whose_task_differs_from_the_runs_refuses_to_evaluate(tmp_path: Path) -> None:
    from suite.evaluators import DaskEvaluator
    from tasks.base import TaskDataError

    trial = Trial(id=0, config={"behaviour": "ok", "x": 0.25}, fidelity=None)
    with dask_processes(tmp_path / "dask", {"a": []}) as dask, \
            Client(scheduler_file=str(dask.scheduler_file), timeout="10s") as client:
        same = DaskEvaluator(client, ToyLiveTask(), ("cluster_toy_plugin",))
        assert same.submit(trial, 0).result(timeout=60).objectives["f1"] == 0.25
        other = DaskEvaluator(client, _ToyOnOtherHardware(), ("cluster_toy_plugin",))
        with pytest.raises(TaskDataError, match=r"device None \(the run has 'cuda \(a GPU"):
            other.submit(trial, 0).result(timeout=60)
        same.close()
        other.close()
