"""Bulk & Cut on a paper task, recorded as a run and compared with black-box baselines on the same wall-clock budget.

    BOB_FLOWERS17_DIR=../shared/data/flowers17-16px python benchmarks/bulk_and_cut.py [--task paper-flowers17-demo]
        [--seconds 120] [--epochs E] [--max-networks 8 8 6] [--widen-probability 0] [--seed 0]
        [--baselines random_search] [--seeds 1] [--results results] [--experiment bulk-and-cut] [--report-only]

1. ``baselines.oneshot.bulk_and_cut.search`` runs on the task's own protocol (``task.training()``: its data, its
   training step, its validation accuracy) for ``--seconds`` of wall clock (35 / 40 / 25 % for the initial,
   bulk-up and slim-down phases), one torch thread; ``--max-networks`` caps each phase.
2. Its networks are recorded as the run ``<results>/<experiment>/<task>/bulk_and_cut/<seed>``
   (``suite.oneshot.record_oneshot``): each row is the method's own measurement of an inherited-weight network
   (validation accuracy, parameters counted by torch) at the search's wall-clock time.
   The run's budget is ``--seconds``: a network measured after it is left out, as the suite's wall-clock loop
   drops a trial that ends after the budget (each phase starts its last network while it has time left, so the
   search can run past its budget).
3. The black-box baselines (``--baselines``, none with an empty list) run on the same task with the same budget
   and one worker. ``--experiment paper-flowers17 --seconds 86400 --baselines`` adds the paper's 24-hour Bulk &
   Cut run to the experiment of ``configs/paper-flowers17.yaml``.
4. From the result files: each phase's networks and best accuracy, and the final hypervolume of every method.

Every figure printed is measured in this run, on this machine, under its load at the time.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import moocore
import torch

from analysis.io import load_experiment
from baselines.oneshot.bulk_and_cut import PHASES, Settings, search
from suite.lifecycle import execute
from suite.oneshot import Found, record_oneshot
from suite.spec import Budget, RunSpec
from tasks import make_task

import final_hypervolume  # the sibling module: benchmarks/ runs as scripts

METHOD = "bulk_and_cut"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="paper-flowers17-demo")
    parser.add_argument("--seconds", type=float, default=120.0, help="the search's wall-clock budget")
    parser.add_argument("--epochs", type=int, default=None,
                        help="training epochs of a grown network (default: the task's maximum fidelity, as the paper)")
    parser.add_argument("--max-networks", type=int, nargs=3, default=None, metavar=("INITIAL", "BULK", "CUT"))
    parser.add_argument("--widen-probability", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baselines", nargs="*", default=["random_search"])
    parser.add_argument("--seeds", type=int, default=1, help="seeds of each black-box baseline")
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--experiment", default="bulk-and-cut")
    parser.add_argument("--report-only", action="store_true", help="print the report from the files of an earlier run")
    args = parser.parse_args()
    if not (math.isfinite(args.seconds) and args.seconds > 0) or args.seeds < 0:
        print("bulk_and_cut: --seconds must be a finite number > 0 and --seeds >= 0", file=sys.stderr)
        sys.exit(2)
    task = make_task(args.task)
    if not hasattr(task, "training"):
        print(f"bulk_and_cut: task {args.task!r} has no training protocol to hand out (the paper-* tasks have)",
              file=sys.stderr)
        sys.exit(2)
    if not args.report_only:
        try:
            epochs = int(task.fidelity.max) if args.epochs is None else args.epochs
            settings = Settings(epochs=epochs, time_budget_s=args.seconds,
                                max_networks=None if args.max_networks is None else tuple(args.max_networks),
                                widen_probability=args.widen_probability)
        except ValueError as error:
            print(f"bulk_and_cut: {error}", file=sys.stderr)
            sys.exit(2)
        torch.set_num_threads(1)
        found = search(task.training(), task.space, args.seed, settings)
        budget = Budget(seconds=float(args.seconds))
        search_info = {"method": "Bulk & Cut (Guerrero-Viu et al. 2021): morphisms, then pruning with distillation",
                       "cost": "wall-clock seconds of the search, one torch thread, on the task's device",
                       "device": str(task.training().device), "seed": args.seed}
        record_oneshot(args.results, args.experiment, METHOD, settings.options(), task, args.seed,
                       [Found(item.config, item.available_s, {}, item.result) for item in found], search_info, budget)
        for baseline in args.baselines:
            for seed in range(args.seeds):
                execute(RunSpec(baseline, task.name, seed, budget, experiment=args.experiment), args.results)
    report(args.results / args.experiment, task.name)


def report(experiment: Path, task_name: str) -> None:
    runs = [run for run in load_experiment(experiment) if run.task == task_name]
    ours = next(run for run in runs if run.baseline == METHOD)
    infos = [json.loads(text) for text in ours.rows["info"]]
    accuracy = ours.objective_names.index("neg_val_accuracy_pct")
    oneshot = ours.metadata["oneshot"]
    print(f"{task_name}: Bulk & Cut searched {oneshot['search_cost_s']:.1f} s of wall clock and trained "
          f"{oneshot['architectures']} networks, {len(infos)} of them within the budget "
          f"({ours.metadata['baseline']['options']['epochs']} epochs each, the cut's a third)")
    for phase in PHASES:
        values = [v for v, i in zip(ours.values, infos) if i["phase"] == phase]
        if values:
            best = max(-v[accuracy] for v in values)
            print(f"  {phase:10s} {len(values):3d} networks, best validation accuracy {best:.1f} %")
    front = moocore.is_nondominated(ours.values)
    print(f"  its final front ({int(front.sum())} networks):")
    for values, info in sorted(((v, i) for v, i, on in zip(ours.values, infos, front) if on), key=lambda p: p[0][0]):
        print(f"    {-values[accuracy]:5.1f} %  {info['n_params']:8d} parameters  {info['phase']:9s} "
              f"network {info['network']} (parent {info.get('parent', '-')})")
    final_hypervolume.print_final_hypervolumes(
        runs, f"{task_name}: budget {ours.metadata['budget']['seconds']:g} s of wall clock; final hypervolume "
              "(normalised), median over seeds")


if __name__ == "__main__":
    main()
