"""Speed of the LCBench surrogate tasks: lookups (single and batched), a best-known front, the run loop.

- single lookup: ``task.evaluate`` of a configuration the process has not seen (one row for the epoch asked,
  plus, above epoch 1, one batch of the earlier epochs for the running maximum of the training time), of one
  already seen (the per-process cache), and the bare onnxruntime call of one row as the floor;
- batched path: ``LCBenchSurrogate.predict`` on 52-epoch curves of many configurations, per row;
- best-known front: ``best_known`` (8,192 configurations x 52 epochs, then the candidates row by row);
- run loop: ``suite.loops.simulate`` with random search on the LCBench task against the same loop on a
  table task (``fcnet-naval``), CPU time per trial;
- ``--facts``: instead, what docs/tasks.md states about the data, over all 34 tasks (1,024 Sobol configurations
  x 52 epochs each, batched): how many configurations have a non-monotone ``time``, how much the running
  maximum raises the training time to epoch 52, and the span of training times (why the objective is log10).

    python benchmarks/lcbench_speed.py [--folder DIR] [--task lcbench-3945] [--lookups 2000] [--trials 2000]
    python benchmarks/lcbench_speed.py --facts
    python benchmarks/lcbench_speed.py --kernels   # the 200 golden rows: one row at a time against one batch

The folder defaults to ``BOB_LCBENCH_DIR``. CPU times (``process_time``): compare the ratios, which are
measured in one run, when the machine is loaded; the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from baselines.random_search import RandomSearch
from suite.loops import simulate
from suite.spec import Budget
from tasks import make_task
from tasks.base import Task
from tasks.surrogates import LCBENCH_ENV, configured_folder
from tasks.surrogates.lcbench import EPOCHS, NAMES, LCBenchTask, _typed, best_known, sample_configs


def _configs(n: int, seed: int) -> list[dict[str, float | int]]:
    """Configurations of another Sobol sample than the front's (seed 0), so none is cached yet."""
    return [dict(zip(NAMES, _typed(row))) for row in sample_configs(n, seed)]


def per_call(calls: list[tuple]) -> float:
    """CPU seconds per call of ``function(*args)`` over ``calls`` of (function, *args)."""
    started = time.process_time()
    for function, *args in calls:
        function(*args)
    return (time.process_time() - started) / len(calls)


def run_loop(task: Task, n: int) -> float:
    """CPU seconds per trial of the suite's loop, random search, one simulated worker."""
    rows: list[dict] = []
    baseline = RandomSearch(task.space, task.objectives, task.fidelity, seed=0)
    started = time.process_time()
    simulate(baseline, task, 0, Budget(evaluations=n), 1, rows.append)
    elapsed = time.process_time() - started
    assert len(rows) == n and all(r["status"] == "ok" for r in rows)
    return elapsed / n


def facts(folder: str) -> None:
    """Non-monotone ``time`` and the span of training times over every task, from batched curves."""
    from tasks.surrogates import LCBENCH_INSTANCES
    from tasks.surrogates.lcbench import surrogate

    model = surrogate(folder)
    configs = sample_configs(1024, seed=104)
    epochs = np.tile(np.arange(1, EPOCHS + 1), len(configs))
    non_monotone, raised, shortest, longest, spans = [], [], np.inf, 0.0, []
    for instance in LCBENCH_INSTANCES:
        time_ = model.predict(model.code(instance), np.repeat(configs, EPOCHS, axis=0), epochs)[:, 0]
        curves = time_.reshape(len(configs), EPOCHS)
        train = np.maximum.accumulate(curves, axis=1)
        non_monotone.append((np.diff(curves, axis=1) < 0).any(axis=1).mean())
        raised.append((train[:, -1] / curves[:, -1] - 1).max())
        shortest, longest = min(shortest, train.min()), max(longest, train.max())
        spans.append(np.log10(train.max() / train.min()))
    print(f"34 tasks x 1,024 configurations x 52 epochs (batched): configurations with a time that falls between "
          f"two epochs: {100 * min(non_monotone):.1f} % to {100 * max(non_monotone):.1f} % per task (median "
          f"{100 * np.median(non_monotone):.1f} %)")
    print(f"running maximum at epoch 52 above the surrogate's time: at most {100 * max(raised):.0f} % "
          f"(worst configuration of any task), at most {100 * np.median(raised):.1f} % in the median task")
    print(f"training time to an epoch: {shortest:.2f} s to {longest:,.0f} s over all tasks; per task a span of "
          f"{min(spans):.1f} to {max(spans):.1f} orders of magnitude")


def kernels(folder: str) -> None:
    """The reference's 200 golden rows predicted one row at a time and in one batch, against its values."""
    import json
    from pathlib import Path

    from tasks.surrogates.lcbench import TARGETS, surrogate

    model = surrogate(folder)
    rows = json.loads((Path(folder) / "golden-yahpo-gym-1.0.2.json").read_text())["rows"]
    expected = np.array([[r["targets"][t] for t in TARGETS] for r in rows])
    single, batched = np.empty_like(expected), np.empty_like(expected)
    for instance in {r["config"]["OpenML_task_id"] for r in rows}:
        at = [i for i, r in enumerate(rows) if r["config"]["OpenML_task_id"] == instance]
        configs = np.array([[rows[i]["config"][name] for name in NAMES] for i in at], dtype=float)
        epochs = np.array([rows[i]["config"]["epoch"] for i in at])
        code = model.code(instance)
        batched[at] = model.predict(code, configs, epochs)
        single[at] = [model.predict(code, c, np.array([e]))[0] for c, e in zip(configs, epochs)]
    for name, values in (("one row at a time", single), ("one batch per instance", batched)):
        worst = np.abs(values / expected - 1).max(axis=0)
        print(f"{name}: largest relative difference to yahpo-gym 1.0.2 over 200 rows: "
              + ", ".join(f"{t} {w:.1e}" for t, w in zip(TARGETS, worst)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", default=configured_folder(), help=f"default ${LCBENCH_ENV}")
    parser.add_argument("--task", default="lcbench-3945")
    parser.add_argument("--lookups", type=int, default=2000, help="configurations per lookup measurement")
    parser.add_argument("--trials", type=int, default=2000, help="trials of each run loop")
    parser.add_argument("--table", default="fcnet-naval", help="the table task the run loop is compared with")
    parser.add_argument("--facts", action="store_true", help="print the data's facts of docs/tasks.md instead")
    parser.add_argument("--kernels", action="store_true", help="print single rows and batches against the golden rows")
    args = parser.parse_args()
    if not args.folder:
        parser.error(f"give --folder or set {LCBENCH_ENV}")
    if args.facts or args.kernels:
        (facts if args.facts else kernels)(args.folder)
        return
    instance = args.task.removeprefix("lcbench-")
    task = LCBenchTask(instance, args.folder)
    model = task.surrogate
    code = model.code(instance)
    n = args.lookups
    print(f"task {args.task}; load average {os.getloadavg()[0]:.2f} at the start; CPU time (process_time)")

    first = _configs(n, seed=101)
    task.evaluate(first[0], 1)  # the session is made here, not timed
    row = np.array([list(_typed(sample_configs(1, 7)[0]))], dtype=float)
    bare = per_call([(model.predict, code, row, np.array([e % EPOCHS + 1])) for e in range(n)])
    fresh_52 = per_call([(task.evaluate, c, EPOCHS) for c in first])
    cached_52 = per_call([(task.evaluate, c, EPOCHS) for c in first])
    fresh_1 = per_call([(task.evaluate, c, 1) for c in _configs(n, seed=102)])
    print(f"bare onnxruntime call, one row:                  {bare * 1e6:8.1f} us")
    print(f"evaluate, new configuration at epoch 1:          {fresh_1 * 1e6:8.1f} us "
          f"({fresh_1 / bare:.2f}x the bare call)")
    print(f"evaluate, new configuration at epoch 52:         {fresh_52 * 1e6:8.1f} us ({fresh_52 / bare:.2f}x; "
          "the row and a batch of epochs 1..51)")
    print(f"evaluate, seen configuration (cache):            {cached_52 * 1e6:8.1f} us")

    curves = sample_configs(1024, seed=103)
    started = time.process_time()
    model.predict(code, np.repeat(curves, EPOCHS, axis=0), np.tile(np.arange(1, EPOCHS + 1), len(curves)))
    batched = (time.process_time() - started) / (len(curves) * EPOCHS)
    print(f"batched predict, 1,024 curves x 52 epochs:       {batched * 1e6:8.1f} us per row "
          f"({bare / batched:.1f}x the rows per second of single calls)")

    started_wall, started = time.perf_counter(), time.process_time()
    record = best_known(task)
    print(f"best-known front (8,192 x 52 points, then {len(record.front)} front points exact): "
          f"{time.process_time() - started:.1f} s CPU, {time.perf_counter() - started_wall:.1f} s wall")

    table = make_task(args.table)
    loop_lc, loop_table = run_loop(LCBenchTask(instance, args.folder), args.trials), run_loop(table, args.trials)
    print(f"run loop, random search, {args.trials:,} trials: {args.task} {loop_lc * 1e6:.1f} us per trial, "
          f"{args.table} {loop_table * 1e6:.1f} us per trial ({loop_lc / loop_table:.1f}x)")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
