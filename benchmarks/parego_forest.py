"""ParEGO with SMAC's default random forest against the project's setting: time per trial and quality.

SMAC's facade forest uses ``n_jobs=-1`` and ``max_leaf_nodes=2**20``; ``forest="fast"`` keeps every other
setting and uses ``n_jobs=1`` and ``max_leaf_nodes=None`` (see baselines/parego.py). Both run through the
same ParEGO wrapper and the simulated-clock loop, interleaved seed by seed (alternating which goes first).
Prints wall seconds per trial (medians), the ratio, the final hypervolume (expected objectives,
normalised) and a two-sided Mann-Whitney U test over the seeds.

    python benchmarks/parego_forest.py [--task fcnet-naval] [--seeds 10] [--budget 100]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.stats import mannwhitneyu

from analysis.indicators import hypervolume
from baselines.parego import ParEGO
from suite.loops import simulate
from suite.spec import Budget
from tasks import make_task
from tasks.base import Task


def run(task: Task, forest: str, seed: int, budget: int) -> tuple[float, float]:
    """(final hypervolume, wall seconds per trial) of one ParEGO run."""
    rows: list[dict] = []
    started = time.perf_counter()
    simulate(ParEGO(task.space, task.objectives, None, seed, forest=forest), task, seed, Budget(evaluations=budget),
             1, rows.append)
    seconds = (time.perf_counter() - started) / budget
    values = np.array([[row[f"expected.{n}"] for n in task.objective_names] for row in rows if row["status"] == "ok"])
    return hypervolume(task.normalise(values), np.array(task.reference_point)), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="fcnet-naval")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=100)
    args = parser.parse_args()
    task = make_task(args.task)
    results: dict[str, list[tuple[float, float]]] = {"smac": [], "fast": []}
    for seed in range(args.seeds):
        for forest in ("smac", "fast") if seed % 2 == 0 else ("fast", "smac"):
            results[forest].append(run(task, forest, seed, args.budget))
    print(f"ParEGO on {args.task}, {args.seeds} seeds, {args.budget} evaluations, 1 worker")
    print(f"{'forest':8s} {'s/trial (median)':>17s} {'final HV median':>16s} {'q25':>7s} {'q75':>7s}")
    for forest, values in results.items():
        hv = [v[0] for v in values]
        print(f"{forest:8s} {np.median([v[1] for v in values]):17.3f} {np.median(hv):16.4f} "
              f"{np.percentile(hv, 25):7.4f} {np.percentile(hv, 75):7.4f}")
    speedup = np.median([v[1] for v in results["smac"]]) / np.median([v[1] for v in results["fast"]])
    p = mannwhitneyu([v[0] for v in results["fast"]], [v[0] for v in results["smac"]]).pvalue
    print(f"time per trial, smac / fast: {speedup:.2f}x;  final HV, Mann-Whitney U two-sided p = {p:.3f}")


if __name__ == "__main__":
    main()
