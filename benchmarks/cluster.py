"""Cluster figures: live evaluations on two Dask workers against one, and Dask's overhead per tabular run.

1. Live scaling (goal: >= 1.8x). The wall-clock loop (``run_wall`` with ``DaskEvaluator``) runs the same
   K evaluations on a loopback LocalCluster of two single-threaded workers, one evaluation at a time (what
   one worker gives) and two at a time (two workers). Each evaluation is a real CPU-bound training of the
   live task ``cnn-digits`` (sklearn digits, torch on CPU, one thread per worker) of one fixed
   configuration (the space's default) at the lowest fidelity, so that every evaluation costs about the
   same and the ideal ratio is 2 for even K. The ratio printed is wall(1 worker) / wall(2 workers), both
   measured in this run. Reference, measured in the same run: the same evaluations on a plain process pool
   of two processes (no Dask), one at a time and two at a time, which says what two processes gain on this
   machine at this moment (a shared, loaded machine gives less than 2); Dask's efficiency is its ratio
   divided by the reference's.
2. Scheduling overhead per tabular run: M small tabular runs executed one after another in this process,
   against the same runs sent by ``run_grid`` to a warm one-worker LocalCluster; (Dask - direct) / M.
3. ``--default-suite``: the wall time of ``python run_suite.py`` with its defaults (long; run it once).

    python benchmarks/cluster.py [--evaluations 16] [--repeats 2] [--runs 20] [--default-suite]

The figures depend on the machine's load: the script prints the load average next to them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one torch thread per worker: the evaluations are CPU-bound

import numpy as np  # noqa: E402
from distributed import Client  # noqa: E402

from baselines.base import Baseline, Proposal  # noqa: E402
from suite.dispatch import local_cluster, run_grid  # noqa: E402
from suite.evaluators import DaskEvaluator, cached_task  # noqa: E402
from suite.lifecycle import execute  # noqa: E402
from suite.loops import run_wall  # noqa: E402
from suite.spec import Budget, RunSpec  # noqa: E402
from tasks import make_task  # noqa: E402
from tasks.base import Result, Trial, to_python  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


class SameConfiguration(Baseline):
    """Asks the space's default configuration again and again at the lowest fidelity (equal-cost work)."""

    def propose(self, trial_id: int) -> Proposal:
        fidelity = None if self.fidelity is None else self.fidelity.min
        return Proposal(to_python(self.space.get_default_configuration()), fidelity)

    def observe(self, trial: Trial, result: Result, values: np.ndarray | None, replayed: bool) -> None:
        pass


def _warm(task_name: str) -> None:
    """One evaluation on each worker first: data loading and torch's first-call costs are not measured."""
    task = cached_task(task_name)
    trial = SameConfiguration(task.space, task.objectives, task.fidelity, 0).ask()
    task.evaluate(trial.config, trial.fidelity, 0)


def live_wall(client: Client, task_name: str, at_once: int, evaluations: int) -> tuple[float, list[float]]:
    """Wall seconds of ``evaluations`` live evaluations, ``at_once`` at a time on the Dask workers, and each
    evaluation's span."""
    task = make_task(task_name)
    rows: list[dict] = []
    evaluator = DaskEvaluator(client, task)
    started = time.perf_counter()
    run_wall(SameConfiguration(task.space, task.objectives, task.fidelity, 0), task, 0,
             Budget(evaluations=evaluations), at_once, rows.append, evaluator=evaluator)
    wall = time.perf_counter() - started
    evaluator.close()
    failed = [r["reason"] for r in rows if r["status"] != "ok"]
    if failed:
        raise SystemExit(f"live evaluations failed: {failed[0]}")
    return wall, [r["end"] - r["start"] for r in rows]


def _evaluate_once(task_name: str) -> None:
    _warm(task_name)


def pool_wall(pool: ProcessPoolExecutor, task_name: str, at_once: int, evaluations: int) -> float:
    """The reference: the same evaluations on a plain pool of two processes, one at a time or both busy."""
    started = time.perf_counter()
    if at_once == 1:
        for _ in range(evaluations):
            pool.submit(_evaluate_once, task_name).result()
    else:
        list(pool.map(_evaluate_once, [task_name] * evaluations))
    return time.perf_counter() - started


def tabular_overhead(runs: int, budget: int, folder: Path) -> tuple[float, float]:
    """Seconds for ``runs`` tabular runs executed here, and sent through Dask to one warm worker."""
    def specs(experiment: str, n: int) -> list[RunSpec]:
        return [RunSpec("random_search", "fcnet-naval", s, Budget(evaluations=budget), experiment=experiment)
                for s in range(n)]

    execute(specs("warm", 1)[0], folder)  # loads the table in this process
    started = time.perf_counter()
    for spec in specs("direct", runs):
        execute(spec, folder)
    direct = time.perf_counter() - started
    with local_cluster(1) as cluster, Client(cluster) as client:
        run_grid(client, specs("warm-dask", 1), folder, progress=False)
        started = time.perf_counter()
        outcomes = run_grid(client, specs("dask", runs), folder, progress=False)
        dask = time.perf_counter() - started
    if any(o.error for o in outcomes):
        raise SystemExit(f"tabular runs failed: {[o.error for o in outcomes if o.error][0]}")
    return direct, dask


def default_suite(folder: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(ROOT / "run_suite.py"), "--results", str(folder), "--no-plot",
                           "--quiet"], cwd=folder, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the default suite failed: {done.stderr.strip().splitlines()[-1:]}")
    print(done.stdout.strip().splitlines()[0])
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="cnn-digits", help="live task of the scaling figure")
    parser.add_argument("--evaluations", type=int, default=16, help="live evaluations per measurement")
    parser.add_argument("--repeats", type=int, default=2, help="interleaved repeats of the live figure")
    parser.add_argument("--runs", type=int, default=20, help="tabular runs of the overhead figure")
    parser.add_argument("--budget", type=int, default=20, help="evaluations per tabular run")
    parser.add_argument("--default-suite", action="store_true", help="also time run_suite.py with its defaults")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average before {os.getloadavg()[0]:.1f}")

    # one 2-worker cluster and one 2-process pool; 1 and 2 evaluations at a time, interleaved, best of
    # --repeats: the load of a shared machine drifts, and the minimum is the least disturbed measurement
    walls: dict[str, list[float]] = {"dask 1": [], "dask 2": [], "pool 1": [], "pool 2": []}
    spans: dict[int, list[float]] = {1: [], 2: []}
    with local_cluster(2) as cluster, Client(cluster) as client, \
            ProcessPoolExecutor(2, mp_context=get_context("spawn"), initializer=_warm, initargs=(args.task,)) as pool:
        client.run(_warm, args.task)
        list(pool.map(_evaluate_once, [args.task] * 2))  # both processes started and warm
        for _ in range(args.repeats):
            for at_once in (1, 2):
                wall, span = live_wall(client, args.task, at_once, args.evaluations)
                walls[f"dask {at_once}"].append(wall)
                spans[at_once] += span
                walls[f"pool {at_once}"].append(pool_wall(pool, args.task, at_once, args.evaluations))
    one, two = min(walls["dask 1"]), min(walls["dask 2"])
    pool_one, pool_two = min(walls["pool 1"]), min(walls["pool 2"])
    print(f"live: {args.evaluations} evaluations of {args.task} (default configuration, lowest fidelity), "
          f"best of {args.repeats}; median evaluation {sorted(spans[1])[len(spans[1]) // 2]:.2f} s one at a "
          f"time, {sorted(spans[2])[len(spans[2]) // 2]:.2f} s two at a time")
    print(f"live: 1 worker {one:.1f} s, 2 workers {two:.1f} s -> speed-up {one / two:.2f}x (goal >= 1.8x)")
    print(f"reference without Dask: 1 process {pool_one:.1f} s, 2 processes {pool_two:.1f} s -> "
          f"{pool_one / pool_two:.2f}x; Dask reaches {(one / two) / (pool_one / pool_two):.0%} of it")

    with tempfile.TemporaryDirectory() as tmp:
        direct, dask = tabular_overhead(args.runs, args.budget, Path(tmp))
    print(f"tabular: {args.runs} runs x {args.budget} evaluations: in-process {direct:.2f} s, "
          f"through Dask {dask:.2f} s -> overhead {(dask - direct) / args.runs * 1000:.0f} ms per run")

    if args.default_suite:
        with tempfile.TemporaryDirectory() as tmp:
            wall = default_suite(Path(tmp))
        print(f"default suite: {wall:.0f} s wall on {os.cpu_count()} cores")
    print(f"load average after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
