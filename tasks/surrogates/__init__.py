"""Surrogate tasks: a model stands in for training, the same ``Task`` contract as a table.

- ``tasks.surrogates.lcbench``: YAHPO Gym 1.0.2's LCBench surrogate (an ONNX model of Auto-PyTorch learning
  curves on 34 OpenML tasks, epochs 1..52), read with onnxruntime from a folder users bring
  (``BOB_LCBENCH_DIR``); tasks ``lcbench-<OpenML task id>``.

Importing this package is cheap: ``register_surrogate_tasks`` reads no model and imports no onnxruntime.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

LCBENCH_ENV = "BOB_LCBENCH_DIR"
#: the OpenML task ids of YAHPO Gym's LCBench scenario (its config_space.json; a test checks them against it)
LCBENCH_INSTANCES = (
    "3945", "7593", "34539", "126025", "126026", "126029", "146212", "167104", "167149", "167152", "167161",
    "167168", "167181", "167184", "167185", "167190", "167200", "167201", "168329", "168330", "168331", "168335",
    "168868", "168908", "168910", "189354", "189862", "189865", "189866", "189873", "189905", "189906", "189908",
    "189909",
)


def configured_folder() -> str | None:
    """The folder ``BOB_LCBENCH_DIR`` names, or None (the one place that reads the variable)."""
    return os.environ.get(LCBENCH_ENV) or None


def make_lcbench_task(instance: str, **options: Any) -> Any:
    """An ``LCBenchTask`` on OpenML task ``instance`` (options as in ``tasks.surrogates.lcbench.LCBenchTask``)."""
    from tasks.surrogates.lcbench import LCBenchTask

    return LCBenchTask(instance, **options)


def register_surrogate_tasks(add: Callable[[str, Callable[[], Any]], None]) -> None:
    """Register ``lcbench-<id>`` through ``add(name, factory)`` when ``BOB_LCBENCH_DIR`` names a folder."""
    folder = configured_folder()
    if folder and Path(folder).is_dir():
        for instance in LCBENCH_INSTANCES:
            add(f"lcbench-{instance}", lambda i=instance: make_lcbench_task(i))
