"""The two run loops, ask/evaluate/tell on a simulated or a wall clock, sharing one "fill free workers" step.

Simulated clock (tabular tasks): N virtual workers; a trial started at time t ends at t + its recorded
cost; an event queue hands completions back in order of end time (ties by start order), so a run is
exactly reproducible and 100 GPU-hours replay in seconds. Wall clock (live tasks): evaluations really run,
N at once (on Dask workers, or on a local thread pool), and the times written are seconds since the run
started.

Resume (``replay``, the rows of a partial run): on the simulated clock the loop is replayed from the
start with the recorded rows standing in for the evaluations they record, checking that the baseline
asks the same trials again; trials that were pending at the crash are evaluated afresh, so the finished
rows equal those of an uninterrupted run. On the wall clock the recorded rows are told to a fresh baseline
in recorded order and the run goes on from the last recorded time (pending trials at the crash are lost:
they are asked anew).
"""

from __future__ import annotations

import heapq
import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from baselines import Baseline
from suite.evaluators import Evaluator, ThreadEvaluator, evaluate_safely
from suite.results_format import Row, make_row, result_from_row, trial_from_row
from suite.spec import MAX_EVALUATIONS, Budget
from tasks.base import Result, Task, Trial

RowSink = Callable[[Row], None]

#: evaluations in a row that leave the simulated clock where it was before a time-only budget gives up
MAX_STALLED = 10_000


def evaluation_seed(run_seed: int, trial_id: int) -> int:
    """The seed an evaluation gets: independent of the order in which trials finish."""
    return int(np.random.SeedSequence([run_seed, trial_id]).generate_state(1)[0])


_MASK = np.uint64(0xFFFFFFFF)


def _hashmix(value: np.ndarray, hash_const: list[int]) -> np.ndarray:
    value = value ^ np.uint64(hash_const[0])
    hash_const[0] = (hash_const[0] * 0x931E8875) & 0xFFFFFFFF
    value = (value * np.uint64(hash_const[0])) & _MASK
    return value ^ (value >> np.uint64(16))


def _mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    result = (np.uint64(0xCA01F9DD) * x - np.uint64(0x4973F715) * y) & _MASK
    return result ^ (result >> np.uint64(16))


def evaluation_seeds(run_seed: int, trial_ids: np.ndarray) -> np.ndarray:
    """``evaluation_seed`` of many trials at once (uint32), a microsecond each instead of 30.

    numpy's ``SeedSequence([run_seed, trial_id]).generate_state(1)`` (O'Neill's seed_seq hash: a pool of 4
    words mixed pairwise), computed for a whole array of ids in uint64 arithmetic reduced mod 2**32.
    Seeds or ids past 32 bits enter SeedSequence as several words: they are handed to numpy itself.
    """
    ids = np.asarray(trial_ids, dtype=np.int64)
    if not 0 <= run_seed <= 0xFFFFFFFF or ids.size and not (0 <= ids.min() and ids.max() <= 0xFFFFFFFF):
        return np.array([evaluation_seed(run_seed, int(i)) for i in ids], dtype=np.uint32)
    entropy = [np.full(ids.shape, run_seed, dtype=np.uint64), ids.astype(np.uint64)]
    hash_const = [0x43B0D7E5]
    pool = [_hashmix(entropy[i] if i < 2 else np.zeros(ids.shape, np.uint64), hash_const) for i in range(4)]
    for source in range(4):
        for target in range(4):
            if source != target:
                pool[target] = _mix(pool[target], _hashmix(pool[source], hash_const))
    value = (pool[0] ^ np.uint64(0x8B51F9DD)) * np.uint64((0x8B51F9DD * 0x58F38DED) & 0xFFFFFFFF) & _MASK
    return (value ^ (value >> np.uint64(16))).astype(np.uint32)


class _Workers:
    """A run's N workers: which are free, and how many trials the run has asked so far."""

    #: evaluation seeds computed at once, for trial ids ``k * SEEDS_AT_ONCE`` and up
    SEEDS_AT_ONCE = 1024

    def __init__(self, n_workers: int, asked: int = 0) -> None:
        self._free = list(range(n_workers))  # a heap: the lowest free worker takes the next trial
        self.asked = asked
        self._seeds: tuple[int, list[int]] = (-1, [])  # (first trial id, seeds from there)

    def _seed(self, run_seed: int, trial_id: int) -> int:
        first, seeds = self._seeds
        if not 0 <= trial_id - first < len(seeds):
            first = trial_id - trial_id % self.SEEDS_AT_ONCE
            seeds = evaluation_seeds(run_seed, np.arange(first, first + self.SEEDS_AT_ONCE)).tolist()
            self._seeds = (first, seeds)
        return seeds[trial_id - first]

    def fill(self, baseline: Baseline, seed: int, budget: Budget, now: float) -> Iterator[tuple[int, Trial, int]]:
        """Ask one trial for each free worker while the budget allows: (worker, trial, evaluation seed)."""
        while self._free and budget.allows(self.asked, now):
            if self.asked >= MAX_EVALUATIONS:  # only a time budget alone gets here
                raise RuntimeError(
                    f"the run asked {self.asked:,} trials and its clock is at {now:g} s of its {budget.seconds:g} s "
                    "budget; give an evaluation budget too (whichever comes first ends the run)")
            worker = heapq.heappop(self._free)
            trial = baseline.ask()
            self.asked += 1
            yield worker, trial, self._seed(seed, trial.id)

    def release(self, worker: int) -> None:
        heapq.heappush(self._free, worker)


class ReplayMismatch(RuntimeError):
    """The baseline asked other trials than the recorded ones: it is not deterministic for its seed."""


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
    order = 0
    workers = _Workers(n_workers)
    events: list[tuple[float, int, int, float, Trial, Result, int]] = []
    recorded = 0
    stalled = 0
    names = task.objective_names
    replayed = _Replay(replay, names)
    replaying = bool(replayed.rows)  # checked once, not per trial
    while True:
        for worker, trial, eval_seed in workers.fill(baseline, seed, budget, now):
            result = replayed.recorded_result(trial) if replaying else None
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
        if not (replaying and replayed.is_recorded(trial, start, end, worker)):
            sink(make_row(trial, result, names, start, end, worker, eval_seed))
        baseline.tell(trial, result)
        recorded += 1
        workers.release(worker)


def _future_result(future: Future[Result]) -> Result:
    try:
        return future.result()
    except Exception as error:  # a lost worker (KilledWorker), a result that cannot travel back, ...
        return Result.failure(f"{type(error).__name__}: {error}")


def run_wall(
    baseline: Baseline, task: Task, seed: int, budget: Budget, n_workers: int, sink: RowSink,
    evaluator: Evaluator | None = None, eval_timeout_s: float | None = None, replay: Sequence[Row] = (),
) -> int:
    """The wall-clock loop: N evaluations at once; returns the number of evaluations recorded.

    ``evaluator`` runs the evaluations (Dask workers: ``suite.evaluators.DaskEvaluator``); by default a
    ``ThreadEvaluator`` runs ``task`` here. An evaluation still running ``eval_timeout_s`` after it
    began is recorded with status "timeout" and its future cancelled; a running thread cannot be
    stopped, so it finishes in the background and its result is dropped. ``replay``: the rows of a
    partial run, told to the baseline first; the run's clock goes on from the last recorded end.
    """
    names = task.objective_names
    for row in replay:
        baseline.tell(trial_from_row(row), result_from_row(row, names))
    recorded = len(replay)
    workers = _Workers(n_workers, asked=len(replay))
    origin = time.perf_counter() - max((float(r["end"]) for r in replay), default=0.0)
    own = evaluator is None
    evaluator = evaluator or ThreadEvaluator(task, n_workers)
    running: dict[Future[Result], tuple[Trial, int, float, int]] = {}
    try:
        while True:
            for worker, trial, eval_seed in workers.fill(baseline, seed, budget, time.perf_counter() - origin):
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
                workers.release(worker)
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
