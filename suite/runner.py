"""One run = (baseline, task, seed, budget): the ask/evaluate/tell loop on a simulated or a wall clock.

Simulated clock (tabular tasks): N virtual workers; a trial started at time t ends at t + its recorded
cost; an event queue hands completions back in order of end time (ties by start order), so a run is
exactly reproducible and 100 GPU-hours replay in seconds. Wall clock (live tasks): evaluations really run,
on a thread pool of N workers, and the times written are seconds since the run started.
"""

from __future__ import annotations

import heapq
import math
import platform
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from baselines import BASELINES, Baseline
from tasks import make_task
from tasks.base import Result, Task, Trial
from suite.results import RunWriter, make_row, package_versions, read_metadata, run_folder

RowSink = Callable[[dict[str, Any]], None]


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


def simulate(baseline: Baseline, task: Task, seed: int, budget: Budget, n_workers: int, sink: RowSink) -> int:
    """The simulated-clock loop; returns the number of evaluations recorded.

    A trial that would end after a time budget is dropped: it did not finish within the budget.
    """
    now = 0.0
    asked = 0
    order = 0
    free = list(range(n_workers))
    events: list[tuple[float, int, int, float, Trial, Result, int]] = []
    recorded = 0
    names = task.objective_names
    while True:
        while free and budget.allows(asked, now):
            worker = free.pop(0)
            trial = baseline.ask()
            asked += 1
            eval_seed = evaluation_seed(seed, trial.id)
            result = evaluate_safely(task, trial, eval_seed)
            heapq.heappush(events, (now + max(result.cost_s, 0.0), order, worker, now, trial, result, eval_seed))
            order += 1
        if not events:
            return recorded
        end, _, worker, start, trial, result, eval_seed = heapq.heappop(events)
        if budget.seconds is not None and end > budget.seconds:
            return recorded
        now = end
        baseline.tell(trial, result)
        sink(make_row(trial, result, names, start, end, worker, eval_seed))
        recorded += 1
        free.append(worker)
        free.sort()


def run_wall(baseline: Baseline, task: Task, seed: int, budget: Budget, n_workers: int, sink: RowSink) -> int:
    """The wall-clock loop: N evaluations at once on a thread pool (torch releases the GIL while training)."""
    origin = time.perf_counter()
    asked = 0
    recorded = 0
    names = task.objective_names
    free = list(range(n_workers))
    running: dict[Future[Result], tuple[Trial, int, float, int]] = {}
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        while True:
            now = time.perf_counter() - origin
            while free and budget.allows(asked, now):
                worker = free.pop(0)
                trial = baseline.ask()
                asked += 1
                eval_seed = evaluation_seed(seed, trial.id)
                future = pool.submit(evaluate_safely, task, trial, eval_seed)
                running[future] = (trial, worker, time.perf_counter() - origin, eval_seed)
            if not running:
                return recorded
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: running[f][0].id):
                trial, worker, start, eval_seed = running.pop(future)
                result = future.result()
                baseline.tell(trial, result)
                sink(make_row(trial, result, names, start, time.perf_counter() - origin, worker, eval_seed))
                recorded += 1
                free.append(worker)
            free.sort()


def make_baseline(name: str, task: Task, seed: int, options: dict[str, Any]) -> Baseline:
    cls = BASELINES.get(name)
    try:
        return cls(task.space, task.objectives, task.fidelity, seed, **options)
    except TypeError as error:
        raise ValueError(f"baseline {name!r}: bad options {options}: {error}") from None


def execute(spec: RunSpec, root: Path) -> Path:
    """Run ``spec`` into its folder under ``root`` and return the folder; a complete run is skipped."""
    folder = run_folder(root, spec.experiment, spec.task, spec.baseline, spec.seed)
    if (folder / "metadata.json").exists() and read_metadata(folder).get("status") == "complete":
        return folder
    task = make_task(spec.task)
    baseline = make_baseline(spec.baseline, task, spec.seed, spec.options)
    for stale in ("evaluations.jsonl", "evaluations.parquet"):
        (folder / stale).unlink(missing_ok=True)
    writer = RunWriter(folder, {
        "baseline": {"name": spec.baseline, "options": {**baseline.options(), **spec.options}},
        "task": task.describe(),
        "seed": spec.seed,
        "budget": asdict(spec.budget),
        "n_workers": spec.n_workers,
        "clock": task.clock,
        "experiment": spec.experiment,
        "versions": package_versions(),
        "device": {"machine": platform.machine(), "processor": platform.processor(), "node": "local"},
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    })
    loop = simulate if task.clock == "simulated" else run_wall
    started = time.perf_counter()
    try:
        loop(baseline, task, spec.seed, spec.budget, spec.n_workers, writer.append)
    except BaseException:
        writer.metadata["error"] = traceback.format_exc(limit=5)
        writer.close()
        raise
    writer.complete(wall_s=time.perf_counter() - started, finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    return folder
