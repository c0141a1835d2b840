"""Live runs start as the workers present allow: the workers are read again while the suite runs, so the
workers of a batch cluster that join minutes after the start let more runs run side by side."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Callable

import pytest
from dask_processes import dask_processes
from distributed import Client, LocalCluster

from suite.dispatch import LiveAdmission, RunOutcome, run_grid
from suite.results_format import read_run
from suite.spec import Budget, RunSpec
from tasks.registry import Registry


def _live(seed: int, n_workers: int = 1, evaluations: int = 10) -> RunSpec:
    return RunSpec("random_search", "toy-live", seed, Budget(evaluations=evaluations), n_workers=n_workers,
                   resources={"GPU": 1}, experiment="joins")


def _until(condition: Callable[[], bool], what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout_s} s for {what}")
        time.sleep(0.05)


def test_admission_follows_the_workers_present_and_never_promises_a_gpu_twice() -> None:
    with LocalCluster(n_workers=0, processes=False, threads_per_worker=1, resources={"GPU": 1},
                      dashboard_address=None) as cluster, Client(cluster) as client:
        admission = LiveAdmission(client)
        waiting = [(seed, _live(seed)) for seed in range(3)]
        assert admission.admit(waiting) == []
        assert admission.waiting_for == ("live runs waiting for free workers: 3; the next needs 1 GPU; "
                                         "free now 0 GPU of 0 GPU present")
        cluster.scale(2)
        client.wait_for_workers(2, timeout=30)
        assert admission.admit(waiting) == [0, 1]
        assert admission.waiting_for == ("live runs waiting for free workers: 1; the next needs 1 GPU; "
                                         "free now 0 GPU of 2 GPU present")
        assert admission.admit(waiting[2:]) == []  # both GPUs are held by the runs started
        admission.release(1)
        assert admission.admit(waiting[2:]) == [2] and admission.waiting_for is None
        # a run of 4 evaluations at once on a 2-GPU cluster starts alone, never next to another run
        admission = LiveAdmission(client)
        big = [(seed, _live(seed, n_workers=4)) for seed in range(2)]
        assert admission.admit(big) == [0]
        assert admission.waiting_for is not None and "the next needs 4 GPU; free now 0 GPU of 2 GPU" in admission.waiting_for
        admission.release(0)
        assert admission.admit(big[1:]) == [1]
        # without resources an evaluation holds a worker thread
        threads = LiveAdmission(client)
        plain = [(seed, RunSpec("random_search", "toy-live", seed, Budget(evaluations=1))) for seed in range(3)]
        assert threads.admit(plain) == [0, 1]
        assert threads.waiting_for is not None and "needs 1 worker threads" in threads.waiting_for


def _intervals(rows_info: list[str]) -> list[tuple[float, float]]:
    """(began, ended) epoch seconds of the evaluations that ran to their end on a worker (the rows' start
    and end count from each run's own start, so runs are compared on the worker's clock)."""
    infos = [json.loads(i) for i in rows_info]
    return [(i["began"], i["ended"]) for i in infos if "began" in i]


def _most_at_once(intervals: list[tuple[float, float]]) -> tuple[int, float | None]:
    """The most intervals open at one instant, and the first instant when two were open (None: never)."""
    events = sorted([(b, 1) for b, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda e: (e[0], e[1]))
    open_now, most, first_two = 0, 0, None
    for at, step in events:
        open_now += step
        most = max(most, open_now)
        if open_now >= 2 and first_two is None:
            first_two = at
    return most, first_two


@pytest.mark.slow
def test_live_runs_start_as_gpu_workers_join_and_overlap_once_two_are_present(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("BOB_TOY_WORK_S", "0.25")
    monkeypatch.setenv("BOB_TOY_HANG_S", "0.25")
    Registry.load_module("cluster_toy_plugin")
    caplog.set_level(logging.INFO, logger="suite")
    specs = [_live(seed) for seed in range(4)]
    root = tmp_path / "results"
    outcomes: list[RunOutcome] = []
    # the suite starts with one worker that offers no GPU: its live runs must wait, not start and queue
    with dask_processes(tmp_path / "dask", {"cpu": []}) as dask, Client(dask.address, timeout="30s") as client:
        suite = threading.Thread(target=lambda: outcomes.extend(  # daemon: a failed test does not wait for it
            run_grid(client, specs, root, ("cluster_toy_plugin",), progress=False)), daemon=True)
        suite.start()
        _until(lambda: "live runs waiting for free workers: 4; the next needs 1 GPU; free now 0 GPU of 0 GPU present"
               in caplog.text, "the suite to say that its live runs wait")
        assert not list(root.rglob("evaluations.*"))
        dask.add_worker("gpu1", ["--resources", "GPU=1"])
        client.wait_for_workers(2, timeout=60)
        # the second GPU worker only once the suite has seen the first alone (one run started, the others wait): the
        # suite looks at the workers once a second, and a second worker joining sooner (a worker starts in about a
        # second) would make the two GPUs appear at once
        _until(lambda: "free now 0 GPU of 1 GPU present" in caplog.text, "the suite to start one run on one GPU")
        second_started = time.time()
        dask.add_worker("gpu2", ["--resources", "GPU=1"])
        suite.join(timeout=120)
    assert not suite.is_alive()
    assert [o.error for o in outcomes] == [None] * 4
    runs = [read_run(o.folder)[1] for o in outcomes if o.folder is not None]
    assert [len(rows) for rows in runs] == [10] * 4
    evaluations = [_intervals(list(rows["info"])) for rows in runs]
    most, first_two = _most_at_once([i for run in evaluations for i in run])
    # two evaluations ran at once, and only after the second GPU worker was started
    assert most == 2 and first_two is not None and first_two >= second_started, (most, first_two, second_started)
    # runs overlap (two at most: a third would share a GPU and its clock would count the waits)
    assert _most_at_once([(min(b for b, _ in run), max(e for _, e in run)) for run in evaluations])[0] == 2
