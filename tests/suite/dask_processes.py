"""Real Dask processes for the cluster tests: a ``dask scheduler`` and ``dask worker`` subprocesses on
127.0.0.1, found through a scheduler file, always torn down (process groups killed)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

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
    folder: Path
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    address: str = ""

    def add_worker(self, name: str, extra: Sequence[str] = ()) -> subprocess.Popen[bytes]:
        """Start one single-threaded worker without a nanny (a killed worker stays dead); it joins once it
        has started: wait for it with ``Client.wait_for_workers``."""
        process = _start([DASK, "worker", "--scheduler-file", str(self.scheduler_file), "--nthreads", "1",
                          "--no-nanny", "--name", name, "--no-dashboard", "--local-directory",
                          str(self.folder / name), *extra], self.folder / f"worker-{name}.log")
        self.workers[name] = process
        return process


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=environment(), cwd=str(ROOT),
                                start_new_session=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def _has_address(scheduler_file: Path) -> bool:
    try:
        return bool(json.loads(scheduler_file.read_text()).get("address"))
    except (OSError, ValueError, AttributeError):  # not there yet, or created and not yet written
        return False


@contextlib.contextmanager
def dask_processes(folder: Path, workers: dict[str, list[str]]) -> Iterator[DaskProcesses]:
    """A scheduler and one worker per entry of ``workers`` (name -> extra arguments, e.g.
    ["--resources", "GPU=1"]), all started when this yields; ``add_worker`` starts more later.
    Every process is killed on exit."""
    from distributed import Client

    folder.mkdir(parents=True, exist_ok=True)
    scheduler_file = folder / "scheduler.json"
    processes = DaskProcesses(scheduler_file, folder)
    scheduler = _start([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address",
                        "127.0.0.1:0", "--scheduler-file", str(scheduler_file)], folder / "scheduler.log")
    try:
        # the scheduler creates its file, then writes it: wait for an address in it, not for the file alone
        # (Client(scheduler_file=...) gives up after 0.1 s on a file still empty, as a scheduler preempted between
        # the two leaves it on a loaded machine; the workers' own reading waits)
        deadline = time.monotonic() + 60
        while not _has_address(scheduler_file):
            if time.monotonic() > deadline or scheduler.poll() is not None:
                raise RuntimeError(f"dask scheduler did not start: {(folder / 'scheduler.log').read_text()}")
            time.sleep(0.1)
        for name, extra in workers.items():
            processes.add_worker(name, extra)
        with Client(scheduler_file=str(scheduler_file), timeout="30s") as client:
            client.wait_for_workers(len(workers), timeout=90)
            processes.address = client.scheduler.address
        yield processes
    finally:
        for process in reversed(processes.workers.values()):
            _stop(process)
        _stop(scheduler)
