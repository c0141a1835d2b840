"""Runs a suite's grid on Dask: tabular runs as one Dask task each, live runs' evaluations as Dask tasks.

A tabular (simulated-clock) run is one task: the worker that runs it writes its folder; if that worker
dies, Dask runs the task again elsewhere and ``execute`` resumes the folder. A live (wall-clock) run's
loop stays here on the client, in a thread, and each of its evaluations is a Dask task holding the
run's worker resources (e.g. GPU=1), so N workers train N configurations at once.

Finished runs are skipped, partial ones resumed; a folder that holds another run or a damaged row is
reported and that run skipped, never mixed. A run that raises is reported and the others go on; its
folder keeps every row written before the failure, with status "running" in its metadata.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import time
import uuid
import weakref
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from distributed import Client, LocalCluster, get_worker
from tqdm import tqdm

from suite.results import METADATA, PARQUET, ROWS, ResultsError, read_metadata, run_folder
from suite.runner import Evaluator, RunSpec, evaluate_safely, execute, run_state
from tasks import make_task
from tasks.base import Result, Task, Trial
from tasks.registry import Registry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOutcome:
    spec: RunSpec
    folder: Path | None
    error: str | None = None
    #: "new", "resumed" or "skipped" (complete before this suite started)
    state: str = "new"


def _execute_with_plugins(spec: RunSpec, root: str, plugins: tuple[str, ...]) -> str:
    # a worker process has its own registries: plugins registered on the client must be loaded there too
    for module in plugins:
        Registry.load_module(module)
    return str(execute(spec, Path(root)))


#: the event a worker sends when it begins an evaluation (an evaluation's timeout counts from then)
START_TOPIC = "bag-of-baselines-evaluation-started"
#: client-side perf_counter() at which each evaluation (by Dask key) was reported started
_STARTED: dict[str, float] = {}


def _on_start(event: tuple[float, Any]) -> None:
    _STARTED[str(event[1])] = time.perf_counter()


@functools.lru_cache(maxsize=None)
def _cached_task(name: str) -> Task:
    return make_task(name)


def _evaluate_on_worker(task_name: str, plugins: tuple[str, ...], trial: Trial, seed: int) -> Result:
    worker = get_worker()
    worker.log_event(START_TOPIC, worker.get_current_task())
    for module in plugins:
        Registry.load_module(module)
    # the task is built once per worker process, from its name: a live task's data never travels
    return evaluate_safely(_cached_task(task_name), trial, seed)


class DaskEvaluator(Evaluator):
    """Each evaluation of a wall-clock run is one Dask task that holds ``resources`` (e.g. GPU=1) on its
    worker; a worker that dies mid-evaluation makes Dask run the task again elsewhere."""

    def __init__(self, client: Client, task_name: str, plugins: tuple[str, ...] = (),
                 resources: dict[str, float] | None = None) -> None:
        client.subscribe_topic(START_TOPIC, _on_start)
        self._executor = client.get_executor(pure=False, resources=resources or None)
        self._task_name = task_name
        self._plugins = plugins
        # weak: a future the run loop has dropped releases its Dask future, so workers free its result
        self._keys: weakref.WeakKeyDictionary[Future[Result], str] = weakref.WeakKeyDictionary()
        self._all_keys: list[str] = []

    def submit(self, trial: Trial, seed: int) -> Future[Result]:
        key = f"evaluate-{self._task_name}-{uuid.uuid4().hex}"
        future = self._executor.submit(_evaluate_on_worker, self._task_name, self._plugins, trial, seed, key=key)
        self._keys[future] = key
        self._all_keys.append(key)
        return future

    def started(self, future: Future[Result]) -> float | None:
        return _STARTED.get(self._keys[future])

    def close(self) -> None:
        for key in self._all_keys:
            _STARTED.pop(key, None)


def _execute_live(spec: RunSpec, root: Path, client: Client, plugins: tuple[str, ...]) -> str:
    evaluator = DaskEvaluator(client, spec.task, plugins, spec.resources)
    try:
        return str(execute(spec, root, evaluator))
    finally:
        evaluator.close()


def local_cluster(n_workers: int | None = None) -> LocalCluster:
    """Worker processes on loopback only (no other machine can reach the scheduler), one thread each."""
    return LocalCluster(
        n_workers=n_workers or os.cpu_count() or 1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )


def live_capacity(client: Client, resources: dict[str, float]) -> int:
    """How many evaluations the cluster runs at once now: worker threads, or units of ``resources``."""
    workers = list(client.scheduler_info(n_workers=-1)["workers"].values())
    if not resources:
        return sum(w.get("nthreads", 1) for w in workers)
    return int(min(sum(w.get("resources", {}).get(name, 0) for w in workers) // amount
                   for name, amount in resources.items()))


def _count_rows(folder: Path) -> int:
    if (folder / PARQUET).exists() and (folder / METADATA).exists():
        try:
            return int(read_metadata(folder).get("n_evaluations", 0))
        except ResultsError:
            return 0
    try:
        return (folder / ROWS).read_bytes().count(b"\n")
    except OSError:
        return 0


def run_grid(
    client: Client, specs: Iterable[RunSpec], root: Path, plugins: tuple[str, ...] = (), progress: bool = True,
    fresh: bool = False,
) -> list[RunOutcome]:
    """Run every spec (``fresh``: delete their folders first) and return one outcome per spec, in order."""
    specs = list(specs)
    root = root.resolve()
    folders = [run_folder(root, s.experiment, s.task, s.baseline, s.seed) for s in specs]
    if fresh:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
    outcomes: list[RunOutcome | None] = [None] * len(specs)
    clocks: dict[str, str] = {}
    to_run: list[tuple[int, str, str]] = []  # (index, clock, state)
    for i, spec in enumerate(specs):
        try:
            state, n_rows = run_state(spec, root)
            if spec.task not in clocks:
                clocks[spec.task] = make_task(spec.task).clock
        except (ResultsError, OSError, ValueError, RuntimeError, ImportError) as error:
            outcomes[i] = RunOutcome(spec, None, f"skipped: {error}")
            log.error("skipped %s: %s", folders[i], error)
            continue
        if state == "complete":
            outcomes[i] = RunOutcome(spec, folders[i], state="skipped")
            continue
        if state == "partial":
            log.info("resuming %s after %d recorded rows", folders[i], n_rows)
        to_run.append((i, clocks[spec.task], "resumed" if state == "partial" else "new"))
    live = [(i, state) for i, clock, state in to_run if clock == "wall"]
    log.info("%d runs: %d complete, %d to resume, %d new, %d unusable", len(specs),
             sum(o is not None and o.state == "skipped" for o in outcomes),
             sum(state == "resumed" for *_, state in to_run), sum(state == "new" for *_, state in to_run),
             sum(o is not None and o.error is not None for o in outcomes))

    tabular = client.get_executor(pure=False)
    live_pool = None
    if live:
        needed = max(specs[i].n_workers for i, _ in live)
        resources = specs[live[0][0]].resources
        capacity = live_capacity(client, resources)
        if resources and capacity == 0:
            log.warning("no worker offers the resources %s yet: live evaluations wait until one joins", resources)
        live_pool = ThreadPoolExecutor(max_workers=max(1, capacity // needed), thread_name_prefix="live-run")
    pending: dict[Future[Any], tuple[int, str]] = {}
    for i, clock, state in to_run:
        spec = specs[i]
        if clock == "wall":
            assert live_pool is not None
            future = live_pool.submit(_execute_live, spec, root, client, plugins)
        else:
            future = tabular.submit(_execute_with_plugins, spec, str(root), plugins,
                                    key=f"run-{spec.experiment}-{spec.task}-{spec.baseline}-{spec.seed}")
        pending[future] = (i, state)

    already = sum(o is not None for o in outcomes)
    with tqdm(total=len(specs), initial=already, unit="run", disable=not progress, dynamic_ncols=True) as bar:
        try:
            while pending:
                done, _ = wait(pending, timeout=2.0, return_when=FIRST_COMPLETED)
                for future in done:
                    index, state = pending.pop(future)
                    spec = specs[index]
                    try:
                        outcomes[index] = RunOutcome(spec, Path(future.result()), state=state)
                        log.info("finished %s (%s)", folders[index], state)
                    except Exception as error:  # one broken run must not stop the suite
                        outcomes[index] = RunOutcome(spec, None, f"{type(error).__name__}: {error}", state=state)
                        log.error("run failed: %s: %s", folders[index], error)
                        bar.write(f"run failed: {spec.task} / {spec.baseline} / seed {spec.seed}: {error}")
                    bar.update()
                bar.set_postfix(evaluations=sum(_count_rows(f) for f in folders), refresh=True)
        finally:
            if live_pool is not None:
                live_pool.shutdown(wait=not pending, cancel_futures=True)
    return [o for o in outcomes if o is not None]
