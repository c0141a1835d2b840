"""MOOD-NAS's sweep of nu, recorded as a run and compared with black-box baselines at the same cost.

    python benchmarks/mood_nas_sweep.py [--nus 0 0.3 1 3 10] [--steps 150] [--tasks nb201-cifar10]
        [--baselines random_search motpe] [--seeds 3] [--results results] [--experiment mood-nas]
        [--figure docs/figures/mood_nas_nu.png]

1. One supernet per nu (``baselines.oneshot.mood_nas.search``) on sklearn's digits (the search data), one
   after the other on one CPU thread; each yields a discrete NAS-Bench-201 cell. Each cell is also trained
   from scratch on the digits (``train_cell``): its test error and parameter count there.
2. The cells are recorded as the run ``<results>/<experiment>/<task>/mood_nas/<seed>`` of each NB201 table task
   (``suite.oneshot.record_oneshot``): a cell is available when the sweep had cost the CPU seconds of its
   supernet and those before it, and is then evaluated on the table (its recorded training cost).
3. The black-box baselines run on the same task with the same budget: the one-shot run's last row's end,
   rounded up, in seconds of the simulated clock.
4. The analysis reads the experiment's files (``analysis.io``, ``analysis.aggregate``) and prints, per task and
   baseline, the median final hypervolume and regret to the true front at that cost, and which of MOOD-NAS's
   cells lie on the true front; the figure shows nu against the errors and sizes, and the fronts.

Costs mix two devices: the search's CPU seconds here (digits, 8x8) and the table's recorded GPU training
time (CIFAR/ImageNet16); docs/baselines.md says what that comparison means. Every figure printed is measured
in this run.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from analysis.io import load_experiment
from baselines.oneshot.mood_nas import Settings, search, train_cell
from suite.lifecycle import execute
from suite.loops import evaluation_seed
from suite.oneshot import Found, record_oneshot
from suite.spec import Budget, RunSpec
from tasks import make_task
from tasks.live.data import load_dataset
from tasks.tables.recipes.devices import parse_arch_string

import final_hypervolume  # the sibling module: benchmarks/ runs as scripts

METHOD = "mood_nas"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nus", type=float, nargs="+", default=[0.0, 0.3, 1.0, 3.0, 10.0])
    parser.add_argument("--steps", type=int, default=150, help="weight + architecture steps per supernet")
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--cells", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tasks", nargs="+", default=["nb201-cifar10"])
    parser.add_argument("--baselines", nargs="*", default=["random_search", "motpe"])
    parser.add_argument("--seeds", type=int, default=3, help="seeds of each black-box baseline")
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--experiment", default="mood-nas")
    parser.add_argument("--figure", type=Path, default=Path("docs/figures/mood_nas_nu.png"))
    parser.add_argument("--report-only", action="store_true",
                        help="print the comparison and draw the figure from the result files of an earlier sweep")
    args = parser.parse_args()
    if any(not math.isfinite(nu) or nu < 0 for nu in args.nus) or args.steps < 1:
        sys.exit("mood_nas_sweep: --nus must be finite numbers >= 0 and --steps >= 1")
    if not all(task.startswith("nb201-") for task in args.tasks):
        sys.exit(f"mood_nas_sweep: --tasks must be NAS-Bench-201 tables (nb201-...), got {args.tasks}")

    if args.report_only:
        for task_name in args.tasks:
            report(args.results / args.experiment, task_name)
        figure(args.results / args.experiment, args.tasks[0], args.figure)
        return
    data = load_dataset("digits")
    settings = Settings(channels=args.channels, n_cells=args.cells, steps=args.steps)
    found, spent = [], 0.0
    print(f"{'nu':>6s} {'cell (arch string)':72s} {'cpu s':>6s} {'digits err':>10s} {'params':>7s}", flush=True)
    for nu in args.nus:
        result = search(data.x_train, data.y_train, data.x_val, data.y_val, data.n_classes, nu, args.seed, settings)
        error, params = train_cell(result.cell, data.x_train, data.y_train, data.x_test, data.y_test,
                                   data.n_classes, args.seed, settings)
        spent += result.cpu_s
        found.append(Found(parse_arch_string(result.arch), spent,
                           {"nu": nu, "arch": result.arch, "search_data_error": error, "search_data_params": params}))
        print(f"{nu:6g} {result.arch:72s} {result.cpu_s:6.1f} {error:10.3f} {params:7d}", flush=True)

    options = {"nus": args.nus, "steps": args.steps, "channels": args.channels, "cells": args.cells,
               "regulariser": "expected parameter count", "data": "digits"}
    search_info = {"method": "MOOD-NAS (DARTS supernet, expected-parameter-count regulariser swept over nu)",
                   "data": "digits", "cost": "CPU seconds of one thread (process_time)", "seed": args.seed}
    for task_name in args.tasks:
        task = make_task(task_name)
        # the one-worker schedule's end can be no later than the search plus every evaluation's cost
        costs = [task.evaluate(f.config, None, evaluation_seed(args.seed, i)).cost_s
                 for i, f in enumerate(sorted(found, key=lambda f: f.available_s))]
        budget = Budget(seconds=float(math.ceil(spent + sum(costs))))
        record_oneshot(args.results, args.experiment, METHOD, options, task, args.seed, found, search_info, budget)
        for baseline in args.baselines:
            for seed in range(args.seeds):
                execute(RunSpec(baseline, task_name, seed, budget, experiment=args.experiment), args.results)
        report(args.results / args.experiment, task_name)
    figure(args.results / args.experiment, args.tasks[0], args.figure)


def report(experiment: Path, task_name: str) -> None:
    runs = [run for run in load_experiment(experiment) if run.task == task_name]
    mood = next(run for run in runs if run.baseline == METHOD)
    print(f"\n{task_name}: MOOD-NAS's cells, in completion order ({mood.objective_names} from the table; the "
          f"search cost {mood.metadata['oneshot']['search_cost_s']:.1f} CPU s)")
    for (_, row), values in zip(mood.rows.iterrows(), mood.values):
        info = json.loads(row["info"])
        print(f"  nu {info['nu']:6g}  end {row['end']:8.0f} s  " + "  ".join(f"{v:.4g}" for v in values)
              + f"  digits error {info['search_data_error']:.3f}  params {info['search_data_params']}")
    final_hypervolume.print_final_hypervolumes(
        runs, f"{task_name}: budget {mood.metadata['budget']['seconds']:g} s of the simulated clock (search + table "
              "training costs); final hypervolume and regret to the true front, median over seeds", regret=True)
    task = make_task(task_name)
    front = task.normalise(task.true_front())
    on_front = sum(bool(np.isclose(front, point).all(axis=1).any()) for point in mood.normalised)
    print(f"  {METHOD}: {on_front} of its {len(mood.normalised)} cells are on the true front "
          f"({len(front)} points)")


def figure(experiment: Path, task_name: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [run for run in load_experiment(experiment) if run.task == task_name]
    mood = next(run for run in runs if run.baseline == METHOD)
    names = mood.objective_names
    error, size = names.index("error"), names.index("model_size")
    info = [json.loads(text) for text in mood.rows["info"]]  # the rows are in completion order
    nus = np.array([i["nu"] for i in info])
    order = np.argsort(nus)
    xs, values = nus[order], mood.values[order]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(xs, values[:, error], "o-", label=f"{task_name} error (table)")
    left.plot(xs, [info[i]["search_data_error"] for i in order], "s--", label="digits test error (retrained)")
    left.set_xscale("symlog", linthresh=0.1)
    left.set_xlabel("nu (regulariser strength)")
    left.set_ylabel("error")
    twin = left.twinx()
    twin.plot(xs, values[:, size], "^:", color="tab:green", label="model size (MB, table)")
    twin.set_ylabel("model size (MB)")
    left.legend(loc="upper left", fontsize=8)
    twin.legend(loc="upper right", fontsize=8)
    task = make_task(task_name)
    front = task.true_front()
    right.scatter(front[:, size], front[:, error], s=8, color="grey", label="true front (table)")
    for run in runs:
        if run.baseline != METHOD and run.seed == 0:
            right.scatter(run.values[:, size], run.values[:, error], s=14, marker="x",
                          label=f"{run.baseline} seed 0 (same cost)")
    right.scatter(values[:, size], values[:, error], s=30, color="red", label=METHOD)
    right.set_xlabel("model size (MB)")
    right.set_ylabel("error")
    right.legend(fontsize=8)
    fig.suptitle(f"MOOD-NAS sweep on digits, scored on {task_name}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"\nfigure: {path}")


if __name__ == "__main__":
    main()
