"""Asynchronous degradation: the hypervolume each registered baseline loses when it must propose before
results return. The same evaluation budget is run with 1, 4 and 16 virtual workers on the simulated clock
(the suite's ``simulate``, tabular tasks: each trial ends at its recorded cost); the final hypervolume of the
expected objectives (``analysis.indicators.hypervolume``, normalised, the task's reference point) is compared
with the same baseline's at 1 worker. Prints a table and writes a figure.

    python benchmarks/async_degradation.py [--tasks fcnet-naval] [--seeds 5] [--budget 50]
                                           [--workers 1,4,16] [--baselines a,b,...] [--jobs 2]
                                           [--runs FILE.jsonl [--no-run]] [--figure docs/figures/async_degradation.png]

``--runs`` keeps every finished run (one JSON line, benchmarks/runs_cache.py) and reuses the runs it already
holds, so a costly baseline can be run with fewer seeds or a smaller budget in a second call; the table and
the figure show every run in the file for the tasks and workers asked, each row with its own budget and
seeds. A run is keyed by task, baseline, its options, workers, seed, budget and the suite's version: rows of
another suite version or of the older layout (no options in the key) are left out, and the script says how
many on stderr.

With w workers the first w trials are all proposed before any result, and later ones with w - 1 trials
pending; how a baseline fills those asks (constant liar, a batch acquisition, a random fraction, nothing)
is what is measured. Random search is the control: it cannot lose anything. Loss = median final
hypervolume at 1 worker minus the median at w workers (positive: w workers did worse); p: two-sided
Mann-Whitney U of the final hypervolumes at w workers against those at 1 worker, over the seeds.
A worker count with no run in a row (one the baseline cannot run, or not run yet) is printed n/r and left
out of the figure; the row's seeds are those all its other worker counts have.
"""

from __future__ import annotations

import argparse
import math
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
from scipy.stats import mannwhitneyu

from analysis.indicators import hypervolume
from baselines import BASELINES
from suite.lifecycle import make_baseline
from suite.loops import simulate
from suite.spec import Budget
from tasks import make_task

import runs_cache  # the sibling module: benchmarks/ runs as scripts

#: what a cached run holds (benchmarks/runs_cache.py: keyed by task with its version and data hash, baseline,
#: options, workers, seed, budget and the suite's version, so a row of other options or of another version is never mixed in)
FIELDS = ("hypervolume", "cpu_s", "refused")

FIGURE = Path(__file__).resolve().parent.parent / "docs" / "figures" / "async_degradation.png"


def one_run(job: tuple[str, str, int, int, int]) -> tuple[str, str, int, int, int, float, float, str]:
    """(task, baseline, workers, seed, budget, final hypervolume, CPU seconds, refusal) of one simulated run."""
    task_name, name, workers, seed, budget = job
    task = make_task(task_name)
    rows: list[dict] = []
    started = time.process_time()
    try:
        simulate(make_baseline(name, task, seed, {}), task, seed, Budget(evaluations=budget), workers, rows.append)
    except Exception as error:  # a baseline that cannot run on this task says why; the others go on
        return task_name, name, workers, seed, budget, math.nan, 0.0, \
            f"{type(error).__name__}: {error}".splitlines()[0]
    names = task.objective_names
    expected = np.array([[row[f"expected.{n}"] for n in names] for row in rows if row["status"] == "ok"])
    found = hypervolume(task.normalise(expected.reshape(-1, len(names))), np.array(task.reference_point))
    return task_name, name, workers, seed, budget, found, time.process_time() - started, ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=lambda s: s.split(","), default=["fcnet-naval"])
    parser.add_argument("--baselines", type=lambda s: s.split(","), default=None,
                        help="default: every registered baseline")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=50, help="evaluations per run, the same for every worker count")
    parser.add_argument("--workers", type=lambda s: [int(w) for w in s.split(",")], default=[1, 4, 16])
    parser.add_argument("--jobs", type=int, default=2, help="processes for independent runs")
    parser.add_argument("--figure", type=Path, default=FIGURE)
    parser.add_argument("--plugin", action="append", default=[],
                        help="a module that registers a plug-in baseline (examples.my_baseline)")
    parser.add_argument("--runs", type=Path, default=None, help="JSON lines of finished runs, read and extended")
    parser.add_argument("--no-run", action="store_true",
                        help="print the table and figure from --runs alone (a baseline missing runs is marked)")
    args = parser.parse_args()
    for module in args.plugin:
        BASELINES.load_module(module)
    baselines = args.baselines or BASELINES.names()
    unknown = sorted(set(baselines) - set(BASELINES.names()))
    if unknown or min(args.seeds, args.budget, args.jobs, *args.workers) < 1 or args.workers[0] != 1:
        print(f"bad arguments: unknown baselines {unknown or 'none'}; --seeds, --budget, --jobs and --workers "
              "must be >= 1 and --workers must start with 1 (the reference)", file=sys.stderr)
        sys.exit(2)
    cached = runs_cache.load(args.runs, "async")
    wanted = [(t, b, w, s, args.budget) for t in args.tasks for b in baselines for w in args.workers
              for s in range(args.seeds)]
    # every run of the file for the tasks asked is shown (a slow baseline may have its own budget), but only
    # rows whose key matches this suite version and the default options of the baseline (the table has no
    # column for options)
    results = [(k["task"], k["baseline"], k["workers"], k["seed"], k["budget"], *(r[f] for f in FIELDS))
               for k, r in ((json.loads(key), r) for key, r in cached.items()) if not k["options"]]
    done = {r[:5] for r in results}
    jobs = [] if args.no_run else [job for job in wanted if job not in done]
    kept = 0
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for future in as_completed([pool.submit(one_run, job) for job in jobs]):  # kept as each one ends
            try:
                result = future.result()
            except BrokenProcessPool:  # a run's process was killed (out of memory, say): the pool is gone
                where = (f"{kept} of its {len(jobs)} runs are kept in {args.runs}" if args.runs
                         else "nothing is kept (no --runs)")
                print(f"a run's process died (killed, out of memory?) and took the pool with it: {where}; run again "
                      f"(with fewer --jobs, or without the baseline that died) to go on", file=sys.stderr)
                sys.exit(1)
            results.append(result)
            task, name, workers, seed, budget = result[:5]
            if result[7]:  # a refusal may be a passing failure or a bug fixed later: it is run again
                continue
            runs_cache.append(args.runs, runs_cache.run_key("async", task, name, {}, seed, budget, workers),
                              dict(zip(FIELDS, result[5:])))
            kept += 1
    results = [r for r in results if r[0] in args.tasks and r[2] in args.workers]
    print(f"registered baselines: {', '.join(BASELINES.names())}")
    print("final hypervolume (expected objectives), median over the seeds, simulated clock; "
          "loss = median at 1 worker - median at w; p: Mann-Whitney U (two-sided) vs 1 worker")
    print(f"{'task':22s} {'baseline':16s} {'evals':>5s} {'seeds':>5s} " + " ".join(f"{f'HV w={w}':>9s}" for w in args.workers)
          + " " + " ".join(f"{f'loss w={w}':>10s} {'p':>6s}" for w in args.workers[1:]) + f" {'CPU s/run':>10s}")
    losses: dict[tuple[str, str], list[float]] = {}
    for task in args.tasks:
        for name, budget in sorted({(r[1], r[4]) for r in results if r[0] == task}):
            mine = [r for r in results if r[0] == task and r[1] == name and r[4] == budget]
            refused = next((r[7] for r in mine if r[7]), "")
            if refused:
                print(f"{task:22s} {name:16s} refused: {refused}")
                continue
            # a worker count with no run of this row (one a baseline cannot run, or not run yet) is shown as
            # n/r; the others compare over the seeds they all have (medians over unequal seed sets would not)
            present = [w for w in args.workers if any(r[2] == w for r in mine)]
            common = set.intersection(*({r[3] for r in mine if r[2] == w} for w in present)) if present else set()
            by_workers = {w: np.array([r[5] for r in sorted(mine, key=lambda r: r[3]) if r[2] == w and r[3] in common])
                          for w in present}
            seeds = len(common)
            if 1 not in present or seeds == 0:  # no reference at 1 worker, or no seed every present count has
                print(f"{task:22s} {name:16s} incomplete: no runs yet at 1 worker or no seed common to the worker counts")
                continue
            medians = {w: float(np.median(v)) for w, v in by_workers.items()}
            tests = {w: mannwhitneyu(by_workers[w], by_workers[1]).pvalue
                     if not np.array_equal(np.sort(by_workers[w]), np.sort(by_workers[1])) else 1.0
                     for w in present[1:]}
            losses[task, f"{name} ({budget})"] = [medians[1] - medians[w] if w in medians else math.nan
                                                  for w in args.workers]
            print(f"{task:22s} {name:16s} {budget:5d} {seeds:5d} "
                  + " ".join(f"{medians[w]:9.4f}" if w in medians else f"{'n/r':>9s}" for w in args.workers) + " "
                  + " ".join(f"{medians[1] - medians[w]:10.4f} {tests[w]:6.3f}" if w in medians else f"{'n/r':>10s} {'':6s}"
                             for w in args.workers[1:])
                  + f" {np.median([r[6] for r in mine]):10.2f}", flush=True)
    plot(losses, args)


def plot(losses: dict[tuple[str, str], list[float]], args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(args.tasks), figsize=(4.2 * len(args.tasks), 3.4), squeeze=False)
    for ax, task in zip(axes[0], args.tasks):
        colours = plt.get_cmap("tab20")
        for index, ((of_task, name), values) in enumerate(losses.items()):
            if of_task == task:
                ax.plot(args.workers, values, marker="os^Dv"[index % 5], label=name, color=colours(index % 20),
                        linestyle="--" if name.startswith("random_search") else "-")
        ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.set_xscale("log", base=2)
        ax.set_xticks(args.workers, [str(w) for w in args.workers])
        ax.set_xlabel("virtual workers")
        ax.set_ylabel("hypervolume lost vs 1 worker (median)")
        ax.set_title(f"{task} (evaluations per run in brackets)", fontsize=9)
    axes[0][-1].legend(fontsize=6, ncol=2, loc="upper left")
    figure.tight_layout()
    args.figure.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.figure, dpi=90)
    print(f"figure: {os.path.relpath(args.figure)}")


if __name__ == "__main__":
    main()
