#!/usr/bin/env python
"""Run the grid baselines x tasks x seeds and plot hypervolume over time.

    python run_suite.py                                   # the default job (every baseline, small task set)
    python run_suite.py --baselines random_search --tasks fcnet-naval --seeds 3 --budget 100
    python run_suite.py --config suite.yaml               # the same keys as the flags, in YAML or TOML
    python run_suite.py --list                            # registered baselines and tasks
    python run_suite.py --scheduler tcp://HOST:8786       # on an existing Dask cluster
    python run_suite.py --config slurm.yaml --cluster slurm   # batch jobs through dask-jobqueue

Re-running the same command resumes: complete runs are skipped, partial runs continued; --fresh starts over.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any, NoReturn

from tasks.registry import UnknownNameError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # one line, not argparse's usage block: the user sees what is wrong and where to look
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _Parser(prog="run_suite.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, help="YAML/TOML/JSON file with the keys below; flags override it")
    parser.add_argument("--list", action="store_true", help="list registered baselines and tasks, then exit")
    parser.add_argument("--baselines", help="comma-separated baseline names (default: all registered)")
    parser.add_argument("--tasks", help="comma-separated task names")
    parser.add_argument("--seeds", type=int, help="number of seeds, 0..N-1 (default 3)")
    parser.add_argument("--budget", type=int, help="evaluations per run (default 100)")
    parser.add_argument("--budget-seconds", type=float, help="seconds of the run's clock per run")
    parser.add_argument("--workers", type=int, help="parallel workers inside one run (default 1)")
    parser.add_argument("--experiment", help="experiment folder name (default 'default')")
    parser.add_argument("--results", type=Path, help="results root (default ./results)")
    parser.add_argument("--dask-workers", type=int, help="local Dask worker processes (default: cores)")
    parser.add_argument("--plugin", action="append", dest="plugins", metavar="MODULE",
                        help="import MODULE first so its @register lines add baselines or tasks (repeatable)")
    parser.add_argument("--cluster", help="local (default), slurm, pbs, sge or lsf (batch options: config file)")
    parser.add_argument("--scheduler", help="address or scheduler file of an existing Dask cluster")
    parser.add_argument("--eval-timeout-s", type=float, help="seconds before a live evaluation is a timeout")
    parser.add_argument("--fresh", action="store_true", help="delete this suite's run folders and start over")
    parser.add_argument("--no-plot", action="store_true", help="do not write the hypervolume figure")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def _list() -> None:
    from baselines import BASELINES
    from tasks import TASKS, make_task

    print("baselines:")
    for name in BASELINES.names():
        doc = (BASELINES.get(name).__doc__ or "").strip().splitlines()
        print(f"  {name:32s} {doc[0] if doc else ''}")
    print("tasks:")
    for name in TASKS.names():
        try:
            task = make_task(name)
            objectives = ", ".join(task.objective_names)
            fidelity = f"; fidelity {task.fidelity.name}" if task.fidelity else ""
            print(f"  {name:32s} {objectives}{fidelity}")
        except (OSError, ValueError, RuntimeError, ImportError) as error:  # listed with why it is unavailable
            print(f"  {name:32s} (unavailable: {error})")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from suite.grid import ConfigError, build_config, read_config_file

    values: dict[str, Any] = {}
    try:
        if args.config is not None:
            values.update(read_config_file(args.config))
        flags = {k: v for k, v in vars(args).items() if k not in ("config", "list", "no_plot", "quiet", "fresh")}
        if args.cluster is not None and isinstance(values.get("cluster"), dict):
            flags["cluster"] = {**values["cluster"], "kind": args.cluster}  # the file's batch options stay
        values.update({k: v for k, v in flags.items() if v is not None})
        if args.list:
            build_config({"plugins": values.get("plugins")})
            _list()
            return 0
        config = build_config(values)
    except (ConfigError, UnknownNameError, ValueError) as error:
        print(f"run_suite.py: error: {error}", file=sys.stderr)
        return 2
    try:
        return _run(config, plot=not args.no_plot, progress=not args.quiet, fresh=args.fresh)
    except ValueError as error:  # an unreachable scheduler, a batch option dask-jobqueue refuses
        print(f"run_suite.py: error: {str(error).strip().splitlines()[0]}", file=sys.stderr)
        return 2


def _start_log(experiment: Path) -> logging.Handler:
    """The suite's short log (plan, resumes, failures) in the experiment folder, appended per invocation."""
    experiment.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(experiment / "suite.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("suite")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler


def _run(config: Any, plot: bool, progress: bool, fresh: bool) -> int:
    from suite.cluster import open_client
    from suite.dispatch import run_grid

    specs = config.runs()
    experiment = config.results / config.experiment
    print(f"{len(specs)} runs: {len(config.baselines)} baselines x {len(config.tasks)} tasks x "
          f"{len(config.seeds)} seeds -> {experiment}")
    log = _start_log(experiment)
    print(f"log: {log.baseFilename}")
    try:
        with open_client(config.cluster, config.scheduler, config.dask_workers, config.tls) as client:
            print(f"Dask scheduler: {client.scheduler.address}  dashboard: {client.dashboard_link}")
            outcomes = run_grid(client, specs, config.results, config.plugins, progress=progress, fresh=fresh)
    finally:
        logging.getLogger("suite").removeHandler(log)
        log.close()
    skipped = sum(o.state == "skipped" for o in outcomes)
    resumed = sum(o.state == "resumed" and o.error is None for o in outcomes)
    if skipped or resumed:
        print(f"{skipped} runs were already complete (skipped), {resumed} partial runs resumed")
    done = [o for o in outcomes if o.error is None]
    failed = [o for o in outcomes if o.error is not None]
    for outcome in done:
        print(f"  {outcome.folder}")
    print(f"{len(done)} runs complete in {experiment}")
    if failed:
        print(f"{len(failed)} runs failed:", file=sys.stderr)
        for outcome in failed:
            print(f"  {outcome.spec.task} / {outcome.spec.baseline} / seed {outcome.spec.seed}: {outcome.error}",
                  file=sys.stderr)
    if plot and done:
        from analysis import plot_experiment

        try:
            figure = plot_experiment(experiment, experiment / "figures")
            print(f"hypervolume over time: {figure}")
        except ValueError as error:  # the runs are done and kept; only the figure could not be drawn
            print(f"warning: no hypervolume figure: {error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
