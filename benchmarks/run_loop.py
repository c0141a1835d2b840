"""CPU time per trial of the simulated-clock run loop (random search on a table), against references measured
in the same run: a bare loop, and syne-tune's simulator where syne-tune is installed.

- suite: ``suite.loops.simulate`` with ``RandomSearch`` (its numpy levels sampler), N simulated workers, one
  result row per trial kept in memory (``--sampler configspace`` times ConfigSpace's sampler instead);
- bare loop: what replaying the table costs with no suite at all: level indices drawn by numpy in one call,
  then per trial the row index, one recorded seed's objectives and cost read from the arrays, and the
  N-worker event heap; none of the suite's code;
- syne-tune: its ``RandomSearch`` scheduler on a ``BlackboxTabular`` of the same table through
  ``UserBlackboxBackend`` and ``SimulatorCallback`` (the simulator of syne-tune's blackbox repository).
  syne-tune is no dependency of this suite; to time it, install it beside the suite with
  ``pip install -c constraints.txt syne-tune`` (or, to keep it out of the suite's environment,
  ``pip install --no-deps --target DIR syne-tune dill sortedcontainers "huggingface_hub<1" requests urllib3
  idna charset_normalizer certifi`` and run with ``PYTHONPATH=DIR``: syne-tune 0.16's blackbox repository
  imports huggingface_hub, whose 1.x imports httpx2).

    python benchmarks/run_loop.py [--task fcnet-naval] [--evaluations 100000] [--syne-tune-trials 1000]

The machine may be loaded: compare the ratios, which are measured in one run, not the absolute times.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import io
import importlib.util
import logging
import os
import tempfile
import time

import numpy as np

from baselines.random_search import RandomSearch
from suite.loops import simulate
from suite.spec import Budget
from tasks import make_task
from tasks.tables import Table, TableTask


def suite_loop(task: TableTask, n: int, workers: int, sampler: str) -> float:
    """CPU seconds of the suite's loop for ``n`` trials."""
    rows: list[dict] = []
    baseline = RandomSearch(task.space, task.objectives, None, seed=0, sampler=sampler)
    started = time.process_time()
    simulate(baseline, task, 0, Budget(evaluations=n), workers, rows.append)
    elapsed = time.process_time() - started
    assert len(rows) == n
    return elapsed


def bare_loop(table: Table, n: int, workers: int) -> float:
    """CPU seconds of a loop with no suite code: numpy sampling, array lookups and an event heap."""
    started = time.process_time()
    rng = np.random.default_rng(0)
    sizes = [len(levels) for levels in table.levels.values()]
    rows = np.ravel_multi_index(rng.integers(0, sizes, size=(n, len(sizes))).T, sizes).tolist()
    seeds = rng.integers(0, 2**31, size=n).tolist()
    n_seeds = table.n_seeds.tolist()
    recorded: list[tuple[float, list[float]]] = []
    events: list[tuple[float, int]] = []
    now = 0.0
    for i, row in enumerate(rows):
        seed = seeds[i] % n_seeds[row]
        cost = float(table.cost[row, seed, -1])
        heapq.heappush(events, (now + cost, i))
        if len(events) == workers:
            now, done = heapq.heappop(events)
            recorded.append((now, table.values[rows[done], seeds[done] % n_seeds[rows[done]], -1].tolist()))
    elapsed = time.process_time() - started
    assert len(recorded) == n - workers + 1
    return elapsed


def syne_tune_loop(table: Table, objectives: list[str], n: int, workers: int) -> float:
    """CPU seconds of syne-tune's simulator replaying ``table`` with random search until ``n`` trials finish."""
    import pandas as pd
    from syne_tune import StoppingCriterion, Tuner
    from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
    from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular
    from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend
    from syne_tune.config_space import choice, randint
    from syne_tune.optimizer.baselines import RandomSearch as SyneRandomSearch

    names = list(table.levels)
    indices = np.unravel_index(np.arange(len(table.n_seeds)), [len(table.levels[name]) for name in names])
    hyperparameters = pd.DataFrame({name: np.array(table.levels[name], dtype=object)[index]
                                    for name, index in zip(names, indices)})
    space = {name: choice(list(levels)) for name, levels in table.levels.items()}
    last = slice(table.values.shape[2] - 1, None)  # the highest fidelity level, as the suite's random search
    evaluations = np.concatenate([table.values[:, :, last, :], table.cost[:, :, last, None]], axis=-1)
    blackbox = BlackboxTabular(hyperparameters=hyperparameters, configuration_space=space,
                               fidelity_space={"level": randint(1, 1)}, objectives_evaluations=evaluations,
                               objectives_names=[*objectives, "cost_s"])
    logging.getLogger("syne_tune").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        os.environ["SYNETUNE_FOLDER"] = folder  # its result files go to a folder removed afterwards
        tuner = Tuner(
            trial_backend=UserBlackboxBackend(blackbox=blackbox, elapsed_time_attr="cost_s"),
            # its RandomSearch takes one metric ("only support single metric"); random search ignores it anyway
            scheduler=SyneRandomSearch(space, metrics=objectives[:1], random_seed=0),
            stop_criterion=StoppingCriterion(max_num_trials_completed=n), n_workers=workers, sleep_time=0,
            callbacks=[SimulatorCallback()], results_update_interval=3600, print_update_interval=3600,
            save_tuner=False,
        )
        started = time.process_time()
        with contextlib.redirect_stdout(io.StringIO()):  # its per-trial progress lines
            tuner.run()
        return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="fcnet-naval")
    parser.add_argument("--evaluations", type=int, default=100_000, help="trials of the suite's and the bare loop")
    parser.add_argument("--syne-tune-trials", type=int, default=1000, help="trials of syne-tune's simulator")
    parser.add_argument("--workers", type=int, default=4, help="simulated workers")
    parser.add_argument("--sampler", default="levels", choices=("levels", "configspace"))
    args = parser.parse_args()
    task = make_task(args.task)
    if not isinstance(task, TableTask):
        raise SystemExit(f"{args.task} is not a table task")
    table = task.table
    n, workers = args.evaluations, args.workers

    per_trial = {"suite": suite_loop(task, n, workers, args.sampler) / n, "bare": bare_loop(table, n, workers) / n}
    print(f"task {args.task}, {workers} simulated workers, CPU time per trial (process_time)")
    print(f"suite run loop ({args.sampler} sampler, {n:,} trials): {per_trial['suite'] * 1e6:8.1f} us "
          f"({n:,} trials in {per_trial['suite'] * n:.2f} s)")
    print(f"bare numpy loop ({n:,} trials):               {per_trial['bare'] * 1e6:8.1f} us")
    if importlib.util.find_spec("syne_tune") is None:
        print("syne-tune: not installed (pip install -c constraints.txt syne-tune), so not timed")
    else:
        trials = args.syne_tune_trials
        per_trial["syne"] = syne_tune_loop(table, task.objective_names, trials, workers) / trials
        print(f"syne-tune simulator ({trials:,} trials):            {per_trial['syne'] * 1e6:8.1f} us")
        print(f"syne-tune / suite: {per_trial['syne'] / per_trial['suite']:.1f}x (goal: at least 50x)")
    print(f"suite / bare loop: {per_trial['suite'] / per_trial['bare']:.1f}x")


if __name__ == "__main__":
    main()
