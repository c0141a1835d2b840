"""Tabular runs go to the workers longest first, as learned from the suite's own finished runs, and the log says
where and how long each ran (what benchmarks/default_job.py reads)."""

from __future__ import annotations

import logging
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

import pytest
from distributed import Client

from suite.dispatch import HeaviestFirst, local_cluster, run_grid
from suite.spec import Budget, RunSpec

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import default_job  # noqa: E402  (benchmarks/ is a folder of scripts, not a package)


def _spec(label: str, task: str = "t", seed: int = 0) -> RunSpec:
    return RunSpec(label, task, seed, Budget(evaluations=10))


def _labels(order: HeaviestFirst, count: int) -> list[str]:
    return [f"{spec.baseline}/{spec.task}/{spec.seed}" for _, spec in (order.pop() for _ in range(count))]


def test_each_label_is_measured_once_first_then_the_longest_expected_runs_go_first() -> None:
    grid = [_spec(label, task, seed) for task in ("t1", "t2") for label in ("a", "b", "c") for seed in (0, 1)]
    order = HeaviestFirst(list(enumerate(grid)))
    # nothing known: one run of each label, in the grid's order, then the grid's order while all are running
    assert _labels(order, 4) == ["a/t1/0", "b/t1/0", "c/t1/0", "a/t1/1"]
    order.finished(grid[0], 1.0)
    order.finished(grid[2], 5.0)
    order.finished(grid[4], 0.1)
    # b measured longest, then a (its second run still running counts as running, not unknown), then c
    assert _labels(order, 8) == ["b/t1/1", "b/t2/0", "b/t2/1", "a/t2/0", "a/t2/1", "c/t1/1", "c/t2/0", "c/t2/1"]
    assert len(order) == 0
    with pytest.raises(IndexError):
        order.pop()


def test_a_label_measured_on_a_task_is_expected_to_take_that_long_there() -> None:
    grid = [_spec("x", "t1", 0), _spec("x", "t2", 0), _spec("x", "t1", 1), _spec("x", "t2", 1), _spec("y", "t1", 0),
            _spec("y", "t1", 1)]
    order = HeaviestFirst(list(enumerate(grid)))
    assert _labels(order, 2) == ["x/t1/0", "y/t1/0"]
    order.finished(grid[0], 1.0)
    order.finished(grid[4], 5.0)
    assert _labels(order, 2) == ["y/t1/1", "x/t2/0"]  # x on t2: unmeasured there, so x's shortest run (1 s)
    order.finished(grid[1], 10.0)
    assert _labels(order, 2) == ["x/t2/1", "x/t1/1"]


def test_a_label_is_expected_to_take_its_shortest_run_not_a_first_run_that_also_imported_its_library() -> None:
    grid = [_spec("z", seed=s) for s in range(3)] + [_spec("w", seed=s) for s in range(2)]
    order = HeaviestFirst(list(enumerate(grid)))
    assert _labels(order, 2) == ["z/t/0", "w/t/0"]
    order.finished(grid[0], 10.0)
    order.finished(grid[3], 5.0)
    assert _labels(order, 1) == ["z/t/1"]
    order.finished(grid[1], 1.0)
    assert _labels(order, 2) == ["w/t/1", "z/t/2"]


def test_a_failed_run_teaches_nothing_and_its_label_is_measured_again() -> None:
    grid = [_spec("slow", seed=s) for s in range(2)] + [_spec("fast", seed=s) for s in range(2)]
    order = HeaviestFirst(list(enumerate(grid)))
    assert _labels(order, 2) == ["slow/t/0", "fast/t/0"]
    order.finished(grid[0], None)  # failed: no time learned, and no longer running
    order.finished(grid[2], 0.5)
    assert _labels(order, 2) == ["slow/t/1", "fast/t/1"]


def test_the_log_names_each_runs_worker_and_seconds_as_the_benchmark_reads_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="suite")
    specs = [RunSpec("random_search", "fcnet-naval", seed, Budget(evaluations=5)) for seed in range(3)]
    with local_cluster(1) as cluster, Client(cluster) as client:
        outcomes = run_grid(client, specs, tmp_path, progress=False)
        address = next(iter(client.scheduler_info()["workers"]))
    assert [o.spec for o in outcomes] == specs and all(o.error is None for o in outcomes)
    lines = [record.getMessage() for record in caplog.records if record.getMessage().startswith("finished")]
    found = [default_job._FINISHED.match(f"2026-01-01 00:00:00,000 INFO {line}") for line in lines]
    assert len(found) == 3 and all(match is not None and match[4] == address for match in found), lines
    folders = {match[2] for match in found if match is not None}
    assert folders == {str(o.folder) for o in outcomes}
    seconds = [float(match[5]) for match in found if match is not None]
    began = [default_job._epoch(match[6]) for match in found if match is not None]
    # one worker thread: its runs follow one another, each beginning after the one before ended (in the order they
    # began: two runs that end close together are found finished at one look and logged in either order)
    runs = sorted(zip(began, seconds))
    assert all(later >= earlier + took - 0.002 for (earlier, took), (later, _) in zip(runs, runs[1:])), lines
    assert all(re.fullmatch(r"\d+\.\d{3}", match[5]) for match in found if match is not None)


class _SlowTeardown:
    """Held by a worker process's ``builtins`` until the interpreter's teardown, which it slows down by 30 s."""

    def __del__(self) -> None:
        time.sleep(30)


def _hold_slow_teardown() -> tuple[int, str]:
    import builtins
    import tempfile

    builtins._bob_slow_teardown = _SlowTeardown()  # type: ignore[attr-defined]
    # removed by its weakref finalizer's exit handler, which must still run (as a ParEGO's SMAC folder's does)
    builtins._bob_folder = tempfile.TemporaryDirectory(prefix="bob-teardown-")  # type: ignore[attr-defined]
    return os.getpid(), builtins._bob_folder.name  # type: ignore[attr-defined]


@pytest.mark.slow
def test_a_local_worker_process_ends_at_once_when_closed_without_the_interpreters_teardown() -> None:
    cluster = local_cluster(2)
    with Client(cluster) as client:
        held = list(client.run(_hold_slow_teardown).values())
    assert len({pid for pid, _ in held}) == 2 and all(Path(folder).is_dir() for _, folder in held)
    processes = [worker.process.process for worker in cluster.workers.values()]
    started = time.perf_counter()
    cluster.close()
    # the nanny would have killed a process still in its teardown after 4 s, with exit code -9
    assert [process.exitcode for process in processes] == [0, 0]
    assert time.perf_counter() - started < 4.0
    assert not any(Path(folder).exists() for _, folder in held)  # the other exit handlers ran


def _reference_pop(waiting: list[tuple[int, RunSpec]], running: dict[str, int], seconds: dict[str, list[float]],
                   pair_seconds: dict[tuple[str, str], list[float]]) -> tuple[int, RunSpec]:
    """The rule as first written, one scan of every waiting run per pop: the independent reference."""
    unknown = [n for n, (_, spec) in enumerate(waiting) if spec.baseline not in seconds and not running.get(spec.baseline)]
    if unknown:
        return waiting.pop(unknown[0])

    def expected(spec: RunSpec) -> float:
        known = pair_seconds.get((spec.baseline, spec.task)) or seconds.get(spec.baseline)
        if known:
            return min(known)
        every = [min(s) for s in seconds.values()]
        return statistics.median(every) if every else 0.0

    values = [expected(spec) for _, spec in waiting]
    return waiting.pop(max(range(len(values)), key=lambda n: values[n]))


@pytest.mark.parametrize("seed", range(20))
def test_the_grouped_choice_is_the_one_a_scan_of_every_waiting_run_makes(seed: int) -> None:
    rng = random.Random(seed)
    grid = [_spec(rng.choice("abcd"), rng.choice(["t1", "t2", "t3"]), s) for s in range(rng.randint(1, 60))]
    rng.shuffle(grid)
    order, waiting = HeaviestFirst(list(enumerate(grid))), list(enumerate(grid))
    running: dict[str, int] = {}
    seconds: dict[str, list[float]] = {}
    pair_seconds: dict[tuple[str, str], list[float]] = {}
    out: list[RunSpec] = []
    while waiting or out:
        if waiting and (not out or rng.random() < 0.6):
            expected = _reference_pop(waiting, running, seconds, pair_seconds)
            assert order.pop() == expected
            running[expected[1].baseline] = running.get(expected[1].baseline, 0) + 1
            out.append(expected[1])
        else:
            spec = out.pop(rng.randrange(len(out)))
            took = None if rng.random() < 0.1 else rng.choice([0.5, 1.0, 2.0, rng.random()])  # ties on purpose
            order.finished(spec, took)
            running[spec.baseline] -= 1
            if took is not None:
                seconds.setdefault(spec.baseline, []).append(took)
                pair_seconds.setdefault((spec.baseline, spec.task), []).append(took)
        assert len(order) == len(waiting)
