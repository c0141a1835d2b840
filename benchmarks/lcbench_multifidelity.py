"""Multi-fidelity on the LCBench surrogate tasks: MO-BOHB against MOTPE and random search, budget in simulated s.

The runs are made by the suite's own command (``bag-of-baselines run``, one run per baseline x task x seed on
the simulated clock, results written as for any job), then read back from the result files: the hypervolume
(normalised by each task's fixed bounds, reference point 1.1) of everything a run had finished by 1/4, 1/2
and all of the budget. MOTPE and random search train every configuration for 52 epochs; MO-BOHB runs
Hyperband from epoch 1 (eta 3), each evaluation charged the training time to its epoch (``promotion``
"scratch", the tasks' default). Per task and budget fraction the table gives each baseline's median
hypervolume over the seeds (MO-BOHB twice: every evaluation, and its 52-epoch evaluations only) and two-sided
Mann-Whitney U p-values of MO-BOHB against the others.

    python benchmarks/lcbench_multifidelity.py [--folder DIR] [--tasks 8] [--seeds 10] [--budget-seconds 21600]
        [--results results] [--experiment lcbench-mf] [--dask-workers 2] [--analyse-only]

``--tasks`` takes a number (the first N of the 34 in YAHPO Gym's order) or comma-separated names. The folder
defaults to ``BOB_LCBENCH_DIR``. A second call resumes (finished runs are skipped), like the suite.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from tasks.surrogates import LCBENCH_ENV, configured_folder, LCBENCH_INSTANCES

ROOT = Path(__file__).resolve().parents[1]
BASELINES = ("mo_bohb", "motpe", "random_search")
FULL_ONLY = "mo_bohb (52 epochs only)"
COLUMNS = ("mo_bohb", FULL_ONLY, "motpe", "random_search")
EPOCHS = 52
FRACTIONS = (0.25, 0.5, 1.0)


def run_grid(args: argparse.Namespace, tasks: list[str]) -> float:
    """Run the grid with the suite's command, one task after the other (so that an interrupted comparison
    leaves whole tasks); returns the wall-clock seconds."""
    started = time.perf_counter()
    for task in tasks:
        command = [sys.executable, str(ROOT / "run_suite.py"), "--baselines", ",".join(BASELINES), "--tasks", task,
                   "--seeds", str(args.seeds), "--budget-seconds", str(args.budget_seconds),
                   "--results", str(args.results), "--experiment", args.experiment, "--no-plot", "--quiet"]
        if args.dask_workers is not None:
            command += ["--dask-workers", str(args.dask_workers)]
        subprocess.run(command, check=True, env={**os.environ, LCBENCH_ENV: str(args.folder)})
        print(f"{task}: done after {time.perf_counter() - started:.0f} s (load average {os.getloadavg()[0]:.2f})",
              flush=True)
    return time.perf_counter() - started


def hypervolume_at(args: argparse.Namespace) -> dict[tuple[str, str], np.ndarray]:
    """(task, column) -> hypervolume (seeds x fractions) of what each run had finished by each fraction.

    Columns: each baseline with every evaluation counted at the objectives of its epoch, and MO-BOHB with
    its 52-epoch evaluations only (``FULL_ONLY``): a network trained for fewer epochs is a model too, with a
    shorter training time, so the first counts what a user could pick, the second what full training found.
    """
    from analysis.indicators import hypervolume_over_time
    from analysis.io import load_experiment

    found: dict[tuple[str, str], dict[int, np.ndarray]] = {}
    for run in load_experiment(Path(args.results) / args.experiment):
        if not run.complete:
            continue  # its task is left out of the table (``main``)
        # a run whose first evaluations all end after the budget has no rows: nothing finished, hypervolume 0
        fidelity = run.rows["fidelity"].to_numpy(dtype=float) if len(run.rows) else np.empty(0)
        subsets = {run.baseline: np.ones(len(fidelity), dtype=bool)}
        if run.baseline == "mo_bohb":
            subsets[FULL_ONLY] = np.isnan(fidelity) | (fidelity == EPOCHS)
        for column, keep in subsets.items():
            values = hypervolume_over_time(run.normalised[keep], run.reference_point)
            end = run.end[keep]
            at = []
            for fraction in FRACTIONS:
                done = np.searchsorted(end, fraction * args.budget_seconds, side="right")  # rows in end order
                at.append(values[done - 1] if done else 0.0)
            found.setdefault((run.task, column), {})[run.seed] = np.array(at)
    return {key: np.array([by_seed[s] for s in sorted(by_seed)]) for key, by_seed in found.items()}


def table(results: dict[tuple[str, str], np.ndarray], tasks: list[str]) -> str:
    """The markdown table: medians and MO-BOHB's p-values, and a count of significant wins and losses."""
    from scipy.stats import mannwhitneyu

    pairs = [("mo_bohb", "motpe"), ("mo_bohb", "random_search"), (FULL_ONLY, "motpe")]
    header = (["task", "budget"] + [f"{c}" for c in COLUMNS]
              + [f"p {a} vs {b}" for a, b in pairs])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    wins = {(pair, f): [0, 0] for pair in pairs for f in FRACTIONS}
    for task in tasks:
        for j, fraction in enumerate(FRACTIONS):
            medians = [f"{np.median(results[task, c][:, j]):.4f}" for c in COLUMNS]
            p_values = []
            for a, b in pairs:
                mine, theirs = results[task, a][:, j], results[task, b][:, j]
                p = float(mannwhitneyu(mine, theirs, alternative="two-sided").pvalue)
                p_values.append(f"{p:.2g}")
                if p < 0.05:
                    wins[(a, b), fraction][0 if np.median(mine) > np.median(theirs) else 1] += 1
            lines.append("| " + " | ".join([task.removeprefix("lcbench-"), f"{fraction:g}", *medians, *p_values])
                         + " |")
    summary = [f"{a} vs {b} at {f:g} of the budget: higher on {w}, lower on {l} of {len(tasks)} tasks (p < 0.05)"
               for ((a, b), f), (w, l) in wins.items()]
    return "\n".join(lines + [""] + summary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", default=configured_folder(), help=f"default ${LCBENCH_ENV}")
    parser.add_argument("--tasks", default="8", help="a number (the first N instances) or comma-separated names")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget-seconds", type=float, default=21600.0, help="simulated seconds per run")
    parser.add_argument("--results", default="results")
    parser.add_argument("--experiment", default="lcbench-mf")
    parser.add_argument("--dask-workers", type=int, default=None)
    parser.add_argument("--analyse-only", action="store_true", help="read the results, run nothing")
    args = parser.parse_args()
    if not args.folder:
        parser.error(f"give --folder or set {LCBENCH_ENV}")
    if args.tasks.isdigit():
        tasks = [f"lcbench-{i}" for i in LCBENCH_INSTANCES[: int(args.tasks)]]
    else:
        tasks = args.tasks.split(",")
    if not args.analyse_only:
        wall = run_grid(args, tasks)
        print(f"{len(BASELINES) * len(tasks) * args.seeds} runs in {wall:.0f} s wall "
              f"(load average {os.getloadavg()[0]:.2f} at the end)")
    results = hypervolume_at(args)
    missing = [t for t in tasks if any(len(results.get((t, c), ())) < args.seeds for c in COLUMNS)]
    if missing:
        print(f"left out, not every run complete (run the command again to finish them): {', '.join(missing)}")
        tasks = [t for t in tasks if t not in missing]
    print(f"{len(tasks)} tasks, {args.seeds} seeds, budget {args.budget_seconds:g} simulated s; hypervolume at "
          f"{', '.join(f'{f:g}' for f in FRACTIONS)} of the budget")
    print(table(results, tasks))


if __name__ == "__main__":
    main()
