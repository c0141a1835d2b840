"""Runs a suite's grid on Dask: one Dask task per run, a progress bar, nothing finished lost.

A run whose task raises is reported and the others go on; its folder keeps every row written before
the failure, with status "running" in its metadata.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from distributed import Client, LocalCluster, as_completed
from tqdm import tqdm

from suite.runner import RunSpec, execute
from tasks.registry import Registry


@dataclass(frozen=True)
class RunOutcome:
    spec: RunSpec
    folder: Path | None
    error: str | None = None


def _execute_with_plugins(spec: RunSpec, root: str, plugins: tuple[str, ...]) -> str:
    # a worker process has its own registries: plugins registered on the client must be loaded there too
    for module in plugins:
        Registry.load_module(module)
    return str(execute(spec, Path(root)))


def local_cluster(n_workers: int | None = None) -> LocalCluster:
    """Worker processes on loopback only (no other machine can reach the scheduler), one thread each."""
    return LocalCluster(
        n_workers=n_workers or os.cpu_count() or 1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )


def run_grid(
    client: Client, specs: Iterable[RunSpec], root: Path, plugins: tuple[str, ...] = (), progress: bool = True,
) -> list[RunOutcome]:
    specs = list(specs)
    root = root.resolve()
    futures = {
        client.submit(_execute_with_plugins, spec, str(root), plugins, pure=False,
                      key=f"run-{spec.experiment}-{spec.task}-{spec.baseline}-{spec.seed}"): i
        for i, spec in enumerate(specs)
    }
    outcomes: list[RunOutcome | None] = [None] * len(specs)
    with tqdm(total=len(specs), unit="run", disable=not progress, dynamic_ncols=True) as bar:
        for future in as_completed(futures):
            index = futures[future]
            spec = specs[index]
            try:
                outcomes[index] = RunOutcome(spec, Path(future.result()))
            except Exception as error:  # one broken run must not stop the suite
                outcomes[index] = RunOutcome(spec, None, f"{type(error).__name__}: {error}")
                bar.write(f"run failed: {spec.task} / {spec.baseline} / seed {spec.seed}: {error}")
            bar.update()
    return [o for o in outcomes if o is not None]
