"""Where evaluations run: safely (a failure is a result), on local threads, or as Dask tasks on workers.

``distributed`` is imported only by the Dask evaluator's code, so the run loops import without it.
"""

from __future__ import annotations

import functools
import itertools
import math
import time
import uuid
import weakref
from abc import ABC, abstractmethod
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from tasks import make_task
from tasks.base import Result, Task, TaskDataError, Trial
from tasks.registry import Registry

if TYPE_CHECKING:
    from distributed import Client


def evaluate_safely(task: Task, trial: Trial, seed: int) -> Result:
    """Evaluate, turning an exception or a NaN objective into a failed result: a run never stops for one.

    Except a ``TaskDataError``: a task whose data is missing or wrong fails every evaluation, so it stops the
    run (which the suite reports) rather than completing it with failed rows."""
    try:
        result = task.evaluate(trial.config, trial.fidelity, seed)
    except TaskDataError:
        raise
    except Exception as error:  # the task's failure is data, not a crash of the run
        reason = f"{type(error).__name__}: {error}"
        if isinstance(error, TimeoutError):
            return Result.failure(reason, status="timeout")
        return Result.failure(reason, cost_s=0.0)
    if result.status == "ok":
        missing = [n for n in task.objective_names if not math.isfinite(result.objectives.get(n, math.nan))]
        if missing:
            result.status = "failed"
            result.info.setdefault("reason", f"objective {', '.join(missing)} is NaN or missing")
    return result


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


#: the event a worker sends when it begins an evaluation (an evaluation's timeout counts from then)
START_TOPIC = "bag-of-baselines-evaluation-started"
#: client-side perf_counter() at which each evaluation (by Dask key) was reported started
_STARTED: dict[str, float] = {}


def _on_start(event: tuple[float, Any]) -> None:
    _STARTED[str(event[1])] = time.perf_counter()


@functools.lru_cache(maxsize=None)
def cached_task(name: str) -> Task:
    """The task ``name``, built once per process (a table is loaded once, a live task's data never travels)."""
    return make_task(name)


def _evaluate_on_worker(task_name: str, plugins: tuple[str, ...], trial: Trial, seed: int,
                        described: dict[str, Any]) -> Result:
    from distributed import get_worker

    worker = get_worker()
    for module in plugins:
        Registry.load_module(module)
    task = cached_task(task_name)
    # The run's key was made from the task the client built; a worker rebuilds it by name, possibly on other
    # hardware (a cluster of CPU and GPU nodes) or data: its rows would be mixed into the run unnoticed.
    here = task.describe()
    if here != described:
        differing = ", ".join(f"{key} {here.get(key)!r} (the run has {described.get(key)!r})"
                              for key in sorted(set(here) | set(described)) if here.get(key) != described.get(key))
        raise TaskDataError(f"task {task_name!r} on worker {worker.address} differs from the run's: {differing}; "
                            "give the run workers like the machine that started it (e.g. Dask resources)")
    # started once the worker has the task: its first evaluation's imports and task building (seconds on a
    # fresh worker) are the worker's set-up, not the evaluation's time against its timeout
    worker.log_event(START_TOPIC, worker.get_current_task())
    return evaluate_safely(task, trial, seed)


class DaskEvaluator(Evaluator):
    """Each evaluation of a wall-clock run is one Dask task that holds ``resources`` (e.g. GPU=1) on its
    worker; a worker that dies mid-evaluation makes Dask run the task again elsewhere."""

    def __init__(self, client: Client, task: Task, plugins: tuple[str, ...] = (),
                 resources: dict[str, float] | None = None) -> None:
        client.subscribe_topic(START_TOPIC, _on_start)
        self._executor = client.get_executor(pure=False, resources=resources or None)
        self._task_name = task.name
        self._described = task.describe()
        self._plugins = plugins
        # weak: a future the run loop has dropped releases its Dask future, so workers free its result
        self._keys: weakref.WeakKeyDictionary[Future[Result], str] = weakref.WeakKeyDictionary()
        self._all_keys: list[str] = []

    def submit(self, trial: Trial, seed: int) -> Future[Result]:
        key = f"evaluate-{self._task_name}-{uuid.uuid4().hex}"
        future = self._executor.submit(_evaluate_on_worker, self._task_name, self._plugins, trial, seed,
                                        self._described, key=key)
        self._keys[future] = key
        self._all_keys.append(key)
        return future

    def started(self, future: Future[Result]) -> float | None:
        return _STARTED.get(self._keys[future])

    def close(self) -> None:
        for key in self._all_keys:
            _STARTED.pop(key, None)
