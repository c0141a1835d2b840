"""The multi-fidelity family (mo_asha, mo_bohb, sh_emoa, mo_bananas and MOSH-BANANAS) against MOTPE and random
search at the full fidelity, on the same budget of simulated time: does it win early?

Each run gets ``--budget-full`` times the mean full-fidelity cost of the task (the mean ``cost_s`` of 200
random configurations at the task's maximum fidelity, printed), or ``--budget-seconds``, on the simulated
clock, ``--workers`` virtual workers. A method is a baseline name or a labelled variant as the suite's
``--baselines`` takes it, ``LABEL=NAME@OPTION=VALUE@...`` (MOSH-BANANAS is
``mosh_bananas=mo_bananas@successive_halving=true``). Hypervolume at 1/4, 1/2 and the whole budget, of the
evaluations finished by then, counted two ways: every evaluation at its own fidelity (what a user would have
seen), and only those at the maximum fidelity (an objective that grows with the fidelity, such as training
time, makes low-fidelity points look better than any fully trained configuration can be); expected
objectives (a surrogate's: its objectives) normalised by the task's bounds, the task's reference point. Per
task: median and quartiles over ``--seeds`` seeds, and two-sided Mann-Whitney U p-values of each method
against random search and against MOTPE. Also each method's own time per trial
(ask + tell, wall milliseconds, median over seeds; the task's evaluation excluded).

    python benchmarks/multifidelity_family.py [--tasks cnn-digits-mf lcbench-3945] [--seeds 10]
        [--budget-full 100 | --budget-seconds 14400] [--workers 1] [--methods ...] [--cache FILE]

``--cache`` keeps every finished run in a JSON-lines file (``benchmarks/runs_cache.py``; key: task, its version
and data hash, label, baseline, options, seed, budget seconds, workers and the suite's version), so an
interrupted study resumes and a method can be added later.

LCBench tasks exist where BOB_LCBENCH_DIR names YAHPO Gym's LCBench data (docs/tasks.md).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace
from scipy.stats import mannwhitneyu

from analysis.indicators import hypervolume
from baselines import BASELINES, OptionError
from suite.grid import ConfigError, Variant, parse_variant
from suite.loops import simulate
from suite.spec import Budget
from tasks import TASKS, make_task
from tasks.base import Task, to_python

import runs_cache  # the sibling module: benchmarks/ runs as scripts

FRACTIONS = (0.25, 0.5, 1.0)
FULL_FIDELITY = ("motpe", "random_search")
FAMILY = ("mo_asha", "mo_bohb", "sh_emoa", "mo_bananas", "mosh_bananas=mo_bananas@successive_halving=true")
Outcome = tuple[list[float], list[float], float, int]


def mean_full_cost(task: Task, samples: int = 200) -> float:
    """The mean cost of ``samples`` random configurations (the space seeded 0) at the task's maximum fidelity."""
    space = ConfigurationSpace.from_serialized_dict(task.space.to_serialized_dict())  # the task's stays unseeded
    space.seed(0)
    costs = [task.evaluate(to_python(space.sample_configuration()), None, seed=i).cost_s for i in range(samples)]
    return float(np.mean(costs))


def timed(method: Callable[..., Any], spent: list[float]) -> Callable[..., Any]:
    """``method`` adding its wall time to ``spent[0]``."""
    def call(*args: Any) -> Any:
        started = time.perf_counter()
        try:
            return method(*args)
        finally:
            spent[0] += time.perf_counter() - started
    return call


def run(task: Task, method: Variant, seed: int, seconds: float, workers: int) -> Outcome:
    """(hypervolume at each fraction of the budget counting every evaluation, the same counting only those at
    the maximum fidelity, the method's own ms per trial, evaluations) of one run."""
    baseline = BASELINES.get(method.baseline)(task.space, task.objectives, task.fidelity, seed, **method.options)
    spent = [0.0]
    baseline.ask = timed(baseline.ask, spent)  # type: ignore[method-assign]  # instance attributes: timing only
    baseline.tell = timed(baseline.tell, spent)  # type: ignore[method-assign]
    rows: list[dict] = []
    simulate(baseline, task, seed, Budget(seconds=seconds), workers, rows.append)
    ok = [row for row in rows if row["status"] == "ok"]
    ends = np.array([row["end"] for row in ok])
    top = np.array([row["fidelity"] is None or row["fidelity"] == task.fidelity.max for row in ok], dtype=bool)
    # a deterministic task (a surrogate) records no expected values: its objectives are them
    column = "expected" if ok and f"expected.{task.objective_names[0]}" in ok[0] else "objective"
    values = task.normalise(np.array([[row[f"{column}.{n}"] for n in task.objective_names] for row in ok]))
    reference = np.array(task.reference_point)
    every = [hypervolume(values[ends <= fraction * seconds], reference) for fraction in FRACTIONS]
    full = [hypervolume(values[(ends <= fraction * seconds) & top], reference) for fraction in FRACTIONS]
    return every, full, 1000 * spent[0] / max(len(rows), 1), len(rows)


class Cache:
    """Finished runs in a JSON-lines file (``benchmarks/runs_cache.py``); no file: nothing kept."""

    def __init__(self, path: str | None) -> None:
        self.path = None if path is None else Path(path)
        self.found = runs_cache.load(self.path, "multifidelity")

    def run(self, task: Task, method: Variant, seed: int, seconds: float, workers: int) -> Outcome:
        """``run``'s outcome, from the file when it holds it, else run and appended."""
        key = runs_cache.run_key("multifidelity", task.name, method.baseline, method.options, seed,
                                 round(seconds, 6), workers, label=method.label)
        if key not in self.found:
            self.found[key] = {"outcome": run(task, method, seed, seconds, workers)}
            runs_cache.append(self.path, key, self.found[key])
        return tuple(self.found[key]["outcome"])  # type: ignore[return-value]


def report(results: dict[str, list[Outcome]], index: int, label: str) -> None:
    """The table of medians and the Mann-Whitney tests of one way of counting (``index`` into a run's tuple)."""
    header = "".join(f"  HV@{f:g} median [q25, q75]" for f in FRACTIONS)
    print(f"counting {label}\n{'method':14s}{header}  evals  ms/trial")
    for method, runs in results.items():
        cells = ""
        for i in range(len(FRACTIONS)):
            hv = [r[index][i] for r in runs]
            cells += f"  {np.median(hv):.4f} [{np.percentile(hv, 25):.4f}, {np.percentile(hv, 75):.4f}]"
        print(f"{method:14s}{cells}  {np.median([r[3] for r in runs]):5.0f}  {np.median([r[2] for r in runs]):8.2f}")
    print("Mann-Whitney U two-sided p (median difference's sign: + the method is ahead)")
    for other in FULL_FIDELITY:
        if other not in results:
            continue
        for method in results:
            if method == other:
                continue
            cells = ""
            for i in range(len(FRACTIONS)):
                sign, p = compare([r[index][i] for r in results[method]], [r[index][i] for r in results[other]])
                cells += f"  @{FRACTIONS[i]:g}: {sign} p={p:.3f}"
            print(f"  {method:14s} vs {other:14s}{cells}")


def compare(a: list[float], b: list[float]) -> tuple[str, float]:
    """(sign of the median difference, "+" when ``a``'s is higher, and the two-sided Mann-Whitney U p)."""
    p = float(mannwhitneyu(a, b).pvalue) if a != b else 1.0
    return ("+" if np.median(a) > np.median(b) else "-" if np.median(a) < np.median(b) else "="), p


def summary(by_task: dict[str, dict[str, list[Outcome]]]) -> None:
    """Over the tasks: on how many each method is significantly (p < 0.05) ahead of and behind MOTPE and random
    search at each fraction of the budget, both ways of counting."""
    methods = list(next(iter(by_task.values())))
    for index, label in ((0, "every evaluation"), (1, "only evaluations at the maximum fidelity")):
        print(f"\nover {len(by_task)} tasks, counting {label}: tasks where the method is ahead/behind (p < 0.05)")
        for other in (o for o in FULL_FIDELITY if o in methods):
            for method in (m for m in methods if m != other):
                cells = ""
                for i, fraction in enumerate(FRACTIONS):
                    found = [compare([r[index][i] for r in results[method]], [r[index][i] for r in results[other]])
                             for results in by_task.values()]
                    ahead = sum(sign == "+" and p < 0.05 for sign, p in found)
                    behind = sum(sign == "-" and p < 0.05 for sign, p in found)
                    cells += f"  @{fraction:g}: {ahead}/{behind}"
                print(f"  {method:14s} vs {other:14s}{cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["cnn-digits-mf"])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget-full", type=float, default=100.0,
                        help="the budget in mean full-fidelity evaluations (default 100)")
    parser.add_argument("--budget-seconds", type=float, default=None,
                        help="the budget in simulated seconds, the same on every task (replaces --budget-full)")
    parser.add_argument("--cache", default=None, help="JSON-lines file of finished runs, read and appended")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--methods", nargs="+", default=None,
                        help="names or LABEL=NAME@OPTION=VALUE@... (default: the family, motpe and random_search)")
    args = parser.parse_args()
    try:
        methods = [parse_variant(m) for m in args.methods or FAMILY + FULL_FIDELITY]
        for method in methods:
            if method.baseline not in BASELINES.names():
                raise ConfigError(f"unknown baseline {method.baseline!r}")
            BASELINES.get(method.baseline).check_options(method.options)
        if len({m.label for m in methods}) < len(methods):
            raise ConfigError("a method's label is given twice")
    except (ConfigError, OptionError) as error:
        print(f"multifidelity_family: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    for name in args.tasks:
        if name not in TASKS.names():
            print(f"multifidelity_family: unknown task {name!r}", file=sys.stderr)
            raise SystemExit(2)
    if args.seeds < 1 or args.budget_full <= 0 or args.workers < 1 or (args.budget_seconds or 1) <= 0:
        print("multifidelity_family: --seeds and --workers must be >= 1 and the budget > 0", file=sys.stderr)
        raise SystemExit(2)
    cache = Cache(args.cache)
    by_task: dict[str, dict[str, list[Outcome]]] = {}
    for task_name in args.tasks:
        task = make_task(task_name)
        if task.fidelity is None:
            print(f"multifidelity_family: task {task_name} has no fidelity", file=sys.stderr)
            raise SystemExit(2)
        full = mean_full_cost(task)
        seconds = args.budget_seconds or args.budget_full * full
        print(f"\n{task_name}: budget {seconds:.0f} s simulated = {seconds / full:.1f} x mean full-fidelity cost "
              f"{full:.2f} s; {args.seeds} seeds, {args.workers} worker(s)")
        results: dict[str, list[Outcome]] = {}
        for method in methods:
            started = time.perf_counter()
            results[method.label] = [cache.run(task, method, seed, seconds, args.workers) for seed in range(args.seeds)]
            print(f"  ran {method.label} ({time.perf_counter() - started:.0f} s, load average "
                  f"{os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)
        report(results, 0, "every evaluation, each at its own fidelity")
        report(results, 1, "only evaluations at the maximum fidelity")
        by_task[task_name] = results
    if len(by_task) > 1:
        summary(by_task)

if __name__ == "__main__":
    main()
