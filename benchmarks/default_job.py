"""Where the default job's wall time goes: ``python run_suite.py --quiet --results DIR`` into a fresh folder.

From the suite's own output, log and run metadata it prints, for each run of the job:

- the moments, counted from the command's start: the plan made (the log's "N runs" line, after the
  configuration is checked and the tasks built), the Dask cluster up (the "Dask scheduler" line), the first
  run begun on a worker, the last run ended, the figure written, and the exit;
- the seconds of runs by baseline, summed over its runs: the Dask task on the worker (task and baseline
  built, libraries imported at a worker's first run, the run, its parquet) and the run loop alone (its
  metadata's ``wall_s``);
- each Dask worker's busy seconds, and its idle gaps from the cluster up to the last run's end: idle while
  runs still waited for a worker (start-up, dispatch), and idle once none waited (the last runs running
  alone).

The worker columns need the log lines that name each run's worker and seconds (``suite.dispatch``); the
moments and sums are printed for any checkout. ``--compare DIR`` also runs another checkout's default job,
in turns with this one's (A/B/A/B, so that both see the same load), e.g. the commit before a change:

    git archive <commit> | tar -x -C /tmp/before
    python benchmarks/default_job.py [--repeats 2] [--compare /tmp/before] [-- extra run_suite.py flags]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: the log's timestamp (local time, as ``logging`` writes asctime)
_STAMP = r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})"
_PLAN = re.compile(_STAMP + r" INFO (\d+) runs: ")
_FINISHED = re.compile(_STAMP + r" INFO finished (\S+) \((\w+)\)(?: on (\S+): ([\d.]+) s from " + _STAMP + ")?")


def _epoch(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()


@dataclass
class Run:
    baseline: str
    worker: str | None
    began: float | None
    ended: float
    loop_s: float


@dataclass
class Job:
    """One default job's moments (seconds from its start) and runs."""

    moments: dict[str, float] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)


def run_job(checkout: Path, folder: Path, extra: list[str]) -> Job:
    """Run ``checkout``'s default job into ``folder`` (fresh) and read where its time went."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, str(checkout / "run_suite.py"), "--quiet", "--results", str(folder), *extra]
    started = time.time()
    job = Job()
    with subprocess.Popen(command, cwd=checkout, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env) as child:
        assert child.stdout is not None and child.stderr is not None
        for line in child.stdout:  # stamped as each line arrives
            if line.startswith("Dask scheduler:"):
                job.moments["Dask cluster up"] = time.time() - started
            elif line.startswith("hypervolume over time:"):
                job.moments["figure written"] = time.time() - started
        errors = child.stderr.read()
    job.moments["exit"] = time.time() - started
    if child.returncode != 0:
        raise SystemExit(f"the default job of {checkout} failed (exit {child.returncode}): {errors[-800:]}")
    experiment = next(path for path in folder.iterdir() if (path / "suite.log").is_file())
    for line in (experiment / "suite.log").read_text().splitlines():
        if (plan := _PLAN.match(line)) is not None:
            job.moments["plan made (log: N runs)"] = _epoch(plan[1]) - started
        elif (done := _FINISHED.match(line)) is not None:
            metadata = json.loads((Path(done[2]) / "metadata.json").read_text())
            began = _epoch(done[6]) - started if done[6] else None
            ended = began + float(done[5]) if began is not None else _epoch(done[1]) - started
            job.runs.append(Run(metadata["baseline"]["name"], done[4], began, ended, float(metadata["wall_s"])))
    if not job.runs:
        raise SystemExit(f"no finished runs in {experiment / 'suite.log'}")
    if all(run.began is not None for run in job.runs):
        job.moments["first run began"] = min(run.began for run in job.runs if run.began is not None)
    job.moments["last run ended"] = max(run.ended for run in job.runs)
    return job


def idle(job: Job) -> dict[str, tuple[int, float, float, float]]:
    """worker -> (runs, busy s, idle s while runs waited, idle s once none waited), from the cluster up to the last
    run's end. A run waits from the start until it begins on a worker."""
    start = job.moments.get("Dask cluster up", 0.0)
    end = job.moments["last run ended"]
    last_begin = max(run.began for run in job.runs if run.began is not None)
    found: dict[str, tuple[int, float, float, float]] = {}
    for worker in sorted({run.worker for run in job.runs if run.worker is not None}):
        spans = sorted((run.began, run.ended) for run in job.runs
                       if run.worker == worker and run.began is not None)
        busy = sum(b - a for a, b in spans)
        waited = after = 0.0
        for free_from, free_to in zip([start, *(b for _, b in spans)], [*(a for a, _ in spans), end]):
            if free_to <= free_from:
                continue
            while_waiting = max(0.0, min(free_to, last_begin) - free_from)
            waited += while_waiting
            after += free_to - free_from - while_waiting
        found[worker] = (len(spans), busy, waited, after)
    return found


def report(name: str, jobs: list[Job]) -> None:
    print(f"{name}: median of {len(jobs)} (each job's figures in turn)")
    for moment in ("plan made (log: N runs)", "Dask cluster up", "first run began", "last run ended",
                   "figure written", "exit"):
        values = [job.moments[moment] for job in jobs if moment in job.moments]
        if values:
            print(f"  {moment:28s} {statistics.median(values):7.2f} s   ({', '.join(f'{v:.2f}' for v in values)})")
    print("  seconds of runs by baseline, summed (Dask task on its worker / run loop alone):")
    for baseline in sorted({run.baseline for job in jobs for run in job.runs}):
        tasks = [sum(r.ended - r.began for r in job.runs if r.baseline == baseline and r.began is not None)
                 for job in jobs]
        loops = [sum(r.loop_s for r in job.runs if r.baseline == baseline) for job in jobs]
        count = sum(r.baseline == baseline for r in jobs[0].runs)
        task = f"{statistics.median(tasks):7.2f}" if any(tasks) else "    n/a"
        print(f"    {baseline:16s} {count:3d} runs {task} s / {statistics.median(loops):7.2f} s")
    for i, job in enumerate(jobs):
        workers = idle(job) if all(run.began is not None for run in job.runs) else {}
        for worker, (count, busy, waited, after) in workers.items():
            print(f"  job {i + 1} worker {worker}: {count} runs, busy {busy:.2f} s; idle {waited:.2f} s while runs "
                  f"waited, {after:.2f} s once none waited")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="jobs per checkout (default 1)")
    parser.add_argument("--compare", type=Path, metavar="DIR", help="another checkout whose default job to time too")
    parser.add_argument("extra", nargs="*", help="flags for run_suite.py (after --)")
    args = parser.parse_args()
    if args.compare is not None and not (args.compare / "run_suite.py").is_file():
        parser.error(f"--compare: no run_suite.py in {args.compare}")
    checkouts = {"this checkout": ROOT}
    if args.compare is not None:
        checkouts[f"{args.compare.name}"] = args.compare.resolve()
    jobs: dict[str, list[Job]] = {name: [] for name in checkouts}
    loads = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeats):  # in turns, so that a change of load falls on both alike
            for j, (name, checkout) in enumerate(checkouts.items()):
                loads.append(os.getloadavg()[0])
                jobs[name].append(run_job(checkout, Path(tmp) / f"results-{j}-{i}", args.extra))
    print(f"default job, {os.cpu_count()} cores; load average (1 min) before each job: "
          f"{', '.join(f'{x:.2f}' for x in loads)}; now {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for name, found in jobs.items():
        report(name, found)


if __name__ == "__main__":
    main()
