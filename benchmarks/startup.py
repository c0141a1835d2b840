"""Wall time of a small job and of an argument error, against references measured in the same run.

- small job (goal: under 2 s on an idle 2-core machine): ``run_suite.py --baselines random_search --tasks
  fcnet-naval --seeds 1 --budget 100``, figure included, into a fresh folder each time;
- argument errors (goal: under 1 s): an unknown flag, and an unknown baseline name (which reads the registry);
- references: ``python -c pass`` (the interpreter) and ``python -c "import dask.distributed"`` (the
  suite's engine, which every run imports).

Each command runs ``--repeats`` times in a fresh process; the median is printed with the load average, and
every time as a multiple of the Dask import: on a shared, loaded machine the ratios are what carries over.
Next to the wall time, the CPU time (user + system) of the command and every process it waited for (the
figure process included): on a loaded machine it stays near what the command costs on an idle one, where the
wall time does not. ``--stages`` also prints, for one small job, the wall and CPU time at which each stage
ended (arguments checked, Dask cluster up, runs done, figure drawn). ``--compare DIR`` also times the small
job of another checkout, in turns with this one's (so both see the same load), e.g. the commit before a change:

    git archive <commit> | tar -x -C /tmp/before
    python benchmarks/startup.py [--repeats 3] [--stages] [--compare /tmp/before]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMALL_JOB = ("--baselines", "random_search", "--tasks", "fcnet-naval", "--seeds", "1", "--budget", "100", "--quiet")


#: the small job with its stages timed: the suite's own functions, wrapped to print when each one returns
STAGES = """
import contextlib, sys, time
wall, cpu = time.perf_counter(), time.process_time()
def stage(name):
    print(f"  {time.perf_counter() - wall:6.2f} s wall  {time.process_time() - cpu:6.2f} s CPU  {name}",
          file=sys.stderr)
import suite.cli, suite.cluster, suite.grid
stage("suite.cli imported")
build_config, open_client, draw = suite.grid.build_config, suite.cluster.open_client, suite.cli.FigureProcess.draw
def built(values):
    config = build_config(values)
    stage("arguments checked (build_config)")
    return config
@contextlib.contextmanager
def opened(*args, **kwargs):
    with open_client(*args, **kwargs) as client:
        stage("Dask cluster up (distributed imported)")
        yield client
    stage("runs done, cluster closed")
def drawn(self, experiment):
    png = draw(self, experiment)
    stage("figure drawn (PNG and PDF)")
    return png
suite.grid.build_config, suite.cluster.open_client, suite.cli.FigureProcess.draw = built, opened, drawn
import run_suite
getattr(run_suite, "exit_without_teardown", sys.exit)(suite.cli.run(sys.argv[1:]))  # as this checkout's run_suite.py ends
"""


def cpu_of_children() -> float:
    """CPU seconds (user + system) of every finished process this one waited for, and of theirs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wall(command: list[str], expect: int, folder: Path) -> tuple[float, float]:
    """(wall, CPU) seconds from start to exit of ``command``; SystemExit if it does not exit with ``expect``."""
    cpu = cpu_of_children()
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != expect:
        raise SystemExit(f"{' '.join(command[1:])}: exit {done.returncode}, expected {expect}: {done.stderr[-500:]}")
    return seconds, cpu_of_children() - cpu


def stages(folder: Path) -> str:
    """The stage lines of one small job (``STAGES``), timed from when its code starts (after the interpreter's
    own start); CPU is this process's alone, the figure process's is not in it."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", STAGES, *SMALL_JOB, "--results", str(folder / "stages")], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the timed small job failed: {done.stderr[-500:]}")
    lines = [line for line in done.stderr.splitlines() if line.startswith("  ") and " s wall " in line]
    return "\n".join([*lines, f"  {time.perf_counter() - started:6.2f} s wall  (process exit, as measured outside)"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--stages", action="store_true", help="also time the stages of one small job")
    parser.add_argument("--compare", type=Path, metavar="DIR", help="another checkout whose small job to time too")
    args = parser.parse_args()
    if args.compare is not None and not (args.compare / "run_suite.py").is_file():
        parser.error(f"--compare: no run_suite.py in {args.compare}")
    suite = [sys.executable, str(ROOT / "run_suite.py")]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        commands = {
            "python -c pass": ([sys.executable, "-c", "pass"], 0),
            "import dask.distributed": ([sys.executable, "-c", "import dask.distributed"], 0),
            "argument error: unknown flag": ([*suite, "--bogus"], 2),
            "argument error: unknown baseline": ([*suite, "--baselines", "nosuch", "--tasks", "fcnet-naval"], 2),
        }
        times = {name: [wall(command, expect, folder) for _ in range(args.repeats)]
                 for name, (command, expect) in commands.items()}
        jobs = {"small job, figure included": suite}
        if args.compare is not None:
            jobs[f"small job of {args.compare.name}"] = [sys.executable, str(args.compare.resolve() / "run_suite.py")]
        for i in range(args.repeats):  # in turns, so that a change of load falls on both alike
            for j, (name, job) in enumerate(jobs.items()):
                result = wall([*job, *SMALL_JOB, "--results", str(folder / f"results-{j}-{i}")], 0, folder)
                times.setdefault(name, []).append(result)
        figures = list(folder.glob("results-0-*/default/figures/hypervolume_over_time.png"))
        if len(figures) != args.repeats:
            raise SystemExit(f"the small job wrote {len(figures)} figures in {args.repeats} runs")
        breakdown = stages(folder) if args.stages else ""
    medians = {name: statistics.median(w for w, _ in values) for name, values in times.items()}
    cpus = {name: statistics.median(c for _, c in values) for name, values in times.items()}
    dask = medians["import dask.distributed"]
    print(f"median of {args.repeats} runs each, {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for name, seconds in medians.items():
        print(f"  {name:32s} {seconds:6.2f} s   {seconds / dask:5.2f}x the Dask import   CPU {cpus[name]:5.2f} s")
    if breakdown:
        print("stages of one small job (from the start of the interpreter's code):")
        print(breakdown)


if __name__ == "__main__":
    main()
