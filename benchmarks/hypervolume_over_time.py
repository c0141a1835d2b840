"""Time of hypervolume over time for 100,000 evaluations with 3 objectives, against a naive loop.

Data: what random search produces on the NAS-Bench-201 CIFAR-10 table: rows drawn uniformly with
replacement from the table's expected objectives (error, latency, model size), normalised by the task's
bounds, reference point 1.1 per objective. The naive loop calls ``moocore.hypervolume`` on every prefix;
it is far too slow to run whole, so it is timed on an evenly spaced subsample of prefixes and the mean is
multiplied by the number of evaluations (stated in the output). Goals (issue 7): fast < 1 s, >= 50x.
Goals (issue 12): the same random search with 1,000,000 evaluations < 0.1 s, and the worst case < 0.5 s:
the 100,000 points sorted from the worst first objective to the best, so that each row is non-dominated
when it arrives and almost every row changes the front. Times are the best of 3 (the machine may be shared).

    python benchmarks/hypervolume_over_time.py [--evaluations 100000] [--large-evaluations 1000000]
                                               [--naive-samples 100]
"""

from __future__ import annotations

import argparse
import time

import moocore
import numpy as np

from analysis.indicators import hypervolume_over_time
from tasks import make_task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="nb201-cifar10")
    parser.add_argument("--evaluations", type=int, default=100_000)
    parser.add_argument("--large-evaluations", type=int, default=1_000_000)
    parser.add_argument("--naive-samples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    task = make_task(args.task)
    expected = task.normalise(task.table.expected.reshape(-1, len(task.objectives)))  # rows x fidelity levels
    rng = np.random.default_rng(args.seed)
    points = expected[rng.integers(len(expected), size=args.evaluations)]
    reference_point = np.array(task.reference_point, dtype=float)
    print(f"data: {args.evaluations} evaluations drawn uniformly with replacement (random search) from the "
          f"{len(expected)} expected rows of {args.task}, {points.shape[1]} objectives, seed {args.seed}")

    fast, fast_s = best_of_3(points, reference_point)
    changes = int(np.count_nonzero(np.diff(fast, prepend=0.0)))

    prefixes = np.unique(np.linspace(0, args.evaluations - 1, args.naive_samples).astype(int))
    naive_times = []
    for i in prefixes:
        started = time.perf_counter()
        naive = float(moocore.hypervolume(points[: i + 1], ref=reference_point))
        naive_times.append(time.perf_counter() - started)
        assert abs(naive - fast[i]) <= 1e-12 * max(1.0, naive), (i, naive, fast[i])
    naive_s = float(np.mean(naive_times)) * args.evaluations

    print(f"fast hypervolume over time: {fast_s:.3f} s (best of 3; the front changed {changes} times)")
    print(f"naive moocore.hypervolume per evaluation: {naive_s:.1f} s (extrapolated: mean of {len(prefixes)} evenly "
          f"spaced prefixes x {args.evaluations}; the sampled values agree with the fast ones)")
    print(f"speed-up: {naive_s / fast_s:.0f}x   goals: fast < 1 s [{'ok' if fast_s < 1 else 'MISSED'}], "
          f">= 50x [{'ok' if naive_s / fast_s >= 50 else 'MISSED'}]")

    large = expected[rng.integers(len(expected), size=args.large_evaluations)]
    large_curve, large_s = best_of_3(large, reference_point)
    print(f"typical case, {args.large_evaluations} evaluations (random search as above): {large_s:.3f} s, the front "
          f"changed {int(np.count_nonzero(np.diff(large_curve, prepend=0.0)))} times   "
          f"goal < 0.1 s [{'ok' if large_s < 0.1 else 'MISSED'}]")

    # the cost grows with the number of front changes: sorted from the worst first objective to the best, every
    # row is non-dominated when it arrives and almost every one changes the front
    adversarial = points[np.argsort(-points[:, 0], kind="stable")]
    worst, worst_s = best_of_3(adversarial, reference_point)
    print(f"worst case (the {args.evaluations} points sorted by decreasing {task.objective_names[0]}): {worst_s:.3f} s, "
          f"the front changed {int(np.count_nonzero(np.diff(worst, prepend=0.0)))} times   "
          f"goal < 0.5 s [{'ok' if worst_s < 0.5 else 'MISSED'}]")


def best_of_3(points: np.ndarray, reference_point: np.ndarray) -> tuple[np.ndarray, float]:
    """Hypervolume over time of ``points`` and the shortest of three timings in seconds."""
    repeats = []
    for _ in range(3):
        started = time.perf_counter()
        curve = hypervolume_over_time(points, reference_point)
        repeats.append(time.perf_counter() - started)
    return curve, min(repeats)


if __name__ == "__main__":
    main()
