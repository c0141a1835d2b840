"""One search, many devices: ``device_hypernet`` trained once on HELP's training devices, its zero-shot fronts
on the held-out test devices against per-device search with the same number of evaluations.

For each seed: the hypernetwork is trained on the nine training devices (``DEVICE_SPLIT["train"]``, every
architecture of their tables, each device with its context), then proposes ``k`` architectures for each test
device from its context alone (``DeviceHypernet.zero_shot``: zero search evaluations there). Random search,
MOTPE and ``hw_pr_nas`` search each test device with the same ``k`` evaluations. Every run is written as an
ordinary run folder (``<results>/<experiment>/<task>/<baseline>/<seed>/``, docs/results.md), the test devices'
reference records (true fronts) into ``<results>/<experiment>-tabular_data/``, and the regrets are read
back by the analysis (``analysis.aggregate.indicator_curves``), so
``bag-of-baselines analyse <results>/<experiment>`` with ``BOB_TABULAR_DATA`` set to that folder gives the same.

Also measured: Kendall's tau between the Pareto ranks ``hw_pr_nas``'s surrogate predicts and the true ones on
each test device (trained across the training devices on ``--tau-train`` random architectures each, with their
contexts; scored on ``--tau-test`` random architectures of the test device), and each model's training time.
Prints the tables and writes two figures (fronts, regret over evaluations) to ``--figures``.

    BOB_HELP_NB201_DIR=../shared/data/help-nb201-latency python benchmarks/hardware_transfer.py --k 20 --seeds 10
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from baselines._levels import LevelGrid
from baselines.base import Baseline
from baselines.device_hypernet import DeviceData, DeviceHypernet, normalised_objectives, train_hypernet
from baselines.hw_pr_nas import ParetoRankModel, encode, pareto_ranks
from suite.lifecycle import make_baseline
from suite.loops import simulate
from suite.metadata import RunMetadata
from suite.results_format import run_folder
from suite.spec import Budget, RunSpec
from suite.writer import RunWriter
from tasks.tables.recipes.devices import DEVICE_SPLIT, HELP_ENV, make_help_task
from tasks.tables.table import TableTask

SEARCHERS = ("random_search", "motpe", "hw_pr_nas")


def table_data(task: TableTask, grid: LevelGrid) -> DeviceData:
    """Every architecture of a device table with its expected objectives (normalised) and the device's context."""
    table = task.table
    expected = table.expected[:, -1, :]
    rows = np.nonzero(np.isfinite(expected).all(axis=1))[0]
    indices = np.array([grid.indices(table.config(int(r))) for r in rows])
    context = None if task.context is None else np.asarray(task.context)
    return DeviceData(indices, normalised_objectives(expected[rows], task.objectives), context)


def write_run(spec: RunSpec, task: TableTask, baseline: Baseline, root: Path) -> None:
    """One run into its ordinary folder: metadata, rows, parquet (``suite.lifecycle.execute`` without resume:
    the experiment folder is new, and this baseline is built here, not from the registry's options)."""
    folder = run_folder(root, spec.experiment, spec.task, spec.baseline, spec.seed)
    writer = RunWriter(folder, RunMetadata.new(spec, task.describe(), baseline.options()))
    started = time.perf_counter()
    simulate(baseline, task, spec.seed, spec.budget, spec.n_workers, writer.append)
    writer.complete(wall_s=time.perf_counter() - started)


def kendall_taus(train: list[DeviceData], test: dict[str, DeviceData], grid: LevelGrid, seed: int,
                 n_train: int, n_test: int, epochs: int) -> tuple[dict[str, float], float]:
    """Kendall's tau-b (scipy) per test device between predicted scores and true Pareto ranks, and the
    surrogate's training time (s): one model over the training devices, one list per device."""
    from scipy.stats import kendalltau

    rng = np.random.default_rng(seed)
    lists = []
    for device in train:
        pick = rng.choice(len(device.indices), size=n_train, replace=False)
        lists.append((encode(grid, device.indices[pick], device.context), pareto_ranks(device.normalised[pick])))
    model = ParetoRankModel(lists[0][0].shape[1], 64, rng)
    started = time.perf_counter()
    model.fit(lists, epochs)
    seconds = time.perf_counter() - started
    taus = {}
    for name, device in test.items():
        pick = rng.choice(len(device.indices), size=n_test, replace=False)
        scores = model.predict(encode(grid, device.indices[pick], device.context))
        # a higher score means a better (lower) rank: tau of -score against the rank
        taus[name] = float(kendalltau(-scores, pareto_ranks(device.normalised[pick])).statistic)
    return taus, seconds


def figures(curves, runs, tasks: dict[str, TableTask], out: Path) -> list[Path]:  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    names = list(tasks)
    paths = []
    figure, axes = plt.subplots(2, 3, figsize=(9, 5.5))
    for ax, name in zip(axes.flat, names):
        task = tasks[name]
        front = task.true_front()
        ax.step(front[:, 1], front[:, 0], where="post", color="black", lw=1, label="true front")
        for run in runs:
            if run.task == task.name and run.seed == 0 and run.baseline in ("device_hypernet", "hw_pr_nas"):
                points = run.rows[[f"expected.{o}" for o in task.objective_names]].to_numpy(dtype=float)
                marker = "o" if run.baseline == "device_hypernet" else "x"
                label = "device_hypernet zero-shot" if run.baseline == "device_hypernet" else "hw_pr_nas search"
                ax.scatter(points[:, 1], points[:, 0], s=12, marker=marker, label=label)
        ax.set_title(name.removeprefix("nb201-help-"), fontsize=9)
        ax.set_xlabel("latency (ms)", fontsize=8)
        ax.set_ylabel("error", fontsize=8)
        ax.set_ylim(top=min(0.5, ax.get_ylim()[1]))
        ax.tick_params(labelsize=7)
    axes.flat[0].legend(fontsize=6)
    figure.suptitle("Test devices: zero-shot front (seed 0) against the true front", fontsize=10)
    figure.tight_layout()
    paths.append(out / "hardware_transfer_fronts.png")
    figure.savefig(paths[-1], dpi=80)
    figure, axes = plt.subplots(2, 3, figsize=(9, 5.5))
    mean = curves.groupby(["task", "baseline", "evaluation"])["regret"].mean().reset_index()
    for ax, name in zip(axes.flat, names):
        for baseline, group in mean[mean["task"] == tasks[name].name].groupby("baseline"):
            ax.plot(group["evaluation"], group["regret"], label=baseline)
        ax.set_yscale("log")
        ax.set_title(name.removeprefix("nb201-help-"), fontsize=9)
        ax.set_xlabel("evaluations", fontsize=8)
        ax.set_ylabel("HV regret (mean)", fontsize=8)
        ax.tick_params(labelsize=7)
    axes.flat[0].legend(fontsize=6)
    figure.suptitle("Test devices: hypervolume regret over evaluations (mean over seeds)", fontsize=10)
    figure.tight_layout()
    paths.append(out / "hardware_transfer_regret.png")
    figure.savefig(paths[-1], dpi=80)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--help-dir", type=Path, default=os.environ.get("BOB_HELP_NB201_DIR"),
                        help=f"HELP's data/nasbench201 folder (default ${HELP_ENV})")
    parser.add_argument("--k", type=int, default=20, help="evaluations per test device and run (default 20)")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--experiment", default="hardware-transfer")
    parser.add_argument("--figures", type=Path, default=Path("docs/figures"))
    parser.add_argument("--epochs", type=int, default=200, help="training steps of both models (default 200)")
    parser.add_argument("--tau-train", type=int, default=200, help="architectures per training device")
    parser.add_argument("--tau-test", type=int, default=1000, help="architectures per test device")
    args = parser.parse_args(argv)
    if args.help_dir is None or not (args.help_dir / "latency").is_dir():
        parser.error(f"give HELP's data/nasbench201 folder with --help-dir or ${HELP_ENV} (got {args.help_dir})")
    if args.k < 2 or args.seeds < 1 or args.epochs < 1:
        parser.error("--k must be at least 2, --seeds and --epochs at least 1")
    if (args.results / args.experiment).exists():
        parser.error(f"{args.results / args.experiment} exists: give another --experiment or move it away")

    import torch

    torch.set_num_threads(1)  # tiny models: see tasks.threads.torch_threads
    from analysis.aggregate import indicator_curves
    from analysis.io import load_experiment
    from tasks.tables.reference import write_reference

    started = time.perf_counter()
    tasks = {d: make_help_task(d, args.help_dir) for d in (*DEVICE_SPLIT["train"], *DEVICE_SPLIT["test"])}
    grid = LevelGrid(next(iter(tasks.values())).space)
    data = {d: table_data(task, grid) for d, task in tasks.items()}
    train = [data[d] for d in DEVICE_SPLIT["train"]]
    test = {d: tasks[d] for d in DEVICE_SPLIT["test"]}
    references = args.results / f"{args.experiment}-tabular_data"
    references.mkdir(parents=True, exist_ok=True)
    for task in test.values():
        write_reference(task.table, references)
    print(f"{len(tasks)} device tables read in {time.perf_counter() - started:.1f} s", flush=True)

    budget = Budget(evaluations=args.k)
    hypernet_s, tau_s, taus = [], [], []
    for seed in range(args.seeds):
        clock = time.perf_counter()
        model = train_hypernet(train, grid, 2, seed, epochs=args.epochs)
        hypernet_s.append(time.perf_counter() - clock)
        for device, task in test.items():
            baseline = DeviceHypernet.zero_shot(model, task.space, task.objectives, seed, np.asarray(task.context), args.k)
            spec = RunSpec("device_hypernet", task.name, seed, budget, options=baseline.options(),
                           experiment=args.experiment)
            write_run(spec, task, baseline, args.results)
            for name in SEARCHERS:
                spec = RunSpec(name, task.name, seed, budget, experiment=args.experiment)
                write_run(spec, task, make_baseline(name, task, seed, {}), args.results)
        seed_taus, seconds = kendall_taus(train, {d: data[d] for d in test}, grid, seed, args.tau_train,
                                          args.tau_test, epochs=args.epochs)
        taus.append(seed_taus)
        tau_s.append(seconds)
        print(f"seed {seed}: hypernetwork trained in {hypernet_s[-1]:.1f} s, runs written; "
              f"surrogate trained in {seconds:.1f} s", flush=True)

    runs = load_experiment(args.results / args.experiment)
    curves = indicator_curves(runs, "hv", tabular_data=references)
    final = curves.sort_values("evaluation").groupby(["task", "baseline", "seed"]).last().reset_index()
    table = final.pivot_table(index="task", columns="baseline", values="regret", aggfunc=["mean", "std"],
                               dropna=False)
    print(f"\nHypervolume regret after k={args.k} evaluations on each test device "
          f"(normalised objectives, true front; mean and std over {args.seeds} seeds):")
    order = ["device_hypernet", *SEARCHERS]
    print(f"{'device':16s}" + "".join(f"{b:>24s}" for b in order))
    for task_name in table.index:
        cells = "".join(f"{table.loc[task_name, ('mean', b)]:15.4f} ± {table.loc[task_name, ('std', b)]:6.4f}"
                        for b in order)
        print(f"{task_name.removeprefix('nb201-help-'):16s}{cells}")
    means = final.groupby("baseline")["regret"].mean()
    print(f"{'mean':16s}" + "".join(f"{means[b]:24.4f}" for b in order))
    ranks = final.groupby(["task", "seed"])["regret"].rank()
    print(f"{'mean rank':16s}" + "".join(f"{ranks[final['baseline'] == b].mean():24.2f}" for b in order))
    print(f"\nKendall tau (predicted vs true Pareto rank), hw_pr_nas surrogate trained on {args.tau_train} "
          f"architectures of each training device, {args.tau_test} per test device, mean ± std over seeds:")
    for device in test:
        values = [t[device] for t in taus]
        print(f"  {device:16s} {np.mean(values):.3f} ± {np.std(values):.3f}")
    print(f"\nTraining time on one torch thread (median over seeds): device_hypernet {np.median(hypernet_s):.1f} s "
          f"({args.epochs} steps over {len(train)} devices), hw_pr_nas surrogate {np.median(tau_s):.1f} s "
          f"({args.epochs} epochs over {len(train)} lists of {args.tau_train})")
    for path in figures(curves, runs, test, args.figures):
        print(f"wrote {path}")
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
