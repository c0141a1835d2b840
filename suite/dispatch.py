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

import logging
import os
import shutil
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from distributed import Client, LocalCluster
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


def _execute_with_plugins(spec: RunSpec, root: str, plugins: tuple[str, ...]) -> str:
    # a worker process has its own registries: plugins registered on the client must be loaded there too
    for module in plugins:
        Registry.load_module(module)
    return str(execute(spec, Path(root)))


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
