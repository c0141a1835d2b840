"""LaMOO around an inner baseline against that baseline alone: final hypervolume and per-trial overhead.

    python benchmarks/lamoo_vs_inner.py [--inner random_search motpe nsga2] [--tasks ...] [--seeds 10]
                                        [--budget 100] [--jobs 1]

For each task (default: the 15 tables), inner baseline and seed, one simulated run (1 worker) of ``X`` and
one of ``lamoo`` with ``inner: X``, same seed. Prints, per task and inner baseline as soon as its seeds are
done: the median final hypervolume of both (expected objectives, normalised, the task's reference point), a
two-sided Mann-Whitney U p-value over the seeds, and the CPU time per trial of each (``time.process_time`` of
the whole run, whose table lookups are microseconds: this is the baselines' own time); then a summary over
the tasks. Every figure is measured in this run.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy.stats import mannwhitneyu

from analysis.indicators import hypervolume
from baselines import BASELINES
from suite.loops import simulate
from suite.spec import Budget
from tasks import make_task

from baseline_quality import expected_points  # the sibling script: benchmarks/ runs as scripts

TABLES = ["fcnet-naval", "fcnet-parkinsons", "fcnet-protein", "fcnet-slice", "hpobench-mlp-australian",
          "hpobench-mlp-blood_transfusion", "hpobench-mlp-car", "hpobench-mlp-credit_g", "hpobench-mlp-kc1",
          "hpobench-mlp-phoneme", "hpobench-mlp-segment", "hpobench-mlp-vehicle", "nb201-cifar10",
          "nb201-cifar100", "nb201-imagenet16"]


def one_run(args: tuple[str, str, str | None, int, int]) -> tuple[float, float]:
    """(final hypervolume, CPU seconds per trial) of ``baseline`` (``lamoo`` with ``inner``) on ``task_name``."""
    task_name, baseline, inner, seed, budget = args
    task = make_task(task_name)
    options = {} if inner is None else {"inner": inner}
    rows: list[dict] = []
    started = time.process_time()
    instance = BASELINES.get(baseline)(task.space, task.objectives, task.fidelity, seed, **options)
    simulate(instance, task, seed, Budget(evaluations=budget), 1, rows.append)
    per_trial = (time.process_time() - started) / budget
    return hypervolume(expected_points(task, rows), np.array(task.reference_point)), per_trial


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inner", nargs="+", default=["random_search", "motpe", "nsga2"])
    parser.add_argument("--tasks", nargs="+", default=TABLES)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    print(f"final hypervolume (higher is better), median over {args.seeds} seeds, {args.budget} evaluations, "
          "1 worker; p: two-sided Mann-Whitney U; ms/trial: CPU time per trial, median", flush=True)
    print(f"{'task':31s} {'inner':14s} {'HV inner':>9s} {'HV lamoo':>9s} {'p':>7s} {'better':>7s} "
          f"{'ms inner':>9s} {'ms lamoo':>9s}", flush=True)
    summary: dict[str, list[tuple[float, float, float, float]]] = {inner: [] for inner in args.inner}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for task in args.tasks:
            for inner in args.inner:
                alone = list(pool.map(one_run, [(task, inner, None, s, args.budget) for s in range(args.seeds)]))
                wrapped = list(pool.map(one_run, [(task, "lamoo", inner, s, args.budget)
                                                  for s in range(args.seeds)]))
                hv_alone, hv_lamoo = [h for h, _ in alone], [h for h, _ in wrapped]
                p = mannwhitneyu(hv_lamoo, hv_alone).pvalue if hv_alone != hv_lamoo else 1.0
                better = "lamoo" if np.median(hv_lamoo) > np.median(hv_alone) else "inner"
                ms_alone = 1000 * float(np.median([t for _, t in alone]))
                ms_lamoo = 1000 * float(np.median([t for _, t in wrapped]))
                summary[inner].append((float(np.median(hv_alone)), float(np.median(hv_lamoo)), p, ms_lamoo - ms_alone))
                print(f"{task:31s} {inner:14s} {np.median(hv_alone):9.4f} {np.median(hv_lamoo):9.4f} {p:7.3f} "
                      f"{better:>7s} {ms_alone:9.2f} {ms_lamoo:9.2f}", flush=True)
    print("\nsummary per inner baseline over the tasks: tasks where lamoo's median is higher / lower, of those "
          "with p < 0.05, and the median extra CPU time per trial")
    for inner, found in summary.items():
        higher = sum(b > a for a, b, _, _ in found)
        lower = sum(b < a for a, b, _, _ in found)
        sig_higher = sum(b > a and p < 0.05 for a, b, p, _ in found)
        sig_lower = sum(b < a and p < 0.05 for a, b, p, _ in found)
        extra = float(np.median([e for *_, e in found]))
        print(f"{inner:14s} higher {higher:2d} (p<0.05: {sig_higher:2d})  lower {lower:2d} (p<0.05: {sig_lower:2d})"
              f"  of {len(found)} tasks; +{extra:.2f} ms per trial")


if __name__ == "__main__":
    main()
