"""Real Dask processes for the cluster tests: a ``dask scheduler`` and ``dask worker`` subprocesses on
127.0.0.1, found through a scheduler file, always torn down (process groups killed)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DASK = str(Path(sys.executable).parent / "dask")


def environment() -> dict[str, str]:
    """The repository and this folder (toy plug-in) importable; one thread per numeric library."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(HERE), env.get("PYTHONPATH", "")])
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", BOB_TOY_WORK_S=env.get("BOB_TOY_WORK_S", "0.05"))
    return env


@dataclass
class DaskProcesses:
    scheduler_file: Path
    workers: dict[str, subprocess.Popen[bytes]]
    address: str = ""


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=environment(), cwd=str(ROOT),
                                start_new_session=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


@contextlib.contextmanager
def dask_processes(folder: Path, workers: dict[str, list[str]]) -> Iterator[DaskProcesses]:
    """A scheduler and one single-threaded worker per entry of ``workers`` (name -> extra arguments,
    e.g. ["--resources", "GPU=1"]). Workers run without a nanny, so a killed worker stays dead."""
    from distributed import Client

    folder.mkdir(parents=True, exist_ok=True)
    scheduler_file = folder / "scheduler.json"
    started: list[subprocess.Popen[bytes]] = []
    try:
        started.append(_start([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(scheduler_file)],
                              folder / "scheduler.log"))
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            if time.monotonic() > deadline or started[0].poll() is not None:
                raise RuntimeError(f"dask scheduler did not start: {(folder / 'scheduler.log').read_text()}")
            time.sleep(0.1)
        processes = DaskProcesses(scheduler_file, {})
        for name, extra in workers.items():
            process = _start([DASK, "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1",
                              "--no-nanny", "--name", name, "--no-dashboard", "--local-directory",
                              str(folder / name), *extra], folder / f"worker-{name}.log")
            started.append(process)
            processes.workers[name] = process
        with Client(scheduler_file=str(scheduler_file), timeout="30s") as client:
            client.wait_for_workers(len(workers), timeout=90)
            processes.address = client.scheduler.address
        yield processes
    finally:
        for process in reversed(started):
            _stop(process)
