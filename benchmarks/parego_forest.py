"""ParEGO with SMAC's default random forest against the project's setting: time per trial and quality.

SMAC's facade forest uses ``n_jobs=-1`` and ``max_leaf_nodes=2**20``; ``forest="fast"`` keeps every other
setting and uses ``n_jobs=1`` and ``max_leaf_nodes=None`` (see baselines/_parego_smac.py). Both run through the
same ParEGO wrapper and the simulated-clock loop, interleaved seed by seed (alternating which goes first).
Prints wall seconds per trial (medians), the ratio, the final hypervolume (expected objectives,
normalised) and a two-sided Mann-Whitney U test over the seeds.

    python benchmarks/parego_forest.py [--task fcnet-naval] [--seeds 10] [--budget 100]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from scipy.stats import mannwhitneyu

from analysis.indicators import hypervolume
from baselines.parego import ParEGO
from suite.loops import simulate
from suite.spec import Budget
from tasks import make_task
from tasks.base import Task


Run = Callable[[Task, str, int, int], tuple]


def final_hypervolume(task: Task, rows: list[dict]) -> float:
    """Hypervolume of a run's successful rows (expected objectives, normalised by the task's bounds)."""
    values = np.array([[row[f"expected.{n}"] for n in task.objective_names] for row in rows if row["status"] == "ok"])
    return hypervolume(task.normalise(values), np.array(task.reference_point))


def run(task: Task, forest: str, seed: int, budget: int) -> tuple[float, float]:
    """(final hypervolume, wall seconds per trial) of one ParEGO run."""
    rows: list[dict] = []
    started = time.perf_counter()
    simulate(ParEGO(task.space, task.objectives, None, seed, forest=forest), task, seed, Budget(evaluations=budget),
             1, rows.append)
    return final_hypervolume(task, rows), (time.perf_counter() - started) / budget


def compare(description: str, variants: tuple[str, str], run_one: Run) -> dict[str, list[tuple]]:
    """Parse --task/--seeds/--budget, run both variants seed by seed (alternating which goes first) and print
    seconds per trial and final hypervolumes; returns each variant's (hypervolume, seconds, ...) per seed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--task", default="fcnet-naval")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=100)
    args, _ = parser.parse_known_args()  # a caller's own flags (parego_speed.py --reference) pass through
    task = make_task(args.task)
    results: dict[str, list[tuple]] = {variant: [] for variant in variants}
    for seed in range(args.seeds):
        for variant in variants if seed % 2 == 0 else variants[::-1]:
            results[variant].append(run_one(task, variant, seed, args.budget))
    print(f"ParEGO on {args.task}, {args.seeds} seeds, {args.budget} evaluations, 1 worker")
    print(f"{'variant':12s} {'s/trial (median)':>17s} {'final HV median':>16s} {'q25':>7s} {'q75':>7s}")
    for variant, values in results.items():
        hv = [v[0] for v in values]
        print(f"{variant:12s} {np.median([v[1] for v in values]):17.3f} {np.median(hv):16.4f} "
              f"{np.percentile(hv, 25):7.4f} {np.percentile(hv, 75):7.4f}")
    old, new = (results[variant] for variant in variants)
    speedup = np.median([v[1] for v in old]) / np.median([v[1] for v in new])
    p = mannwhitneyu([v[0] for v in new], [v[0] for v in old]).pvalue
    print(f"time per trial, {variants[0]} / {variants[1]}: {speedup:.2f}x;  final HV, Mann-Whitney U two-sided "
          f"p = {p:.3f}")
    return results


def main() -> None:
    compare(__doc__.splitlines()[0], ("smac", "fast"), run)


if __name__ == "__main__":
    main()
