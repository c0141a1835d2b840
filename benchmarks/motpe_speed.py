"""MOTPE as the suite runs it against a plain Optuna study with Optuna's own ``TPESampler``: time per trial.

"wrapper": the suite's ``motpe`` baseline (``baselines/motpe.py``, whose sampler is
``baselines/_motpe_sampler.MOTPESampler``) driven by a bare ask/evaluate/tell loop, one worker.
"plain": ``optuna.samplers.TPESampler`` with the same seed and options in ``study.optimize``, the
configurations translated by the same ``baselines/_optuna.suggest_config`` (a ConfigSpace task needs it).
Each seed runs both back to back, alternating which goes first, so the load's drift between seeds cancels in
the paired ratio. Times are CPU seconds of this process (``time.process_time``: other programs on a shared
machine do not inflate them). Prints, per budget, the medians of seconds per trial, the median [q25, q75] of
the seeds' wrapper / plain, and in how many seeds both made the same configurations (the wrapper's sampler
must make Optuna's trials: anything but N/N is a defect).

    python benchmarks/motpe_speed.py [--task fcnet-naval] [--seeds 10] [--budgets 100,500]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import optuna

from baselines._optuna import suggest_config, to_distributions
from baselines.motpe import MOTPE
from suite.lifecycle import make_baseline
from suite.loops import evaluation_seed
from tasks import TASKS, make_task
from tasks.base import Config, Task


def wrapper(task: Task, seed: int, budget: int) -> tuple[float, list[Config]]:
    """CPU seconds per trial of the suite's MOTPE, and its configurations."""
    baseline = make_baseline("motpe", task, seed, {})
    configs = []
    started = time.process_time()
    for _ in range(budget):
        trial = baseline.ask()
        baseline.tell(trial, task.evaluate(trial.config, trial.fidelity, evaluation_seed(seed, trial.id)))
        configs.append(trial.config)
    return (time.process_time() - started) / budget, configs


def plain(task: Task, seed: int, budget: int) -> tuple[float, list[Config]]:
    """CPU seconds per trial of a plain study with Optuna's ``TPESampler`` and MOTPE's options."""
    distributions = to_distributions(task.space)
    configs = []

    def objective(trial: optuna.Trial) -> list[float]:
        config = suggest_config(task.space, distributions, trial)
        configs.append(config)
        result = task.evaluate(config, None, evaluation_seed(seed, trial.number))
        return [result.objectives[n] for n in task.objective_names]

    started = time.process_time()  # the wrapper's time includes making its study too
    study = optuna.create_study(directions=["minimize"] * len(task.objectives),
                                sampler=optuna.samplers.TPESampler(seed=seed, **MOTPE.check_options({})))
    study.optimize(objective, n_trials=budget)
    return (time.process_time() - started) / budget, configs


def positive_ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas, e.g. 100,500; got {text!r}")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="fcnet-naval", help="a tabular task (default fcnet-naval)")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default 10)")
    parser.add_argument("--budgets", type=positive_ints, default=[100, 500],
                        help="trials per run, comma-separated (default 100,500)")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds must be at least 1, got {args.seeds}")
    if args.task not in TASKS.names():
        parser.error(f"--task {args.task!r} is not a registered task; choose from {', '.join(TASKS.names())}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    task = make_task(args.task)
    wrapper(task, 0, 20), plain(task, 0, 20)  # first-time imports and caches, outside the measurement

    print(f"MOTPE on {task.name}: the suite's wrapper vs a plain Optuna study with TPESampler, {args.seeds} seeds, "
          f"1 worker, interleaved; CPU s per trial (medians); ratio: median [q25, q75] of the seeds' "
          f"wrapper / plain; load average at the start {os.getloadavg()[0]:.2f}")
    print(f"{'trials':>6s} {'wrapper':>9s} {'plain':>9s} {'ratio':>6s} {'q25':>6s} {'q75':>6s} {'same trials':>12s}")
    different = 0
    for budget in args.budgets:
        times = np.zeros((args.seeds, 2))
        same = 0
        for seed in range(args.seeds):
            first, second = (wrapper, plain) if seed % 2 == 0 else (plain, wrapper)
            a, b = first(task, seed, budget), second(task, seed, budget)
            (w_time, w_configs), (p_time, p_configs) = (a, b) if first is wrapper else (b, a)
            times[seed] = w_time, p_time
            same += w_configs == p_configs
        ratios = times[:, 0] / times[:, 1]
        q25, median, q75 = np.percentile(ratios, [25, 50, 75])
        print(f"{budget:6d} {np.median(times[:, 0]):9.4f} {np.median(times[:, 1]):9.4f} {median:6.2f} {q25:6.2f} "
              f"{q75:6.2f} {f'{same}/{args.seeds}':>12s}", flush=True)
        different += args.seeds - same
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    if different:
        print(f"error: the wrapper's trials differ from plain Optuna's in {different} runs", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
