"""Quality and overhead of the baselines: hypervolume regret on tabular tasks, and each wrapper against
the same algorithm run straight in its own library. Prints tables; every figure is measured in this run, except
with ``--runs``: then cached runs keep the times measured when they ran (other load, perhaps another machine).

    python benchmarks/baseline_quality.py quality  [--tasks ...] [--baselines ...] [--seeds 10] [--budget 100]
                                                   [--jobs 2] [--runs FILE.jsonl [--no-run]]
    python benchmarks/baseline_quality.py library  [--tasks fcnet-naval] [--seeds 10] [--budget 100]
    python benchmarks/baseline_quality.py fidelity [--mf-task NAME] [--seeds 10] [--seconds S]

quality:  median final hypervolume regret to the true front (expected objectives, normalised, the task's
          reference point) per baseline and task, the median final hypervolume relative to random search's,
          and a one-sided Mann-Whitney U test against random search, Holm-corrected over the baselines of a
          task; then one summary table (baselines x tasks). Defaults: every registered baseline, the 15
          tables. ``--baselines`` is read as the suite's ``--baselines`` is (``suite.grid.build_config``):
          names, ``all``, or labelled variants ``LABEL=NAME@OPTION=VALUE@...`` (values are YAML scalars),
          listed under their label. ``--runs`` keeps every finished run in a JSON-lines cache keyed by
          task, registered baseline, its options, seed, budget and suite version (benchmarks/runs_cache.py;
          not the label, which only names the row), so a stopped study resumes and baselines can be added;
          ``--no-run`` prints from it alone, cells not yet measured marked ``n/m``. Runs go baseline by
          baseline in the order asked.
library:  MOTPE / NSGA-II against a plain Optuna study (``study.optimize``) with the same sampler and seed,
          ParEGO against a plain SMAC run (``smac.optimize``) with the same components; final hypervolume
          compared by Mann-Whitney U over the seeds, and time per evaluation (wrapper / plain, medians).
          Runs are sequential and interleaved (alternating which goes first); time is CPU time of this
          process (``time.process_time``), so other programs on a shared machine do not inflate either.
fidelity: MO-BOHB against MOTPE on a task with a fidelity: a registered simulated-clock task with a fidelity
          (a multi-fidelity table), or ``--mf-task toy``, the analytic test task of tests/baselines/toy_tasks.py
          (epochs 1..27; lower epochs cost less and are biased towards small networks). Hypervolume over the
          simulated clock, 4 workers.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import optuna
from scipy.stats import mannwhitneyu

from analysis.indicators import hypervolume, hypervolume_over_time
from analysis.stats import holm
from baselines import BASELINES
from baselines._optuna import suggest_config, to_distributions
from suite.grid import ConfigError, Variant, build_config
from suite.lifecycle import make_baseline
from suite.loops import evaluation_seed, simulate
from suite.spec import Budget
from tasks import TASKS, make_task
from tasks.base import Fidelity, Task

import runs_cache  # the sibling module: benchmarks/ runs as scripts

#: the 15 published tables (simulated clock, no fidelity)
QUALITY_TASKS = [*(f"fcnet-{d}" for d in ("naval", "parkinsons", "protein", "slice")),
                 *(f"hpobench-mlp-{d}" for d in ("australian", "blood_transfusion", "car", "credit_g", "kc1",
                                                 "phoneme", "segment", "vehicle")),
                 *(f"nb201-{d}" for d in ("cifar10", "cifar100", "imagenet16"))]


def expected_points(task: Task, rows: list[dict]) -> np.ndarray:
    """Normalised expected objectives of the successful rows, in finishing order."""
    names = task.objective_names
    values = np.array([[row.get(f"expected.{n}", row[f"objective.{n}"]) for n in names] for row in rows
                       if row["status"] == "ok"], dtype=float)
    return task.normalise(values.reshape(-1, len(names)))


def true_hypervolume(task: Task) -> float:
    return hypervolume(task.normalise(task.true_front()), np.array(task.reference_point))


def variants(baselines: str, tasks: list[str], plugins: list[str]) -> list[Variant]:
    """The baselines asked, read by the suite's own parser and checks (``suite.grid.build_config``: labels,
    registered names, options, plug-ins, and the task names), so a benchmark takes exactly what ``--baselines``
    of ``bag-of-baselines run`` takes; ConfigError says what is wrong in one line."""
    config = build_config({"baselines": baselines, "tasks": tasks, "plugins": plugins})
    found = [Variant(label, config.registered.get(label, label), dict(config.baseline_options.get(label, {})))
             for label in config.baselines]
    if any(v.label == RANDOM_SEARCH.label and v != RANDOM_SEARCH for v in found):
        raise ConfigError("baselines: the label random_search names the reference, random search without options; "
                          "give this variant another label")
    return found


#: the reference every row is compared with
RANDOM_SEARCH = Variant("random_search", "random_search")


def one_run(args: tuple[str, Variant, int, int]) -> tuple[str, str, int, float, float, float, str, float]:
    """(task, the variant's label, seed, final hypervolume regret, final hypervolume, wall seconds, refusal, CPU
    seconds) of one run; a baseline that cannot run on a task (it raises) gives its one-line reason and NaNs."""
    task_name, variant, seed, budget = args
    task = make_task(task_name)
    rows: list[dict] = []
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        simulate(make_baseline(variant.baseline, task, seed, variant.options), task, seed,
                 Budget(evaluations=budget), 1, rows.append)
    except Exception as error:  # the table says which cell was refused and why; the other runs go on
        return (task_name, variant.label, seed, math.nan, math.nan, 0.0,
                f"{type(error).__name__}: {error}".splitlines()[0], 0.0)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    found = hypervolume(expected_points(task, rows), np.array(task.reference_point))
    return task_name, variant.label, seed, true_hypervolume(task) - found, found, wall, "", cpu


def _key(task: str, variant: Variant, seed: int, budget: int) -> str:
    """The registered baseline and its options, never the label: a label only names a row, so the same
    options under two labels are the same runs, and a plain name keys as it did before labels existed."""
    return runs_cache.run_key("quality", task, variant.baseline, variant.options, seed, budget)


def quality(args: argparse.Namespace) -> None:
    asked: list[Variant] = args.baselines if RANDOM_SEARCH in args.baselines else [RANDOM_SEARCH, *args.baselines]
    specs = [v.label for v in asked]
    cached = runs_cache.load(args.runs, "quality")
    fields = ("regret", "hypervolume", "wall_s", "refused", "cpu_s")
    # cpu_s: NaN for runs cached before it was recorded
    results = [(t, v.label, s, *(cached[_key(t, v, s, args.budget)].get(f, math.nan) for f in fields))
               for v in asked for t in args.tasks for s in range(args.seeds)
               if _key(t, v, s, args.budget) in cached]
    # baseline by baseline, in the order asked: a study stopped early has whole rows, not scattered cells
    jobs = [(t, v, s, args.budget) for v in asked for t in args.tasks for s in range(args.seeds)
            if _key(t, v, s, args.budget) not in cached]
    if jobs and not args.no_run:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            for job, result in zip(jobs, pool.map(one_run, jobs)):  # in order, each kept as soon as it is back
                results.append(result)
                if not result[6]:  # a refusal may be a passing failure or a bug fixed later: it is run again
                    runs_cache.append(args.runs, _key(*job), dict(zip(fields, result[3:])))
    print(f"registered baselines: {', '.join(BASELINES.names())}")
    print(f"final hypervolume regret (lower is better), median [q25, q75] over the seeds (asked: {args.seeds}), "
          f"{args.budget} evaluations, 1 worker; HV/random: median final hypervolume over random search's; "
          "p: one-sided Mann-Whitney U, baseline < random search (regret); p_holm: Holm over the task's baselines; "
          "s/run: wall seconds, CPU s: CPU seconds of the run's process, medians"
          + (" (cached runs: as measured when they ran)" if args.runs else ""))
    print(f"{'task':24s} {'baseline':22s} {'seeds':>5s} {'median regret':>14s} {'q25':>8s} {'q75':>8s} "
          f"{'vs random':>10s} {'HV/random':>10s} {'p':>8s} {'p_holm':>8s} {'s/run':>7s} {'CPU s':>7s}")
    summary: dict[tuple[str, str], str] = {}
    for task in args.tasks:
        mine = {spec: [r for r in results if r[0] == task and r[1] == spec] for spec in specs}
        refused = {spec: next((r[6] for r in runs if r[6]), "") for spec, runs in mine.items()}
        random = [r[3] for r in mine["random_search"]]
        measured = [spec for spec in specs if mine[spec] and not refused[spec]]
        for spec in specs:
            if refused[spec]:
                print(f"{task:24s} {spec:22s} refused: {refused[spec]}")
                summary[task, spec] = "refused"
            elif not mine[spec] or not random:
                print(f"{task:24s} {spec:22s} not measured")
                summary[task, spec] = "n/m"
        if not random:
            continue
        random_hv = np.median([r[4] for r in mine["random_search"]])
        p_values = np.array([mannwhitneyu([r[3] for r in mine[spec]], random, alternative="less").pvalue
                             if spec != "random_search" else math.nan for spec in measured])
        for spec, p, p_holm in zip(measured, p_values, holm(p_values)):
            regrets = [r[3] for r in mine[spec]]
            q25, median, q75 = np.percentile(regrets, [25, 50, 75])
            ratio = median / np.median(random) if np.median(random) > 0 else math.nan
            hv_ratio = np.median([r[4] for r in mine[spec]]) / random_hv
            print(f"{task:24s} {spec:22s} {len(regrets):5d} {median:14.4f} {q25:8.4f} {q75:8.4f} {ratio:10.2f} "
                  f"{hv_ratio:10.4f} {p:8.3f} {p_holm:8.3f} {np.median([r[5] for r in mine[spec]]):7.2f} "
                  f"{np.median([r[7] for r in mine[spec]]):7.2f}")
            fewer = f" ({len(regrets)})" if len(regrets) != args.seeds else ""
            summary[task, spec] = f"{ratio:.2f}{'*' if p_holm < 0.05 else ''}{fewer}"
    print("\nsummary: median final regret / random search's (lower is better); "
          "* = better than random search, Holm-corrected p < 0.05; (n): only n seeds; "
          "n/m: not measured; refused: the baseline cannot run on the task")
    print("| baseline | " + " | ".join(args.tasks) + " |")
    print("|---|" + "---|" * len(args.tasks))
    for spec in specs:
        print(f"| {spec} | " + " | ".join(summary[t, spec] for t in args.tasks) + " |")


# --- against the plain libraries ---------------------------------------------------------------------

def plain_optuna(task: Task, sampler_name: str, seed: int, budget: int) -> tuple[float, float]:
    """A plain Optuna study with the sampler the wrapper uses: (final hypervolume, seconds per evaluation)."""
    distributions = to_distributions(task.space)
    expected: list[list[float]] = []

    def objective(trial: optuna.Trial) -> list[float]:
        config = suggest_config(task.space, distributions, trial)
        result = task.evaluate(config, None, evaluation_seed(seed, trial.number))
        expected.append([result.expected[n] for n in task.objective_names])
        return [result.objectives[n] for n in task.objective_names]

    started = time.process_time()
    sampler = (optuna.samplers.TPESampler(seed=seed) if sampler_name == "motpe"
               else optuna.samplers.NSGAIISampler(seed=seed))
    study = optuna.create_study(directions=["minimize"] * len(task.objectives), sampler=sampler)
    study.optimize(objective, n_trials=budget)
    seconds = (time.process_time() - started) / budget
    return hypervolume(task.normalise(np.array(expected)), np.array(task.reference_point)), seconds


def plain_smac(task: Task, seed: int, budget: int) -> tuple[float, float]:
    """A plain SMAC run (``optimize``) with the components the ParEGO wrapper uses."""
    from baselines.parego import make_smac  # here: SMAC's import takes seconds the other parts never need

    expected: list[list[float]] = []

    def target(config, seed: int = 0) -> list[float]:  # noqa: ANN001 - SMAC's signature
        result = task.evaluate(dict(config), None, evaluation_seed(run_seed, len(expected)))
        expected.append([result.expected[n] for n in task.objective_names])
        return [result.objectives[n] for n in task.objective_names]

    run_seed = seed
    with tempfile.TemporaryDirectory() as folder:
        started = time.process_time()
        smac = make_smac(task.space, task.objectives, seed, Path(folder), n_initial_design=20, rho=0.05,
                         forest="fast", target_function=target, n_trials=budget)
        smac.optimize()
        seconds = (time.process_time() - started) / budget
    return hypervolume(task.normalise(np.array(expected)), np.array(task.reference_point)), seconds


def wrapped(task: Task, baseline: str, seed: int, budget: int) -> tuple[float, float]:
    """The baseline driven by the same bare loop as the plain libraries' (ask, evaluate, tell): the
    wrapper's cost alone. (The run loop adds its clock and result rows: see benchmarks/run_loop.py.)"""
    expected: list[list[float]] = []
    started = time.process_time()
    instance = BASELINES.get(baseline)(task.space, task.objectives, task.fidelity, seed)
    for _ in range(budget):
        trial = instance.ask()
        result = task.evaluate(trial.config, trial.fidelity, evaluation_seed(seed, trial.id))
        instance.tell(trial, result)
        expected.append([result.expected[n] for n in task.objective_names])
    seconds = (time.process_time() - started) / budget
    return hypervolume(task.normalise(np.array(expected)), np.array(task.reference_point)), seconds


def library(args: argparse.Namespace) -> None:
    print(f"wrapper vs plain library loop, {args.seeds} seeds, {args.budget} evaluations, 1 worker, sequential")
    print(f"{'task':22s} {'baseline':8s} {'HV wrapper':>11s} {'HV plain':>9s} {'p(two-sided)':>12s} "
          f"{'CPU ms/eval wrapper':>20s} {'plain':>8s} {'ratio':>6s}")
    for task_name in args.tasks:
        task = make_task(task_name)
        for baseline in ("motpe", "nsga2", "parego"):
            ours, plain = [], []
            for seed in range(args.seeds):
                run_plain = (lambda: plain_smac(task, seed, args.budget)) if baseline == "parego" else (
                    lambda: plain_optuna(task, baseline, seed, args.budget))
                if seed % 2:
                    plain.append(run_plain())
                    ours.append(wrapped(task, baseline, seed, args.budget))
                else:
                    ours.append(wrapped(task, baseline, seed, args.budget))
                    plain.append(run_plain())
            hv_ours, hv_plain = [o[0] for o in ours], [p[0] for p in plain]
            p = mannwhitneyu(hv_ours, hv_plain).pvalue if hv_ours != hv_plain else 1.0
            t_ours, t_plain = np.median([o[1] for o in ours]), np.median([p[1] for p in plain])
            print(f"{task_name:22s} {baseline:8s} {np.median(hv_ours):11.4f} {np.median(hv_plain):9.4f} {p:12.3f} "
                  f"{1e3 * t_ours:20.2f} {1e3 * t_plain:8.2f} {t_ours / t_plain:6.2f}")


# --- multi-fidelity ----------------------------------------------------------------------------------

def make_fidelity_task(name: str) -> Task:
    if name != "toy":
        return make_task(name)
    # the test suite's analytic task; loaded by path because tests/ is no package
    path = Path(__file__).resolve().parent.parent / "tests" / "baselines" / "toy_tasks.py"
    spec = importlib.util.spec_from_file_location("toy_tasks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ToyTask(fidelity=Fidelity("epochs", 1, 27))


def fidelity_run(args: tuple[str, str, int, float, int]) -> tuple[str, int, np.ndarray, np.ndarray, np.ndarray]:
    """Hypervolume after each finished evaluation (all fidelities, and maximum fidelity only) and end times."""
    task_name, baseline, seed, seconds, workers = args
    task = make_fidelity_task(task_name)
    rows: list[dict] = []
    instance = BASELINES.get(baseline)(task.space, task.objectives, task.fidelity, seed)
    simulate(instance, task, seed, Budget(seconds=seconds), workers, rows.append)
    ok = [r for r in rows if r["status"] == "ok"]
    reference = np.array(task.reference_point)
    points = expected_points(task, ok)
    top = np.array([r["fidelity"] is None or math.isclose(r["fidelity"], task.fidelity.max) for r in ok], dtype=bool)
    hv_all = hypervolume_over_time(points, reference) if len(ok) else np.zeros(0)
    hv_top = hypervolume_over_time(np.where(top[:, None], points, np.nan), reference) if len(ok) else np.zeros(0)
    return baseline, seed, np.array([r["end"] for r in ok]), hv_all, hv_top


def fidelity(args: argparse.Namespace) -> None:
    name = args.mf_task or next((n for n in TASKS.names() if _simulated_with_fidelity(n)), None)
    if name is None:
        print("no registered simulated-clock task with a fidelity; nothing to compare (see docs/baselines.md)")
        return
    task = make_fidelity_task(name)
    seconds = args.seconds or _default_seconds(task)
    print(f"MO-BOHB vs MOTPE on {name} ({task.fidelity}), {args.seeds} seeds, 4 workers, "
          f"{seconds:.0f} s of simulated clock; median hypervolume (expected objectives) at fractions of it")
    jobs = [(name, b, s, seconds, 4) for b in ("mo_bohb", "motpe") for s in range(args.seeds)]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        runs = list(pool.map(fidelity_run, jobs))
    checkpoints = [0.05, 0.1, 0.25, 0.5, 1.0]
    print(f"{'baseline':10s} {'counted':9s} " + " ".join(f"{f'{c:.0%} time':>10s}" for c in checkpoints)
          + f" {'evals':>6s}")
    for baseline in ("mo_bohb", "motpe"):
        for label, index in (("all", 3), ("max fid.", 4)):
            medians = []
            for c in checkpoints:
                at = [_at(run[2], run[index], c * seconds) for run in runs if run[0] == baseline]
                medians.append(np.median(at))
            n = np.median([len(run[2]) for run in runs if run[0] == baseline])
            print(f"{baseline:10s} {label:9s} " + " ".join(f"{m:10.4f}" for m in medians) + f" {n:6.0f}")


def _at(ends: np.ndarray, values: np.ndarray, time_s: float) -> float:
    done = np.searchsorted(ends, time_s, side="right")
    return float(values[done - 1]) if done else 0.0


def _simulated_with_fidelity(name: str) -> bool:
    try:
        task = make_task(name)
    except Exception:  # a task whose data is not built here cannot be compared on
        return False
    return task.fidelity is not None and task.clock == "simulated"


def _default_seconds(task: Task) -> float:
    """100 full-fidelity evaluations of the median recorded cost, shared by 4 workers."""
    probe = BASELINES.get("random_search")(task.space, task.objectives, None, 0)
    costs = [task.evaluate(probe.ask().config, None, s).cost_s for s in range(50)]
    return 100 * float(np.median(costs)) / 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["quality", "library", "fidelity"])
    parser.add_argument("--tasks", type=lambda s: s.split(","), default=None)
    parser.add_argument("--baselines", default="all",
                        help="quality: names, all (the default) or LABEL=NAME@OPTION=VALUE@..., comma-separated, "
                             "as bag-of-baselines run --baselines takes them")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2, help="processes for independent runs")
    parser.add_argument("--plugin", action="append", default=[],
                        help="a module that registers a plug-in baseline (examples.my_baseline)")
    parser.add_argument("--mf-task", default=None)
    parser.add_argument("--seconds", type=float, default=None, help="simulated seconds per fidelity run")
    parser.add_argument("--runs", type=Path, default=None,
                        help="quality: JSON lines of finished runs (benchmarks/runs_cache.py), read and extended")
    parser.add_argument("--no-run", action="store_true",
                        help="quality: print the table from --runs only, marking what is not measured")
    args = parser.parse_args()
    if args.tasks is None:
        args.tasks = QUALITY_TASKS if args.part == "quality" else ["fcnet-naval"]
    try:
        args.baselines = variants(args.baselines, args.tasks, args.plugin)
    except ConfigError as error:
        print(f"baseline_quality: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    {"quality": quality, "library": library, "fidelity": fidelity}[args.part](args)


if __name__ == "__main__":
    main()
