"""Runs a suite's grid on Dask: tabular runs as one Dask task each, live runs' evaluations as Dask tasks.

A tabular (simulated-clock) run is one task: the worker that runs it writes its folder; if that worker
dies, Dask runs the task again elsewhere and ``execute`` resumes the folder. A live (wall-clock) run's
loop stays here on the client, in a thread, and each of its evaluations is a Dask task holding the
run's worker resources (e.g. GPU=1), so N workers train N configurations at once.

Live runs start as the workers present allow, re-read from the scheduler every second (``LiveAdmission``):
on a batch cluster the workers join minutes after the suite starts, and every one that joins lets more
runs start. A live run is admitted only once its N evaluations can all run at once, so that its wall
clock, its time budget and its rows' start/end measure its own evaluations, not a wait in Dask's queue
behind other runs' evaluations (which is what submitting every run at once would give).

Tabular runs are handed to Dask a few at a time, heaviest first (``HeaviestFirst``): the order is learned from
the suite's own finished runs, so that the cheap runs fill the workers at the end instead of one long run
running alone while the other workers idle. Each finished run's worker and seconds there go into the log.

Finished runs are skipped, partial ones resumed; a folder that holds another run or a damaged row is
reported and that run skipped, never mixed. A run that raises is reported and the others go on; its
folder keeps every row written before the failure, with status "running" in its metadata.
"""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from distributed import Client, LocalCluster, get_worker
from tqdm import tqdm

from suite.evaluators import DaskEvaluator
from suite.lifecycle import execute, run_state
from suite.results_format import METADATA, PARQUET, ROWS, ResultsError, read_metadata, run_folder
from suite.spec import RunSpec
from tasks import make_task
from tasks.base import Task
from tasks.registry import Registry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOutcome:
    spec: RunSpec
    folder: Path | None
    error: str | None = None
    #: "new", "resumed" or "skipped" (complete before this suite started)
    state: str = "new"


@dataclass(frozen=True)
class WorkerRun:
    """A tabular run as its Dask worker ran it: the folder written, the worker's address, and when the Dask task
    began and ended there (``time.time()`` of the worker's machine)."""

    folder: str
    worker: str
    began: float
    ended: float

    @property
    def seconds(self) -> float:
        return self.ended - self.began


def _execute_with_plugins(spec: RunSpec, root: str, plugins: tuple[str, ...]) -> WorkerRun:
    began = time.time()
    # a worker process has its own registries: plugins registered on the client must be loaded there too
    for module in plugins:
        Registry.load_module(module)
    folder = execute(spec, Path(root))
    return WorkerRun(str(folder), get_worker().address, began, time.time())


class HeaviestFirst:
    """The order in which waiting tabular runs go to the workers: the longest expected first.

    Graham's longest-processing-time-first rule ("Bounds on multiprocessing timing anomalies", SIAM J. Appl.
    Math. 17(2), 1969): with the long runs started early, the short ones fill the workers at the end, instead of
    one long run running alone at the end while the other workers idle. How long a run takes is learned here,
    from the Dask task seconds of the suite's finished runs, by baseline label (and task, once one of that
    pair has finished; the shortest run of each), so no baseline is named or declares a cost. A label with no run finished or running
    goes first, one run at a time, in the grid's order: each label is measured early, and the grid's order
    holds where nothing is known yet. Which run starts when changes no run's rows (each run is its own seed).
    """

    def __init__(self, waiting: Sequence[tuple[int, RunSpec]]) -> None:
        # the runs of one (label, task) are expected to take equally long: the choice is among the groups' first
        # waiting runs, so a pop costs the number of groups, not of waiting runs (grids of thousands of runs)
        self._groups: dict[tuple[str, str], deque[tuple[int, tuple[int, RunSpec]]]] = {}
        for position, run in enumerate(waiting):
            self._groups.setdefault((run[1].baseline, run[1].task), deque()).append((position, run))
        self._size = len(waiting)
        self._running: dict[str, int] = {}  # label -> runs handed out and not finished
        self._seconds: dict[str, list[float]] = {}  # label -> seconds of its finished runs
        self._pair_seconds: dict[tuple[str, str], list[float]] = {}  # (label, task) -> the same

    def __len__(self) -> int:
        return self._size

    def pop(self) -> tuple[int, RunSpec]:
        """The next run to hand out (IndexError when none waits)."""
        if not self._size:
            raise IndexError("no tabular run waits")
        heads = [(group[0][0], key) for key, group in self._groups.items()]  # (grid position, (label, task))
        unknown = [head for head in heads if head[1][0] not in self._seconds and not self._running.get(head[1][0])]
        if unknown:
            _, key = min(unknown)
        else:  # the longest expected; of equals, the first in the grid's order
            _, key = max(heads, key=lambda head: (self._expected(*head[1]), -head[0]))
        group = self._groups[key]
        _, (index, spec) = group.popleft()
        if not group:
            del self._groups[key]
        self._size -= 1
        self._running[spec.baseline] = self._running.get(spec.baseline, 0) + 1
        return index, spec

    def finished(self, spec: RunSpec, seconds: float | None) -> None:
        """``spec``'s run ended after ``seconds`` on its worker (None: it failed, so its time says nothing)."""
        self._running[spec.baseline] -= 1
        if seconds is not None:
            self._seconds.setdefault(spec.baseline, []).append(seconds)
            self._pair_seconds.setdefault((spec.baseline, spec.task), []).append(seconds)

    def _expected(self, label: str, task: str) -> float:
        # the shortest run measured, not the mean: a worker's first run of a baseline also imports its library
        # (seconds), which its later runs do not pay. A label not measured yet but running is ranked as the
        # median of all that is known, neither first nor last.
        known = self._pair_seconds.get((label, task)) or self._seconds.get(label)
        if known:
            return min(known)
        every = [min(seconds) for seconds in self._seconds.values()]
        return statistics.median(every) if every else 0.0


def _execute_live(spec: RunSpec, task: Task, root: Path, client: Client, plugins: tuple[str, ...]) -> str:
    evaluator = DaskEvaluator(client, task, plugins, spec.resources)
    try:
        return str(execute(spec, root, evaluator))
    finally:
        evaluator.close()


def local_cluster(n_workers: int | None = None) -> LocalCluster:
    """Workers on loopback only (no other machine can reach the scheduler), one thread each.

    Several workers are processes (a tabular run holds the GIL); a single worker is a thread of this
    process, so a one-run job starts no process that would import the suite a second time (~1 s).
    """
    n_workers = n_workers or os.cpu_count() or 1
    processes = n_workers > 1
    return LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=processes,
        protocol="tcp://",  # in one process Dask would use inproc://; tcp on loopback keeps one address form
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        # a worker process ends at once when it is closed (``suite.cluster.dask_setup``)
        preload=["suite.cluster"] if processes else None,
    )


def local_workers(specs: Sequence[RunSpec], cores: int | None = None) -> int:
    """The local workers a suite can keep busy: a tabular run is one Dask task and a live run trains
    ``n_workers`` configurations at once, so their sum, and at most the cores."""
    return max(1, min(cores or os.cpu_count() or 1, sum(spec.n_workers for spec in specs)))


#: the units of an evaluation that asks for no resource: one worker thread (no Dask resource has this
#: name: ``dask worker --resources`` names have no spaces)
THREADS = "worker threads"
#: seconds between two looks at the workers present while live runs wait for them
POLL_S = 1.0


def evaluation_demand(spec: RunSpec) -> dict[str, float]:
    """What one evaluation of a live run holds on its worker: its resources, or else a worker thread."""
    return {name: float(amount) for name, amount in spec.resources.items()} or {THREADS: 1.0}


def run_demand(spec: RunSpec) -> dict[str, float]:
    """What a live run holds while it runs: ``n_workers`` evaluations at once."""
    return {name: amount * spec.n_workers for name, amount in evaluation_demand(spec).items()}


def cluster_capacity(client: Client) -> dict[str, float]:
    """What the workers present now offer in all: their threads and the sums of their resources."""
    capacity = {THREADS: 0.0}
    for worker in client.scheduler_info(n_workers=-1)["workers"].values():
        capacity[THREADS] += worker.get("nthreads", 1)
        for name, amount in worker.get("resources", {}).items():
            capacity[name] = capacity.get(name, 0.0) + amount
    return capacity


def _fits(demand: dict[str, float], offered: dict[str, float]) -> bool:
    return all(offered.get(name, 0.0) >= amount for name, amount in demand.items())


def _units(amounts: dict[str, float]) -> str:
    return ", ".join(f"{amount:g} {name}" for name, amount in amounts.items())


class LiveAdmission:
    """Which waiting live runs may start now, from the workers present now (asked at every call).

    A started run holds its ``run_demand`` until ``release``. A run starts once the workers offer its
    demand beyond what the started runs hold, so no resource is ever promised twice. A run larger than
    the whole cluster (``workers: 4`` with 2 GPUs present) starts alone once the cluster offers one
    evaluation's worth, its evaluations taking turns, rather than wait for workers that may never come;
    while no worker offers what an evaluation needs, runs wait and ``waiting_for`` says for what.
    """

    def __init__(self, client: Client) -> None:
        self._client = client
        self._held: dict[int, dict[str, float]] = {}
        #: one line saying what the first waiting run waits for; None when none waits
        self.waiting_for: str | None = None

    def admit(self, waiting: list[tuple[int, RunSpec]]) -> list[int]:
        """The keys of the first runs of ``waiting`` (key, spec), in order, that may start now."""
        self.waiting_for = None
        if not waiting:
            return []
        capacity = cluster_capacity(self._client)
        started: list[int] = []
        for key, spec in waiting:
            demand = run_demand(spec)
            free = {name: max(0.0, capacity.get(name, 0.0) - sum(h.get(name, 0.0) for h in self._held.values()))
                    for name in demand}
            if not _fits(demand, free):
                if self._held or not _fits(evaluation_demand(spec), capacity):
                    present = {name: capacity.get(name, 0.0) for name in demand}
                    self.waiting_for = (f"live runs waiting for free workers: {len(waiting) - len(started)}; the "
                                        f"next needs {_units(demand)}; free now {_units(free)} of {_units(present)} "
                                        "present")
                    break
                log.warning("%s / %s / seed %d asks %s at once and the workers present offer %s: it starts alone, "
                            "its evaluations taking turns until more workers join", spec.task, spec.baseline,
                            spec.seed, _units(demand), _units({name: capacity.get(name, 0.0) for name in demand}))
            self._held[key] = demand
            started.append(key)
        return started

    def release(self, key: int) -> None:
        self._held.pop(key, None)


def _clock(epoch_s: float) -> str:
    """A moment as the log's own timestamps write it (local time, milliseconds after a comma)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch_s)) + f",{int(epoch_s % 1 * 1000):03d}"


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
    tasks: dict[str, Task] = {}  # built once per name: its clock, version and data hash decide a run's fate
    to_run: list[tuple[int, str, str]] = []  # (index, clock, state)
    for i, spec in enumerate(specs):
        try:
            if spec.task not in tasks:
                tasks[spec.task] = make_task(spec.task)
            task = tasks[spec.task]
            state, n_rows = run_state(spec, root, task)
        except (ResultsError, OSError, ValueError, RuntimeError, ImportError) as error:
            outcomes[i] = RunOutcome(spec, None, f"skipped: {error}")
            log.error("skipped %s: %s", folders[i], error)
            continue
        if state == "complete":
            outcomes[i] = RunOutcome(spec, folders[i], state="skipped")
            continue
        if state == "partial":
            log.info("resuming %s after %d recorded rows", folders[i], n_rows)
        to_run.append((i, task.clock, "resumed" if state == "partial" else "new"))
    log.info("%d runs: %d complete, %d to resume, %d new, %d unusable", len(specs),
             sum(o is not None and o.state == "skipped" for o in outcomes),
             sum(state == "resumed" for *_, state in to_run), sum(state == "new" for *_, state in to_run),
             sum(o is not None and o.error is not None for o in outcomes))

    tabular = client.get_executor(pure=False)
    admission = LiveAdmission(client)
    state_of = {i: state for i, _, state in to_run}
    waiting = [(i, specs[i]) for i, clock, _ in to_run if clock == "wall"]  # live runs not started, in order
    live_pool = ThreadPoolExecutor(max_workers=len(waiting), thread_name_prefix="live-run") if waiting else None
    pending: dict[Future[Any], int] = {}
    order = HeaviestFirst([(i, specs[i]) for i, clock, _ in to_run if clock != "wall"])
    handed_out: set[int] = set()  # tabular runs submitted and not finished

    def hand_out() -> None:
        # two runs per worker thread present, one running and one queued on its worker (Dask's queuing sends a
        # single-threaded worker two tasks), so that a worker that finishes starts its next run without waiting
        # for this loop; the rest wait here, where the order can still follow what is learned
        if not order:
            return
        slots = 2 * int(cluster_capacity(client)[THREADS]) - len(handed_out)
        for _ in range(min(slots, len(order))):
            index, spec = order.pop()
            future = tabular.submit(_execute_with_plugins, spec, str(root), plugins,
                                    key=f"run-{spec.experiment}-{spec.task}-{spec.baseline}-{spec.seed}")
            pending[future] = index
            handed_out.add(index)

    already = sum(o is not None for o in outcomes)
    with tqdm(total=len(specs), initial=already, unit="run", disable=not progress, dynamic_ncols=True) as bar:
        try:
            told = None
            hand_out()
            while pending or waiting or order:
                started = admission.admit(waiting)
                waiting = [(i, spec) for i, spec in waiting if i not in started]
                for index in started:
                    assert live_pool is not None
                    pending[live_pool.submit(_execute_live, specs[index], tasks[specs[index].task], root, client,
                                             plugins)] = index
                if admission.waiting_for != told:  # logged when it changes, not at every look
                    told = admission.waiting_for
                    if told is not None:
                        log.warning(told)
                done: set[Future[Any]] = set()
                if pending:
                    done, _ = wait(pending, timeout=POLL_S if waiting else 2.0, return_when=FIRST_COMPLETED)
                else:
                    time.sleep(POLL_S)
                for future in done:
                    index = pending.pop(future)
                    admission.release(index)
                    spec, state = specs[index], state_of[index]
                    result: WorkerRun | str | None = None  # a tabular run's record, or a live run's folder
                    try:
                        result = future.result()
                    except Exception as error:  # one broken run must not stop the suite
                        outcomes[index] = RunOutcome(spec, None, f"{type(error).__name__}: {error}", state=state)
                        log.error("run failed: %s: %s", folders[index], error)
                        bar.write(f"run failed: {spec.task} / {spec.baseline} / seed {spec.seed}: {error}")
                    else:
                        tabular_run = isinstance(result, WorkerRun)
                        outcomes[index] = RunOutcome(spec, Path(result.folder if tabular_run else result), state=state)
                        # the worker and its seconds: where the suite's time went (benchmarks/default_job.py)
                        where = (f" on {result.worker}: {result.seconds:.3f} s from {_clock(result.began)}"
                                 if tabular_run else "")
                        log.info("finished %s (%s)%s", folders[index], state, where)
                    if index in handed_out:
                        handed_out.remove(index)
                        order.finished(spec, result.seconds if isinstance(result, WorkerRun) else None)
                    bar.update()
                hand_out()
                bar.set_postfix_str(f"evaluations={sum(_count_rows(f) for f in folders)}"
                                    + (f"; {told}" if told else ""), refresh=True)
        finally:
            if live_pool is not None:
                live_pool.shutdown(wait=not pending, cancel_futures=True)
    return [o for o in outcomes if o is not None]
