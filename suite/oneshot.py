"""Records a one-shot method's output (a supernet's, a hypernetwork's) as an ordinary run folder.

A one-shot method is no ask/tell optimiser: it searches once and returns architectures. To compare it with
the black-box baselines at equal cost, each returned architecture becomes a row of a run, evaluated on the
task like any trial, on the run's clock at the time the search had cost when the architecture was known:

- the method reports, per architecture, ``available_s``: the search's own cost in seconds until it had that
  architecture (a sweep of supernets trained one after the other: the sum of their costs so far);
- its evaluation is scheduled on the first of ``n_workers`` evaluation workers to be free, not before it is
  available: ``start = max(available_s, worker free)``, ``end = start + cost_s`` (the task's cost of the
  evaluation: the recorded training time on a table), as a black-box trial pays its evaluation;
- the budget is the black-box runs' own: a row that would start at or end after ``budget.seconds`` is left
  out (it did not finish within the budget, the rule of the simulated loop), and at most ``budget.evaluations``
  rows are kept. The run's metadata carries the same budget and workers as the runs it is compared with,
  so the analysis reads it as one more baseline of the experiment (``analysis.io.check_one_experiment``).

``metadata.json`` gains one key, ``oneshot`` (docs/results.md): the method's search cost and what it
returned; everything else is the format of every run, so the analysis needs nothing new.
"""

from __future__ import annotations

import heapq
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from suite.evaluators import evaluate_safely
from suite.loops import evaluation_seed
from suite.metadata import RunMetadata
from suite.results_format import METADATA, PARQUET, REDO, ROWS, ResultsError, make_row, run_folder
from suite.spec import Budget, RunSpec
from suite.writer import RunWriter
from tasks.base import Config, Result, Task, Trial


@dataclass(frozen=True)
class Found:
    """One architecture a one-shot method returned, the search's cost until it had it, and extras for ``info``.

    ``result``: the method's own measurement of a network it trained itself (Bulk & Cut's inherited-weight
    networks, measured by the task's protocol: ``tasks.live.training``). Such a row is not evaluated again: it
    ends at ``available_s`` and started ``result.cost_s`` before, on the search's clock, and its ``eval_seed``
    is the training seed the method used (``result.info["seed"]``).
    """

    config: Config
    available_s: float
    info: dict[str, Any] = field(default_factory=dict)
    result: Result | None = None


def record_oneshot(
    root: Path, experiment: str, method: str, options: dict[str, Any], task: Task, seed: int, found: list[Found],
    search: dict[str, Any], budget: Budget, n_workers: int = 1,
) -> Path:
    """Evaluate ``found`` on ``task`` and write them as the run ``<root>/<experiment>/<task>/<method>/<seed>``.

    Args:
        method: the name the analysis shows (the run's ``baseline``).
        options: the method's settings (written as the run's baseline options).
        search: what the search was, for ``metadata.json``'s ``oneshot`` key (data, device, ...); its measured
            cost ``search_cost_s`` (the last ``available_s``) is added here.
        budget, n_workers: those of the black-box runs it is compared with.

    Raises ResultsError when the folder already holds a run, ValueError for a negative or NaN cost or for
    measured and unmeasured architectures mixed.
    """
    folder = run_folder(root, experiment, task.name, method, seed)
    if any((folder / name).exists() for name in (METADATA, ROWS, PARQUET)):
        raise ResultsError(f"{folder}: already holds a run; {REDO}")
    if n_workers < 1:
        raise ValueError(f"n_workers: expected at least 1, got {n_workers}")
    if len({item.result is None for item in found}) > 1:
        # measured rows sit on the search's own clock (worker 0) and evaluated ones on the evaluation workers:
        # mixed, they would overlap on worker 0
        raise ValueError("found: either every architecture is measured by the search (result) or none is")
    for item in found:
        if not item.available_s >= 0:  # NaN fails too
            raise ValueError(f"available_s: expected seconds >= 0, got {item.available_s} for {item.config}")
        measured = item.result
        if measured is not None and (set(measured.objectives) != set(task.objective_names) or "seed" not in measured.info
                                     or not 0 <= measured.cost_s <= item.available_s):
            raise ValueError(f"a measured architecture needs the objectives {task.objective_names}, info['seed'] and "
                             f"0 <= cost_s <= available_s; got {sorted(measured.objectives)}, cost_s {measured.cost_s}, "
                             f"available_s {item.available_s} for {item.config}")
    started = time.perf_counter()
    spec = RunSpec(method, task.name, seed, budget, n_workers, options=options, experiment=experiment)
    metadata = RunMetadata.new(spec, task.describe(), options)
    ordered = sorted(found, key=lambda item: item.available_s)  # stable: the method's order among equals
    metadata.oneshot = {**search, "search_cost_s": max((f.available_s for f in ordered), default=0.0),
                        "architectures": len(ordered)}
    writer = RunWriter(folder, metadata)
    try:
        rows = []
        free = [(0.0, worker) for worker in range(n_workers)]  # (when free, worker)
        for trial_id, item in enumerate(ordered):
            if budget.evaluations is not None and len(rows) >= budget.evaluations:
                break
            trial = Trial(trial_id, dict(item.config), None)
            eval_seed = evaluation_seed(seed, trial_id)
            if item.result is not None:  # measured by the search itself, on its own clock
                result = Result(dict(item.result.objectives), item.result.cost_s, {**item.result.info, **item.info},
                                item.result.status, item.result.expected)
                start, end, worker = item.available_s - result.cost_s, item.available_s, 0
                eval_seed = int(result.info["seed"])
            else:
                result = evaluate_safely(task, trial, eval_seed)  # a failing architecture is a failed row
                result.info.update(item.info)
                when_free, worker = heapq.heappop(free)
                start = max(item.available_s, when_free)
                end = start + result.cost_s
                heapq.heappush(free, (end, worker))
            if budget.seconds is not None and (start >= budget.seconds or end > budget.seconds):
                continue  # did not finish within the budget; a later (shorter) one still might
            rows.append(make_row(trial, result, task.objective_names, start, end, worker, eval_seed))
        for row in sorted(rows, key=lambda row: row["end"]):  # completion order, as every run's rows
            writer.append(row)
        writer.complete(time.perf_counter() - started)
    except Exception:  # e.g. the task's data is missing: the run stays "running", with the error recorded
        writer.fail(traceback.format_exc())
        raise
    finally:
        writer.close()
    return folder
