"""One run = (baseline, task, seed, budget): the ask/evaluate/tell loop on a simulated or a wall clock.

Simulated clock (tabular tasks): N virtual workers; a trial started at time t ends at t + its recorded
cost; an event queue hands completions back in order of end time (ties by start order), so a run is
exactly reproducible and 100 GPU-hours replay in seconds. Wall clock (live tasks): evaluations really run,
N at once (on Dask workers, or on a local thread pool), and the times written are seconds since the run
started.

Resume (``execute`` on a folder whose run is partial): on the simulated clock the loop is replayed from
the start with the recorded rows standing in for the evaluations they record, checking that the baseline
asks the same trials again; trials that were pending at the crash are evaluated afresh, so the finished
rows equal those of an uninterrupted run. On the wall clock the recorded rows are told to a fresh baseline
in recorded order and the run goes on from the last recorded time (pending trials at the crash are lost:
they are asked anew).
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import math
import platform
import time
import traceback
from abc import ABC, abstractmethod
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from baselines import BASELINES, Baseline
from tasks import make_task
from tasks.base import Result, Task, Trial
from suite.results import (
    PARQUET, ROWS, ResultsError, RunWriter, as_json, make_row, package_versions, read_metadata, read_rows, recover_rows, run_folder,
    run_lock,
)

log = logging.getLogger(__name__)

RowSink = Callable[[dict[str, Any]], None]
Row = dict[str, Any]


@dataclass(frozen=True)
class Budget:
    """Stop asking after ``evaluations`` trials, or once the run's clock reaches ``seconds``."""

    evaluations: int | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        if self.evaluations is None and self.seconds is None:
            raise ValueError("a budget needs evaluations or seconds")
        if self.evaluations is not None and self.evaluations < 1:
            raise ValueError(f"budget evaluations must be >= 1, got {self.evaluations}")
        if self.seconds is not None and not self.seconds > 0:
            raise ValueError(f"budget seconds must be > 0, got {self.seconds}")

    def allows(self, asked: int, now: float) -> bool:
        return (self.evaluations is None or asked < self.evaluations) and (self.seconds is None or now < self.seconds)


@dataclass(frozen=True)
class RunSpec:
    """Everything that defines one run; its folder is derived from it."""

    baseline: str
    task: str
    seed: int
    budget: Budget
    n_workers: int = 1
    options: dict[str, Any] = field(default_factory=dict)
    experiment: str = "default"
    #: wall clock only: an evaluation running longer is recorded with status "timeout"
    eval_timeout_s: float | None = None
    #: wall clock only: Dask worker resources each evaluation holds, e.g. {"GPU": 1}
    resources: dict[str, float] = field(default_factory=dict)


def evaluation_seed(run_seed: int, trial_id: int) -> int:
    """The seed an evaluation gets: independent of the order in which trials finish."""
    return int(np.random.SeedSequence([run_seed, trial_id]).generate_state(1)[0])


def evaluate_safely(task: Task, trial: Trial, seed: int) -> Result:
    """Evaluate, turning an exception or a NaN objective into a failed result: a run never stops for one."""
    try:
        result = task.evaluate(trial.config, trial.fidelity, seed)
    except Exception as error:  # the task's failure is data, not a crash of the run
        reason = f"{type(error).__name__}: {error}"
        return Result.failure(reason, cost_s=0.0) if not _is_timeout(error) else Result.failure(reason, status="timeout")
    if result.status == "ok":
        missing = [n for n in task.objective_names if not math.isfinite(result.objectives.get(n, math.nan))]
        if missing:
            result.status = "failed"
            result.info.setdefault("reason", f"objective {', '.join(missing)} is NaN or missing")
    return result


def _is_timeout(error: Exception) -> bool:
    return isinstance(error, TimeoutError)


#: evaluations in a row that leave the simulated clock where it was before a time-only budget gives up
MAX_STALLED = 10_000


class ReplayMismatch(RuntimeError):
    """The baseline asked other trials than the recorded ones: it is not deterministic for its seed."""


def result_from_row(row: Row, objective_names: Sequence[str]) -> Result:
    """The Result a recorded row stands for (JSON floats round-trip exactly; null is NaN)."""

    def value(column: str) -> float:
        found = row.get(column)
        return math.nan if found is None else float(found)

    info = json.loads(row.get("info") or "{}")
    if row.get("reason"):
        info["reason"] = row["reason"]
    expected = None
    if any(f"expected.{n}" in row for n in objective_names):
        expected = {n: value(f"expected.{n}") for n in objective_names}
    objectives = {n: value(f"objective.{n}") for n in objective_names if row.get(f"objective.{n}") is not None}
    return Result(objectives=objectives, cost_s=float(row["cost_s"]), info=info, status=row["status"],
                  expected=expected)


def trial_from_row(row: Row) -> Trial:
    return Trial(id=int(row["trial_id"]), config=json.loads(row["config"]), fidelity=row.get("fidelity"))


class _Replay:
    """The recorded rows of a partial run, checked against the trials a re-run asks and finishes."""

    def __init__(self, rows: Sequence[Row], objective_names: Sequence[str]) -> None:
        self.rows = list(rows)
        self._by_id = {int(r["trial_id"]): r for r in self.rows}
        self._names = objective_names
        self.popped = 0

    def recorded_result(self, trial: Trial) -> Result | None:
        row = self._by_id.get(trial.id)
        if row is None:
            return None
        if trial_from_row(row) != trial:
            raise ReplayMismatch(f"trial {trial.id} was {row['config']} at fidelity {row.get('fidelity')}, "
                                 f"now {trial.config} at {trial.fidelity}")
        return result_from_row(row, self._names)

    def is_recorded(self, trial: Trial, start: float, end: float, worker: int) -> bool:
        """Whether this completion is one already written (then it must be the next recorded row)."""
        if self.popped >= len(self.rows):
            return False
        row = self.rows[self.popped]
        if (int(row["trial_id"]), float(row["start"]), float(row["end"]), int(row["worker"])) != \
                (trial.id, start, end, worker):
            raise ReplayMismatch(f"completion {self.popped} was trial {row['trial_id']}, now trial {trial.id}")
        self.popped += 1
        return True


def simulate(
    baseline: Baseline, task: Task, seed: int, budget: Budget, n_workers: int, sink: RowSink,
    replay: Sequence[Row] = (),
) -> int:
    """The simulated-clock loop; returns the number of evaluations recorded (``replay`` rows included).

    A trial that would end after a time budget is dropped: it did not finish within the budget.
    ``replay``: the rows of a partial run (in recorded order); they are told again but not written.
    Raises ReplayMismatch when the baseline does not ask the recorded trials again.
    """
    now = 0.0
    asked = 0
    order = 0
    free = list(range(n_workers))
    events: list[tuple[float, int, int, float, Trial, Result, int]] = []
    recorded = 0
    stalled = 0
    names = task.objective_names
    replayed = _Replay(replay, names)
    while True:
        while free and budget.allows(asked, now):
            worker = free.pop(0)
            trial = baseline.ask()
            asked += 1
            eval_seed = evaluation_seed(seed, trial.id)
            result = replayed.recorded_result(trial)
            if result is None:
                result = evaluate_safely(task, trial, eval_seed)
            heapq.heappush(events, (now + max(result.cost_s, 0.0), order, worker, now, trial, result, eval_seed))
            order += 1
        if not events:
            return recorded
        end, _, worker, start, trial, result, eval_seed = heapq.heappop(events)
        if budget.seconds is not None and end > budget.seconds:
            return recorded
        stalled = stalled + 1 if end == now and budget.evaluations is None else 0
        if stalled > MAX_STALLED:
            raise RuntimeError(
                f"the run's clock has not advanced in {MAX_STALLED} evaluations (each failed or cost 0 s), so "
                "a time budget alone cannot end the run; give an evaluation budget too"
            )
        now = end
        # the row first: a finished evaluation is on disk even if the baseline's tell raises
        if not replayed.is_recorded(trial, start, end, worker):
            sink(make_row(trial, result, names, start, end, worker, eval_seed))
        baseline.tell(trial, result)
        recorded += 1
        free.append(worker)
        free.sort()


def _future_result(future: Future[Result]) -> Result:
    try:
        return future.result()
    except Exception as error:  # a lost worker (KilledWorker), a result that cannot travel back, ...
        return Result.failure(f"{type(error).__name__}: {error}")


class Evaluator(ABC):
    """Where a wall-clock run's evaluations run: ``submit`` one, and learn when it really began.

    The timeout of an evaluation counts from ``started`` (not from ``submit``), so an evaluation
    that waits for a busy worker is not charged for the wait.
    """

    @abstractmethod
    def submit(self, trial: Trial, seed: int) -> Future[Result]: ...

    @abstractmethod
    def started(self, future: Future[Result]) -> float | None:
        """``time.perf_counter()`` when the evaluation began running; None while it still waits."""

    def close(self) -> None:
        """Release what the evaluator holds; must not wait for an evaluation that hangs."""


class ThreadEvaluator(Evaluator):
    """Evaluations on threads of this process (torch releases the GIL while it trains)."""

    #: a timed-out evaluation keeps its thread (threads cannot be killed): spares let the next one start
    SPARE_THREADS = 16

    def __init__(self, task: Task, n_workers: int) -> None:
        self._task = task
        self._pool = ThreadPoolExecutor(max_workers=n_workers + self.SPARE_THREADS, thread_name_prefix="evaluate")
        self._count = itertools.count()
        self._keys: dict[Future[Result], int] = {}
        self._started: dict[int, float] = {}

    def submit(self, trial: Trial, seed: int) -> Future[Result]:
        key = next(self._count)

        def run() -> Result:
            self._started[key] = time.perf_counter()
            return evaluate_safely(self._task, trial, seed)

        future = self._pool.submit(run)
        self._keys[future] = key
        return future

    def started(self, future: Future[Result]) -> float | None:
        return self._started.get(self._keys[future])

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def run_wall(
    baseline: Baseline, task: Task, seed: int, budget: Budget, n_workers: int, sink: RowSink,
    evaluator: Evaluator | None = None, eval_timeout_s: float | None = None, replay: Sequence[Row] = (),
) -> int:
    """The wall-clock loop: N evaluations at once; returns the number of evaluations recorded.

    ``evaluator`` runs the evaluations (Dask workers: ``suite.dispatch.DaskEvaluator``); by default a
    ``ThreadEvaluator`` runs ``task`` here. An evaluation still running ``eval_timeout_s`` after it
    began is recorded with status "timeout" and its future cancelled; a running thread cannot be
    stopped, so it finishes in the background and its result is dropped. ``replay``: the rows of a
    partial run, told to the baseline first; the run's clock goes on from the last recorded end.
    """
    names = task.objective_names
    for row in replay:
        baseline.tell(trial_from_row(row), result_from_row(row, names))
    asked = recorded = len(replay)
    origin = time.perf_counter() - max((float(r["end"]) for r in replay), default=0.0)
    own = evaluator is None
    evaluator = evaluator or ThreadEvaluator(task, n_workers)
    free = list(range(n_workers))
    running: dict[Future[Result], tuple[Trial, int, float, int]] = {}
    try:
        while True:
            now = time.perf_counter() - origin
            while free and budget.allows(asked, now):
                worker = free.pop(0)
                trial = baseline.ask()
                asked += 1
                eval_seed = evaluation_seed(seed, trial.id)
                running[evaluator.submit(trial, eval_seed)] = (trial, worker, time.perf_counter() - origin, eval_seed)
            if not running:
                return recorded
            done, _ = wait(running, timeout=_next_check(evaluator, running, eval_timeout_s),
                           return_when=FIRST_COMPLETED)
            finished = [(f, _future_result(f)) for f in done]
            if eval_timeout_s is not None:
                finished += _timed_out(evaluator, [f for f in running if f not in done], eval_timeout_s)
            for future, result in sorted(finished, key=lambda item: running[item[0]][0].id):
                trial, worker, start, eval_seed = running.pop(future)
                sink(make_row(trial, result, names, start, time.perf_counter() - origin, worker, eval_seed))
                baseline.tell(trial, result)
                recorded += 1
                free.append(worker)
            free.sort()
    finally:
        if own:
            evaluator.close()


def _next_check(evaluator: Evaluator, running: Iterable[Future[Result]], eval_timeout_s: float | None) -> float | None:
    """Seconds until the first deadline; while an evaluation waits to start, poll for its start."""
    if eval_timeout_s is None:
        return None
    starts = [evaluator.started(f) for f in running]
    waits = [s + eval_timeout_s - time.perf_counter() for s in starts if s is not None]
    if any(s is None for s in starts):
        waits.append(min(0.5, eval_timeout_s / 4))
    return max(0.0, min(waits))


def _timed_out(
    evaluator: Evaluator, futures: list[Future[Result]], eval_timeout_s: float,
) -> list[tuple[Future[Result], Result]]:
    late = []
    now = time.perf_counter()
    for future in futures:
        started = evaluator.started(future)
        if started is not None and now - started >= eval_timeout_s:
            future.cancel()
            late.append((future, Result.failure(f"exceeded eval_timeout_s={eval_timeout_s:g}",
                                                cost_s=now - started, status="timeout")))
    return late


def make_baseline(name: str, task: Task, seed: int, options: dict[str, Any]) -> Baseline:
    cls = BASELINES.get(name)
    try:
        return cls(task.space, task.objectives, task.fidelity, seed, **options)
    except TypeError as error:
        raise ValueError(f"baseline {name!r}: bad options {options}: {error}") from None


#: the metadata fields that define a run: a folder that differs in one of them holds another run
DEFINING = ("baseline", "task", "seed", "budget", "n_workers")


def _check_same_run(folder: Path, found: dict[str, Any], wanted: dict[str, Any]) -> None:
    for key in DEFINING:
        old, new = found.get(key), wanted.get(key)
        if key == "task":  # the task's data and version matter, not every descriptive field
            old = {k: (old or {}).get(k) for k in ("name", "version", "data_hash")}
            new = {k: new.get(k) for k in ("name", "version", "data_hash")}
        if as_json(old) != as_json(new):
            raise ResultsError(
                f"{folder}: holds a run with {key} {old}, this suite asks {new}; "
                "use another experiment name or --fresh to start it over"
            )


def run_state(spec: RunSpec, root: Path) -> tuple[str, int]:
    """("new" | "partial" | "complete", rows recorded) of a spec's folder, read without the task or the
    baseline; raises ResultsError for a folder of another format version or another run, or a damaged row."""
    folder = run_folder(root, spec.experiment, spec.task, spec.baseline, spec.seed)
    if not (folder / "metadata.json").exists():
        return "new", 0
    metadata = read_metadata(folder)
    baseline = metadata.get("baseline", {})
    for key, found, value in (
        ("baseline", baseline.get("name"), spec.baseline),
        ("baseline options", as_json(baseline.get("requested", {})), as_json(spec.options)),
        ("seed", metadata.get("seed"), spec.seed),
        ("budget", metadata.get("budget"), asdict(spec.budget)),
        ("n_workers", metadata.get("n_workers"), spec.n_workers),
    ):
        if found != value:
            raise ResultsError(f"{folder}: holds a run with {key} {found}, this suite asks {value}; "
                               "use another experiment name or --fresh to start it over")
    if metadata.get("status") == "complete":
        if not (folder / PARQUET).exists():
            raise ResultsError(f"{folder}: metadata says complete but {PARQUET} is missing; use --fresh")
        return "complete", int(metadata.get("n_evaluations", 0))
    # read only: a torn last line is cut off by the run's writer, under the run's lock
    return "partial", len(read_rows(folder / ROWS)) if (folder / ROWS).exists() else 0


def execute(spec: RunSpec, root: Path, evaluator: Evaluator | None = None) -> Path:
    """Run ``spec`` into its folder under ``root`` and return the folder.

    A complete run is skipped, a partial one resumed (see the module's docstring). Only one process
    writes a run at a time (``run_lock``): a second execution waits, then finds the run complete or
    resumes it. ``evaluator`` runs a wall-clock task's evaluations (``suite.dispatch.DaskEvaluator`` on
    Dask workers); without it they run on threads here. Raises ResultsError for a folder that holds another run.
    """
    folder = run_folder(root, spec.experiment, spec.task, spec.baseline, spec.seed)
    with run_lock(folder, on_wait=lambda holder: log.info("%s: waiting for its writer %s", folder, holder)):
        if run_state(spec, root)[0] == "complete":  # a complete folder of another run raises, never skips
            return folder
        return _execute_locked(spec, folder, evaluator)


def _execute_locked(spec: RunSpec, folder: Path, evaluator: Evaluator | None) -> Path:
    previous = read_metadata(folder) if (folder / "metadata.json").exists() else None
    task = make_task(spec.task)
    baseline = make_baseline(spec.baseline, task, spec.seed, spec.options)
    metadata = {
        # "requested": the options the suite asked for, so a finished run is recognised without building
        # its baseline; "options": every option in force, defaults included
        "baseline": {"name": spec.baseline, "options": {**baseline.options(), **spec.options},
                     "requested": spec.options},
        "task": task.describe(),
        "seed": spec.seed,
        "budget": asdict(spec.budget),
        "n_workers": spec.n_workers,
        "clock": task.clock,
        "experiment": spec.experiment,
        "eval_timeout_s": spec.eval_timeout_s,
        "resources": spec.resources,
        "versions": package_versions(),
        "device": {"machine": platform.machine(), "processor": platform.processor(), "node": platform.node()},
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    rows: list[Row] = []
    if previous is not None:
        _check_same_run(folder, previous, metadata)
        rows = recover_rows(folder / ROWS)
        (folder / PARQUET).unlink(missing_ok=True)  # a crash after compaction, before "complete"
        resumes = [*previous.get("resumed", []), {"at": metadata["started"], "rows": len(rows)}]
        metadata = {**{k: v for k, v in previous.items() if k != "error"}, "resumed": resumes}
        log.info("%s: resuming after %d recorded rows", folder, len(rows))
    writer = RunWriter(folder, metadata, n_rows=len(rows))
    started = time.perf_counter()
    try:
        if task.clock == "simulated":
            try:
                simulate(baseline, task, spec.seed, spec.budget, spec.n_workers, writer.append, replay=rows)
            except ReplayMismatch as mismatch:
                # nothing new was written: start over with a fresh baseline (tabular runs are cheap)
                log.warning("%s: cannot resume exactly (%s); starting the run over", folder, mismatch)
                writer.discard_rows()
                writer.metadata["resumed"][-1]["restarted"] = str(mismatch)
                baseline = make_baseline(spec.baseline, task, spec.seed, spec.options)
                simulate(baseline, task, spec.seed, spec.budget, spec.n_workers, writer.append)
        else:
            run_wall(baseline, task, spec.seed, spec.budget, spec.n_workers, writer.append, evaluator=evaluator,
                     eval_timeout_s=spec.eval_timeout_s, replay=rows)
    except BaseException:
        writer.fail(traceback.format_exc(limit=5))
        raise
    writer.complete(wall_s=time.perf_counter() - started, finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    return folder
