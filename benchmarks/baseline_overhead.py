"""Optimiser overhead per trial: each wrapper against its raw library driven directly, and absolute seconds
per trial at 100 and 500 evaluations, for every registered baseline. Prints tables; every figure is measured
in this run.

    python benchmarks/baseline_overhead.py [--task fcnet-naval] [--seeds 3] [--budget 100]
                                           [--long 500] [--gp-long 200] [--baselines a,b,...]

raw:      the wrapper (the suite's baseline driven by a bare ask/evaluate/tell loop, benchmarks/
          baseline_quality.py ``wrapped``) against the same sampler in a plain Optuna ``study.optimize``
          (motpe, nsga2, nsga3, gp_ehvi: the class's own sampler factory and options, so both make the same
          trials), and ParEGO against a plain ``smac.optimize()`` with its components. CPU seconds of this
          process per evaluation (``time.process_time``: other programs on a shared machine do not inflate
          it; GPSampler's torch uses one thread), medians over seeds, runs interleaved. Baselines with no
          raw library loop (own code, or a library without a loop of its own) print "no raw loop".
absolute: CPU seconds per trial of each registered baseline on one run of ``--long`` evaluations (1 worker,
          the bare loop): the mean over the first 100 trials and over all, and the mean of the last ten
          trials before 100 and before ``--long`` (the cost of one proposal at that size). Baselines whose
          cost grows quickly with the observations (the GP ones) run ``--gp-long`` evaluations instead, and
          the table says so.
gp:       one GP-EHVI proposal with Optuna's acquisition settings (the defaults of ``baselines/gp_ehvi.py``)
          and with a smaller search (32 QMC samples, 512 candidates, 6 local searches), without and with
          pending trials (``--task``; needs no --plugin).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import optuna

from baselines import BASELINES
from baselines._optuna import OptunaBaseline, suggest_config, to_distributions
from suite.lifecycle import make_baseline
from suite.loops import evaluation_seed
from tasks import make_task
from tasks.base import Task

from baseline_quality import plain_smac  # the sibling script: benchmarks/ runs as scripts

#: baselines whose proposal refits a Gaussian process on every observation
GP_BASELINES = ("gp_ehvi", "qnehvi", "ms_ehvi")


def bare_loop(task: Task, name: str, seed: int, budget: int) -> np.ndarray:
    """CPU seconds after each trial of the baseline driven by ask/evaluate/tell, one worker."""
    instance = make_baseline(name, task, seed, {})
    elapsed = np.zeros(budget)
    started = time.process_time()
    for i in range(budget):
        trial = instance.ask()
        instance.tell(trial, task.evaluate(trial.config, trial.fidelity, evaluation_seed(seed, trial.id)))
        elapsed[i] = time.process_time() - started
    return elapsed


def plain_study(task: Task, name: str, seed: int, budget: int) -> float:
    """CPU seconds per evaluation of a plain Optuna study with the baseline's own sampler and options."""
    cls = BASELINES.get(name)
    distributions = to_distributions(task.space)

    def objective(trial: optuna.Trial) -> list[float]:
        config = suggest_config(task.space, distributions, trial)
        result = task.evaluate(config, None, evaluation_seed(seed, trial.number))
        return [result.objectives[n] for n in task.objective_names]

    study = optuna.create_study(directions=["minimize"] * len(task.objectives),
                                sampler=cls.SAMPLER(seed=seed, **cls.check_options({})))
    started = time.process_time()  # after the study is made, as the wrapper's loop starts after it is made
    study.optimize(objective, n_trials=budget)
    return (time.process_time() - started) / budget


def raw(args: argparse.Namespace, task: Task) -> None:
    print(f"wrapper vs raw library on {task.name}: CPU s per evaluation, median over {args.seeds} seeds, "
          f"{args.budget} evaluations, 1 worker, interleaved; ratio: median [q25, q75] of the seeds' "
          "wrapper / raw (each seed's pair run back to back)")
    print(f"{'baseline':16s} {'library':>8s} {'wrapper':>9s} {'raw':>9s} {'ratio':>6s} {'q25':>6s} {'q75':>6s}")
    for name in args.baselines:
        cls = BASELINES.get(name)
        if issubclass(cls, OptunaBaseline):
            library, plain = "optuna", lambda seed: plain_study(task, name, seed, args.budget)
        elif name == "parego":
            library, plain = "smac", lambda seed: plain_smac(task, seed, args.budget)[1]
        else:
            print(f"{name:16s} no raw loop (own code, or the library has no loop of its own)")
            continue
        bare_loop(task, name, 99, 10), plain(99)  # warm-up, untimed: first-use imports and caches
        ours: list[float] = []
        theirs: list[float] = []
        for seed in range(args.seeds):
            pair = ((ours, lambda s: bare_loop(task, name, s, args.budget)[-1] / args.budget), (theirs, plain))
            for into, measure in pair if seed % 2 == 0 else pair[::-1]:  # alternate which goes first
                into.append(measure(seed))
        # the ratio of each seed's pair: the load of a shared machine drifts less within a pair than across seeds
        q25, ratio, q75 = np.percentile(np.array(ours) / np.array(theirs), [25, 50, 75])
        print(f"{name:16s} {library:>8s} {np.median(ours):9.4f} {np.median(theirs):9.4f} {ratio:6.2f} {q25:6.2f} "
              f"{q75:6.2f}", flush=True)


def absolute(args: argparse.Namespace, task: Task) -> None:
    print(f"CPU s per trial on {task.name}, seed 0, 1 worker, the bare loop; 'at n': mean of trials n-9..n")
    print(f"{'baseline':16s} {'evals':>6s} {'mean 1-100':>11s} {'at 100':>8s} {'mean all':>9s} {'at end':>8s}")
    for name in args.baselines:
        budget = args.gp_long if name in GP_BASELINES else args.long
        try:
            elapsed = bare_loop(task, name, 0, budget)
        except Exception as error:  # a baseline that cannot run on this task says why, the others go on
            print(f"{name:16s} refused on {task.name}: {type(error).__name__}: {error}".splitlines()[0])
            continue
        per_trial = np.diff(elapsed, prepend=0.0)
        print(f"{name:16s} {budget:6d} {elapsed[99] / 100:11.4f} {per_trial[90:100].mean():8.4f} "
              f"{elapsed[-1] / budget:9.4f} {per_trial[-10:].mean():8.4f}"
              + ("  (GP: reduced count)" if budget != args.long else ""), flush=True)


def gp_settings(args: argparse.Namespace, task: Task) -> None:
    """One GP-EHVI proposal with Optuna's acquisition settings (the defaults) and a smaller search, CPU seconds."""
    from baselines.gp_ehvi import GPEHVI

    smaller = {"n_qmc_samples": 32, "n_preliminary_samples": 512, "n_local_search": 6}
    print(f"gp_ehvi on {task.name}: CPU s per trial over trials 6-20 (5 random start-up trials, no trial pending), "
          "then one ask with 3 trials pending (qLogEHVI)")
    for label, settings in (("optuna", {}), ("smaller", smaller)):
        baseline = GPEHVI(task.space, task.objectives, task.fidelity, 0, n_startup_trials=5, **settings)
        for i in range(20):
            if i == 5:
                started = time.process_time()
            trial = baseline.ask()
            baseline.tell(trial, task.evaluate(trial.config, trial.fidelity, evaluation_seed(0, trial.id)))
        sequential = (time.process_time() - started) / 15
        pending = [baseline.ask() for _ in range(3)]
        started = time.process_time()
        baseline.ask()
        print(f"{label:8s} {sequential:8.3f} s/trial sequential {time.process_time() - started:8.3f} s with "
              f"{len(pending)} pending", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["raw", "absolute", "both", "gp"], nargs="?", default="both")
    parser.add_argument("--task", default="fcnet-naval")
    parser.add_argument("--baselines", type=lambda s: s.split(","), default=None,
                        help="default: every registered baseline")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=100, help="evaluations per run of the raw comparison")
    parser.add_argument("--long", type=int, default=500)
    parser.add_argument("--plugin", action="append", default=[],
                        help="a module that registers a plug-in baseline (examples.my_baseline)")
    parser.add_argument("--gp-long", type=int, default=200)
    args = parser.parse_args()
    for module in args.plugin:
        BASELINES.load_module(module)
    if min(args.seeds, args.budget, args.long - 99, args.gp_long - 99) < 1:
        print("--seeds and --budget must be >= 1, --long and --gp-long >= 100", file=sys.stderr)
        sys.exit(2)
    args.baselines = args.baselines or BASELINES.names()
    unknown = sorted(set(args.baselines) - set(BASELINES.names()))
    if unknown:
        print(f"unknown baseline(s) {', '.join(unknown)}; registered: {', '.join(BASELINES.names())}",
              file=sys.stderr)
        sys.exit(2)
    task = make_task(args.task)
    print(f"registered baselines: {', '.join(BASELINES.names())}")
    if args.part in ("raw", "both"):
        raw(args, task)
    if args.part in ("absolute", "both"):
        absolute(args, task)
    if args.part == "gp":
        gp_settings(args, task)


if __name__ == "__main__":
    main()
