"""Where the suite's figure takes its time: the timeline of the figure process (``analysis.plots.serve``).

Two measurements, each for this checkout and, with ``--compare DIR``, another one (e.g. the commit before a
change: ``git archive <commit> | tar -x -C DIR``), in turns so that both see the same load:

- ``--small`` (default): the small job (``run_suite.py --baselines random_search --tasks fcnet-naval --seeds 1
  --budget 100 --quiet``) with its figure process timed from the start of the suite's own code: the child
  started, its imports done (it waits for the request), request received, runs read, curves computed, the
  summaries, the PNG and the PDF written; and in the suite, the runs done and the figure's answer received.
- ``--experiment DIR``: the figure of an existing results folder (e.g. the default job's 45 runs): a figure
  process is started as the suite starts it, left to finish its imports, then asked; the same steps, timed
  from the request. This is the figure's share of a job once its last run has ended.

Each timeline is the median of ``--repeats`` runs, step by step, printed with the load average: the wall time,
and the CPU time of the process that did the step (the figure process, or the suite's; from the request on, the
figure process's since the request), which on a loaded machine stays near what it is on an idle one. The steps are
found by wrapping the functions that do them (old and new names alike: ``indicator_curves``/``run_curves``,
``aggregate``/``summaries``) and ``Figure.savefig``; no code of the suite is changed.

    python benchmarks/figure_path.py [--repeats 5] [--compare /tmp/before] [--experiment results/default]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMALL_JOB = ("--baselines", "random_search", "--tasks", "fcnet-naval", "--seeds", "1", "--budget", "100", "--quiet")

#: put before the figure process's own code: its steps timed, as seconds since T0 on stderr ("@@ <seconds> <step>")
CHILD = """
import json, sys, time
T0 = {t0!r}
def mark(step):
    # one write per line: the suite's process writes to the same pipe, and print writes the line and its end apart
    sys.stderr.write(f"@@ {{time.time() - T0:.4f}} {{time.process_time():.4f}} child: {{step}}\\n")
mark("started")
sys.path.insert(0, {root!r})
import analysis.plots as plots
import matplotlib.figure
def timed(function, step):
    def wrapper(*args, **kwargs):
        result = function(*args, **kwargs)
        mark(step)
        return result
    return wrapper
for name, step in (("scan_experiment", "runs read"), ("indicator_curves", "curves computed"),
                   ("run_curves", "curves computed"), ("aggregate", "summaries computed"),
                   ("summaries", "summaries computed"), ("plot_experiment", "figure done, answering")):
    if hasattr(plots, name):
        setattr(plots, name, timed(getattr(plots, name), step))
savefig = matplotlib.figure.Figure.savefig
def saved(self, name, *args, **kwargs):
    if str(name).endswith(".png"):
        mark("figure built")
    savefig(self, name, *args, **kwargs)
    mark("PNG written" if str(name).endswith(".png") else "PDF written")
matplotlib.figure.Figure.savefig = saved
class Input:
    def readline(self):
        mark("imports done, waiting")
        line = sys.__stdin__.readline()
        mark("request received")
        return line
sys.stdin = Input()
"""

#: the small job in the suite's own process, its figure process replaced by ``CHILD``
SUITE = """
import sys, time
T0 = time.time()
def mark(step):
    sys.stderr.write(f"@@ {time.time() - T0:.4f} {time.process_time():.4f} suite: {step}\\n")  # one write, as the child's
import subprocess
import suite.cli, suite.cluster
CHILD = sys.argv[1]
popen = subprocess.Popen
def started(command, *args, **kwargs):
    if "from analysis.plots import serve" in command[-1]:  # the figure process: its own code, timed
        root = suite.cli.__file__.rsplit("/suite/", 1)[0]
        command = [*command[:-1], CHILD.format(t0=T0, root=root) + "\\n" + command[-1]]
    return popen(command, *args, **kwargs)
suite.cli.subprocess.Popen = started
draw, open_client = suite.cli.FigureProcess.draw, suite.cluster.open_client
def drawn(self, experiment):
    png = draw(self, experiment)
    mark("figure answer received")
    return png
import contextlib
@contextlib.contextmanager
def opened(*args, **kwargs):
    with open_client(*args, **kwargs) as client:
        yield client
        mark("runs done")
    mark("cluster closed")
suite.cli.FigureProcess.draw, suite.cluster.open_client = drawn, opened
status = suite.cli.run(sys.argv[2:])
mark("suite returns")
import run_suite
getattr(run_suite, "exit_without_teardown", sys.exit)(status)  # as this checkout's run_suite.py ends
"""

def steps(stderr: str) -> dict[str, tuple[float, float]]:
    """The "@@ seconds cpu step" lines of a timed run, by step (the first time each step is marked): the wall
    time since T0 and the CPU time of the process that marked it."""
    found: dict[str, tuple[float, float]] = {}
    for line in stderr.splitlines():
        if line.startswith("@@ "):
            seconds, cpu, step = line[3:].split(" ", 2)
            found.setdefault(step, (float(seconds), float(cpu)))
    return found


#: one timed run: step -> (wall seconds, CPU seconds of the process that marked the step; NaN: not measured)
Timeline = dict[str, tuple[float, float]]


def small_job(checkout: Path, folder: Path) -> Timeline:
    started = time.time()
    done = subprocess.run([sys.executable, "-c", SUITE, CHILD, *SMALL_JOB, "--results", str(folder)],
                          cwd=checkout, capture_output=True, text=True)
    ended = time.time() - started
    if done.returncode != 0:
        raise SystemExit(f"the small job of {checkout} failed: {done.stderr[-800:]}")
    return {**steps(done.stderr), "suite: process exit (measured outside, from its start)": (ended, math.nan)}


def figure_of(checkout: Path, experiment: Path, out: Path) -> Timeline:
    """The figure process of ``checkout``, started as the suite starts it, asked for ``experiment`` once its
    imports are done: the time of its imports from its start, and of each later step from the request."""
    t0 = time.time()
    code = CHILD.format(t0=t0, root=str(checkout)) + "\nplots.serve()"
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=checkout)
    assert child.stdin is not None and child.stdout is not None and child.stderr is not None
    lines = [child.stderr.readline()]
    while "imports done" not in lines[-1]:
        if not lines[-1]:
            raise SystemExit(f"the figure process of {checkout} ended before it was asked: {''.join(lines)[-800:]}")
        lines.append(child.stderr.readline())
    asked = time.time() - t0
    child.stdin.write(json.dumps({"experiment": str(experiment.resolve()), "out": str(out)}) + "\n")
    child.stdin.flush()
    answer = child.stdout.readline()
    answered = time.time() - t0 - asked
    child.stdin.close()
    rest = child.stderr.read()
    child.wait()
    if "figure" not in answer:
        raise SystemExit(f"the figure process of {checkout} answered {answer!r}: {rest[-800:]}")
    timeline = steps("".join(lines) + rest)
    imports = timeline["child: imports done, waiting"]
    return {"child: imports done (from its start)": imports,
            **{f"{step} (from the request)": (seconds - asked, cpu - imports[1])
               for step, (seconds, cpu) in timeline.items() if seconds >= asked},
            "asker: answer received (from the request)": (answered, math.nan)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--compare", type=Path, metavar="DIR", help="another checkout to time in turns with this one")
    parser.add_argument("--experiment", type=Path, help="time the figure of this results folder instead of the small job")
    args = parser.parse_args()
    checkouts = {"this checkout": ROOT}
    if args.compare is not None:
        if not (args.compare / "analysis" / "plots.py").is_file():
            parser.error(f"--compare: no analysis/plots.py in {args.compare}")
        checkouts[args.compare.name] = args.compare.resolve()
    if args.experiment is not None and not args.experiment.is_dir():
        parser.error(f"--experiment: no folder {args.experiment}")
    runs: dict[str, list[Timeline]] = {name: [] for name in checkouts}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeats):  # in turns, so that a change of load falls on all alike
            for j, (name, checkout) in enumerate(checkouts.items()):
                folder = Path(tmp) / f"{j}-{i}"
                runs[name].append(figure_of(checkout, args.experiment, folder) if args.experiment is not None
                                  else small_job(checkout, folder))
    what = f"the figure of {args.experiment}" if args.experiment is not None else "the small job"
    print(f"{what}: median of {args.repeats} runs, {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for name, timelines in runs.items():
        print(f"{name}:")
        order = list(timelines[0]) if args.experiment is not None else sorted(
            timelines[0], key=lambda step: statistics.median(t[step][0] for t in timelines if step in t))
        for step in order:
            wall, cpu = (statistics.median(t[step][k] for t in timelines if step in t) for k in (0, 1))
            print(f"  {wall:6.2f} s wall  {cpu:6.2f} s CPU  {step}")


if __name__ == "__main__":
    main()
