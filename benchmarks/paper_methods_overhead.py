"""Per-trial overhead of MS-EHVI and MO-BANANAS: CPU seconds of one ask + tell once the baseline holds 100 or
500 results. Prints one table; every figure is measured in this run.

    python benchmarks/paper_methods_overhead.py [--task hpobench-mlp-kc1] [--at 100 500] [--trials 8] [--seed 0]

A fresh baseline (built as the suite builds it, with the task's ``known`` objectives) is told ``n`` random
configurations of the table as replayed trials, then asks and is told ``--trials`` more; the figure is the
median CPU time (``time.process_time``: other programs on a shared machine do not inflate it, contention for
caches still may) of those ask + tell pairs. The first model-based ask also pays torch's and BoTorch's import,
so one untimed ask + tell comes first. ``ms_ehvi (no known)`` is the same baseline without ``known`` (a GP for
every objective). MS-EHVI fits its GP's hyperparameters again only when its data has grown by 10 % (qNEHVI's
``refit_growth``), so the timed asks of ``ms_ehvi`` only condition the GP; ``ms_ehvi refit`` fits at every
ask (``refit_growth: 0``). ``mo_bananas`` trains its ensemble once per 4 picks, so its median is the ask without
training and its mean, printed too, includes the training.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from baselines import BASELINES
from suite.lifecycle import make_baseline
from tasks import make_task
from tasks.base import Trial

#: label -> (baseline, options, with the task's known objectives); those whose baseline is registered
VARIANTS = {label: variant for label, variant in {
    "ms_ehvi": ("ms_ehvi", {}, True), "ms_ehvi (no known)": ("ms_ehvi", {}, False),
    "ms_ehvi refit": ("ms_ehvi", {"refit_growth": 0.0}, True),
    "ms_ehvi refit, no known": ("ms_ehvi", {"refit_growth": 0.0}, False),
    "mo_bananas": ("mo_bananas", {}, True)}.items() if variant[0] in BASELINES}


def overhead(task_name: str, variant: str, n: int, trials: int, seed: int) -> list[float]:
    """CPU seconds of each of ``trials`` ask + tell pairs after ``n`` replayed results."""
    name, options, known = VARIANTS[variant]
    task = make_task(task_name)
    baseline = make_baseline(name, task, seed, options)
    if not known:
        baseline.known = None
    table = task.table
    rows = np.random.default_rng(seed).choice(len(table.n_seeds), size=n, replace=False)
    for i, row in enumerate(rows.tolist()):
        trial = Trial(id=1_000_000 + i, config=table.config(row))
        baseline.tell(trial, task.evaluate(trial.config, seed=trial.id))
    times = []
    for i in range(trials + 1):
        start = time.process_time()
        trial = baseline.ask()
        baseline.tell(trial, task.evaluate(trial.config, seed=trial.id))
        if i:  # the first pays the imports
            times.append(time.process_time() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="hpobench-mlp-kc1")
    parser.add_argument("--at", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()
    print(f"task {args.task}, seed {args.seed}, {args.trials} timed trials each; "
          f"load average at start {os.getloadavg()[0]:.1f}")
    print(f"{'baseline':<20} {'results':>7} {'median s':>9} {'mean s':>8}")
    for variant in args.variants:
        for n in args.at:
            times = overhead(args.task, variant, n, args.trials, args.seed)
            print(f"{variant:<20} {n:>7} {statistics.median(times):>9.3f} {statistics.mean(times):>8.3f}", flush=True)
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
