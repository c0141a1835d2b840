"""Wall time of a small job and of an argument error, against references measured in the same run.

- small job (goal: under 2 s on an idle 2-core machine): ``run_suite.py --baselines random_search --tasks
  fcnet-naval --seeds 1 --budget 100``, figure included, into a fresh folder each time;
- argument errors (goal: under 1 s): an unknown flag, and an unknown baseline name (which reads the registry);
- references: ``python -c pass`` (the interpreter) and ``python -c "import dask.distributed"`` (the
  suite's engine, which every run imports).

Each command runs ``--repeats`` times in a fresh process; the median is printed with the load average, and
every time as a multiple of the Dask import: on a shared, loaded machine the ratios are what carries over.

    python benchmarks/startup.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMALL_JOB = ("--baselines", "random_search", "--tasks", "fcnet-naval", "--seeds", "1", "--budget", "100", "--quiet")


def wall(command: list[str], expect: int, folder: Path) -> float:
    """Seconds from start to exit of ``command``; SystemExit if it does not exit with ``expect``."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != expect:
        raise SystemExit(f"{' '.join(command[1:])}: exit {done.returncode}, expected {expect}: {done.stderr[-500:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
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
        times["small job, figure included"] = [
            wall([*suite, *SMALL_JOB, "--results", str(folder / f"results-{i}")], 0, folder)
            for i in range(args.repeats)]
        figures = list(folder.glob("results-*/default/figures/hypervolume_over_time.png"))
        if len(figures) != args.repeats:
            raise SystemExit(f"the small job wrote {len(figures)} figures in {args.repeats} runs")
    medians = {name: statistics.median(values) for name, values in times.items()}
    dask = medians["import dask.distributed"]
    print(f"median of {args.repeats} runs each, {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for name, seconds in medians.items():
        print(f"  {name:32s} {seconds:6.2f} s   {seconds / dask:5.2f}x the Dask import")


if __name__ == "__main__":
    main()
