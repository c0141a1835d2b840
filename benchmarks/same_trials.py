"""Whether a change keeps a baseline's trials for a seed, and what it does to a run's time: this checkout against
another, in turns. Prints one table; every figure is measured in this run.

    python benchmarks/same_trials.py --compare DIR [--baselines mo_bananas,hw_pr_nas] [--task fcnet-naval]
        [--evaluations 40] [--workers 2] [--seed 3] [--repeats 2] [--threads N]

Each run is a fresh interpreter (``python -c``-like child of this script) in one checkout, its packages first on
``sys.path``: the simulated loop (``suite.loops.simulate``) runs the baseline, built as the suite builds it
(``suite.lifecycle.make_baseline``), for ``--evaluations`` on ``--task`` with ``--workers`` asynchronous workers.
The digest is the SHA-256 of every row's trial id, configuration, fidelity and status; the times are the run's
wall and CPU seconds (imports excluded). Runs alternate between the checkouts (A/B/A/B), so load on a shared
machine falls on both alike; the table has the medians. ``--threads`` sets torch's intra-op threads of the child
before the run (default: torch's own, the number of cores), to see whether a baseline's trials depend on it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(baseline: str, task_name: str, evaluations: int, workers: int, seed: int, threads: int | None) -> None:
    """One run in this interpreter's checkout; prints its digest and times as one JSON line."""
    import baselines
    from suite.lifecycle import make_baseline
    from suite.loops import simulate
    from suite.spec import Budget
    from tasks import make_task

    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    task = make_task(task_name)
    rows: list[dict] = []
    wall, cpu = time.perf_counter(), time.process_time()
    simulate(make_baseline(baseline, task, seed, {}), task, seed, Budget(evaluations=evaluations), workers, rows.append)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    text = json.dumps([(r["trial_id"], r["config"], r["fidelity"], r["status"]) for r in rows], sort_keys=True)
    print(json.dumps({"digest": hashlib.sha256(text.encode()).hexdigest()[:16], "rows": len(rows), "wall_s": wall,
                      "cpu_s": cpu, "code": str(Path(baselines.__file__).parents[1])}))


def run_in(checkout: Path, args: argparse.Namespace, baseline: str) -> dict:
    command = [sys.executable, __file__, "--child", baseline, "--task", args.task, "--evaluations",
               str(args.evaluations), "--workers", str(args.workers), "--seed", str(args.seed)]
    command += [] if args.threads is None else ["--threads", str(args.threads)]
    environment = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run(command, cwd=checkout, env=environment, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"same_trials: {baseline} in {checkout} failed: {done.stderr.strip().splitlines()[-1:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if Path(result["code"]).resolve() != checkout.resolve():
        sys.exit(f"same_trials: the run meant for {checkout} imported the code of {result['code']}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--compare", type=Path, help="the other checkout (e.g. the commit before a change)")
    parser.add_argument("--baselines", default="mo_bananas")
    parser.add_argument("--task", default="fcnet-naval")
    parser.add_argument("--evaluations", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch's intra-op threads in each run")
    parser.add_argument("--child", metavar="BASELINE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.task, args.evaluations, args.workers, args.seed, args.threads)
        return
    if args.compare is None or not (args.compare / "baselines").is_dir():
        sys.exit(f"same_trials: --compare must name a checkout with a baselines/ folder, got {args.compare}")
    if min(args.evaluations, args.workers, args.repeats) < 1 or (args.threads is not None and args.threads < 1):
        sys.exit("same_trials: --evaluations, --workers, --repeats and --threads must be >= 1")
    checkouts = {"this": ROOT, "other": args.compare}
    print(f"{args.task}, {args.evaluations} evaluations, {args.workers} workers, seed {args.seed}, torch threads "
          f"{args.threads or 'as torch sets them'}; other: {args.compare}; medians of {args.repeats} runs each")
    print(f"{'baseline':16s} {'digest this':16s} {'digest other':16s} {'same':5s} "
          f"{'wall s this':>11s} {'other':>7s} {'cpu s this':>10s} {'other':>7s}")
    for baseline in [b.strip() for b in args.baselines.split(",") if b.strip()]:
        results: dict[str, list[dict]] = {"this": [], "other": []}
        for _ in range(args.repeats):
            for name, checkout in checkouts.items():
                results[name].append(run_in(checkout, args, baseline))
        digests = {name: {r["digest"] for r in runs} for name, runs in results.items()}
        if any(len(d) > 1 for d in digests.values()):
            print(f"{baseline:16s} not deterministic: digests {digests}")
            continue
        this, other = (next(iter(digests[name])) for name in ("this", "other"))
        wall = {name: statistics.median(r["wall_s"] for r in runs) for name, runs in results.items()}
        cpu = {name: statistics.median(r["cpu_s"] for r in runs) for name, runs in results.items()}
        print(f"{baseline:16s} {this:16s} {other:16s} {'yes' if this == other else 'NO':5s} "
              f"{wall['this']:11.2f} {wall['other']:7.2f} {cpu['this']:10.2f} {cpu['other']:7.2f}")


if __name__ == "__main__":
    main()
