"""ParEGO as it runs against ParEGO with SMAC's and ConfigSpace's own code paths: time per trial and quality.

ParEGO predicts with a plain loop over its trees (``_TreeLoopEnsemble`` in baselines/parego.py) and draws
SMAC's random configurations in one batch (``_BatchSampledSpace``); the reference run patches SMAC's own
``all_trees_pred`` (joblib ``Parallel`` with ``n_jobs=1`` and sklearn's input validation) and ConfigSpace's own
``sample_configuration`` (five configurations per round) back in. Both run through the same ParEGO wrapper and the simulated-clock loop,
interleaved seed by seed (alternating which goes first). Prints wall seconds per trial (medians), the
ratio, in how many seeds both proposed the same configurations (the batch draws consume the random
stream in another order, so after the first acquisition they differ), the final hypervolume (expected objectives,
normalised) and a two-sided Mann-Whitney U test over the seeds.

    python benchmarks/parego_speed.py [--task fcnet-naval] [--seeds 10] [--budget 100]
"""

from __future__ import annotations

import argparse
import time
from unittest.mock import patch

import numpy as np
from ConfigSpace import ConfigurationSpace
from scipy.stats import mannwhitneyu
from smac.model.random_forest.random_forest import EPMRandomForest

from analysis.indicators import hypervolume
from baselines.parego import ParEGO, _BatchSampledSpace, _TreeLoopEnsemble
from suite.loops import simulate
from suite.spec import Budget
from tasks import make_task
from tasks.base import Task

VARIANTS = ("smac-paths", "parego")


def run(task: Task, variant: str, seed: int, budget: int) -> tuple[float, float, list[str]]:
    """(final hypervolume, wall seconds per trial, proposed configurations) of one ParEGO run."""
    rows: list[dict] = []
    reference = variant == "smac-paths"
    predict = EPMRandomForest.all_trees_pred if reference else _TreeLoopEnsemble.all_trees_pred
    sample = ConfigurationSpace.sample_configuration if reference else _BatchSampledSpace.sample_configuration
    with patch.object(_TreeLoopEnsemble, "all_trees_pred", predict), \
            patch.object(_BatchSampledSpace, "sample_configuration", sample):
        started = time.perf_counter()
        simulate(ParEGO(task.space, task.objectives, None, seed), task, seed, Budget(evaluations=budget), 1,
                 rows.append)
        seconds = (time.perf_counter() - started) / budget
    values = np.array([[row[f"expected.{n}"] for n in task.objective_names] for row in rows if row["status"] == "ok"])
    configs = [row["config"] for row in rows]  # a JSON string per row
    return hypervolume(task.normalise(values), np.array(task.reference_point)), seconds, configs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="fcnet-naval")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=100)
    args = parser.parse_args()
    task = make_task(args.task)
    results: dict[str, list[tuple[float, float, list[str]]]] = {variant: [] for variant in VARIANTS}
    for seed in range(args.seeds):
        for variant in VARIANTS if seed % 2 == 0 else VARIANTS[::-1]:
            results[variant].append(run(task, variant, seed, args.budget))
    print(f"ParEGO on {args.task}, {args.seeds} seeds, {args.budget} evaluations, 1 worker")
    print(f"{'code paths':13s} {'s/trial (median)':>17s} {'final HV median':>16s} {'q25':>7s} {'q75':>7s}")
    for variant, values in results.items():
        hv = [v[0] for v in values]
        print(f"{variant:13s} {np.median([v[1] for v in values]):17.3f} {np.median(hv):16.4f} "
              f"{np.percentile(hv, 25):7.4f} {np.percentile(hv, 75):7.4f}")
    old, new = results["smac-paths"], results["parego"]
    speedup = np.median([v[1] for v in old]) / np.median([v[1] for v in new])
    same = sum(a[2] == b[2] for a, b in zip(old, new))
    p = mannwhitneyu([v[0] for v in new], [v[0] for v in old]).pvalue
    print(f"time per trial, smac-paths / parego: {speedup:.2f}x;  same configurations in {same} of "
          f"{args.seeds} seeds;  final HV, Mann-Whitney U two-sided p = {p:.3f}")


if __name__ == "__main__":
    main()
